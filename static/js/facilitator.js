// Facilitator pages: copy an invite link to the clipboard.
// A button with data-copy-target="ID" copies the value of the input with that id and
// reports the outcome in the element with data-copy-status-for="ID".
(function () {
  "use strict";

  function report(id, text) {
    var status = document.querySelector('[data-copy-status-for="' + id + '"]');
    if (status) {
      status.textContent = text;
    }
  }

  function copyBySelection(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) {
      return;
    }
    var id = button.dataset.copyTarget;
    var input = document.getElementById(id);
    if (!input) {
      return;
    }
    var copied = button.dataset.copiedText || "Copied.";
    var failed = button.dataset.failedText || "Select the link and copy it.";
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        function () { report(id, copied); },
        function () { report(id, copyBySelection(input) ? copied : failed); }
      );
    } else {
      report(id, copyBySelection(input) ? copied : failed);
    }
  });
})();
