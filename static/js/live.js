// Live pages: what happens around HTMX requests, for participants and facilitators.
// - A form whose request fails (the server answers with an error, or the network is
//   down) keeps everything typed in it and shows why, with what to do next (a 503's
//   own message when a service is restarting).
// - A form marked data-swap-invalid has its 400 answer (the page with the form's
//   errors) swapped in like a success; focus moves to the first error.
// - A 429 (a vote sent past VOTES_PER_MINUTE) is swapped in too: it is the form again
//   with why the answer was not saved.
// - When a participant's round closes while the page is open (#round-status comes
//   back with data-round-state other than "open"), the page's forms are switched
//   off, keeping their text; when it opens again, they are switched back on.
// - A plain form being sent shows its "Sending…" indicator.
// The messages come translated from the script tag's data-* attributes.
(function () {
  "use strict";

  var script = document.currentScript;
  var text = {
    send: (script && script.dataset.sendError) ||
      "Your answer was not sent: the server could not be reached. Check your connection and try again; what you typed is still here.",
    server: (script && script.dataset.serverError) ||
      "Your answer was not sent: something went wrong on the server. Try again in a moment; what you typed is still here.",
  };

  function formOf(elt) {
    if (!elt || !elt.closest) {
      return null;
    }
    return elt.tagName === "FORM" ? elt : elt.closest("form");
  }

  function showError(form, message) {
    var box = form.querySelector(".request-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "message message-error request-error";
      box.setAttribute("role", "alert");
      box.tabIndex = -1;
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = message;
    form.classList.remove("is-submitting");
  }

  function clearError(form) {
    var box = form.querySelector(".request-error");
    if (box) {
      box.remove();
    }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = formOf(event.detail.elt);
    if (form) {
      clearError(form);
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = formOf(event.detail.elt);
    if (form) {
      showError(form, text.send);
    }
  });

  // A 503 (a database or broker restarting) carries its own message: nothing
  // was saved, try again in a moment (core/middleware.py).
  function unavailableText(xhr) {
    if (xhr.status !== 503) {
      return "";
    }
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var box = doc.querySelector(".service-unavailable");
    return box ? box.textContent.trim() : "";
  }

  document.addEventListener("htmx:responseError", function (event) {
    var form = formOf(event.detail.elt);
    if (form) {
      showError(form, unavailableText(event.detail.xhr) || text.server);
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = formOf(event.detail.elt);
    var status = event.detail.xhr.status;
    // A 429 (answering too fast) carries the form again with why it was not saved.
    if (form && (status === 429 || (status === 400 && form.hasAttribute("data-swap-invalid")))) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var form = formOf(event.detail.elt);
    if (!form || !form.hasAttribute("data-swap-invalid")) {
      return;
    }
    var main = document.getElementById("main");
    var first = main && main.querySelector("[role=alert], .messages");
    if (first) {
      if (!first.hasAttribute("tabindex")) {
        first.tabIndex = -1;
      }
      first.focus();
    }
  });

  // A round that closed (or opened) while the page was open.
  function roundForms() {
    return document.querySelectorAll("main form");
  }

  function switchForms(open) {
    roundForms().forEach(function (form) {
      if (!open) {
        form.classList.add("round-closed");
        form.setAttribute("aria-disabled", "true");
      } else if (form.classList.contains("round-closed")) {
        form.classList.remove("round-closed");
        form.removeAttribute("aria-disabled");
      } else {
        return;
      }
      form.querySelectorAll("button, input, select, textarea").forEach(function (field) {
        if (field.type === "hidden") {
          return;
        }
        if (field.tagName === "TEXTAREA" || field.type === "text") {
          field.readOnly = !open;  // the text stays readable and can be copied
        } else {
          field.disabled = !open;
        }
      });
    });
  }

  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "round-status" && elt.dataset.changed === "1") {
      switchForms(elt.dataset.roundState === "open");
    }
  });

  // Plain forms (no HTMX): show "Sending…" while the browser sends it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("round-closed")) {
      event.preventDefault();  // its round closed: the server would refuse it
      return;
    }
    var method = (form.getAttribute("method") || "get").toLowerCase();
    if (method === "post" && !form.hasAttribute("hx-post")) {
      form.classList.add("is-submitting");
    }
  });

  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form.is-submitting").forEach(function (form) {
      form.classList.remove("is-submitting");
    });
  });
})();
