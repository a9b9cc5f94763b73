/* The little JavaScript of the site: names suggested as you type, and filters that apply when ticked.
   Every page works without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var lang = document.documentElement.lang || "en";
  var prefix = lang === "en" ? "" : "/" + lang;
  var paths = { organisation: "/organisations/", project: "/projects/" };

  function suggest(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var timer = null, active = -1, latest = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function show(items) {
      list.textContent = "";
      active = -1;
      if (!items.length) { close(); return; }
      items.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        var link = document.createElement("a");
        link.href = prefix + paths[item.kind] + item.id;
        link.textContent = item.name;  /* text, never HTML */
        link.tabIndex = -1;
        var kind = document.createElement("span");
        kind.className = "suggestion-kind";
        kind.textContent = item.kind === "organisation" ? list.dataset.organisation || "organisation" : list.dataset.project || "project";
        option.appendChild(link);
        option.appendChild(kind);
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function move(step) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) return;
      if (active >= 0) options[active].removeAttribute("aria-selected");
      active = (active + step + options.length) % options.length;
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      timer = setTimeout(function () {
        var ticket = ++latest;
        fetch("/api/suggest?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (items) { if (ticket === latest) show(items); })
          .catch(close);
      }, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { move(1); event.preventDefault(); }
      else if (event.key === "ArrowUp") { move(-1); event.preventDefault(); }
      else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.href = list.querySelectorAll("[role=option] a")[active].href;
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 200); });
  }

  document.querySelectorAll("input[data-suggest]").forEach(suggest);

  /* On the directory page a ticked filter or a new order applies at once (the button does it without JS). */
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.type === "checkbox" || target.tagName === "SELECT") form.submit();
    });
  });

  /* On a narrow screen the filters start folded, so that the results come first. */
  if (window.matchMedia("(max-width: 50rem)").matches) {
    document.querySelectorAll("details[data-collapse-narrow]").forEach(function (details) { details.open = false; });
  }

  /* After a failed form, take keyboard and screen-reader users to the list of errors. */
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
