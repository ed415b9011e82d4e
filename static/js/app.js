/* Small progressive enhancements; every page works without them. No inline scripts (CSP). */
(function () {
  "use strict";

  function syncSelection(form) {
    var boxes = form.querySelectorAll('input[type="checkbox"][name="ids"]');
    var checked = form.querySelectorAll('input[type="checkbox"][name="ids"]:checked');
    form.querySelectorAll("[data-needs-selection]").forEach(function (button) {
      button.disabled = checked.length === 0;
    });
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked.length === boxes.length;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
  }

  // The mapping editor's inline check says whether a pair can be mapped; it never disables
  // "Add mapping": the check runs on the pickers' change, which a click on the button itself
  // fires (the field loses focus), and a button disabled by the previous pair would swallow
  // that first click. The server checks again on submit and answers with the same message.

  // The add-mapping form offers only the sync rules the picked pair may have (a read-only
  // Salesforce field: Salesforce's value or nothing): the inline check's answer names them.
  // A rule still offered stays picked; one no longer offered gives way to the first offered.
  // The server refuses the others on submit all the same.
  function offerRules() {
    var offered = document.querySelector("#mapping-check [data-rules]");
    var select = document.getElementById("id_rule");
    if (!offered || !select) return;
    var rules = offered.getAttribute("data-rules").split(" ");
    var first = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var ok = rules.indexOf(option.value) !== -1;
      option.disabled = !ok;
      option.hidden = !ok;
      if (ok && !first) first = option;
    });
    var picked = select.options[select.selectedIndex];
    if (first && (!picked || picked.disabled)) select.value = first.value;
  }

  // Screen readers hear a live region only when its content changes: this one (in base.html,
  // outside everything htmx swaps) is emptied, then filled a moment later.
  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 150);
  }

  // A settings card's Save answers with the whole card, "Saved…" at its top, which is off
  // screen on a long card. After an htmx save, move it next to the Save button (where focus
  // stays) and into view; on a full page load it stays at the top. Announce it either way.
  function confirmSaved(afterSwap) {
    var saved = document.getElementById("settings-saved");
    if (!saved || saved.hasAttribute("data-announced")) return;
    saved.setAttribute("data-announced", "");
    var form = saved.closest("form");
    var footer = form && form.querySelector(".settings__footer");
    if (afterSwap && footer) {
      footer.appendChild(saved);
      saved.scrollIntoView({ block: "nearest" });
    }
    announce(saved.textContent.replace(/\s+/g, " ").trim());
  }

  // While a resync is queued, the error list reloads itself every few seconds: the rows the
  // admin ticked stay ticked (by their error id; a row that left the list is gone), and so
  // "Resync selected" stays enabled.
  var ticked = null;

  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    ticked = null;
    if (!event.detail.shouldSwap || !elt || elt.id !== "error-list") return;
    ticked = Array.prototype.map.call(
      elt.querySelectorAll('input[type="checkbox"][name="ids"]:checked'),
      function (box) { return box.value; }
    );
  });

  function restoreTicked() {
    var values = ticked;
    ticked = null;
    var list = values && values.length && document.getElementById("error-list");
    if (!list) return;
    list.querySelectorAll('input[type="checkbox"][name="ids"]').forEach(function (box) {
      if (values.indexOf(box.value) !== -1) box.checked = true;
    });
    list.querySelectorAll(".error-form").forEach(syncSelection);
  }

  // Sync health: the card of the open panel is highlighted, also after the cards reload
  // (every 30 seconds) and after another card opens its panel in place.
  function markOpenCard() {
    var open = document.querySelector("#error-panel [data-error-type]");
    var type = open ? open.getAttribute("data-error-type") : null;
    document.querySelectorAll(".error-card[data-error-type]").forEach(function (card) {
      card.classList.toggle("error-card--active", card.getAttribute("data-error-type") === type);
    });
  }

  // A select whose dependent part the server drew for one of its values (data-drawn, e.g. a
  // ticket pipeline's stage table) can change before htmx wires it up: picked while the page
  // was still loading, or put back by the browser on Back. Ask for that part again.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root.querySelectorAll || !window.htmx) return;
    root.querySelectorAll("select[data-drawn]").forEach(function (select) {
      if (select.value !== select.getAttribute("data-drawn")) window.htmx.trigger(select, "change");
    });
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var select = event.detail.elt;
    if (select.hasAttribute && select.hasAttribute("data-drawn")) {
      select.setAttribute("data-drawn", select.value);
    }
  });

  // Both before the browser paints the swapped content: no flash of unticked boxes or of an
  // unhighlighted card.
  document.addEventListener("htmx:afterSwap", function () {
    restoreTicked();
    markOpenCard();
  });

  // On a narrow window the tab strip scrolls sideways: bring the current tab into it. Only the
  // strip scrolls, never the page.
  function showActiveTab() {
    var tab = document.querySelector(".tabs .tabs__tab--active");
    var strip = tab && tab.closest(".tabs");
    if (!strip || strip.scrollWidth <= strip.clientWidth) return;
    var tabBox = tab.getBoundingClientRect();
    var stripBox = strip.getBoundingClientRect();
    if (tabBox.left >= stripBox.left && tabBox.right <= stripBox.right) return;
    strip.scrollLeft += tabBox.left - stripBox.left - (stripBox.width - tabBox.width) / 2;
  }

  function init(root, afterSwap) {
    root.querySelectorAll(".error-form").forEach(syncSelection);
    confirmSaved(afterSwap);
    offerRules();
  }

  // The language switch comes back to the page as it is now: htmx may have changed the
  // address since the page was drawn (an error panel opened, a search typed).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("language-switcher")) return;
    var next = form.querySelector("input[name=next]");
    if (next) next.value = location.pathname + location.search + location.hash;
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.closest && target.closest(".error-form");
    if (!form) return;
    if (target.matches("[data-select-all]")) {
      form.querySelectorAll('input[type="checkbox"][name="ids"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
    syncSelection(form);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-no-submit]")) {
      event.preventDefault();
    }
  });

  // Escape closes Sync health's error panel through its own close control (×). In a search
  // box with text, Escape first clears the text, as the browser does.
  var PANEL_KEY = "closed-error-panel";

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || event.isComposing) return;
    var close = document.querySelector("#error-panel .panel__close");
    if (!close) return;
    var target = event.target;
    if (target.matches && target.matches("input, textarea") && target.value) return;
    event.preventDefault();
    close.click();
  });

  // Closing the panel loads Sync health again: focus goes back to the card that opened it,
  // not to the top of the page.
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("#error-panel .panel__close");
    var panel = close && close.closest("[data-error-type]");
    if (!panel) return;
    try {
      window.sessionStorage.setItem(PANEL_KEY, panel.getAttribute("data-error-type"));
    } catch (e) { /* storage off: focus starts at the top, as without this script */ }
  });

  function focusClosedPanelCard() {
    var type = null;
    try {
      type = window.sessionStorage.getItem(PANEL_KEY);
      window.sessionStorage.removeItem(PANEL_KEY);
    } catch (e) { return; }
    if (!type || document.querySelector("#error-panel .panel__close")) return;
    var card = document.querySelector('.error-card[data-error-type="' + CSS.escape(type) + '"]');
    if (card) card.focus();
  }

  // An htmx swap often replaces the control that had focus, and focus falls back to the
  // page: keyboard users would start again from the top. Put it back on the control's
  // counterpart (same id; or, in the form with the same action, the same field or submit
  // button) or, failing that, on the swapped region.
  var lastFocus = null;

  function remember() {
    var el = document.activeElement;
    // A request the swap itself starts (hx-trigger="load") comes while focus is lost: keep
    // what the user's own request remembered.
    if (!el || el === document.body) return;
    var form = el.form || (el.closest && el.closest("form"));
    lastFocus = {
      id: el.id,
      name: el.getAttribute("name"),
      // A row's checkbox: the same row's, not the first one with that name; a named submit
      // button: the same one ("Resync all", not "Resync selected").
      value: el.type === "checkbox" || el.type === "radio" || (el.type === "submit" && el.name)
        ? el.value : null,
      submit: el.type === "submit",
      action: form ? form.getAttribute("action") : null
    };
  }

  function counterpart() {
    if (!lastFocus) return null;
    if (lastFocus.id) {
      var same = document.getElementById(lastFocus.id);
      if (same && !same.disabled) return same;
    }
    if (!lastFocus.action) return null;
    var forms = document.querySelectorAll("form[action]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("action") !== lastFocus.action) continue;
      var selector = lastFocus.name ? '[name="' + CSS.escape(lastFocus.name) + '"]'
        : lastFocus.submit ? '[type="submit"]' : null;
      if (selector && lastFocus.value !== null) {
        selector += '[value="' + CSS.escape(lastFocus.value) + '"]';
      }
      var found = selector && forms[i].querySelector(selector);
      // A disabled one takes no focus ("Resync selected" once nothing is ticked): the
      // swapped region does.
      if (found && !found.disabled) return found;
    }
    return null;
  }

  // The swapped content is set up first (which buttons a selection enables): focus then goes
  // to a control that takes it.
  document.addEventListener("htmx:afterSettle", function () { init(document, true); });
  document.addEventListener("htmx:beforeRequest", remember);
  document.addEventListener("htmx:afterSettle", function (event) {
    var active = document.activeElement;
    if (active && active !== document.body) return;
    var again = counterpart();
    var region = event.detail && event.detail.target;
    if (!again && region && document.body.contains(region)) {
      if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "-1");
      again = region;
    }
    if (again) again.focus({ preventScroll: true });
    lastFocus = null;
  });

  document.addEventListener("DOMContentLoaded", function () {
    init(document, false);
    markOpenCard();
    showActiveTab();
    focusClosedPanelCard();
  });
  // Back to a page htmx pushed (an error panel) restores the whole page, tab strip included.
  document.addEventListener("htmx:historyRestore", showActiveTab);
})();
