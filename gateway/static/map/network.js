/* The network of organisations and projects on a canvas: a force layout (d3-force) of the records that have
   links, lone records in rows below; drag to pan, wheel to zoom, click a record for its neighbours, find one by
   name, show all records or linked ones only, pick a connected group. Every frame draws from arrays, so thousands
   of nodes stay smooth; the layout runs a bounded number of steps and then stops.
   Keyboard: the find box, the group buttons and the list of neighbours reach everything the canvas shows. */
(function () {
  "use strict";
  var V = window.DSIViz;
  var P = V.PALETTE;

  function NetworkView(root) {
    this.root = root;
    this.canvas = root.querySelector("canvas");
    this.context = this.canvas.getContext("2d");
    this.panel = document.getElementById("network-panel");
    this.labels = JSON.parse(root.getAttribute("data-labels") || "{}");
    this.transform = { x: 0, y: 0, k: 1 };
    this.selected = null;
    this.group = null;
    this.found = [];
    this.ticket = 0;
    this.frame = null;
  }

  NetworkView.prototype.start = function () {
    var self = this;
    this.root.classList.add("is-drawn");  // shown first: its size is measured next
    this.resize();
    window.addEventListener("resize", function () { self.resize(); self.draw(); });
    this.bindPointer();
    V.bindFilters(document.getElementById("viz-filters"), function () { self.load(); });
    var linked = document.getElementById("network-linked");
    if (linked) {
      linked.addEventListener("change", function () { V.setParams({ linked: linked.checked ? "1" : null }); self.load(); });
    }
    var find = document.getElementById("network-find");
    if (find) find.addEventListener("input", function () { self.find(find.value); });
    var table = document.getElementById("network-table");
    if (table) table.open = false;
    return this.load();
  };

  NetworkView.prototype.resize = function () {
    var box = this.canvas.getBoundingClientRect(), ratio = window.devicePixelRatio || 1;
    this.width = Math.max(200, box.width);
    this.height = Math.max(200, box.height);
    this.canvas.width = Math.round(this.width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.ratio = ratio;
  };

  NetworkView.prototype.load = function () {
    var self = this, ticket = ++this.ticket, query = V.filters();
    if (this.root.hasAttribute("data-record")) {  // a record page: its own network
      query = new URLSearchParams({ record: this.root.getAttribute("data-record") });
    } else {
      if (V.params().get("linked") === "1") query.set("linked", "1");
      query.set("limit", this.root.getAttribute("data-limit") || "5000");
    }
    this.root.setAttribute("data-ready", "false");
    V.announce(this.labels.loading);
    return V.getJSON(this.root.getAttribute("data-api") + "?" + query.toString()).then(function (graph) {
      if (ticket !== self.ticket) return;
      self.use(graph);
    }).catch(function (error) { V.announce(error.message); });
  };

  /* Lay the graph out: linked records by force, from positions that already group them; lone ones in rows. */
  NetworkView.prototype.use = function (graph) {
    var self = this;
    if (this.simulation) this.simulation.stop();
    this.graph = graph;
    this.selected = null;
    this.group = null;
    var byId = {}, linked = [], lone = [];
    graph.nodes.forEach(function (node) { byId[node.id] = node; (node.degree ? linked : lone).push(node); });
    this.byId = byId;
    this.links = graph.edges.map(function (edge) { return { source: byId[edge.source], target: byId[edge.target], role: edge.role }; });
    this.neighbours = {};
    this.links.forEach(function (link) {
      (self.neighbours[link.source.id] = self.neighbours[link.source.id] || []).push(link.target);
      (self.neighbours[link.target.id] = self.neighbours[link.target.id] || []).push(link.source);
    });
    // groups start on a spiral, largest at the centre: the force then only has to tidy each group
    var groupCentre = {};
    graph.groups.forEach(function (group, index) {
      var angle = index * 2.4, radius = 30 * Math.sqrt(index);
      groupCentre[group.id] = [radius * Math.cos(angle), radius * Math.sin(angle)];
    });
    linked.forEach(function (node, index) {
      var centre = groupCentre[node.group], angle = index * 0.7;
      node.x = centre[0] + 6 * Math.cos(angle);
      node.y = centre[1] + 6 * Math.sin(angle);
    });
    var spread = 30 * Math.sqrt(graph.groups.length) + 40, columns = Math.max(10, Math.ceil(Math.sqrt(lone.length) * 2));
    lone.forEach(function (node, index) {
      node.x = -spread + (index % columns) * (2 * spread / columns);
      node.y = spread + 20 + Math.floor(index / columns) * 8;
    });
    this.fit();
    this.simulation = window.d3.forceSimulation(linked)
      .force("charge", window.d3.forceManyBody().strength(-12).distanceMax(120).theta(0.95))
      .force("link", window.d3.forceLink(this.links).distance(14).strength(0.6))
      .force("x", window.d3.forceX(function (node) { return groupCentre[node.group][0]; }).strength(0.05))
      .force("y", window.d3.forceY(function (node) { return groupCentre[node.group][1]; }).strength(0.05))
      .alphaDecay(linked.length > 3000 ? 0.06 : 0.03)
      .on("tick", function () { self.schedule(); })
      .on("end", function () { self.fit(); self.schedule(); });
    this.fillGroups();
    this.schedule();
    this.root.setAttribute("data-nodes", String(graph.nodes.length));
    var root = this.root;
    window.requestAnimationFrame(function () {  // after the first frame is drawn
      root.setAttribute("data-ready", "true");
      root.setAttribute("data-drawn-at", String(window.performance.now()));
    });
    V.announce(this.labels.nodes_shown.replace("%(nodes)s", V.number(graph.nodes.length))
      .replace("%(edges)s", V.number(graph.edges.length)));
  };

  NetworkView.prototype.fit = function () {
    var nodes = this.graph.nodes;
    if (!nodes.length) { this.transform = { x: this.width / 2, y: this.height / 2, k: 1 }; return; }
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    nodes.forEach(function (node) {
      minX = Math.min(minX, node.x); maxX = Math.max(maxX, node.x);
      minY = Math.min(minY, node.y); maxY = Math.max(maxY, node.y);
    });
    var k = Math.min(4, 0.9 * Math.min(this.width / (maxX - minX + 1), this.height / (maxY - minY + 1)));
    this.transform = { k: k, x: this.width / 2 - k * (minX + maxX) / 2, y: this.height / 2 - k * (minY + maxY) / 2 };
  };

  NetworkView.prototype.schedule = function () {
    var self = this;
    if (this.frame) return;
    this.frame = window.requestAnimationFrame(function () { self.frame = null; self.draw(); });
  };

  NetworkView.prototype.draw = function () {
    if (!this.graph) return;
    var c = this.context, t = this.transform, self = this, focus = this.focusSet();
    c.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    c.clearRect(0, 0, this.width, this.height);
    c.translate(t.x, t.y);
    c.scale(t.k, t.k);
    c.lineWidth = 0.6 / t.k;
    c.strokeStyle = focus ? "rgba(120,120,120,0.15)" : "rgba(80,80,80,0.35)";
    c.beginPath();
    this.links.forEach(function (link) {
      c.moveTo(link.source.x, link.source.y);
      c.lineTo(link.target.x, link.target.y);
    });
    c.stroke();
    if (focus) {
      c.strokeStyle = P.highlight;
      c.lineWidth = 1.5 / t.k;
      c.beginPath();
      this.links.forEach(function (link) {
        if (focus[link.source.id] && focus[link.target.id]) { c.moveTo(link.source.x, link.source.y); c.lineTo(link.target.x, link.target.y); }
      });
      c.stroke();
    }
    var size = 3.5 / Math.pow(t.k, 0.8);  // about the same size on screen at any zoom
    ["organisation", "project"].forEach(function (kind) {
      c.fillStyle = P[kind];
      c.globalAlpha = focus ? 0.25 : 1;
      c.beginPath();
      self.graph.nodes.forEach(function (node) {
        if (node.kind !== kind) return;
        shape(c, node, size * (1 + Math.min(1.5, node.degree * 0.1)));
      });
      c.fill();
    });
    c.globalAlpha = 1;
    if (focus) {
      c.lineWidth = 2 / t.k;
      c.strokeStyle = "#1b1f24";
      this.graph.nodes.forEach(function (node) {
        if (!focus[node.id]) return;
        c.fillStyle = P[node.kind];
        c.beginPath();
        shape(c, node, size * (1.6 + Math.min(1.5, node.degree * 0.1)));
        c.fill();
        c.stroke();
      });
      // names of what is in focus, when few enough to read
      var named = Object.keys(focus);
      if (named.length <= 40) {
        c.fillStyle = "#1b1f24";
        c.font = (12 / t.k) + "px system-ui, sans-serif";
        named.forEach(function (id) {
          var node = self.byId[id];
          if (node) c.fillText(node.name, node.x + 2 * size, node.y - 2 * size);
        });
      }
    }
  };

  /* Organisations as circles, projects as diamonds. */
  function shape(c, node, r) {
    if (node.kind === "organisation") {
      c.moveTo(node.x + r, node.y);
      c.arc(node.x, node.y, r, 0, 2 * Math.PI);
    } else {
      c.moveTo(node.x, node.y - r);
      c.lineTo(node.x + r, node.y);
      c.lineTo(node.x, node.y + r);
      c.lineTo(node.x - r, node.y);
      c.closePath();
    }
  }

  /* What is highlighted: a record with its neighbours, a group, or what the find box found. */
  NetworkView.prototype.focusSet = function () {
    var set = null, self = this;
    function add(node) { set = set || {}; set[node.id] = true; }
    if (this.selected) {
      add(this.selected);
      (this.neighbours[this.selected.id] || []).forEach(add);
    } else if (this.group !== null) {
      this.graph.nodes.forEach(function (node) { if (node.group === self.group) add(node); });
    } else if (this.found.length) {
      this.found.forEach(add);
    }
    return set;
  };

  NetworkView.prototype.nodeAt = function (x, y) {
    var t = this.transform, wx = (x - t.x) / t.k, wy = (y - t.y) / t.k, best = null, bestDistance = (10 / t.k) * (10 / t.k);
    this.graph.nodes.forEach(function (node) {
      var dx = node.x - wx, dy = node.y - wy, distance = dx * dx + dy * dy;
      if (distance < bestDistance) { best = node; bestDistance = distance; }
    });
    return best;
  };

  NetworkView.prototype.bindPointer = function () {
    var self = this, dragging = null, moved = false;
    this.canvas.addEventListener("pointerdown", function (event) {
      dragging = { x: event.clientX, y: event.clientY };
      moved = false;
      self.canvas.setPointerCapture(event.pointerId);
    });
    this.canvas.addEventListener("pointermove", function (event) {
      if (!dragging) return;
      var dx = event.clientX - dragging.x, dy = event.clientY - dragging.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) moved = true;
      dragging = { x: event.clientX, y: event.clientY };
      self.transform.x += dx;
      self.transform.y += dy;
      self.schedule();
    });
    this.canvas.addEventListener("pointerup", function (event) {
      if (dragging && !moved) {
        var box = self.canvas.getBoundingClientRect();
        self.select(self.nodeAt(event.clientX - box.left, event.clientY - box.top));
      }
      dragging = null;
    });
    this.canvas.addEventListener("wheel", function (event) {
      event.preventDefault();
      var box = self.canvas.getBoundingClientRect(), x = event.clientX - box.left, y = event.clientY - box.top;
      var factor = Math.pow(2, Math.max(-0.5, Math.min(0.5, -event.deltaY / 300))), t = self.transform;
      var k = Math.max(0.05, Math.min(40, t.k * factor));
      t.x = x - (x - t.x) * k / t.k;
      t.y = y - (y - t.y) * k / t.k;
      t.k = k;
      self.schedule();
    }, { passive: false });
    this.canvas.addEventListener("keydown", function (event) {
      var t = self.transform, steps = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };
      if (steps[event.key]) { event.preventDefault(); t.x += steps[event.key][0]; t.y += steps[event.key][1]; }
      else if (event.key === "+" || event.key === "=") { t.k *= 1.5; t.x = self.width / 2 - (self.width / 2 - t.x) * 1.5; t.y = self.height / 2 - (self.height / 2 - t.y) * 1.5; }
      else if (event.key === "-") { t.k /= 1.5; t.x = self.width / 2 - (self.width / 2 - t.x) / 1.5; t.y = self.height / 2 - (self.height / 2 - t.y) / 1.5; }
      else if (event.key === "Escape") { self.select(null); }
      else return;
      self.schedule();
    });
  };

  /* A record and its neighbours, highlighted, and listed in the panel (links to their pages). */
  NetworkView.prototype.select = function (node) {
    this.selected = node;
    this.group = null;
    this.schedule();
    var panel = this.panel;
    panel.textContent = "";
    if (!node) { panel.hidden = true; return; }
    panel.hidden = false;
    var heading = panel.appendChild(V.element("h2", { tabindex: "-1" }, node.name));
    panel.appendChild(V.element("p", { "class": "kind " + node.kind }, this.labels[node.kind]));
    panel.appendChild(V.element("p")).appendChild(V.element("a", { href: V.localised(node.path) }, this.labels.open_page));
    var neighbours = this.neighbours[node.id] || [];
    panel.appendChild(V.element("h3", {}, this.labels.neighbours.replace("%(n)s", V.number(neighbours.length))));
    var list = panel.appendChild(V.element("ul", { "class": "linked" })), self = this;
    neighbours.forEach(function (other) {
      var item = list.appendChild(V.element("li"));
      var button = item.appendChild(V.element("button", { type: "button", "class": "secondary" }, other.name));
      button.addEventListener("click", function () { self.select(other); self.centre(other); });
    });
    heading.focus();
  };

  NetworkView.prototype.centre = function (node) {
    var t = this.transform;
    t.k = Math.max(t.k, 2);
    t.x = this.width / 2 - node.x * t.k;
    t.y = this.height / 2 - node.y * t.k;
    this.schedule();
  };

  NetworkView.prototype.find = function (text) {
    var words = text.trim().toLowerCase();
    this.found = [];
    this.selected = null;
    this.group = null;
    if (words.length >= 2) {
      var self = this;
      this.graph.nodes.forEach(function (node) { if (node.name.toLowerCase().indexOf(words) >= 0) self.found.push(node); });
      if (this.found.length === 1) this.centre(this.found[0]);
      V.announce(this.found.length ? this.labels.found.replace("%(n)s", V.number(this.found.length)) : this.labels.not_found);
      this.fillFound();
    }
    this.schedule();
  };

  NetworkView.prototype.fillFound = function () {
    var list = document.getElementById("network-found"), self = this;
    if (!list) return;
    list.textContent = "";
    this.found.slice(0, 20).forEach(function (node) {
      var button = list.appendChild(V.element("li")).appendChild(
        V.element("button", { type: "button", "class": "secondary" }, node.name));
      button.addEventListener("click", function () { self.select(node); self.centre(node); });
    });
  };

  NetworkView.prototype.fillGroups = function () {
    var list = document.getElementById("network-groups"), self = this;
    if (!list) return;
    list.textContent = "";
    this.graph.groups.filter(function (group) { return group.size > 1; }).slice(0, 30).forEach(function (group, index) {
      var label = self.labels.group.replace("%(n)s", String(index + 1)).replace("%(size)s", V.number(group.size));
      var button = list.appendChild(V.element("li")).appendChild(
        V.element("button", { type: "button", "class": "secondary", "aria-pressed": "false" }, label));
      button.addEventListener("click", function () {
        var on = self.group !== group.id;
        list.querySelectorAll("button").forEach(function (each) { each.setAttribute("aria-pressed", "false"); });
        button.setAttribute("aria-pressed", on ? "true" : "false");
        self.selected = null;
        self.group = on ? group.id : null;
        self.schedule();
      });
    });
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("dsi-network");
    if (!root || !window.d3 || !window.d3.forceSimulation) return;  // the table stays
    var canvas = root.querySelector("canvas");
    if (!canvas || !canvas.getContext) return;
    var view = new NetworkView(root);
    window.DSINetwork = view;
    view.start();
  });
})();
