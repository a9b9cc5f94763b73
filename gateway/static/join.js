/* The join and edit forms, enhanced: what is typed is kept in the browser until it is sent, organisations are
   picked from the directory as they are typed, and the preview's point can be moved on its map. The forms work
   without any of it. Every text from the data is set as text, never as HTML. */
(function () {
  "use strict";
  var DRAFTS = "dsi-draft:";
  var SKIPPED = ["csrf_token", "nickname", "step"];

  /* --- drafts: saved as typed, restored on a fresh form, dropped once sent ------------------------------- */

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.name && SKIPPED.indexOf(element.name) < 0 && element.type !== "hidden" &&
        element.type !== "submit" && element.type !== "button";
    });
  }

  function save(form) {
    var values = [];
    fields(form).forEach(function (element) {
      if ((element.type === "checkbox" || element.type === "radio") && !element.checked) return;
      values.push([element.name, element.value]);
    });
    try { localStorage.setItem(DRAFTS + form.dataset.draft, JSON.stringify(values)); } catch (full) { /* kept on the page */ }
  }

  function restore(form) {
    var values;
    try { values = JSON.parse(localStorage.getItem(DRAFTS + form.dataset.draft) || "null"); } catch (bad) { values = null; }
    if (!values || !values.length) return;
    var byName = {};
    values.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    var more = form.querySelector("[data-add-organisation]");
    while (more && (byName.organisation || []).length > form.querySelectorAll("[data-pick]").length) more.click();
    var seen = {};
    fields(form).forEach(function (element) {
      var stored = byName[element.name] || [];
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = stored.indexOf(element.value) >= 0;
      } else {
        var index = seen[element.name] = (seen[element.name] || 0) + 1;
        element.value = stored[index - 1] || "";
      }
    });
    var notice = form.querySelector(".draft-notice");
    if (notice) { notice.textContent = notice.dataset.restored; notice.hidden = false; }
  }

  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    if (form.classList.contains("preview")) return;  // its values are the form's, already saved
    if (form.hasAttribute("data-draft-restore")) restore(form);
    form.addEventListener("input", function () { save(form); });
    form.addEventListener("change", function () { save(form); });
  });

  if (document.querySelector("[data-draft-sent]")) {
    Object.keys(localStorage).forEach(function (key) { if (key.indexOf(DRAFTS) === 0) localStorage.removeItem(key); });
  }

  /* --- organisations picked from the directory as they are typed --------------------------------------- */

  var status = document.getElementById("organisation-status");

  function pick(input) {  /* the combobox of site.js, offering the directory's organisations */
    window.DSI.combobox(input, {
      source: function (q) {
        return window.DSI.suggestions(q, 20).then(function (items) {
          return items.filter(function (item) { return item.kind === "organisation"; })
            .map(function (item) { return item.name; }).slice(0, 8);
        });
      },
      pick: function (name) {
        input.value = name;
        input.dispatchEvent(new Event("input", { bubbles: true }));  // the draft keeps it
      },
      announce: function (count) {
        if (status) status.textContent = count === null ? "" : count ? status.dataset.found.replace("N", count) : status.dataset.none;
      }
    });
  }

  document.querySelectorAll("input[data-pick=organisation]").forEach(pick);

  var group = document.querySelector("fieldset.organisations");
  if (group) {
    var add = document.createElement("button");
    add.type = "button";
    add.className = "secondary";
    add.setAttribute("data-add-organisation", "");
    add.textContent = group.dataset.more;
    add.addEventListener("click", function () {
      var fieldsNow = group.querySelectorAll(".typeahead");
      var last = fieldsNow[fieldsNow.length - 1];
      var n = fieldsNow.length + 1;
      var field = document.createElement("div");
      field.className = "field typeahead";
      var label = document.createElement("label");
      label.htmlFor = "organisation-" + n;
      label.textContent = group.dataset.label.replace("N", n);
      var input = document.createElement("input");
      input.id = "organisation-" + n;
      input.name = "organisation";
      input.type = "text";
      input.maxLength = 200;
      input.autocomplete = "off";
      input.setAttribute("aria-describedby", "organisation-hint");
      input.setAttribute("data-pick", "organisation");
      field.appendChild(label);
      field.appendChild(input);
      last.parentNode.insertBefore(field, last.nextSibling);
      pick(input);
      input.focus();
      add.hidden = n >= Number(group.dataset.max);
    });
    group.insertBefore(add, status);
  }

  /* --- the preview's point, moved by click or arrow keys on a map of the land around it ---------------- */

  var figure = document.querySelector("figure.place-map");
  if (figure && window.d3 && window.d3.geoPath && window.topojson) {
    var form = figure.closest("form");
    var latitude = form.querySelector("input[name=latitude]");
    var longitude = form.querySelector("input[name=longitude]");
    var caption = figure.querySelector(".place-coordinates");
    var svg = figure.querySelector("svg");
    var width = 280, height = 200, NS = "http://www.w3.org/2000/svg";
    var centre = [Number(figure.dataset.longitude), Number(figure.dataset.latitude)];
    var box = { type: "MultiPoint", coordinates: [[centre[0] - 2, centre[1] - 1.4], [centre[0] + 2, centre[1] + 1.4]] };
    var projection = window.d3.geoEquirectangular().fitSize([width, height], box);
    var path = window.d3.geoPath(projection);

    var point = [Number(longitude.value), Number(latitude.value)];
    var dot = svg.querySelector(".map-point");

    function place(lonLat) {
      point = [Math.max(-180, Math.min(180, lonLat[0])), Math.max(-90, Math.min(90, lonLat[1]))];
      longitude.value = point[0].toFixed(5);
      latitude.value = point[1].toFixed(5);
      var xy = projection(point);
      dot.setAttribute("cx", xy[0].toFixed(1));
      dot.setAttribute("cy", xy[1].toFixed(1));
      caption.textContent = point[1].toFixed(4) + ", " + point[0].toFixed(4);
    }

    fetch(figure.dataset.atlas).then(function (response) { return response.json(); }).then(function (atlas) {
      svg.querySelectorAll(".map-grid").forEach(function (line) { line.remove(); });
      var land = document.createElementNS(NS, "path");
      land.setAttribute("class", "map-land");
      land.setAttribute("d", path(window.topojson.feature(atlas, atlas.objects.countries)) || "");
      svg.insertBefore(land, dot);
      svg.setAttribute("tabindex", "0");
      svg.setAttribute("role", "group");
      svg.setAttribute("aria-label", figure.dataset.label);
      place(point);
      svg.addEventListener("click", function (event) {
        var bounds = svg.getBoundingClientRect();
        place(projection.invert([(event.clientX - bounds.left) * width / bounds.width,
                                 (event.clientY - bounds.top) * height / bounds.height]));
      });
      svg.addEventListener("keydown", function (event) {
        var step = event.shiftKey ? 0.1 : 0.01;
        var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
        var move = moves[event.key];
        if (!move) return;
        event.preventDefault();
        place([point[0] + move[0], point[1] + move[1]]);
      });
    }).catch(function () { /* the server's map stays, and the city's point */ });
  }
}());
