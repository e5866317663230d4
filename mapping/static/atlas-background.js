/* What every map draws under its places (mapping/background.py describes it):
   the service's own basemap (images, or vector tiles through atlas-vector-tiles.js),
   else the configured tile server, and beneath either an orientation layer loaded from
   the service: the river or coast, the neighbourhoods' outlines and their names. The
   orientation layer lies below the tiles, so it shows wherever they do not: with no
   tiles at all, outside the basemap's area, or when the tile server cannot be reached.
   No map is ever a blank page. Styles are set from here (no stylesheet to add to each
   page), through the DOM, which the pages' content policy allows. */
(function () {
  "use strict";
  var LAND = "#f2efe9";
  var WATER = "#aad3df";
  var WATER_EDGE = "#7fb0c4";
  var LINE = "#9a9081";
  var EDGE = "#6b6257";
  var loaded = {};  // orientation data by URL: one request per page, however many maps

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function pane(map, name, zIndex, interactive) {
    var el = map.getPane(name) || map.createPane(name);
    el.style.zIndex = String(zIndex);
    if (!interactive) { el.style.pointerEvents = "none"; }
    return name;
  }

  function load(url) {
    if (!loaded[url]) {
      loaded[url] = fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error("orientation layer: HTTP " + r.status); }
        return r.json();
      });
    }
    return loaded[url];
  }

  function label(name) {
    var el = document.createElement("span");
    el.textContent = name;  // a name from an imported file: text, never markup
    el.setAttribute("aria-hidden", "true");  // the map's region and list name places
    el.className = "atlas-orientation-label";
    var s = el.style;
    s.display = "inline-block";
    s.transform = "translate(-50%, -50%)";
    s.whiteSpace = "nowrap";
    s.font = "600 12px/1.2 system-ui, sans-serif";
    s.color = "#4a4238";
    s.letterSpacing = "0.02em";
    s.textShadow = "0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff";
    return el;
  }

  // Names that would overlap a larger neighbourhood's are hidden until zoomed in.
  function declutter(markers) {
    var taken = [];
    markers.forEach(function (m) {
      var el = m.getElement && m.getElement();
      if (!el) { return; }
      var span = el.firstChild;
      span.style.visibility = "visible";
      var r = span.getBoundingClientRect();
      var clash = taken.some(function (t) {
        return r.left < t.right + 4 && r.right + 4 > t.left && r.top < t.bottom && r.bottom > t.top;
      });
      if (clash) { span.style.visibility = "hidden"; } else { taken.push(r); }
    });
  }

  function drawOrientation(map, data, labelsAbove) {
    var shapes = pane(map, "atlas-orientation", 150, false);
    var names = pane(map, "atlas-orientation-labels", labelsAbove ? 450 : 160, false);
    var renderer = L.svg({ pane: shapes });
    var markers = [];
    var layer = L.geoJSON(data, {
      pane: shapes,
      interactive: false,
      renderer: renderer,
      filter: function (f) { return f.properties && f.properties.kind !== "label"; },
      style: function (f) {
        var kind = f.properties.kind;
        var area = f.geometry && /Polygon/.test(f.geometry.type);
        if (kind === "water") {
          return area ? { stroke: true, color: WATER_EDGE, weight: 1, fillColor: WATER, fillOpacity: 1 }
            : { color: WATER, weight: 4, opacity: 1 };
        }
        if (kind === "edge") { return { color: EDGE, weight: 2.5, opacity: 0.9, fill: false }; }
        return { color: LINE, weight: 1.2, opacity: 0.9, dashArray: "5 4", fill: false };
      }
    }).addTo(map);
    (data.features || []).forEach(function (f) {
      if (!f.properties || f.properties.kind !== "label" || !f.geometry) { return; }
      var c = f.geometry.coordinates;
      var icon = L.divIcon({ className: "atlas-orientation-name", html: label(f.properties.name || ""),
        iconSize: null });
      markers.push(L.marker([c[1], c[0]], { icon: icon, pane: names, interactive: false,
        keyboard: false }).addTo(map));
    });
    var tidy = function () { declutter(markers); };
    map.on("zoomend moveend", tidy);
    tidy();
    map.getContainer().setAttribute("data-orientation", String(markers.length));
    return layer;
  }

  // The map's attribution control, added if the page made the map without one.
  function credits(map) {
    if (!map.attributionControl) {
      map.attributionControl = L.control.attribution().addTo(map);
    }
    return map.attributionControl;
  }

  function draw(map, cfg) {
    if (!map || !cfg) { return; }
    map.getContainer().style.background = LAND;
    var drawsTiles = false;
    var b = cfg.basemap;
    if (b) {
      var options = {
        maxZoom: cfg.maxZoom || 19,
        minNativeZoom: b.minzoom,
        maxNativeZoom: b.maxzoom,
        bounds: L.latLngBounds(b.bounds),
        attribution: escapeHtml(b.attribution || "")
      };
      var layer = b.vector && window.AtlasVectorTiles
        ? window.AtlasVectorTiles.layer(b.url, options)
        : (b.vector ? null : L.tileLayer(b.url, options));
      if (layer) {
        layer.addTo(map);
        drawsTiles = true;
        map.getContainer().setAttribute("data-basemap", b.vector ? "vector" : "raster");
      }
    } else if (cfg.tiles) {
      L.tileLayer(cfg.tiles, { maxZoom: cfg.maxZoom || 19, attribution: cfg.tilesAttribution || "" })
        .addTo(map);
      drawsTiles = true;
    }
    if (drawsTiles) { credits(map); }
    if (cfg.orientation) {
      load(cfg.orientation).then(function (data) {
        drawOrientation(map, data, !drawsTiles);
        if (data.attribution) { credits(map).addAttribution(escapeHtml(data.attribution)); }
      }).catch(function (e) {
        if (window.console) { window.console.warn(e.message || e); }
      });
    }
  }

  // The background of a page's map from its element's data-background attribute
  // (JSON written by the server), for the pages that are not folium maps.
  function fromElement(map, el) {
    var raw = el && el.getAttribute("data-background");
    if (!raw) { return; }
    try { draw(map, JSON.parse(raw)); } catch (e) { /* a page without a background */ }
  }

  window.AtlasBackground = { draw: draw, fromElement: fromElement };
})();
