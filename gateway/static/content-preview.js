// The console's live Markdown preview: posts the body (with the form's CSRF token) to the preview endpoint a
// moment after typing stops and shows the sanitised HTML content answers. Without it the Preview button works.
(function () {
  var form = document.querySelector("form[data-preview]");
  var area = form && form.querySelector("textarea[data-markdown]");
  var target = document.getElementById("markdown-preview");
  if (!area || !target) return;
  var timer = null;
  function refresh() {
    var data = new URLSearchParams();
    data.set("markdown", area.value);
    data.set("csrf_token", form.querySelector("input[name=csrf_token]").value);
    fetch(form.getAttribute("data-preview"), {method: "POST", body: data, credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (body) { if (body) target.innerHTML = body.html; });
  }
  area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  refresh();
})();
