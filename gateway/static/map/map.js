/* The map of DSI in Europe: Natural Earth boundaries (world-atlas, served by this site) in SVG, in Web-Mercator
   like the grid the search service clusters on. Zoomed out: a bubble and a shade per country (the search's
   country facet), the shades by records or by records per million inhabitants (`measure` in the address);
   zoomed in: clusters of records that split as the map zooms, a record alone as a point.
   Panning and zooming move the drawn layers by a transform (no redraw), and once the gesture settles the view is
   redrawn and the records of the new view are asked for. Keyboard: arrows pan, + and - zoom, Tab moves between
   marks, Enter opens one. */
(function () {
  "use strict";
  var V = window.DSIViz;
  var TILE = 256;
  var COUNTRY_ZOOM = 5;  // below: countries; from here on: clusters and records
  var MIN_ZOOM = 1, MAX_ZOOM = 18;
  var DEFAULT_VIEW = { lat: 52, lon: 12, z: 3.4 };
  var DETAIL_ZOOM = 4.5;  // from here on the detailed boundaries

  function worldSize(z) { return TILE * Math.pow(2, z); }
  function mercatorY(lat) {
    var sine = Math.sin(Math.max(-85.05, Math.min(85.05, lat)) * Math.PI / 180);
    return 0.5 - Math.log((1 + sine) / (1 - sine)) / (4 * Math.PI);
  }
  function latitudeOf(y) { return Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180 / Math.PI; }

  function MapView(root) {
    this.root = root;
    this.svg = root.querySelector("svg.map-canvas");
    this.land = this.svg.querySelector(".land");
    this.marks = this.svg.querySelector(".marks");
    this.panel = document.getElementById("map-panel");
    this.table = document.getElementById("map-table-body");
    this.form = document.getElementById("viz-filters");
    this.labels = JSON.parse(root.getAttribute("data-labels") || "{}");
    this.countryNames = {};
    this.counts = {};
    this.request = 0;
    var here = V.params();
    this.measure = here.get("measure") === "per_million" ? "per_million" : "count";
    this.view = {
      lat: clampNumber(here.get("lat"), -80, 80, DEFAULT_VIEW.lat),
      lon: clampNumber(here.get("lon"), -180, 180, DEFAULT_VIEW.lon),
      z: clampNumber(here.get("z"), MIN_ZOOM, MAX_ZOOM, DEFAULT_VIEW.z)
    };
  }

  function clampNumber(text, low, high, fallback) {
    var value = parseFloat(text);
    return isFinite(value) ? Math.max(low, Math.min(high, value)) : fallback;
  }

  MapView.prototype.size = function () {
    var box = this.svg.getBoundingClientRect();
    return { width: Math.max(200, box.width), height: Math.max(200, box.height) };
  };

  /* The top-left corner of the view in world pixels at the view's zoom. */
  MapView.prototype.origin = function () {
    var size = this.size(), world = worldSize(this.view.z);
    return { x: (this.view.lon + 180) / 360 * world - size.width / 2,
             y: mercatorY(this.view.lat) * world - size.height / 2 };
  };

  MapView.prototype.project = function (lon, lat) {
    var origin = this.origin(), world = worldSize(this.view.z);
    return [(lon + 180) / 360 * world - origin.x, mercatorY(lat) * world - origin.y];
  };

  MapView.prototype.bbox = function () {
    var size = this.size(), origin = this.origin(), world = worldSize(this.view.z);
    var west = origin.x / world * 360 - 180, east = (origin.x + size.width) / world * 360 - 180;
    var north = latitudeOf(Math.max(0, origin.y / world)), south = latitudeOf(Math.min(1, (origin.y + size.height) / world));
    west = Math.max(-180, west); east = Math.min(180, east);
    return [west, south, east, north].map(function (value) { return value.toFixed(5); }).join(",");
  };

  MapView.prototype.start = function () {
    var self = this;
    this.svg.setAttribute("tabindex", "0");
    this.bindGestures();
    this.bindKeys();
    this.root.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var step = button.getAttribute("data-zoom");
        if (step === "reset") { self.view = Object.assign({}, DEFAULT_VIEW); self.settle(); }
        else self.zoomBy(parseFloat(step));
      });
    });
    V.bindFilters(this.form, function () { self.refresh(); });
    this.bindMeasure();
    window.addEventListener("resize", function () { self.settle(); });
    this.root.classList.add("is-drawn");
    var table = document.getElementById("map-table");
    if (table) table.open = false;  // the table stays one click away for anyone who prefers it
    var first = this.view.z >= DETAIL_ZOOM && this.root.getAttribute("data-atlas-detail") || this.root.getAttribute("data-atlas");
    return this.loadAtlas(first).then(function () { return self.refresh(); });
  };

  /* The coarse boundaries first (fast to load and draw), the detailed ones once the map is zoomed in. */
  MapView.prototype.loadAtlas = function (url) {
    var self = this;
    return V.getJSON(url).then(function (atlas) {
      self.countries = window.topojson.feature(atlas, atlas.objects.countries).features;
      self.atlas = url;
    });
  };

  MapView.prototype.detailIfNeeded = function () {
    var detail = this.root.getAttribute("data-atlas-detail"), self = this;
    if (!detail || this.view.z < DETAIL_ZOOM || this.atlas === detail || this.loadingDetail) return;
    this.loadingDetail = true;
    this.loadAtlas(detail).then(function () { self.drawLand(); });
  };

  /* Where a country's bubble goes: the centre of its largest part (France's bubble sits in France, not at sea
     between it and French Guiana). */
  function anchorOf(country) {
    var geometry = country.geometry;
    if (!geometry) return null;
    if (geometry.type === "MultiPolygon") {
      var largest = null, area = -1;
      geometry.coordinates.forEach(function (polygon) {
        var part = { type: "Polygon", coordinates: polygon }, size = window.d3.geoArea(part);
        if (size > area) { area = size; largest = part; }
      });
      return window.d3.geoCentroid(largest);
    }
    return window.d3.geoCentroid(geometry);
  }

  /* New filters: the counts per country (the map's shades and the table) and the marks of the view. */
  MapView.prototype.refresh = function () {
    var self = this, ticket = ++this.request;
    var query = V.filters().toString();
    this.countsPromise = V.getJSON(this.root.getAttribute("data-api-countries") + (query ? "?" + query : ""))
      .then(function (answer) {
        if (ticket !== self.request) return;
        self.counts = {};
        answer.items.forEach(function (item) { self.counts[item.country] = item; });
        self.fillTable(answer.items);
      });
    return this.countsPromise.then(function () { if (ticket === self.request) return self.settle(); })
      .catch(function (error) { V.announce(error.message); });
  };

  /* Draw the view anew at its place and zoom, and ask for its records (zoomed in). */
  MapView.prototype.settle = function () {
    var self = this;
    this.land.removeAttribute("transform");
    this.marks.removeAttribute("transform");
    V.setParams({ lat: this.view.lat.toFixed(4), lon: this.view.lon.toFixed(4), z: this.view.z.toFixed(2) });
    this.drawLand();
    this.showLegend();
    this.detailIfNeeded();
    if (this.view.z < COUNTRY_ZOOM) {
      this.drawCountries();
      this.root.setAttribute("data-mode", "countries");
      this.ready();
      return Promise.resolve();
    }
    var ticket = ++this.request, query = V.filters();
    query.set("bbox", this.bbox());
    query.set("zoom", String(Math.round(this.view.z)));
    this.root.setAttribute("data-ready", "false");
    return V.getJSON(this.root.getAttribute("data-api-map") + "?" + query.toString()).then(function (answer) {
      if (ticket !== self.request) return;
      self.drawFeatures(answer);
      self.root.setAttribute("data-mode", "points");
      self.ready();
    }).catch(function (error) { V.announce(error.message); });
  };

  /* Drawn and answering: marked for tests and the benchmark (the time since navigation, once). */
  MapView.prototype.ready = function () {
    this.root.setAttribute("data-ready", "true");
    this.root.setAttribute("data-drawn-at", String(window.performance.now()));
    if (!this.root.hasAttribute("data-ready-ms")) this.root.setAttribute("data-ready-ms", String(Math.round(window.performance.now())));
  };

  MapView.prototype.projection = function () {
    var size = this.size(), world = worldSize(this.view.z), origin = this.origin();
    return window.d3.geoMercator()
      .scale(world / (2 * Math.PI))
      .translate([world / 2 - origin.x, world / 2 - origin.y])
      .clipExtent([[-20, -20], [size.width + 20, size.height + 20]]);
  };

  /* What the countries are shaded by: records, or records per million inhabitants (a country without a
     population figure then stays unshaded, and the legend says so). */
  MapView.prototype.bindMeasure = function () {
    var self = this, choice = document.getElementById("map-measure");
    if (!choice) return;
    choice.hidden = false;
    choice.querySelectorAll("input[name=measure]").forEach(function (input) {
      input.checked = (input.value === "per_million") === (self.measure === "per_million");
      input.addEventListener("change", function () {
        if (!input.checked) return;
        self.measure = input.value === "per_million" ? "per_million" : "count";
        V.setParams({ measure: self.measure === "per_million" ? "per_million" : null });
        self.drawLand();
        self.showLegend();
        if (self.items) self.fillTable(self.items);
      });
    });
  };

  MapView.prototype.measureOf = function (item) {
    return item ? item[this.measure] : null;
  };

  MapView.prototype.showLegend = function () {
    var key = document.getElementById("map-shade-key"), missing = document.getElementById("map-no-population");
    var shaded = this.view.z < COUNTRY_ZOOM, self = this;
    if (key) {
      key.hidden = !shaded;
      key.setAttribute("data-measure", this.measure);
      key.querySelector(".shade-text").textContent =
        key.getAttribute(this.measure === "per_million" ? "data-per-million" : "data-records");
    }
    if (missing) {
      missing.hidden = !shaded || this.measure !== "per_million" || !Object.keys(this.counts).some(function (code) {
        return self.counts[code].per_million === null || self.counts[code].per_million === undefined;
      });
    }
    var table = document.getElementById("map-table");
    if (table) table.setAttribute("data-measure", this.measure);
  };

  MapView.prototype.drawLand = function () {
    if (!this.countries) return;
    var path = window.d3.geoPath(this.projection()), self = this;
    var maximum = 0;
    Object.keys(this.counts).forEach(function (code) { maximum = Math.max(maximum, self.measureOf(self.counts[code]) || 0); });
    var shaded = this.view.z < COUNTRY_ZOOM;
    this.land.textContent = "";
    var fragment = document.createDocumentFragment();
    var view = this.bbox().split(",").map(Number);
    this.countries.forEach(function (country) {
      if (!country.bounds) country.bounds = window.d3.geoBounds(country);
      var b = country.bounds;  // [[west, south], [east, north]]; west > east when it crosses the antimeridian
      if (b[0][1] > view[3] || b[1][1] < view[1] || (b[0][0] <= b[1][0] && (b[0][0] > view[2] || b[1][0] < view[0]))) return;
      var d = path(country);
      if (!d) return;
      var code = numericToAlpha[country.id], value = code ? self.measureOf(self.counts[code]) : null;
      var shape = V.svgElement("path", { d: d, "class": "country" });
      var fill = shaded && value ? V.shade(value, maximum) : null;
      if (fill) shape.style.fill = fill;
      fragment.appendChild(shape);
    });
    this.land.appendChild(fragment);
  };

  MapView.prototype.drawCountries = function () {
    var self = this, projection = this.projection(), size = this.size();
    this.marks.textContent = "";
    var maximum = 1, byCode = {};
    Object.keys(this.counts).forEach(function (code) { maximum = Math.max(maximum, self.counts[code].count); });
    this.countries.forEach(function (country) { byCode[numericToAlpha[country.id]] = country; });
    var items = Object.keys(this.counts).map(function (code) { return self.counts[code]; })
      .sort(function (a, b) { return b.count - a.count; });
    var fragment = document.createDocumentFragment(), shown = 0;
    items.forEach(function (item) {
      var country = byCode[item.country];
      if (country && country.anchor === undefined) country.anchor = anchorOf(country);  // only where needed
      if (!country || !country.anchor) return;
      var point = projection(country.anchor);
      if (!point || point[0] < -40 || point[1] < -40 || point[0] > size.width + 40 || point[1] > size.height + 40) return;
      var radius = 4 + 26 * Math.sqrt(item.count / maximum);
      var label = self.labels.country.replace("%(name)s", self.nameOf(item)).replace("%(count)s", V.number(item.count));
      var mark = V.svgElement("circle", { cx: point[0].toFixed(1), cy: point[1].toFixed(1), r: radius.toFixed(1),
        "class": "mark bubble", tabindex: "0", role: "button", "aria-label": label, "data-country": item.country });
      mark.appendChild(V.svgElement("title")).textContent = label;
      mark.addEventListener("click", function () { self.showCountry(item, country); });
      fragment.appendChild(mark);
      shown += 1;
    });
    this.marks.appendChild(fragment);
    V.announce(this.labels.countries_shown.replace("%(n)s", V.number(shown)));
  };

  MapView.prototype.nameOf = function (item) {
    return this.countryNames[item.country] || item.name || item.country;
  };

  /* The grid's neighbouring cells can put two clusters almost on one another: such marks (closer than
     MERGE_PIXELS) become one cluster, at their centre of mass, largest first. */
  var MERGE_PIXELS = 28;
  MapView.prototype.merged = function (features) {
    var self = this, kept = [], buckets = {};
    var sorted = features.map(function (feature) {
      return { feature: feature, point: self.project(feature.geometry.coordinates[0], feature.geometry.coordinates[1]) };
    }).sort(function (a, b) { return b.feature.properties.count - a.feature.properties.count; });
    sorted.forEach(function (entry) {
      var bx = Math.floor(entry.point[0] / MERGE_PIXELS), by = Math.floor(entry.point[1] / MERGE_PIXELS), host = null;
      for (var dx = -1; dx <= 1 && !host; dx++) {
        for (var dy = -1; dy <= 1 && !host; dy++) {
          (buckets[(bx + dx) + ":" + (by + dy)] || []).some(function (other) {
            var ox = other.point[0] - entry.point[0], oy = other.point[1] - entry.point[1];
            if (ox * ox + oy * oy < MERGE_PIXELS * MERGE_PIXELS) { host = other; return true; }
            return false;
          });
        }
      }
      if (!host) {
        (buckets[bx + ":" + by] = buckets[bx + ":" + by] || []).push(entry);
        kept.push(entry);
        return;
      }
      var a = host.feature.properties.count, b = entry.feature.properties.count, ca = host.feature.geometry.coordinates, cb = entry.feature.geometry.coordinates;
      host.feature = { type: "Feature", geometry: { type: "Point", coordinates: [(ca[0] * a + cb[0] * b) / (a + b), (ca[1] * a + cb[1] * b) / (a + b)] },
                       properties: { count: a + b, cluster: true, co_located: false } };
    });
    return kept.map(function (entry) { return entry.feature; });
  };

  MapView.prototype.drawFeatures = function (answer) {
    var self = this, maximum = 1, features = this.merged(answer.features);
    this.marks.textContent = "";
    features.forEach(function (feature) { maximum = Math.max(maximum, feature.properties.count); });
    var fragment = document.createDocumentFragment();
    features.forEach(function (feature) {
      var p = feature.properties, point = self.project(feature.geometry.coordinates[0], feature.geometry.coordinates[1]);
      var mark, label;
      if (p.cluster) {
        var radius = 7 + 18 * Math.sqrt(p.count / maximum);
        label = (p.co_located ? self.labels.place : self.labels.cluster).replace("%(count)s", V.number(p.count));
        mark = V.svgElement("g", { "class": "mark cluster", tabindex: "0", role: "button", "aria-label": label,
          transform: "translate(" + point[0].toFixed(1) + "," + point[1].toFixed(1) + ")" });
        mark.appendChild(V.svgElement("circle", { r: radius.toFixed(1) }));
        var text = mark.appendChild(V.svgElement("text", { dy: "0.35em" }));
        text.textContent = p.count > 999 ? Math.round(p.count / 1000) + "k" : String(p.count);
        mark.addEventListener("click", function () {
          if (p.co_located || self.view.z >= MAX_ZOOM - 0.5) self.showPlace(feature);
          else self.zoomTo(feature.geometry.coordinates, Math.min(MAX_ZOOM, Math.round(self.view.z) + 2));
        });
      } else {
        label = p.name + " (" + self.labels[p.kind] + ")";
        // organisations are circles, projects diamonds: the shape says it as well as the colour
        mark = p.kind === "organisation"
          ? V.svgElement("circle", { cx: point[0].toFixed(1), cy: point[1].toFixed(1), r: 6 })
          : V.svgElement("rect", { x: (point[0] - 5).toFixed(1), y: (point[1] - 5).toFixed(1), width: 10, height: 10,
              transform: "rotate(45 " + point[0].toFixed(1) + " " + point[1].toFixed(1) + ")" });
        mark.setAttribute("class", "mark record " + p.kind);
        mark.setAttribute("tabindex", "0");
        mark.setAttribute("role", "button");
        mark.setAttribute("aria-label", label);
        mark.addEventListener("click", function () { self.showRecord(p); });
      }
      mark.appendChild(V.svgElement("title")).textContent = label;
      fragment.appendChild(mark);
    });
    this.marks.appendChild(fragment);
    var said = this.labels.points_shown.replace("%(placed)s", V.number(answer.placed))
      .replace("%(total)s", V.number(answer.total));
    V.announce(said);
  };

  // --- the panel ---------------------------------------------------------------------------------------------

  MapView.prototype.openPanel = function (title) {
    var panel = this.panel, self = this;
    panel.textContent = "";
    var close = V.element("button", { type: "button", "class": "panel-close", "aria-label": this.labels.close }, "×");
    close.addEventListener("click", function () { panel.hidden = true; self.svg.focus(); });
    panel.appendChild(close);
    var heading = panel.appendChild(V.element("h2", { tabindex: "-1" }, title));
    panel.hidden = false;
    window.setTimeout(function () { heading.focus(); }, 0);
    return panel;
  };

  function recordLink(path, text) {
    var link = V.element("a", { href: V.localised(path) }, text);
    if (V.embedded) { link.setAttribute("target", "_blank"); link.setAttribute("rel", "noopener"); }
    return link;
  }

  MapView.prototype.showRecord = function (p) {
    var panel = this.openPanel(p.name);
    panel.appendChild(V.element("p", { "class": "kind " + p.kind }, this.labels[p.kind]));
    var place = [p.city, p.country_name].filter(Boolean).join(", ");
    if (place) panel.appendChild(V.element("p", { "class": "place" }, place));
    if (p.summary) panel.appendChild(V.element("p", { "class": "summary" }, p.summary));
    if (p.links && p.links.length) {
      panel.appendChild(V.element("h3", {}, this.labels.linked.replace("%(n)s", V.number(p.link_count))));
      var list = panel.appendChild(V.element("ul", { "class": "linked" }));
      var self = this;
      p.links.forEach(function (link) {
        var item = list.appendChild(V.element("li"));
        item.appendChild(recordLink((link.kind === "organisation" ? "/organisations/" : "/projects/") + link.id, link.name));
        if (link.role) item.appendChild(V.element("span", { "class": "role" }, " · " + (self.labels[link.role] || link.role)));
      });
    }
    panel.appendChild(V.element("p")).appendChild(recordLink(p.path, this.labels.open_page)).classList.add("button");
  };

  MapView.prototype.showCountry = function (item, country) {
    var self = this;
    var panel = this.openPanel(this.nameOf(item));
    panel.appendChild(V.element("p", {}, this.labels.records.replace("%(count)s", V.number(item.count))));
    var query = V.filters();
    query.delete("country");
    query.append("country", item.country);
    panel.appendChild(V.element("p")).appendChild(
      V.element("a", { href: V.localised("/search") + "?" + query.toString() }, this.labels.in_directory));
    var zoom = panel.appendChild(V.element("button", { type: "button" }, this.labels.zoom_in_country));
    zoom.addEventListener("click", function () {
      panel.hidden = true;
      self.zoomTo(country.anchor || [self.view.lon, self.view.lat], COUNTRY_ZOOM + 0.5);
    });
  };

  /* Records at one place (or too close to split): listed from the directory's search around that point. */
  MapView.prototype.showPlace = function (feature) {
    var self = this, lon = feature.geometry.coordinates[0], lat = feature.geometry.coordinates[1];
    var panel = this.openPanel(this.labels.place.replace("%(count)s", V.number(feature.properties.count)));
    var query = V.filters(), span = 0.0005;
    query.set("bbox", [lon - span, lat - span, lon + span, lat + span].map(function (v) { return v.toFixed(5); }).join(","));
    query.set("per_page", "50");
    V.getJSON(this.root.getAttribute("data-api-search") + "?" + query.toString()).then(function (answer) {
      var list = panel.appendChild(V.element("ul", { "class": "linked" }));
      answer.items.forEach(function (item) {
        var entry = list.appendChild(V.element("li"));
        entry.appendChild(recordLink((item.kind === "organisation" ? "/organisations/" : "/projects/") + item.id, item.name));
        entry.appendChild(V.element("span", { "class": "role" }, " · " + self.labels[item.kind]));
      });
    });
  };

  // --- moving ------------------------------------------------------------------------------------------------

  MapView.prototype.zoomTo = function (lonlat, z) {
    this.view = { lon: lonlat[0], lat: lonlat[1], z: Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, z)) };
    this.settle();
  };

  MapView.prototype.zoomBy = function (step) {
    this.view.z = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, this.view.z + step));
    this.settle();
  };

  MapView.prototype.panBy = function (dx, dy) {
    var world = worldSize(this.view.z);
    var x = (this.view.lon + 180) / 360 * world + dx, y = mercatorY(this.view.lat) * world + dy;
    this.view.lon = Math.max(-180, Math.min(180, x / world * 360 - 180));
    this.view.lat = Math.max(-80, Math.min(80, latitudeOf(Math.max(0, Math.min(1, y / world)))));
  };

  /* While a gesture lasts the drawn layers only move (a transform, which the browser composes without
     redrawing); `settle` draws them anew when it ends. */
  MapView.prototype.bindGestures = function () {
    var self = this, pointers = {}, last = null, pending = null, moved = { dx: 0, dy: 0, k: 1, cx: 0, cy: 0 };
    function preview() {
      var transform = "translate(" + moved.cx + "," + moved.cy + ") scale(" + moved.k + ") translate(" +
        (-moved.cx + moved.dx / moved.k) + "," + (-moved.cy + moved.dy / moved.k) + ")";
      self.land.setAttribute("transform", transform);
      self.marks.setAttribute("transform", transform);
    }
    function later() {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () { moved = { dx: 0, dy: 0, k: 1, cx: 0, cy: 0 }; self.settle(); }, 180);
    }
    this.svg.addEventListener("pointerdown", function (event) {
      if (event.target.closest(".mark")) return;
      pointers[event.pointerId] = true;
      last = { x: event.clientX, y: event.clientY };
      self.svg.setPointerCapture(event.pointerId);
    });
    this.svg.addEventListener("pointermove", function (event) {
      if (!pointers[event.pointerId] || !last) return;
      var dx = event.clientX - last.x, dy = event.clientY - last.y;
      last = { x: event.clientX, y: event.clientY };
      self.panBy(-dx, -dy);
      moved.dx += dx; moved.dy += dy;
      preview();
    });
    function end(event) {
      if (!pointers[event.pointerId]) return;
      delete pointers[event.pointerId];
      last = null;
      if (moved.dx || moved.dy) later();
    }
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", end);
    this.svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var box = self.svg.getBoundingClientRect(), size = self.size();
      var step = Math.max(-0.5, Math.min(0.5, -event.deltaY / 300));
      var next = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, self.view.z + step));
      var factor = Math.pow(2, next - self.view.z);
      if (factor === 1) return;
      // keep the point under the cursor in place
      var px = event.clientX - box.left - size.width / 2, py = event.clientY - box.top - size.height / 2;
      self.panBy(px, py);
      self.view.z = next;
      self.panBy(-px, -py);
      moved.cx = event.clientX - box.left; moved.cy = event.clientY - box.top;
      moved.k *= factor;
      preview();
      later();
    }, { passive: false });
    this.svg.addEventListener("dblclick", function (event) {
      if (event.target.closest(".mark")) return;
      var box = self.svg.getBoundingClientRect(), size = self.size();
      self.panBy(event.clientX - box.left - size.width / 2, event.clientY - box.top - size.height / 2);
      self.zoomBy(1);
    });
  };

  MapView.prototype.bindKeys = function () {
    var self = this;
    this.svg.addEventListener("keydown", function (event) {
      var mark = event.target.closest && event.target.closest(".mark");
      if (mark && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        mark.dispatchEvent(new MouseEvent("click", { bubbles: true }));
        return;
      }
      var steps = { ArrowLeft: [-120, 0], ArrowRight: [120, 0], ArrowUp: [0, -120], ArrowDown: [0, 120] };
      if (steps[event.key]) {
        event.preventDefault();
        self.panBy(steps[event.key][0], steps[event.key][1]);
        self.settle();
      } else if (event.key === "+" || event.key === "=") { event.preventDefault(); self.zoomBy(1); }
      else if (event.key === "-" || event.key === "_") { event.preventDefault(); self.zoomBy(-1); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !self.panel.hidden) { self.panel.hidden = true; self.svg.focus(); }
    });
  };

  // --- the table alternative ---------------------------------------------------------------------------------

  /* The rows in the order of the measure the map is shaded by (countries without a population last), that
     column marked as the sorted one. */
  MapView.prototype.fillTable = function (items) {
    if (!this.table) return;
    var self = this, measure = this.measure;
    this.items = items;
    items = items.slice().sort(function (a, b) {
      var x = a[measure], y = b[measure];
      if (x === null || x === undefined) return (y === null || y === undefined) ? b.count - a.count : 1;
      if (y === null || y === undefined) return -1;
      return y - x || b.count - a.count;
    });
    var headings = this.table.parentNode.querySelectorAll("thead th");
    headings.forEach(function (heading, index) {
      var sorted = index === (measure === "per_million" ? 2 : 1);
      if (sorted) heading.setAttribute("aria-sort", "descending"); else heading.removeAttribute("aria-sort");
    });
    this.table.querySelectorAll("tr").forEach(function (row) {
      var code = row.getAttribute("data-country");
      if (code) self.countryNames[code] = row.querySelector("th").textContent.trim();
    });
    this.table.textContent = "";
    items.forEach(function (item) {
      var row = self.table.appendChild(V.element("tr", { "data-country": item.country }));
      var query = V.filters();
      query.delete("country");
      query.append("country", item.country);
      row.appendChild(V.element("th", { scope: "row" })).appendChild(
        V.element("a", { href: V.localised("/search") + "?" + query.toString() }, self.nameOf(item)));
      row.appendChild(V.element("td", { "class": "number" }, V.number(item.count)));
      var unknown = item.per_million === null || item.per_million === undefined;
      var cell = row.appendChild(V.element("td", { "class": "number per-million" },
        unknown ? "–" : V.decimal(item.per_million)));
      if (unknown) cell.setAttribute("title", self.labels.no_population);
    });
    var total = document.getElementById("map-total");
    if (total) {
      var sum = items.reduce(function (acc, item) { return acc + item.count; }, 0);
      total.textContent = V.number(sum);
    }
  };

  // ISO 3166-1 numeric (world-atlas ids) → alpha-2 (the platform's codes), read from the page
  var numericToAlpha = {};

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("dsi-map");
    if (!root || !window.d3 || !window.d3.geoMercator || !window.topojson) return;  // the table stays
    numericToAlpha = JSON.parse(root.getAttribute("data-numeric") || "{}");
    var view = new MapView(root);
    window.DSIMap = view;
    view.start().catch(function (error) { V.announce(error.message); });
  });
})();
