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

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
