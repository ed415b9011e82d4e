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

  function blockMappingSave(root) {
    var check = root.querySelector ? root.querySelector("#mapping-check") : null;
    if (!check) return;
    var form = check.closest("form");
    var button = form && form.querySelector('button[type="submit"]');
    if (button) button.disabled = !!check.querySelector('[data-check="blocked"]');
  }

  function init(root) {
    root.querySelectorAll(".error-form").forEach(syncSelection);
    blockMappingSave(document);
  }

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
      submit: el.type === "submit",
      action: form ? form.getAttribute("action") : null
    };
  }

  function counterpart() {
    if (!lastFocus) return null;
    if (lastFocus.id) {
      var same = document.getElementById(lastFocus.id);
      if (same) return same;
    }
    if (!lastFocus.action) return null;
    var forms = document.querySelectorAll("form[action]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("action") !== lastFocus.action) continue;
      var selector = lastFocus.submit ? '[type="submit"]'
        : lastFocus.name ? '[name="' + CSS.escape(lastFocus.name) + '"]' : null;
      var found = selector && forms[i].querySelector(selector);
      if (found) return found;
    }
    return null;
  }

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

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
