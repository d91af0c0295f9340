// Tables that scroll sideways on a narrow screen or at 200% zoom. A keyboard user
// must be able to reach and scroll them (WCAG 2.1.1), so a scroller that overflows
// becomes a focusable region named after its table; one that fits is left out of
// the tab order. Runs on the page and on every part HTMX swaps in.
(function () {
  "use strict";

  var SELECTOR = ".table-scroll";

  function nameOf(scroller) {
    var table = scroller.querySelector("table");
    if (table && table.caption && table.caption.textContent.trim()) {
      return table.caption.textContent.trim();
    }
    var section = scroller.closest("section, details, figure, article");
    var heading =
      section && section.querySelector("h1, h2, h3, h4, h5, summary, figcaption");
    return heading ? heading.textContent.trim() : "";
  }

  function update(scroller) {
    var overflows = scroller.scrollWidth > scroller.clientWidth + 1;
    if (overflows && !scroller.hasAttribute("tabindex")) {
      scroller.setAttribute("tabindex", "0");
      scroller.dataset.scrollFocus = "1";
      var name = nameOf(scroller);
      if (name) {
        scroller.setAttribute("role", "region");
        scroller.setAttribute("aria-label", name);
      }
    } else if (!overflows && scroller.dataset.scrollFocus) {
      scroller.removeAttribute("tabindex");
      scroller.removeAttribute("role");
      scroller.removeAttribute("aria-label");
      delete scroller.dataset.scrollFocus;
    }
  }

  var observer =
    "ResizeObserver" in window
      ? new ResizeObserver(function (entries) {
          entries.forEach(function (entry) {
            var scroller = entry.target.closest(SELECTOR);
            if (scroller) update(scroller);
          });
        })
      : null;

  function watch(scroller) {
    update(scroller);
    if (!observer || scroller.dataset.scrollWatched) return;
    scroller.dataset.scrollWatched = "1";
    observer.observe(scroller);
    var table = scroller.querySelector("table");
    if (table) observer.observe(table);
  }

  function enhance(root) {
    var around = root.closest ? root.closest(SELECTOR) : null;
    if (around) watch(around);
    if (root.querySelectorAll) root.querySelectorAll(SELECTOR).forEach(watch);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
  });
  document.addEventListener("htmx:load", function (event) {
    enhance(event.target);
  });
})();
