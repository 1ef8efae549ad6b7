// The reusable dialog: htmx swaps a confirmation form into #dialog-body, we open it as a modal.
// Without JS the same confirmation is a full page; nothing here is required for the pages to work.
(function () {
  "use strict";
  function dialog() { return document.getElementById("dialog"); }
  document.addEventListener("htmx:afterSwap", function (event) {
    var d = dialog();
    if (d && event.detail.target && event.detail.target.id === "dialog-body" && !d.open) {
      d.showModal();
    }
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    var d = dialog();
    if (closer && d && d.open && d.contains(closer)) {
      event.preventDefault();
      d.close();
    }
  });
  // Refund dialog: typing a quantity or an amount on a line chooses the matching mode if none is chosen yet.
  document.addEventListener("input", function (event) {
    var field = event.target.closest && event.target.closest("[data-mode-select]");
    if (!field || !field.value) { return; }
    var select = document.getElementById(field.getAttribute("data-mode-select"));
    if (select && !select.value) { select.value = field.getAttribute("data-mode"); }
  });
  // On a phone the filters start folded unless some are active.
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.matchMedia("(max-width: 600px)").matches) { return; }
    document.querySelectorAll('details[data-collapse-on-phone="true"]').forEach(function (d) { d.open = false; });
  });
  document.addEventListener("htmx:responseError", function (event) {
    var d = dialog();
    if (d) {
      document.getElementById("dialog-body").innerHTML =
        '<section class="card"><p class="flash flash-error">Une erreur est survenue. Rechargez la page.</p>' +
        '<button class="btn" data-close-dialog>Fermer</button></section>';
      if (!d.open) { d.showModal(); }
    }
  });
})();
