// Small progressive enhancements; every page works without them.
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
})();
