/* The little JavaScript of the site: names suggested as you type (DSI.combobox, which join.js uses too), and
   filters that apply when ticked. Every page works without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var lang = document.documentElement.lang || "en";
  var prefix = lang === "en" ? "" : "/" + lang;
  var paths = { organisation: "/organisations/", project: "/projects/" };

  var DSI = window.DSI = window.DSI || {};  /* what the other scripts (join.js) use */

  /* The names the directory suggests for what is typed (organisations and projects), best first. */
  DSI.suggestions = function (q, limit) {
    return fetch("/api/suggest?limit=" + limit + "&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; });
  };

  /* A text input that offers choices as it is typed: an ARIA combobox whose listbox is the one its
     aria-controls names, or a new one after it. Arrow keys move, Enter or a click picks, Escape closes.
     options.source(q): a promise of the items for what is typed (two characters or more);
     options.render(item, option): fills an option (by default with the item as text);
     options.pick(item): what choosing does; options.announce(count): told how many items show, or null. */
  DSI.combobox = function (input, options) {
    var list = document.getElementById(input.getAttribute("aria-controls") || "");
    if (!list) {
      list = document.createElement("ul");
      list.id = input.id + "-list";
      list.className = "suggestions";
      list.setAttribute("role", "listbox");
      list.hidden = true;
      input.parentNode.appendChild(list);
    }
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var render = options.render || function (item, option) { option.textContent = item; };  /* text, never HTML */
    var announce = options.announce || function () {};
    var timer = null, active = -1, latest = 0, items = [];

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      var item = items[index];
      close();
      options.pick(item);
    }

    function show(found) {
      close();
      items = found;
      announce(found.length);
      if (!found.length) return;
      found.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        render(item, option);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });  /* the input keeps the focus */
        option.addEventListener("click", function (event) { event.preventDefault(); choose(index); });
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function move(step) {
      var shown = list.querySelectorAll("[role=option]");
      if (!shown.length) return;
      if (active >= 0) shown[active].removeAttribute("aria-selected");
      active = (active + step + shown.length) % shown.length;
      shown[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", shown[active].id);
    }

    input.addEventListener("input", function (event) {
      if (!event.isTrusted) return;  /* a value the page set itself (a pick) asks for nothing */
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { close(); announce(null); return; }
      timer = setTimeout(function () {
        var ticket = ++latest;
        options.source(q)
          .then(function (found) { if (ticket === latest) show(found); })
          .catch(close);
      }, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { move(1); event.preventDefault(); }
      else if (event.key === "ArrowUp") { move(-1); event.preventDefault(); }
      else if (event.key === "Escape") { close(); event.preventDefault(); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(active); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  };

  /* The search boxes: a suggested record opens its page. */
  function recordUrl(item) { return prefix + paths[item.kind] + item.id; }

  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    DSI.combobox(input, {
      source: function (q) { return DSI.suggestions(q, 8); },
      render: function (item, option) {
        var link = document.createElement("a");
        link.href = recordUrl(item);
        link.textContent = item.name;  /* text, never HTML */
        link.tabIndex = -1;
        var kind = document.createElement("span");
        kind.className = "suggestion-kind";
        kind.textContent = item.kind === "organisation" ? list.dataset.organisation || "organisation" : list.dataset.project || "project";
        option.appendChild(link);
        option.appendChild(kind);
      },
      pick: function (item) { window.location.href = recordUrl(item); }
    });
  });

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
