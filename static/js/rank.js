// Ranking page: reorder the shortlist by dragging a handle (mouse or touch) or with
// Move up / Move down buttons (keyboard: Enter, Space or the arrow keys). The number
// inputs stay the form's source of truth, so the page works the same without this
// script.
(function () {
  "use strict";

  const form = document.getElementById("rank-form");
  const list = document.getElementById("rank-list");
  const status = document.getElementById("rank-status");
  if (!form || !list) {
    return;
  }
  const labels = list.dataset;

  function items() {
    return Array.from(list.children);
  }

  function renumber() {
    const all = items();
    all.forEach(function (li, index) {
      li.querySelector("input[type=number]").value = String(index + 1);
      li.querySelector(".rank-up").disabled = index === 0;
      li.querySelector(".rank-down").disabled = index === all.length - 1;
    });
  }

  function announce(li) {
    const all = items();
    status.textContent = labels.labelMoved
      .replace("{position}", String(all.indexOf(li) + 1))
      .replace("{total}", String(all.length));
  }

  function makeButton(className, text, describedBy) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary " + className;
    button.textContent = text;
    button.setAttribute("aria-describedby", describedBy);
    return button;
  }

  function move(li, delta, button) {
    if (delta < 0 && li.previousElementSibling) {
      list.insertBefore(li, li.previousElementSibling);
    } else if (delta > 0 && li.nextElementSibling) {
      list.insertBefore(li.nextElementSibling, li);
    }
    renumber();
    // Keep the keyboard where it was; at the top or bottom, move to the other button.
    if (button.disabled) {
      button = li.querySelector(delta < 0 ? ".rank-down" : ".rank-up");
    }
    button.focus();
    announce(li);
  }

  function startDrag(li, event) {
    event.preventDefault();
    const pointerId = event.pointerId;
    li.classList.add("dragging");

    function onMove(moveEvent) {
      if (moveEvent.pointerId !== pointerId) {
        return;
      }
      const y = moveEvent.clientY;
      for (const other of items()) {
        if (other === li) {
          continue;
        }
        const box = other.getBoundingClientRect();
        if (y > box.top && y < box.bottom) {
          const before = y < box.top + box.height / 2;
          list.insertBefore(li, before ? other : other.nextElementSibling);
          break;
        }
      }
    }

    function onEnd(endEvent) {
      if (endEvent.pointerId !== pointerId) {
        return;
      }
      li.classList.remove("dragging");
      document.removeEventListener("pointermove", onMove);
      document.removeEventListener("pointerup", onEnd);
      document.removeEventListener("pointercancel", onEnd);
      renumber();
      announce(li);
    }

    // Listen on the document, not the handle: moving the item in the DOM releases
    // pointer capture, and the pointer soon leaves the handle anyway.
    document.addEventListener("pointermove", onMove);
    document.addEventListener("pointerup", onEnd);
    document.addEventListener("pointercancel", onEnd);
  }

  items().forEach(function (li) {
    const textId = "rank-text-" + li.dataset.pk;
    const handle = document.createElement("span");
    handle.className = "button rank-handle";
    handle.setAttribute("aria-hidden", "true");
    handle.title = labels.labelHandle;
    handle.textContent = "↕";
    handle.addEventListener("pointerdown", function (event) {
      startDrag(li, event);
    });

    const up = makeButton("rank-up", labels.labelUp, textId);
    const down = makeButton("rank-down", labels.labelDown, textId);
    up.addEventListener("click", function () {
      move(li, -1, up);
    });
    down.addEventListener("click", function () {
      move(li, 1, down);
    });
    // The arrow keys move the principle too, from either button.
    [up, down].forEach(function (button) {
      button.addEventListener("keydown", function (event) {
        const delta = { ArrowUp: -1, ArrowDown: 1 }[event.key];
        if (delta) {
          event.preventDefault();
          move(li, delta, button);
        }
      });
    });

    const controls = document.createElement("span");
    controls.className = "rank-controls";
    controls.append(up, down, handle);
    li.append(controls);
  });

  // Show the current order (a re-rendered invalid form may have been out of order).
  items()
    .map(function (li) {
      const value = parseInt(li.querySelector("input[type=number]").value, 10);
      return { li: li, value: Number.isNaN(value) ? Infinity : value };
    })
    .sort(function (a, b) {
      return a.value - b.value;
    })
    .forEach(function (entry) {
      list.append(entry.li);
    });

  form.classList.add("rank-enhanced");
  renumber();
})();
