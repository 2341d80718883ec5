// The visit form's quick picks: fill in the item steppers here, without sending the form.
// Without script a quick pick is a submit button and the server fills them in instead.
(function () {
  "use strict";

  function wireQuickPicks(form) {
    var status = document.getElementById("fill-status");
    form.querySelectorAll("button[data-fill]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var fill = JSON.parse(button.dataset.fill);
        // Only the items: a quick pick never clears the code, reversals or syringes collected.
        form.querySelectorAll("input[data-item]").forEach(function (input) {
          input.value = fill[input.id] || 0;
          input.removeAttribute("aria-invalid");
        });
        if (status) status.textContent = "Filled in: " + button.dataset.label + ". Check the amounts, then tap Record visit.";
        var submit = form.querySelector("[data-after-bundle]");
        if (submit) submit.focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("visit-form");
    if (form) wireQuickPicks(form);
  });
})();
