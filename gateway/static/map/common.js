/* What the map, network and groupings views share: their state in the URL (the directory's filters plus the
   view), reading the API, the filter form, the links that carry the selection, the embed code, the palette.
   Every text from the data is set as text, never as HTML. */
(function () {
  "use strict";
  var FACETS = ["kind", "country", "social_areas", "technologies", "dsi_focus", "organisation_type",
                "organisation_size"];
  // Okabe & Ito's palette: told apart with each common colour-vision deficiency; shapes differ as well.
  var PALETTE = { organisation: "#E69F00", project: "#0072B2", cluster: "#009E73", highlight: "#D55E00",
                  muted: "#999999", selected: "#CC79A7" };
  // One hue from light to dark for counts: an order every colour vision reads.
  var SHADES = ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"];
  var lang = document.documentElement.lang || "en";
  var prefix = lang === "en" ? "" : "/" + lang;

  function params() { return new URLSearchParams(window.location.search); }

  /* The directory's filters (text and facets) of a query string. */
  function filters(from) {
    var picked = new URLSearchParams();
    (from || params()).forEach(function (value, key) {
      if ((key === "q" || FACETS.indexOf(key) >= 0) && value) picked.append(key, value);
    });
    return picked;
  }

  /* Change some parameters of the address in place (no reload), then refresh every link that carries them. */
  function setParams(changes) {
    var current = params();
    Object.keys(changes).forEach(function (key) {
      current.delete(key);
      var value = changes[key];
      if (value === null || value === undefined || value === "" || value === false) return;
      [].concat(value).forEach(function (each) { current.append(key, each); });
    });
    var query = current.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    carryLinks();
  }

  function getJSON(url) {
    return window.fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.message || response.statusText);
          return body;
        });
      });
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgElement(tag, attributes) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    return node;
  }

  function localised(path) { return prefix + path; }

  function number(value) { return new Intl.NumberFormat(lang).format(value); }
  /* A figure the API already rounded (a count per million inhabitants: 0.00357, 26.3), with all its decimals. */
  function decimal(value) { return new Intl.NumberFormat(lang, { maximumFractionDigits: 6 }).format(value); }

  /* Links marked data-carry="/path" point to that page with the current filters (data-carry-view adds the view's
     own parameters too): the directory, the other views, and back. */
  function carryLinks() {
    var current = params();
    document.querySelectorAll("[data-carry]").forEach(function (link) {
      var kept = link.hasAttribute("data-carry-view") ? new URLSearchParams(current) : filters(current);
      kept.delete("embed");
      if (link.hasAttribute("data-carry-embed")) kept.set("embed", "1");  // the other views, still embedded
      var query = kept.toString();
      link.setAttribute("href", link.getAttribute("data-carry") + (query ? "?" + query : ""));
    });
    document.querySelectorAll("[data-embed-code]").forEach(function (box) {
      var kept = new URLSearchParams(current);
      kept.set("embed", "1");
      var src = window.location.origin + window.location.pathname + "?" + kept.toString();
      box.value = '<iframe src="' + src.replace(/&/g, "&amp;").replace(/"/g, "&quot;") + '" title="' +
        (box.getAttribute("data-title") || "DSI").replace(/"/g, "&quot;") +
        '" width="100%" height="600" style="border:0" loading="lazy"></iframe>';
    });
  }

  /* The filter form applies as soon as it changes (the text after a pause); `onChange` redraws the view. */
  function bindFilters(form, onChange) {
    if (!form) return;
    var timer = null;
    function apply() {
      var chosen = {};
      FACETS.concat(["q"]).forEach(function (name) { chosen[name] = null; });
      new FormData(form).forEach(function (value, name) {
        if (name !== "q" && FACETS.indexOf(name) < 0) return;
        if (!value) return;
        chosen[name] = (chosen[name] || []).concat([value]);
      });
      setParams(chosen);
      onChange();
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "q") return;
      apply();
    });
    form.addEventListener("input", function (event) {
      if (event.target.name !== "q") return;
      window.clearTimeout(timer);
      timer = window.setTimeout(apply, 250);
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    var apply_button = form.querySelector(".apply");
    if (apply_button) apply_button.hidden = true;
  }

  function bindCopy() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var box = document.getElementById(button.getAttribute("data-copy"));
        box.select();
        var done = function () { button.textContent = button.getAttribute("data-copied") || "Copied"; };
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(box.value).then(done, done);
        else { document.execCommand("copy"); done(); }
      });
    });
  }

  function announce(text) {
    var status = document.getElementById("viz-status");
    if (status) status.textContent = text;
  }

  function shade(count, maximum) {
    if (!count) return null;
    var step = Math.floor(Math.log(count + 1) / Math.log(maximum + 1) * (SHADES.length - 1) + 0.0001);
    return SHADES[Math.max(0, Math.min(SHADES.length - 1, step))];
  }

  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () { carryLinks(); bindCopy(); });

  window.DSIViz = {
    FACETS: FACETS, PALETTE: PALETTE, SHADES: SHADES, lang: lang, params: params, filters: filters,
    setParams: setParams, getJSON: getJSON, element: element, svgElement: svgElement, localised: localised,
    number: number, decimal: decimal, carryLinks: carryLinks, bindFilters: bindFilters, announce: announce, shade: shade,
    embedded: params().get("embed") === "1"
  };
})();
