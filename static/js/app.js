// Small progressive enhancements; every page works without them. The pages carry no inline
// script or event handler (the Content-Security-Policy allows scripts from static files
// only): what an element does is declared with the data attributes handled here.
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = null; }
  if (zone) {
    // Visitors see times in their browser's zone (signed-in users use their profile's).
    document.cookie = "tz=" + encodeURIComponent(zone) + ";path=/;max-age=31536000;SameSite=Lax";
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!zone) return;
    document.querySelectorAll("select[data-browser-timezone]").forEach(function (select) {
      if (select.dataset.userChanged) return;
      var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
      if (!option) {
        option = new Option(zone.replace(/_/g, " "), zone);
        select.add(option, 1);
      }
      if (!select.closest("form").classList.contains("was-submitted")) select.value = zone;
      select.addEventListener("change", function () { select.dataset.userChanged = "1"; });
    });
  });

  // Listeners sit on the document, so content swapped in by htmx behaves the same.
  document.addEventListener("click", function (event) {
    var close = event.target.closest(".flash-close");
    if (close) close.parentElement.remove();

    // <button data-copy-from="ID" data-copied-label="Copied" hidden>: copies that field.
    var copy = event.target.closest("[data-copy-from]");
    if (copy && navigator.clipboard) {
      var source = document.getElementById(copy.dataset.copyFrom);
      navigator.clipboard.writeText(source.value).then(function () {
        if (copy.dataset.copiedLabel) copy.textContent = copy.dataset.copiedLabel;
      });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // <form data-confirm="Question?">: sent only once the person agrees.
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // <form data-submit-once data-busy-label="Booking…">: a second click sends nothing.
    if (form.hasAttribute("data-submit-once")) {
      var button = form.querySelector("[type=submit]");
      if (!button) return;
      if (button.dataset.busy) {
        event.preventDefault();
        return;
      }
      button.dataset.busy = "1";
      button.setAttribute("aria-busy", "true");
      if (form.dataset.busyLabel) button.textContent = form.dataset.busyLabel;
    }
  });

  // <input data-select-on-focus>: the whole value is selected, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("input[data-select-on-focus]")) event.target.select();
  });

  // <input data-checks="ID">: changing it ticks that radio or checkbox too.
  document.addEventListener("change", function (event) {
    var id = event.target.dataset && event.target.dataset.checks;
    var other = id && document.getElementById(id);
    if (other) other.checked = true;
  });

  // A copy button shows only where the clipboard can be written.
  function showCopyButtons(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("[data-copy-from]").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  document.addEventListener("htmx:load", function (event) { showCopyButtons(event.detail.elt); });

  // Live regions ([data-live], polled by htmx every few seconds) skip a poll while the
  // person is typing in them or holding one of their forms open. Polls reach htmx:confirm
  // without a triggering event; other triggers (an HX-Trigger event) always go through.
  function liveIdle() {
    var el = document.activeElement;
    if (el && el.closest && el.closest("[data-live]") && el.matches("input, textarea, select")) return false;
    return !document.querySelector("[data-live] details[open]");
  }
  document.addEventListener("htmx:confirm", function (event) {
    if (event.detail.triggeringEvent || !event.detail.elt.hasAttribute("data-live")) return;
    if (!liveIdle()) event.preventDefault();
  });

  // <details data-fill-empty hx-get=…>: the boxes it fetches when opened (a request's
  // suggested times) replace its boxes only while they are empty: what the person typed
  // before the answer came stays.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-fill-empty")) return;
    var inputs = event.detail.target.querySelectorAll("input");
    if (Array.prototype.some.call(inputs, function (input) { return input.value; })) event.detail.shouldSwap = false;
  });

  // The booking calendar: once htmx has swapped in the chosen time's summary, focus goes to
  // its Continue (not back to <body>); once a day is chosen, to the day's heading.
  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!elt || !elt.classList) return;
    var next = null;
    if (elt.classList.contains("time-slot")) next = document.getElementById("continue");
    else if (elt.classList.contains("cal-day") || elt.dataset.testid === "next-free-day") {
      next = document.getElementById("times-title");
      if (next) next.setAttribute("tabindex", "-1");
    }
    if (next) next.focus();
  });
})();
