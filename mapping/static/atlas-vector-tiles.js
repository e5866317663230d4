/* A local vector basemap (Mapbox Vector Tiles from /tiles/basemap) drawn by Leaflet on
   canvases, with one fixed, quiet style: land, parks, water, buildings, roads, railways,
   boundaries and place names. It reads the layer names of the common schemas
   (OpenMapTiles, Protomaps basemaps, Shortbread) and draws any other layer plainly, so
   a city's own tiles show too. Past the archive's last zoom a tile is cut from its
   parent and drawn larger, still sharp. No style file (Mapbox GL styles are not read).
   Used by atlas-background.js; nothing here comes from another site. */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }
  var utf8 = new TextDecoder("utf-8");

  /* ---- protobuf, the part of it Mapbox Vector Tiles use ---- */
  function Pbf(bytes, start, end) { this.b = bytes; this.p = start || 0; this.end = end === undefined ? bytes.length : end; }
  Pbf.prototype.varint = function () {
    var value = 0, mul = 1, byte;
    do {
      if (this.p >= this.end) { throw new Error("truncated vector tile"); }
      byte = this.b[this.p++];
      value += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte & 0x80);
    return value;
  };
  Pbf.prototype.sub = function () { var n = this.varint(), s = this.p; this.p += n; return new Pbf(this.b, s, s + n); };
  Pbf.prototype.skip = function (wire) {
    if (wire === 0) { this.varint(); } else if (wire === 1) { this.p += 8; } else if (wire === 2) { this.p += this.varint(); } else if (wire === 5) { this.p += 4; } else { throw new Error("bad wire type " + wire); }
  };
  Pbf.prototype.each = function (fn) {
    while (this.p < this.end) { var key = this.varint(); fn(key >> 3, key & 7, this); }
  };
  Pbf.prototype.packed = function () { var s = this.sub(), out = []; while (s.p < s.end) { out.push(s.varint()); } return out; };
  Pbf.prototype.string = function () { var s = this.sub(); return utf8.decode(this.b.subarray(s.p, s.end)); };
  function zigzag(n) { return n % 2 === 1 ? -(n + 1) / 2 : n / 2; }

  function readValue(pbf) {
    var v = null, view;
    pbf.each(function (field, wire, p) {
      if (field === 1) { v = p.string(); } else if (field === 2) {
        view = new DataView(p.b.buffer, p.b.byteOffset + p.p, 4); v = view.getFloat32(0, true); p.p += 4;
      } else if (field === 3) {
        view = new DataView(p.b.buffer, p.b.byteOffset + p.p, 8); v = view.getFloat64(0, true); p.p += 8;
      } else if (field === 4 || field === 5) { v = p.varint(); } else if (field === 6) { v = zigzag(p.varint()); } else if (field === 7) { v = !!p.varint(); } else { p.skip(wire); }
    });
    return v;
  }

  function readLayer(pbf) {
    var layer = { name: "", extent: 4096, keys: [], values: [], raw: [] };
    pbf.each(function (field, wire, p) {
      if (field === 1) { layer.name = p.string(); } else if (field === 2) { layer.raw.push(p.sub()); } else if (field === 3) { layer.keys.push(p.string()); } else if (field === 4) { layer.values.push(readValue(p.sub())); } else if (field === 5) { layer.extent = p.varint(); } else { p.skip(wire); }
    });
    layer.features = layer.raw.map(function (f) {
      var feature = { type: 0, tags: [], geometry: [] };
      f.each(function (field, wire, p) {
        if (field === 2) { feature.tags = p.packed(); } else if (field === 3) { feature.type = p.varint(); } else if (field === 4) { feature.geometry = p.packed(); } else { p.skip(wire); }
      });
      var props = {};
      for (var i = 0; i + 1 < feature.tags.length; i += 2) { props[layer.keys[feature.tags[i]]] = layer.values[feature.tags[i + 1]]; }
      return { type: feature.type, props: props, geometry: feature.geometry };
    });
    delete layer.raw;
    return layer;
  }

  function readTile(buffer) {
    var layers = [];
    new Pbf(new Uint8Array(buffer)).each(function (field, wire, p) {
      if (field === 3) { layers.push(readLayer(p.sub())); } else { p.skip(wire); }
    });
    return layers;
  }

  // Geometry commands to parts: each part a flat [x0, y0, x1, y1, ...] in tile units.
  function parts(cmds) {
    var out = [], part = null, x = 0, y = 0, i = 0;
    while (i < cmds.length) {
      var c = cmds[i++], id = c & 7, n = c >> 3;
      if (id === 1 || id === 2) {
        for (var k = 0; k < n && i + 1 < cmds.length; k++) {
          x += zigzag(cmds[i++]); y += zigzag(cmds[i++]);
          if (id === 1) { part = []; out.push(part); }
          if (part) { part.push(x, y); }
        }
      }
    }
    return out;
  }

  /* ---- the style ---- */
  var GREEN = /park|garden|grass|wood|forest|cemetery|pitch|recreation|nature|meadow|village_green|playground|golf|scrub|heath|allotments|orchard|vineyard/;
  var MAJOR = /motorway|trunk|primary|highway|major/;
  var MEDIUM = /secondary|tertiary|medium/;
  var PATH = /path|footway|track|cycleway|pedestrian|steps|bridleway|service/;

  function kindOf(layerName, props) {
    var name = layerName.toLowerCase();
    var cls = String(props["class"] || props.kind || props.type || "").toLowerCase();
    if (/^(water|ocean|water_polygons|waterway|water_lines|lake|river)/.test(name)) { return name.indexOf("name") >= 0 || name.indexOf("label") >= 0 ? "waterlabel" : "water"; }
    if (/^(earth|land)$/.test(name)) { return GREEN.test(cls) ? "green" : null; }
    if (/landcover|landuse|park|natural|sites|land/.test(name)) { return GREEN.test(cls) ? "green" : (cls === "water" ? "water" : "ground"); }
    if (/^building/.test(name)) { return "building"; }
    if (/transportation_name|street_labels|road_labels/.test(name)) { return null; }
    if (/transportation|roads|streets|road/.test(name)) {
      if (/rail|subway|tram|light_rail|transit/.test(cls)) { return "rail"; }
      if (MAJOR.test(cls)) { return "major"; }
      if (MEDIUM.test(cls)) { return "medium"; }
      if (PATH.test(cls)) { return "path"; }
      return "minor";
    }
    if (/rail|transit/.test(name)) { return "rail"; }
    if (/^boundar/.test(name)) { return "boundary"; }
    if (/^(place|places|place_labels|locality|neighbourhood)/.test(name)) { return "place"; }
    if (/water_name|water_label/.test(name)) { return "waterlabel"; }
    if (/poi|housenumber|aerodrome|mountain_peak|label/.test(name)) { return null; }
    return "other";
  }

  var ORDER = ["ground", "green", "water", "building", "other", "path", "minor-casing", "medium-casing", "major-casing", "minor", "medium", "major", "rail", "boundary"];

  function widths(z) {
    var f = Math.pow(2, (z - 15) / 2);
    return { major: Math.max(1.5, 5 * f), medium: Math.max(1, 4 * f), minor: z < 13 ? 0 : Math.max(0.8, 3 * f), path: z < 15 ? 0 : 1 };
  }

  function stroke(ctx, colour, width, dash) {
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.setLineDash(dash || []); ctx.stroke();
  }

  function drawBucket(ctx, kind, items, z) {
    if (!items || !items.length) { return; }
    var w = widths(z);
    ctx.beginPath();
    items.forEach(function (it) { it.trace(ctx); });
    if (kind === "ground") { ctx.fillStyle = "#ebe6dc"; ctx.fill("evenodd"); } else if (kind === "green") { ctx.fillStyle = "#d3e5c1"; ctx.fill("evenodd"); } else if (kind === "water") {
      ctx.fillStyle = "#aad3df"; if (items[0].area) { ctx.fill("evenodd"); }
      var lines = items.filter(function (it) { return !it.area; });
      if (lines.length) { ctx.beginPath(); lines.forEach(function (it) { it.trace(ctx); }); stroke(ctx, "#aad3df", Math.max(1, w.minor)); }
    } else if (kind === "building") {
      if (z >= 14) { ctx.fillStyle = "#ddd5cb"; ctx.fill("evenodd"); if (z >= 16) { stroke(ctx, "#cbc1b5", 0.6); } }
    } else if (kind === "other") { ctx.fillStyle = "rgba(120,110,100,0.10)"; if (items[0].area) { ctx.fill("evenodd"); } stroke(ctx, "rgba(110,100,90,0.5)", 0.7); } else if (/-casing$/.test(kind)) {
      var base = w[kind.replace("-casing", "")]; if (base) { ctx.lineCap = "round"; ctx.lineJoin = "round"; stroke(ctx, "#c7bdb0", base + 1.5); }
    } else if (kind === "major") { if (w.major) { stroke(ctx, "#fbe3b0", w.major); } } else if (kind === "medium" || kind === "minor") { if (w[kind]) { stroke(ctx, "#ffffff", w[kind]); } } else if (kind === "path") { if (w.path) { stroke(ctx, "#a89a88", w.path, [3, 3]); } } else if (kind === "rail") { stroke(ctx, "#9a938b", 1.2, [6, 3]); } else if (kind === "boundary") { stroke(ctx, "#a58db8", 1, [6, 3, 2, 3]); }
  }

  function drawLabels(ctx, labels, size) {
    ctx.setLineDash([]);
    ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.lineJoin = "round";
    labels.forEach(function (l) {
      if (l.x < 0 || l.y < 0 || l.x > size || l.y > size) { return; }  // its own tile draws it
      ctx.font = l.font; ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.strokeText(l.text, l.x, l.y); ctx.fillStyle = l.colour; ctx.fillText(l.text, l.x, l.y);
    });
  }

  function render(canvas, layers, view) {
    var size = view.size, ratio = view.ratio;
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    var buckets = {}, labels = [];
    layers.forEach(function (layer) {
      var k = size * view.scale / layer.extent;
      var ox = -view.dx * size, oy = -view.dy * size;
      layer.features.forEach(function (f) {
        var kind = kindOf(layer.name, f.props);
        if (!kind) { return; }
        var ps = parts(f.geometry);
        if (!ps.length) { return; }
        if (kind === "place" || kind === "waterlabel") {
          var name = f.props["name:" + view.lang] || f.props.name;
          if (f.type !== 1 || !name) { return; }
          var cls = String(f.props["class"] || f.props.kind || f.props.place || "");
          var big = /city|town|capital|state|country/.test(cls);
          labels.push({ text: String(name), x: ps[0][0] * k + ox, y: ps[0][1] * k + oy,
            font: (kind === "waterlabel" ? "italic " : "") + (big ? "600 13px" : "500 11px") + " system-ui, sans-serif",
            colour: kind === "waterlabel" ? "#3d6f86" : "#3f3a33" });
          return;
        }
        var area = f.type === 3;
        var item = { area: area, trace: function (c) {
          ps.forEach(function (p) {
            c.moveTo(p[0] * k + ox, p[1] * k + oy);
            for (var i = 2; i < p.length; i += 2) { c.lineTo(p[i] * k + ox, p[i + 1] * k + oy); }
            if (area) { c.closePath(); }
          });
        } };
        if (f.type === 2 && /^(major|medium|minor)$/.test(kind)) { (buckets[kind + "-casing"] = buckets[kind + "-casing"] || []).push(item); }
        (buckets[kind] = buckets[kind] || []).push(item);
      });
    });
    ORDER.forEach(function (kind) { drawBucket(ctx, kind, buckets[kind], view.z); });
    drawLabels(ctx, labels, size);
  }

  var VectorTiles = L.GridLayer.extend({
    initialize: function (url, options) {
      this._url = url;
      this._cache = new Map();
      this.drawn = 0;
      // Leaflet would enlarge the last zoom's canvases (blurred); the tiles past it are
      // drawn here from their parent's vectors instead.
      var own = L.extend({}, options);
      this._archiveMax = own.maxNativeZoom === undefined ? 14 : own.maxNativeZoom;
      delete own.maxNativeZoom;
      L.GridLayer.prototype.initialize.call(this, own);
    },
    _load: function (z, x, y) {
      var key = z + "/" + x + "/" + y;
      var hit = this._cache.get(key);
      if (hit) { return hit; }
      var url = L.Util.template(this._url, { z: z, x: x, y: y });
      hit = fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (r.status === 404) { return []; }  // nothing here: an empty tile
        if (!r.ok) { throw new Error("vector tile " + key + ": HTTP " + r.status); }
        return r.arrayBuffer().then(readTile);
      });
      this._cache.set(key, hit);
      if (this._cache.size > 96) { this._cache.delete(this._cache.keys().next().value); }
      return hit;
    },
    createTile: function (coords, done) {
      var size = this.getTileSize().x, ratio = window.devicePixelRatio || 1;
      var canvas = document.createElement("canvas");
      canvas.width = size * ratio; canvas.height = size * ratio;
      canvas.style.width = size + "px"; canvas.style.height = size + "px";
      var max = this._archiveMax, dz = Math.max(0, coords.z - max);
      var scale = Math.pow(2, dz);
      var px = Math.floor(coords.x / scale), py = Math.floor(coords.y / scale);
      var view = { size: size, ratio: ratio, z: coords.z, scale: scale, lang: document.documentElement.lang || "en",
        dx: coords.x - px * scale, dy: coords.y - py * scale };
      var self = this;
      this._load(Math.min(coords.z, max), px, py).then(function (layers) {
        render(canvas, layers, view);
        self.drawn += 1;
        if (self._map) { self._map.getContainer().setAttribute("data-vector-tiles", String(self.drawn)); }
        done(null, canvas);
      }).catch(function (e) { done(e, canvas); });
      return canvas;
    }
  });

  window.AtlasVectorTiles = {
    layer: function (url, options) { return new VectorTiles(url, options); },
    readTile: readTile
  };
})();
