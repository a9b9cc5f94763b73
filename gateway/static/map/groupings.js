/* Groupings are drawn by the server (a table with bars, a timeline): here a changed filter or grouping applies at
   once, without the Apply button. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    ["viz-filters", "grouping-choice"].forEach(function (id) {
      var form = document.getElementById(id);
      if (!form) return;
      var timer = null;
      form.addEventListener("change", function (event) { if (event.target.name !== "q") form.requestSubmit(); });
      form.addEventListener("input", function (event) {
        if (event.target.name !== "q") return;
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { form.requestSubmit(); }, 600);
      });
      var apply = form.querySelector(".apply");
      if (apply) apply.hidden = true;
    });
  });
})();
