// The availability editor's window forms (templates/availability/_window_options.html):
// the RRULE box shows only while "Repeats" is set to a custom rule. Without JavaScript it
// is always shown, and a rule typed there counts only with "Custom rule (RRULE)".
(function () {
  "use strict";

  function sync(select) {
    var form = select.form;
    var box = form && form.querySelector("[data-rrule-field]");
    if (!box) return;
    // Kept in view while it holds an error, so the message is never hidden.
    box.hidden = select.value !== "custom" && !box.querySelector(".errorlist");
  }

  function syncAll(root) {
    root.querySelectorAll("select[name='repeats']").forEach(sync);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[name='repeats']")) sync(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () { syncAll(document); });
  document.addEventListener("htmx:load", function (event) { syncAll(event.detail.elt); });
})();
