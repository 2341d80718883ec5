// Stock movement pages: small helps on top of forms that work without them.
(function () {
  "use strict";

  // Adjust: the lot list shows only the chosen item's lots (each option carries data-sku).
  function wireLotFilter(form) {
    var item = form.querySelector("select[name=sku]");
    var lot = form.querySelector("select[name=lot]");
    if (!item || !lot) return;
    function filter() {
      var sku = item.value;
      lot.querySelectorAll("option[data-sku]").forEach(function (option) {
        var mine = !sku || option.dataset.sku === sku;
        option.hidden = !mine;
        option.disabled = !mine;
        if (!mine && option.selected) lot.value = "";
      });
      lot.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      // One lot of this item on hand: it is the one.
      var mine = lot.querySelectorAll("option[data-sku]:not([hidden])");
      if (sku && mine.length === 1 && !lot.value) lot.value = mine[0].value;
    }
    item.addEventListener("change", filter);
    filter();
  }

  // Adjust: a reason that only goes one way sets Out or In (damaged, lost, expired out; found in).
  function wireDirection(form) {
    var reason = form.querySelector("select[name=reason]");
    if (!reason) return;
    var ways = { damaged: "out", lost: "out", expired: "out", found: "in" };
    reason.addEventListener("change", function () {
      var way = ways[reason.value];
      var radio = way && form.querySelector("input[name=direction][value=" + way + "]");
      if (radio) radio.checked = true;
    });
  }

  // Receive: choosing an order picks its funding source (the order's funding source applies).
  function wireOrderFunding(form) {
    var order = form.querySelector("select[name=purchase_order]");
    var funding = form.querySelector("select[name=funding_source]");
    if (!order || !funding) return;
    order.addEventListener("change", function () {
      var chosen = order.options[order.selectedIndex];
      if (chosen && chosen.dataset.funding) funding.value = chosen.dataset.funding;
    });
  }

  // A quantity "in" a pack, where the item is chosen on the form: only the chosen item's packs are offered,
  // and the choice is hidden for an item that has none (its quantity is then in units of issue).
  function wirePackChoice(scope) {
    var item = scope.querySelector("select[name$=sku]");
    var pack = scope.querySelector("select[name$=pack]");
    var box = pack && pack.closest(".pack-choice");
    if (!item || !pack || !box) return;
    function filter() {
      var mine = 0;
      pack.querySelectorAll("option[data-sku]").forEach(function (option) {
        var shown = option.dataset.sku === item.value;
        option.hidden = !shown;
        option.disabled = !shown;
        if (shown) mine += 1;
        else if (option.selected) pack.value = "";
      });
      pack.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      box.hidden = mine === 0;
    }
    item.addEventListener("change", filter);
    filter();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-receive-form], form[data-order-form] fieldset.line").forEach(wirePackChoice);
    document.querySelectorAll("form[data-adjust-form]").forEach(wireLotFilter);
    document.querySelectorAll("form[data-adjust-form]").forEach(wireDirection);
    document.querySelectorAll("form[data-receive-form]").forEach(wireOrderFunding);
  });
})();
