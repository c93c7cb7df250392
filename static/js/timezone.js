// A visitor's first page. Until the browser has told the site its time zone (the "tz"
// cookie), the server can only show times in UTC; it marks such a page with
// data-timezone-unknown on <html>. This script runs first in <head>, before anything is
// drawn: it sets the cookie and loads the page again, once, so even the first page shows
// times in the visitor's zone. (The Content-Security-Policy allows no inline script, hence
// this small file; app.js keeps the cookie current on every later page.)
(function () {
  "use strict";
  var root = document.documentElement;
  if (!root.hasAttribute("data-timezone-unknown")) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) return;
  document.cookie = "tz=" + encodeURIComponent(zone) + ";path=/;max-age=31536000;SameSite=Lax";
  if (zone === "UTC" || zone === "Etc/UTC") return;  // already right
  if (!/(^|;\s*)tz=/.test(document.cookie)) return;  // cookies refused: loading again would change nothing
  try {
    if (window.sessionStorage.getItem("tz-reloaded")) return;  // at most once per tab
    window.sessionStorage.setItem("tz-reloaded", "1");
  } catch (e) { return; }
  if (window.stop) window.stop();
  window.location.replace(window.location.href);
})();
