// Form helpers, declared by attributes (no inline script: see app.js): 24-hour time boxes,
// character counters, the error summary and the searchable time-zone picker. Every form
// works without them.
(function () {
  "use strict";

  // The words in the page's language: the page's JSON block (config/js_text.py), English
  // when it is missing. A count's words are chosen by the language's plural rules.
  var words = {
    charsLeft: { one: "%(count)s character left", other: "%(count)s characters left" },
    charsOver: { one: "%(count)s character too many", other: "%(count)s characters too many" },
    zoneSearch: "Search a city, region or UTC offset",
    zones: "Time zones",
    zoneNone: "No time zone matches. Try a city such as Paris, or an offset such as +05:30.",
    zoneCount: { one: "%(count)s time zone", other: "%(count)s time zones" },
  };
  var language = document.documentElement.lang || "en";
  try {
    var given = JSON.parse(document.getElementById("js-text").textContent);
    Object.keys(given).forEach(function (key) { words[key] = given[key]; });
  } catch (e) { /* no block on this page: English */ }
  var plurals = null;
  try { plurals = new Intl.PluralRules(language); } catch (e) { plurals = null; }
  function counted(forms, n) {
    var category = plurals ? plurals.select(n) : (n === 1 ? "one" : "other");
    return (forms[category] || forms.other).replace("%(count)s", n.toLocaleString(language));
  }
  var text = {
    left: function (n) { return counted(words.charsLeft, n); },
    over: function (n) { return counted(words.charsOver, n); },
    search: words.zoneSearch,
    zones: words.zones,
    none: words.zoneNone,
    count: function (n) { return counted(words.zoneCount, n); },
  };

  // <input data-time-input>: what was typed becomes HH:MM (9 → 09:00, 930 → 09:30, 9.30 → 09:30).
  function normaliseTime(value) {
    var raw = value.trim();
    var match = raw.match(/^(\d{1,2})(?:[:.h ]?(\d{2}))?$/);
    if (!match) return raw;
    var hours = parseInt(match[1], 10), minutes = match[2] ? parseInt(match[2], 10) : 0;
    if (!match[2] && match[1].length === 2 && hours > 23) return raw;
    if (hours > 23 || minutes > 59) return raw;
    return (hours < 10 ? "0" : "") + hours + ":" + (minutes < 10 ? "0" : "") + minutes;
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[data-time-input]")) {
      event.target.value = normaliseTime(event.target.value);
    }
  });

  // <textarea maxlength>: "1,880 characters left" under it; screen readers hear it only near the end.
  function addCounter(field) {
    if (field.dataset.counted) return;
    field.dataset.counted = "1";
    var limit = parseInt(field.getAttribute("maxlength"), 10);
    var counter = document.createElement("div");
    counter.className = "char-count";
    counter.id = (field.id || field.name) + "-count";
    counter.setAttribute("aria-live", "polite");
    var visible = document.createElement("span");
    visible.setAttribute("aria-hidden", "true");
    var spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    counter.append(visible, spoken);
    field.insertAdjacentElement("afterend", counter);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);
    function update() {
      var left = limit - field.value.length;
      visible.textContent = left >= 0 ? text.left(left) : text.over(-left);
      counter.classList.toggle("is-near", left < limit * 0.1);
      counter.classList.toggle("is-over", left < 0);
      // Spoken once near the limit (the last tenth), not on every key press.
      spoken.textContent = left < limit * 0.1 ? visible.textContent : "";
    }
    field.addEventListener("input", update);
    update();
  }

  // [data-error-summary]: shown above a form whose fields have errors; it takes the focus
  // so the person (and a screen reader) starts from the list, and each link jumps to its field.
  function focusSummary(root) {
    var summary = root.querySelector("[data-error-summary]");
    if (summary && !summary.dataset.focused) {
      summary.dataset.focused = "1";
      summary.focus();
      // A page posted from a section link (#limits) scrolls to that section once loaded,
      // which takes the focus away again: give it back to the summary.
      window.addEventListener("load", function () {
        if (document.activeElement === document.body) {
          summary.focus();
          summary.scrollIntoView({ block: "start" });
        }
      });
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    var box = field.closest(".field, .window-field") || field;
    box.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  });

  // <select data-tz-picker>: a search box over the zones (city, region, zone name or offset),
  // as an ARIA combobox; the select stays in the form, hidden, and keeps the chosen value.
  var pickers = 0;
  function tzPicker(select) {
    if (select.dataset.enhanced) return;
    select.dataset.enhanced = "1";
    var uid = "tz-picker-" + ++pickers;
    var zones = [];
    Array.prototype.forEach.call(select.options, function (option) {
      var group = option.parentElement.tagName === "OPTGROUP" ? option.parentElement.label : "";
      zones.push({
        value: option.value,
        label: option.textContent,
        group: group,
        haystack: (option.value + " " + option.textContent + " " + group).toLowerCase().replace(/_/g, " "),
      });
    });

    var wrap = document.createElement("div");
    wrap.className = "tz-picker";
    var input = document.createElement("input");
    input.type = "text";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", uid + "-list");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("spellcheck", "false");
    input.placeholder = text.search;
    input.dataset.testid = "tz-search";
    // The label (for=the select's id) now names the search box.
    input.id = select.id;
    select.id = select.id + "-select";
    ["aria-describedby", "aria-invalid", "required"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    var list = document.createElement("div");
    list.id = uid + "-list";
    list.className = "tz-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", text.zones);
    list.hidden = true;
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    select.hidden = true;
    select.tabIndex = -1;
    select.insertAdjacentElement("beforebegin", wrap);
    wrap.append(input, list, status, select);

    var shown = [], active = -1;
    function current() {
      return zones.find(function (zone) { return zone.value === select.value; });
    }
    function showCurrent() {
      var zone = current();
      input.value = zone ? (zone.group ? zone.label + " · " + zone.value.replace(/_/g, " ") : zone.label) : "";
    }
    function render(query) {
      var words = query.toLowerCase().replace(/_/g, " ").replace(/−/g, "-").split(/\s+/).filter(Boolean);
      shown = zones.filter(function (zone) {
        return words.every(function (word) { return zone.haystack.indexOf(word) !== -1; });
      });
      list.textContent = "";
      var group = null, box = list;
      shown.forEach(function (zone, index) {
        if (zone.group !== group) {
          group = zone.group;
          box = list;
          if (group) {
            box = document.createElement("div");
            box.setAttribute("role", "group");
            var head = document.createElement("div");
            head.className = "tz-group";
            head.id = uid + "-g-" + index;
            head.setAttribute("role", "presentation");
            head.textContent = group;
            box.setAttribute("aria-labelledby", head.id);
            box.append(head);
            list.append(box);
          }
        }
        var item = document.createElement("div");
        item.id = uid + "-o-" + index;
        item.className = "tz-option";
        item.setAttribute("role", "option");
        item.dataset.index = index;
        item.dataset.value = zone.value;
        item.setAttribute("aria-selected", zone.value === select.value ? "true" : "false");
        item.textContent = zone.label;
        box.append(item);
      });
      if (!shown.length) {
        var empty = document.createElement("div");
        empty.className = "tz-empty";
        empty.textContent = text.none;
        list.append(empty);
      }
      status.textContent = shown.length ? text.count(shown.length) : text.none;
      // The whole list opens on the chosen zone; a search on its best match.
      var chosen = words.length ? -1 : shown.findIndex(function (zone) { return zone.value === select.value; });
      setActive(chosen >= 0 ? chosen : shown.length ? 0 : -1);
    }
    function setActive(index) {
      var old = list.querySelector(".is-active");
      if (old) old.classList.remove("is-active");
      active = index;
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      var item = document.getElementById(uid + "-o-" + index);
      item.classList.add("is-active");
      input.setAttribute("aria-activedescendant", item.id);
      // Scrolls the list only, never the page.
      var head = item.parentElement.querySelector(".tz-group");
      var top = item.offsetTop - (head ? head.offsetHeight : 0);
      if (top < list.scrollTop) list.scrollTop = top;
      else if (item.offsetTop + item.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = item.offsetTop + item.offsetHeight - list.clientHeight;
      }
    }
    function open(query) {
      var opening = list.hidden;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      render(query);
      // On a small screen the list may open below the fold: bring it into view.
      if (opening && list.getBoundingClientRect().bottom > window.innerHeight) {
        input.scrollIntoView({ block: "start", behavior: "smooth" });
      }
    }
    function close(restore) {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      if (restore) showCurrent();
    }
    function choose(index) {
      var zone = shown[index];
      if (!zone) return;
      select.value = zone.value;
      select.dataset.userChanged = "1";
      select.dispatchEvent(new Event("change", { bubbles: true }));
      close(true);
    }

    input.addEventListener("focus", function () { input.select(); });
    input.addEventListener("click", function () { if (list.hidden) open(""); });
    input.addEventListener("input", function () { open(input.value); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          open("");
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        if (shown.length) setActive(Math.max(0, Math.min(shown.length - 1, active + step)));
      } else if (event.key === "Enter") {
        if (!list.hidden) {
          event.preventDefault();
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close(true);
          input.select();
        }
      }
    });
    input.addEventListener("blur", function () { close(true); });
    // mousedown, not click: the choice is made before the box loses the focus.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
      var item = event.target.closest("[role=option]");
      if (item) choose(parseInt(item.dataset.index, 10));
    });
    // Another script (the browser's zone at sign-up) may set the select's value.
    select.addEventListener("change", showCurrent);
    showCurrent();
  }

  function enhance(root) {
    root.querySelectorAll("textarea[maxlength]").forEach(addCounter);
    root.querySelectorAll("select[data-tz-picker]").forEach(tzPicker);
    focusSummary(root);
  }
  // After app.js (loaded first), which may put the browser's zone in the select.
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
})();
