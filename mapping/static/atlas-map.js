/* Heritage Atlas map client: draws places on a folium (Leaflet) map.
 *
 * Places come as GeoJSON for the current view only (or, in a standalone file, inline);
 * at low zoom the server sends clusters instead. Everything a person typed is put in
 * the page with textContent or as an attribute value, never as HTML.
 */
(function (global) {
  "use strict";

  var ICON = /^[a-z0-9-]{1,40}$/;
  var COLOUR = /^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/;
  var FALLBACK = {label: "", colour: "#566573", icon: "location-dot"};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : m;
    });
  }

  // Links and images may only point back to this service (a path, not another host).
  function localUrl(url) {
    return typeof url === "string" && /^\/(?!\/)[^\s\\]*$/.test(url) ? url : null;
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { timer = null; fn.apply(self, args); }, ms);
    };
  }

  function latLngOf(feature) {
    var g = feature.geometry;
    if (g.type === "Point") return L.latLng(g.coordinates[1], g.coordinates[0]);
    return L.geoJSON(feature).getBounds().getCenter();
  }

  function Atlas(map, config, layers) {
    this.map = map;
    this.config = config;
    this.text = config.text || {};
    this.layers = layers || {};
    this.index = new Map();  // place id -> {layer, category, version, feature}
    this.clusterLayer = L.layerGroup().addTo(map);
    this.highlightLayer = L.layerGroup().addTo(map);
    this.timers = new Set();
    this.generation = 0;
    this.controller = null;
    this.mode = null;
    this.ready = false;
    this.polls = 0;
    this.pinIcons = {};
    this.pendingPopup = null;
    this.schedule = debounce(this.load.bind(this), 120);
  }

  Atlas.prototype.style = function (key) {
    var c = (this.config.categories || {})[key] || (this.config.categories || {}).other || FALLBACK;
    return {
      colour: COLOUR.test(c.colour) ? c.colour : FALLBACK.colour,
      icon: ICON.test(c.icon) ? c.icon : FALLBACK.icon,
      label: c.label || key
    };
  };

  Atlas.prototype.layerFor = function (key) {
    return this.layers[key] || this.layers.other || this.clusterLayer;
  };

  Atlas.prototype.enabledCategories = function () {
    var self = this;
    return Object.keys(this.layers).filter(function (k) { return self.map.hasLayer(self.layers[k]); });
  };

  Atlas.prototype.pinIcon = function (key) {
    if (!this.pinIcons[key]) {
      var s = this.style(key);
      // Colour and icon name are checked against strict patterns above: no markup gets in.
      this.pinIcons[key] = L.divIcon({
        className: "atlas-pin-icon",
        html: '<span class="atlas-pin" style="--atlas-colour:' + s.colour + '">' +
              '<i class="fa-solid fa-' + s.icon + '" aria-hidden="true"></i></span>',
        iconSize: [this.config.pinSize || 30, this.config.pinSize || 30],
        iconAnchor: [(this.config.pinSize || 30) / 2, (this.config.pinSize || 30) / 2]
      });
    }
    return this.pinIcons[key];
  };

  Atlas.prototype.placeLayer = function (feature, usePins) {
    var self = this, p = feature.properties || {}, s = this.style(p.category), layer;
    if (feature.geometry.type === "Point") {
      var ll = L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]);
      if (usePins) {
        layer = L.marker(ll, {icon: this.pinIcon(p.category), keyboard: true, alt: String(p.title || "")});
      } else {
        layer = L.circleMarker(ll, {radius: this.config.dotRadius || 7, color: "#ffffff", weight: 1.5,
                                    fillColor: s.colour, fillOpacity: 0.92});
      }
    } else {
      layer = L.geoJSON(feature, {style: {color: s.colour, weight: 4, opacity: 0.9,
                                          fillColor: s.colour, fillOpacity: 0.25}});
    }
    if (layer instanceof L.Marker) {
      // A pin is a keyboard button (role="button"); its name is the place's title.
      layer.on("add", function () {
        var icon = layer.getElement();
        if (icon) icon.setAttribute("aria-label", String(p.title || ""));
      });
    }
    layer.bindTooltip(function () { return el("span", "atlas-tooltip", p.title); },
                      {direction: "top", sticky: feature.geometry.type !== "Point"});
    layer.on("click", function (e) {
      self.showPopup(e.latlng || latLngOf(feature), feature.id, p);
    });
    return layer;
  };

  Atlas.prototype.addPlace = function (feature, usePins) {
    var p = feature.properties || {};
    var layer = this.placeLayer(feature, usePins);
    this.layerFor(p.category).addLayer(layer);
    this.index.set(feature.id, {layer: layer, category: p.category, version: p.version, feature: feature});
    return layer;
  };

  Atlas.prototype.removePlace = function (id) {
    var known = this.index.get(id);
    if (!known) return;
    this.layerFor(known.category).removeLayer(known.layer);
    known.layer.off();
    this.index.delete(id);
  };

  Atlas.prototype.clearAll = function () {
    var self = this;
    this.index.forEach(function (known, id) { self.removePlace(id); });
    Object.keys(this.layers).forEach(function (k) { self.layers[k].clearLayers(); });
    this.clusterLayer.clearLayers();
  };

  Atlas.prototype.addCluster = function (feature) {
    var self = this, p = feature.properties;
    var ll = L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]);
    var size = p.count ? Math.round(Math.min(64, 30 + Math.log10(p.count) * 9)) : 30;
    var icon = L.divIcon({className: "atlas-cluster-icon", html: el("span", "atlas-cluster", p.label),
                          iconSize: [size, size]});
    var marker = L.marker(ll, {icon: icon, keyboard: true, title: String(p.title || "")});
    marker.on("click", function () {
      self.map.setView(ll, Math.min(self.map.getZoom() + 2, self.map.getMaxZoom() || 19));
    });
    this.clusterLayer.addLayer(marker);
  };

  Atlas.prototype.draw = function (collection) {
    var self = this, features = collection.features || [];
    this.clearAll();
    this.mode = collection.mode || "places";
    var points = features.filter(function (f) { return f.geometry && f.geometry.type === "Point"; }).length;
    var usePins = this.config.pins === true || points <= (this.config.pinsBelow || 0);
    features.forEach(function (f) {
      if (!f.geometry) return;
      if (f.properties && f.properties.cluster) self.addCluster(f); else self.addPlace(f, usePins);
    });
    if (this.pendingPopup && this.index.has(this.pendingPopup)) {
      var known = this.index.get(this.pendingPopup);
      this.showPopup(latLngOf(known.feature), this.pendingPopup, known.feature.properties);
    }
    this.pendingPopup = null;
    this.map.fire("atlas:drawn", {mode: this.mode, features: features.length});
  };

  Atlas.prototype.setStatus = function (message) {
    if (!this.statusBox) return;
    this.statusBox.textContent = message || "";
    this.statusBox.hidden = !message;
  };

  Atlas.prototype.markReady = function () {
    if (this.ready) return;
    this.ready = true;
    var map = this.map;
    // After the next frame: the places are on screen, not just in memory.
    requestAnimationFrame(function () {
      var root = document.documentElement;
      root.setAttribute("data-atlas-ready-ms", String(Math.round(performance.now())));
      root.setAttribute("data-atlas-ready", "1");
      map.fire("atlas:ready");
    });
  };

  Atlas.prototype.viewBbox = function () {
    var b = this.map.getBounds().pad(0.1);
    var clamp = function (v, lo, hi) { return Math.max(lo, Math.min(hi, v)); };
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
            clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map(function (v) { return v.toFixed(5); }).join(",");
  };

  Atlas.prototype.load = function () {
    var self = this, source = this.config.source;
    if (source.kind !== "api") return;
    var categories = this.enabledCategories();
    if (categories.length === 0) {
      this.clearAll();
      this.map.fire("atlas:drawn", {mode: this.mode, features: 0});
      this.markReady();
      return;
    }
    var params = new URLSearchParams(source.params || {});
    params.set("bbox", this.viewBbox());
    params.set("zoom", String(Math.round(this.map.getZoom())));
    if (this.config.language) params.set("lang", this.config.language);  // cluster wording
    if (categories.length < Object.keys(this.layers).length) params.set("categories", categories.join(","));
    if (this.controller) this.controller.abort();
    var controller = this.controller = new AbortController();
    var generation = ++this.generation;
    fetch(source.url + "?" + params.toString(), {signal: controller.signal,
                                                 headers: {Accept: "application/geo+json"}})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        if (generation !== self.generation) return;
        self.draw(data);
        self.setStatus(null);
        self.markReady();
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return;
        console.warn("atlas: loading places failed", err);
        self.setStatus(self.text.load_failed);
        self.later(function () { self.load(); }, 5000);
      });
  };

  Atlas.prototype.later = function (fn, ms) {
    var self = this;
    var t = setTimeout(function () { self.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  };

  // -- standalone files: every place inline, clustered in the browser when many --------
  Atlas.prototype.loadInline = function () {
    var self = this, k = this.config.k || 1, features = this.config.source.features || [];
    var points = features.filter(function (f) { return f.geometry.type === "Point"; });
    var cluster = null;
    if (L.markerClusterGroup && points.length > (this.config.clusterAbove || 400)) {
      // One cluster group for every category (bubbles do not pile up); the category
      // switches add and remove their points from it.
      cluster = L.markerClusterGroup({
        disableClusteringAtZoom: 17, chunkedLoading: true, showCoverageOnHover: false,
        iconCreateFunction: function (group) {
          var n = group.getChildCount();
          return L.divIcon({className: "atlas-cluster-icon",
                            html: el("span", "atlas-cluster", n < k ? "<" + k : String(n)),
                            iconSize: [36, 36]});
        }
      }).addTo(this.map);
    }
    var usePins = !cluster && points.length <= (this.config.pinsBelow || 0);
    var byCategory = {};
    features.forEach(function (f) {
      var p = f.properties || {};
      var layer = self.placeLayer(f, usePins);
      if (cluster && f.geometry.type === "Point") {
        (byCategory[p.category] = byCategory[p.category] || []).push(layer);
      } else {
        self.layerFor(p.category).addLayer(layer);
      }
      self.index.set(f.id, {layer: layer, category: p.category, version: p.version, feature: f});
    });
    if (cluster) {
      var sync = function () {
        Object.keys(byCategory).forEach(function (key) {
          var on = !self.layers[key] || self.map.hasLayer(self.layers[key]);
          if (on) cluster.addLayers(byCategory[key]); else cluster.removeLayers(byCategory[key]);
        });
      };
      this.map.on("overlayadd overlayremove", sync);
      sync();
    }
    this.mode = "inline";
    this.map.fire("atlas:drawn", {mode: this.mode, features: features.length});
    this.markReady();
  };

  // -- popups ---------------------------------------------------------------------------
  Atlas.prototype.showPopup = function (latlng, id, props) {
    var self = this;
    var box = el("div", "atlas-popup");
    box.appendChild(el("h3", null, props.title));
    var body = el("div", "atlas-popup-body", this.text.loading);
    box.appendChild(body);
    var popup = L.popup({maxWidth: 340, autoPanPadding: [24, 24]})
      .setLatLng(latlng).setContent(box).openOn(this.map);
    // Leaflet closes a popup on Escape only while the map itself has the focus.
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape") self.map.closePopup(popup);
    });
    // Leaflet puts the content in again on update, which drops the focus: keep it.
    var update = function () {
      var had = box.contains(document.activeElement);
      popup.update();
      if (had && !box.contains(document.activeElement)) box.focus({preventScroll: true});
    };
    if (props.details) { this.fillDetails(body, props.details); update(); return popup; }
    var url = this.config.placeUrl.replace("{id}", encodeURIComponent(id));
    url += (url.indexOf("?") < 0 ? "?" : "&") + "lang=" + encodeURIComponent(this.config.language || "");
    fetch(url, {headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (d) { self.fillDetails(body, d); update(); })
      .catch(function () { body.textContent = self.text.load_failed; });
    return popup;
  };

  Atlas.prototype.fillDetails = function (body, d) {
    var t = this.text;
    body.textContent = "";
    var s = this.style(d.category);
    var cat = el("p", "atlas-popup-category");
    var swatch = el("span", "atlas-swatch");
    swatch.style.setProperty("--atlas-colour", s.colour);
    var icon = el("i", "fa-solid fa-" + s.icon);
    icon.setAttribute("aria-hidden", "true");
    swatch.appendChild(icon);
    cat.appendChild(swatch);
    cat.appendChild(document.createTextNode(" " + (d.category_label || s.label)));
    body.appendChild(cat);
    var photo = d.photo && localUrl(d.photo.thumb);
    if (photo) {
      var img = el("img", "atlas-popup-photo");
      img.src = photo;
      img.alt = d.photo.alt || d.title || "";
      if (d.photo.width) img.width = Number(d.photo.width);
      if (d.photo.height) img.height = Number(d.photo.height);
      body.appendChild(img);
    }
    if (d.narrative) {
      var story = el("p", "atlas-popup-narrative", d.narrative.text);
      story.lang = d.narrative.language || "";
      story.dir = "auto";
      body.appendChild(story);
      var note = d.narrative.translated
        ? fmt(t.translated, {provenance: d.narrative.provenance_label || ""})
        : (d.narrative.is_viewer_language ? null : fmt(t.in_language, {language: d.narrative.language_name}));
      if (note) body.appendChild(el("p", "atlas-popup-note", note));
      this.storyCredit(body, d.narrative);
    } else if (localUrl(this.config.contributeUrl)) {
      // No story yet: ask for one.
      var invite = el("p", "atlas-popup-invite", t.no_story + " ");
      var tell = el("a", null, t.tell_story);
      tell.href = localUrl(this.config.contributeUrl);
      invite.appendChild(tell);
      body.appendChild(invite);
    }
    if (d.period) body.appendChild(el("p", "atlas-popup-period", t.period + ": " + d.period));
    if (d.location_generalised) body.appendChild(el("p", "atlas-popup-note", t.generalised));
    if (d.display_name) body.appendChild(el("p", "atlas-popup-by", t.by + ": " + d.display_name));
    (d.protocol_labels || []).forEach(function (label) {
      var box = el("p", "atlas-popup-label");
      box.appendChild(el("strong", null, label.name + " (" + label.id + ")"));
      if (label.text) box.appendChild(el("span", null, " " + label.text));
      body.appendChild(box);
    });
    var credit = [t.licence + ": " + d.licence];
    if (d.attribution) credit.push(d.attribution);
    body.appendChild(el("p", "atlas-popup-licence", credit.join(" · ")));
    var page = this.placePage(d.id);
    if (page) {
      var more = el("p", "atlas-popup-more");
      var link = el("a", null, t.place_page);
      link.href = page;
      more.appendChild(link);
      body.appendChild(more);
    }
  };

  // The place's own page: a path on this service or, in a standalone file made where the
  // service's public address is known, an absolute http(s) address on it.
  Atlas.prototype.placePage = function (id) {
    var template = this.config.placePageUrl;
    if (typeof template !== "string" || id === undefined || id === null) return null;
    var url = template.replace("{id}", encodeURIComponent(String(id)));
    return localUrl(url) || (/^https?:\/\/[^\s\\\/?#]+\/[^\s\\]*$/.test(url) ? url : null);
  };

  // A story taken from elsewhere keeps its credit next to it: its licence and, one tap
  // away, where it was taken from.
  Atlas.prototype.storyCredit = function (body, story) {
    if (!story.licence && !story.source) return;
    var credit = el("p", "atlas-popup-credit");
    if (story.licence) credit.appendChild(el("span", null, fmt(this.text.story_licence, {licence: story.licence})));
    if (story.source) {
      var more = el("details", "atlas-popup-source");
      more.appendChild(el("summary", null, this.text.story_source));
      more.appendChild(el("span", null, story.source));
      credit.appendChild(more);
    }
    body.appendChild(credit);
  };

  // -- search ---------------------------------------------------------------------------
  Atlas.prototype.addSearch = function () {
    var self = this;
    var control = L.control({position: "topleft"});
    control.onAdd = function () {
      var box = el("div", "atlas-search leaflet-bar");
      var input = el("input");
      input.type = "search";
      input.placeholder = self.text.search;
      input.setAttribute("aria-label", self.text.search);
      input.autocomplete = "off";
      var list = el("ul", "atlas-search-results");
      list.setAttribute("aria-live", "polite");
      box.appendChild(input);
      box.appendChild(list);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      input.addEventListener("input", debounce(function () { self.search(input.value, list); }, 250));
      return box;
    };
    control.addTo(this.map);
  };

  Atlas.prototype.search = function (query, list) {
    var self = this, q = query.trim();
    if (q.length < 2) { list.replaceChildren(); return; }
    var cfg = this.config.search;
    if (cfg.inline) { this.showResults(this.searchInline(q), list); return; }
    fetch(cfg.url + "?q=" + encodeURIComponent(q) + (cfg.params ? "&" + new URLSearchParams(cfg.params) : ""))
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (d) { self.showResults(d, list); })
      .catch(function () { list.replaceChildren(el("li", "atlas-search-empty", self.text.load_failed)); });
  };

  // Lower case without accents or punctuation, as the server folds text (geodata/search.py).
  function fold(text) {
    return String(text).normalize("NFKD").replace(/[\p{M}\p{Cf}]/gu, "").toLowerCase()
      .replace(/[\p{P}\p{S}\p{Z}\p{Cc}]+/gu, " ").trim();
  }

  Atlas.prototype.searchInline = function (q) {
    var words = fold(q).split(" ").filter(Boolean), places = [];
    this.index.forEach(function (known, id) {
      var f = known.feature, title = fold(f.properties.title || "");
      if (places.length < 8 && words.length &&
          words.every(function (w) { return title.indexOf(w) >= 0; })) {
        var ll = latLngOf(f);
        places.push({id: id, title: f.properties.title, lon: ll.lng, lat: ll.lat});
      }
    });
    return {places: places, neighbourhoods: []};
  };

  Atlas.prototype.showResults = function (d, list) {
    var self = this, items = [];
    (d.neighbourhoods || []).forEach(function (n) {
      var li = el("li");
      var go = el("button", "atlas-search-hit", n.name);
      go.type = "button";
      go.appendChild(el("small", null, " " + self.text.neighbourhood));
      go.addEventListener("click", function () {
        self.map.fitBounds([[n.bbox[1], n.bbox[0]], [n.bbox[3], n.bbox[2]]]);
      });
      li.appendChild(go);
      var href = localUrl(n.url);
      if (href) {
        var a = el("a", "atlas-search-link", fmt(self.text.open_map, {name: n.name}));
        a.href = href;
        li.appendChild(a);
      }
      items.push(li);
    });
    (d.places || []).forEach(function (p) {
      var li = el("li");
      var go = el("button", "atlas-search-hit", p.title);
      go.type = "button";
      go.appendChild(el("small", null, " " + self.text.place));
      go.addEventListener("click", function () {
        var ll = L.latLng(p.lat, p.lon);
        if (self.index.has(p.id) && self.mode !== "clusters" &&
            self.map.getBounds().contains(ll) && self.map.getZoom() >= 16) {
          var known = self.index.get(p.id);
          self.showPopup(ll, p.id, known.feature.properties);
        } else {
          self.pendingPopup = p.id;
          self.map.setView(ll, Math.max(self.map.getZoom(), 17));
        }
      });
      li.appendChild(go);
      items.push(li);
    });
    if (!items.length) items.push(el("li", "atlas-search-empty", this.text.no_results));
    list.replaceChildren.apply(list, items);
  };

  // -- live workshop maps ------------------------------------------------------------
  Atlas.prototype.startLive = function () {
    var self = this, live = this.config.live;
    this.cursor = live.cursor;
    var tick = function () {
      var controller = new AbortController();
      var timeout = setTimeout(function () { controller.abort(); }, 10000);
      fetch(live.url + "?since=" + encodeURIComponent(self.cursor) +
            "&lang=" + encodeURIComponent(self.config.language || ""), {signal: controller.signal, cache: "no-store"})
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (d) {
          clearTimeout(timeout);
          self.polls += 1;
          self.cursor = d.cursor;
          self.applyUpdates(d);
          self.setLiveStatus(null);
          self.liveTimer = setTimeout(tick, live.interval);
        })
        .catch(function (err) {
          clearTimeout(timeout);
          console.warn("atlas: live update failed", err);
          self.setLiveStatus(self.text.reconnecting);
          self.liveTimer = setTimeout(tick, Math.max(live.interval, 5000));
        });
    };
    this.liveTimer = setTimeout(tick, live.interval);
  };

  Atlas.prototype.applyUpdates = function (d) {
    var self = this, reload = false, added = [];
    (d.removed || []).forEach(function (id) { self.removePlace(id); });
    var enabled = new Set(this.enabledCategories());
    (d.features || []).forEach(function (f) {
      var known = self.index.get(f.id);
      if (known && known.version === f.properties.version) return;
      if (self.mode === "clusters") { reload = true; return; }
      if (known) self.removePlace(f.id);
      if (!enabled.has(f.properties.category) && self.layers[f.properties.category]) return;
      self.addPlace(f, true);
      if (!known) added.push(f);
    });
    added.forEach(function (f) { self.highlight(f); });
    if (reload) this.schedule();
    this.updatePanel(d, added);
    if (!reload) this.map.fire("atlas:drawn", {mode: this.mode, features: this.index.size});
  };

  Atlas.prototype.highlight = function (feature) {
    var self = this;
    var ring = L.marker(latLngOf(feature), {
      icon: L.divIcon({className: "atlas-pulse-icon", html: '<span class="atlas-pulse"></span>',
                       iconSize: [90, 90]}),
      interactive: false, keyboard: false
    });
    this.highlightLayer.addLayer(ring);
    this.later(function () { self.highlightLayer.removeLayer(ring); }, this.config.live.highlightMs || 6000);
  };

  Atlas.prototype.setLiveStatus = function (message) {
    var box = document.getElementById("atlas-live-status");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
  };

  Atlas.prototype.updatePanel = function (d, added) {
    var count = document.getElementById("atlas-count");
    if (count && d.count_label !== undefined) count.textContent = d.count_label;
    var pending = document.getElementById("atlas-pending");
    if (pending && d.pending_label !== undefined) {
      pending.textContent = d.pending_label;
      pending.hidden = !d.pending_label;
    }
    var list = document.getElementById("atlas-latest");
    if (!list || !d.latest) return;
    var ids = d.latest.map(function (p) { return p.id; }).join(" ");
    if (list.getAttribute("data-ids") === ids) return;
    var fresh = new Set(added.map(function (f) { return f.id; }));
    var items = d.latest.map(function (p) {
      return el("li", fresh.has(p.id) ? "atlas-new" : null, p.title);
    });
    list.replaceChildren.apply(list, items);
    list.setAttribute("data-ids", ids);
  };

  // -- the neighbourhood shapes of a choropleth (folium GeoJson onEachFeature) ---------
  function neighbourhood(feature, layer) {
    var p = feature.properties || {};
    layer.bindTooltip(function () {
      var box = el("span", "atlas-tooltip");
      box.appendChild(el("strong", null, p.name));
      box.appendChild(el("span", null, " · " + (p.count_label || "")));
      return box;
    }, {sticky: true});
    if (p.style) {
      layer.on("mouseover", function () { layer.setStyle({weight: 3, color: "#222222"}); });
      layer.on("mouseout", function () { layer.setStyle(p.style); });
    }
    var href = localUrl(p.url);
    if (!href) return;
    layer.on("click", function (e) {
      var box = el("div", "atlas-popup");
      box.appendChild(el("h3", null, p.name));
      box.appendChild(el("p", null, p.count_label || ""));
      var a = el("a", "atlas-popup-link", fmt((global.atlas && global.atlas.text.open_map) || "{name}",
                                               {name: p.name}));
      a.href = href;
      box.appendChild(a);
      L.popup().setLatLng(e.latlng).setContent(box).openOn(layer._map);
    });
  }

  // The message ``key`` for the number n, in the viewer's language (see mapping/plurals.py).
  Atlas.prototype.plural = function (key, n) {
    var forms = (this.config.plurals || {})[key] || ["{n}"];
    var index = Math.max(0, Math.min(forms.length - 1, this.pluralIndex(n) || 0));
    return fmt(forms[index], {n: n});
  };

  Atlas.prototype.stats = function () {
    return {features: this.index.size, mapLayers: Object.keys(this.map._layers).length,
            domNodes: document.getElementsByTagName("*").length, polls: this.polls, mode: this.mode,
            timers: this.timers.size};
  };

  // Leaflet titles its zoom buttons and layer switcher in English: say them in the
  // reader's language (once every control of the page is on the map).
  function translateControls(map, text) {
    [["leaflet-control-zoom-in", text.zoom_in_button], ["leaflet-control-zoom-out", text.zoom_out_button],
     ["leaflet-control-layers-toggle", text.layers]].forEach(function (pair) {
      if (!pair[1]) return;
      map.getContainer().querySelectorAll("." + pair[0]).forEach(function (button) {
        button.title = pair[1];
        button.setAttribute("aria-label", pair[1]);
      });
    });
  }

  // pluralIndex: the catalog's plural rule, written into the page by the server.
  function start(map, config, layers, pluralIndex) {
    if (config.bounds) {
      // Keep the workshop panel from covering the area it frames.
      var panel = document.querySelector(".atlas-panel");
      // (on the left in a right-to-left page)
      var side = panel ? panel.offsetWidth + 28 : 16, rtl = document.documentElement.dir === "rtl";
      map.fitBounds(config.bounds, {animate: false, paddingTopLeft: [rtl ? side : 16, 16],
                                    paddingBottomRight: [rtl ? 16 : side, 16]});
    }
    var atlas = new Atlas(map, config, layers);
    atlas.pluralIndex = pluralIndex || function (n) { return n === 1 ? 0 : 1; };
    global.atlas = atlas;
    // The map is a region of the page with a name (Leaflet makes it focusable for panning).
    map.getContainer().setAttribute("role", "region");
    map.getContainer().setAttribute("aria-label", atlas.text.map_label || document.title);
    if (global.AtlasPlacesList) global.AtlasPlacesList.attach(atlas);
    setTimeout(function () { translateControls(map, atlas.text); }, 0);
    var status = L.control({position: "bottomleft"});
    status.onAdd = function () {
      var box = el("div", "atlas-status");
      box.setAttribute("role", "status");
      box.hidden = true;
      atlas.statusBox = box;
      return box;
    };
    status.addTo(map);
    if (config.search) atlas.addSearch();
    if (config.source.kind === "inline") {
      atlas.loadInline();
    } else {
      map.on("moveend", atlas.schedule);
      map.on("overlayadd overlayremove", atlas.schedule);
      // After the page's own scripts have framed the map.
      setTimeout(function () { atlas.load(); }, 0);
    }
    if (config.live) atlas.startLive();
    var fullscreen = document.getElementById("atlas-fullscreen");
    if (fullscreen && document.fullscreenEnabled) {
      fullscreen.hidden = false;
      fullscreen.addEventListener("click", function () {
        if (document.fullscreenElement) document.exitFullscreen();
        else document.documentElement.requestFullscreen();
      });
    }
    return atlas;
  }

  global.AtlasMap = {start: start, neighbourhood: neighbourhood, Atlas: Atlas, el: el,
                     latLngOf: latLngOf};
})(window);
