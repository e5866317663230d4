/* The contribution form, enhanced: a map to tap and draw on, sending through the JSON
   API (with a retry-safe Idempotency-Key), kept on the phone and sent when the connection
   returns if it drops (outbox.js), errors next to their fields, the edit link with a copy
   button. Without this script the same form posts to the server as is. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function json(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  var messages = json("messages") || {};
  function say(key, n) { return (messages[key] || key).replace("{n}", n); }

  /* ---- copy an edit link (each "Copy" button names its field) --------------------- */
  function wireCopy() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button[data-copy]");
      if (!button) return;
      var input = document.querySelector(button.getAttribute("data-copy"));
      var block = button.closest(".edit-link");
      var status = block && block.querySelector(".copy-status");
      function done() { if (status) status.textContent = say("copied"); }
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          document.execCommand("copy"); done();
        });
      } else {
        document.execCommand("copy"); done();
      }
    });
  }

  /* ---- the map ------------------------------------------------------------------ */
  var form = document.getElementById("contribute-form");
  var mapEl = document.getElementById("map");
  var drawing = { mode: "point", vertices: [], finished: false };
  var map = null, layer = null;
  var latInput = document.getElementById("field-latitude");
  var lonInput = document.getElementById("field-longitude");
  var geometryInput = document.getElementById("field-geometry");
  var statusEl = document.getElementById("draw-status");

  function round(v) { return Math.round(v * 1e6) / 1e6; }

  function geometry() {
    var v = drawing.vertices.map(function (p) { return [round(p.lng), round(p.lat)]; });
    if (drawing.mode === "point") {
      return v.length ? { type: "Point", coordinates: v[v.length - 1] } : null;
    }
    if (drawing.mode === "route") {
      return v.length >= 2 ? { type: "LineString", coordinates: v } : null;
    }
    if (v.length < 3) return null;
    return { type: "Polygon", coordinates: [v.concat([v[0]])] };
  }

  function redraw() {
    if (!map) return;
    if (layer) { map.removeLayer(layer); layer = null; }
    var v = drawing.vertices;
    if (!v.length) return;
    var style = { color: "#0b5394", weight: 4 };
    if (drawing.mode === "point") {
      layer = L.circleMarker(v[v.length - 1], { radius: 10, color: "#0b5394", weight: 3,
        fillColor: "#f1c232", fillOpacity: 0.9 });
    } else if (drawing.mode === "route" || v.length < 3) {
      layer = L.featureGroup([L.polyline(v, style)].concat(v.map(function (p) {
        return L.circleMarker(p, { radius: 5, color: "#0b5394" });
      })));
    } else {
      layer = L.polygon(v, style);
    }
    layer.addTo(map);
  }

  function sync() {
    var g = geometry();
    geometryInput.value = g && drawing.mode !== "point" ? JSON.stringify(g) : "";
    if (drawing.mode === "point" && g) {
      latInput.value = g.coordinates[1];
      lonInput.value = g.coordinates[0];
    }
    if (drawing.mode !== "point") { latInput.value = ""; lonInput.value = ""; }
    var n = drawing.vertices.length;
    if (statusEl) {
      if (drawing.mode === "point") statusEl.textContent = n ? say("tap_point") : "";
      else if (drawing.finished) statusEl.textContent = say("finished");
      else statusEl.textContent = n ? say(drawing.mode === "route" ? "tap_route" : "tap_area", n) : "";
    }
    redraw();
  }

  function addVertex(latlng) {
    if (drawing.mode === "point") drawing.vertices = [latlng];
    else {
      if (drawing.finished) { drawing.vertices = []; drawing.finished = false; }
      drawing.vertices.push(latlng);
    }
    sync();
  }

  function setMode(mode) {
    drawing = { mode: mode, vertices: [], finished: false };
    document.querySelectorAll(".draw-tools .mode").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-mode") === mode));
    });
    document.querySelector(".location").setAttribute("data-mode", mode);
    sync();
  }

  function loadExisting() {
    var raw = geometryInput.value;
    var g = null;
    if (raw) { try { g = JSON.parse(raw); } catch (e) { g = null; } }
    if (!g && latInput.value && lonInput.value) {
      var lat = parseFloat(latInput.value.replace(",", ".")), lon = parseFloat(lonInput.value.replace(",", "."));
      if (isFinite(lat) && isFinite(lon)) g = { type: "Point", coordinates: [lon, lat] };
    }
    if (!g) return;
    var mode = { Point: "point", LineString: "route", Polygon: "area" }[g.type];
    if (!mode) return;
    setMode(mode);
    var coords = g.type === "Point" ? [g.coordinates] : g.type === "LineString" ? g.coordinates
      : g.coordinates[0].slice(0, -1);
    drawing.vertices = coords.map(function (c) { return L.latLng(c[1], c[0]); });
    drawing.finished = mode !== "point";
    sync();
    if (layer) {
      if (layer.getBounds) map.fitBounds(layer.getBounds(), { maxZoom: 17 });
      else map.setView(layer.getLatLng(), 16);
    }
  }

  function initMap() {
    if (!mapEl || typeof L === "undefined") return;
    map = L.map(mapEl, { keyboard: true, tap: true });
    if (window.AtlasBackground) { window.AtlasBackground.fromElement(map, mapEl); }
    var framed = json("map-bounds");
    var bounds = null;
    // The neighbourhoods frame the map; the background draws them, with their names.
    var box = framed && framed.bbox;
    if (box && box.length === 4) { bounds = L.latLngBounds([box[1], box[0]], [box[3], box[2]]); }
    if (bounds && bounds.isValid()) map.fitBounds(bounds);
    else map.setView([38.7223, -9.1393], 13);
    map.on("click", function (e) { addVertex(e.latlng); });
    document.querySelectorAll(".draw-tools .mode").forEach(function (b) {
      b.addEventListener("click", function () { setMode(b.getAttribute("data-mode")); });
    });
    document.getElementById("place-centre").addEventListener("click", function () {
      addVertex(map.getCenter());
    });
    document.getElementById("undo-vertex").addEventListener("click", function () {
      drawing.vertices.pop(); drawing.finished = false; sync();
    });
    document.getElementById("finish-shape").addEventListener("click", function () {
      if (drawing.mode !== "point" && !geometry()) { statusEl.textContent = say("need_more"); return; }
      drawing.finished = true; sync();
    });
    document.getElementById("clear-shape").addEventListener("click", function () {
      setMode(drawing.mode);
    });
    function fromFields() {
      if (drawing.mode !== "point") setMode("point");
      var lat = parseFloat(latInput.value.replace(",", ".")), lon = parseFloat(lonInput.value.replace(",", "."));
      if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
        drawing.vertices = [L.latLng(lat, lon)];
        redraw();
        geometryInput.value = "";
        map.setView(drawing.vertices[0], Math.max(map.getZoom(), 16));
        tell("set_typed", { lat: round(lat), lon: round(lon) });
      }
    }
    latInput.addEventListener("change", fromFields);
    lonInput.addEventListener("change", fromFields);
    wireLocationSearch();
    loadExisting();
  }

  /* ---- setting the location without a pointer: a search, or typed coordinates ---- */
  var locationMessages = json("location-messages") || {};
  function tell(key, values) {
    var text = locationMessages[key] || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    if (statusEl) statusEl.textContent = text;  /* a live region: screen readers say it */
  }

  // A point goes where was chosen; a route or an area being drawn keeps its corners, and
  // the map moves there instead ("Put it at the centre of the map" adds one).
  function placePoint(latlng, name, keepView) {
    if (!keepView) map.setView(latlng, Math.max(map.getZoom(), 16));
    if (drawing.mode !== "point") {
      tell("moved_to", { name: name });
      return;
    }
    addVertex(latlng);
    tell("set_named", { name: name, lat: round(latlng.lat), lon: round(latlng.lng) });
  }

  function wireLocationSearch() {
    var input = document.getElementById("location-search");
    var results = document.getElementById("location-results");
    if (!input || !results) return;
    function choice(label, kind, choose) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = label;  /* text, never markup */
      var small = document.createElement("small");
      small.textContent = " · " + kind;
      button.appendChild(small);
      button.addEventListener("click", choose);
      item.appendChild(button);
      return item;
    }
    function show(found) {
      var items = [];
      (found.neighbourhoods || []).forEach(function (n) {
        items.push(choice(n.name, locationMessages.neighbourhood, function () {
          var bounds = L.latLngBounds([n.bbox[1], n.bbox[0]], [n.bbox[3], n.bbox[2]]);
          map.fitBounds(bounds);
          placePoint(bounds.getCenter(), n.name, true);
        }));
      });
      (found.places || []).forEach(function (p) {
        items.push(choice(p.title, locationMessages.place, function () {
          placePoint(L.latLng(p.lat, p.lon), p.title, false);
        }));
      });
      results.replaceChildren.apply(results, items);
      tell(items.length ? "choose" : "none");
    }
    function search() {
      var q = input.value.trim();
      if (q.length < 2) return;
      tell("searching");
      fetch("/api/map/search?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(show)
        .catch(function () { tell("failed"); });
    }
    // Enter searches here; it must not send the whole form.
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); search(); }
    });
    document.getElementById("location-search-go").addEventListener("click", search);
  }

  /* ---- errors next to their fields ---------------------------------------------- */
  var FIELD_FOR = {
    "geometry": "location", "properties.title": "title",
    "properties.narratives.0.text": "narrative", "properties.narratives.0.language": "narrative_language",
    "properties.narratives.1.text": "translation", "properties.narratives.1.language": "translation_language",
    "properties.narratives.1.provenance": "translation_provenance", "properties.narratives": "narrative",
    "properties.category": "category", "properties.period": "period", "properties.year_from": "year_from",
    "properties.year_to": "year_to", "properties.tags": "tags",
    "properties.contributor.name": "contributor_name", "properties.contributor.contact": "contributor_contact",
    "properties.contributor.display_name": "display_name", "properties.consent.publish": "consent_publish",
    "properties.consent": "consent_publish", "properties.licence": "licence",
    "properties.sensitivity": "sensitivity", "properties.workshop": "workshop",
    "file": "photo", "caption": "caption",
    "voice": "voice", "voice_scope": "voice_scope", "voice_title": "voice_title",
    "voice_transcript": "voice_transcript", "voice_language": "voice_language"
  };
  function fieldFor(path) {
    var parts = path.split(".");
    while (parts.length) {
      var name = FIELD_FOR[parts.join(".")];
      if (name) return name;
      parts.pop();
    }
    return "form";
  }

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var summary = document.getElementById("error-summary");
    summary.hidden = true;
    summary.querySelector("ul").innerHTML = "";
  }

  function showErrors(problem) {
    clearErrors();
    var errors = problem.errors && problem.errors.length ? problem.errors
      : [{ field: "form", message: problem.detail }];
    var summary = document.getElementById("error-summary");
    var list = summary.querySelector("ul");
    errors.forEach(function (e) {
      var name = fieldFor(e.field);
      var slot = document.getElementById("error-" + name) || document.getElementById("error-form");
      slot.hidden = false;
      slot.textContent = (slot.textContent ? slot.textContent + " " : "") + e.message;
      var input = document.getElementById("field-" + name);
      if (input && input.tagName !== "FIELDSET") input.setAttribute("aria-invalid", "true");
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#field-" + name;
      link.textContent = e.message;  /* text, never markup */
      item.appendChild(link);
      list.appendChild(item);
      if (name === "translation" || name === "translation_language") {
        var details = form.querySelector("details.translation");
        if (details) details.open = true;
      }
    });
    summary.hidden = false;
    summary.focus();
  }

  /* ---- sending through the API -------------------------------------------------- */
  function value(name) {
    var el = form.elements[name];
    return el ? String(el.value || "").trim() : "";
  }
  function checked(name) { var el = form.elements[name]; return !!(el && el.checked); }
  function numberOrNull(name) {
    var v = value(name);
    if (!v) return null;
    return /^-?\d+$/.test(v) ? parseInt(v, 10) : v;  /* let the server name a bad year */
  }

  function feature() {
    var g = geometry();
    if (!g && latInput.value && lonInput.value) {
      var lat = Number(latInput.value.replace(",", ".")), lon = Number(lonInput.value.replace(",", "."));
      g = { type: "Point", coordinates: [lon, lat] };
    }
    var narratives = [{ text: value("narrative"), language: value("narrative_language"), provenance: "original" }];
    if (value("translation")) {
      var who = form.querySelector("input[name=translation_provenance]:checked");
      narratives.push({ text: value("translation"), language: value("translation_language"),
        provenance: who ? who.value : "community_translation" });
    }
    var sensitivity = form.querySelector("input[name=sensitivity]:checked");
    var props = {
      title: value("title"), narratives: narratives, category: value("category"),
      period: value("period") || null, year_from: numberOrNull("year_from"), year_to: numberOrNull("year_to"),
      tags: value("tags").split(",").map(function (t) { return t.trim(); }).filter(Boolean),
      contributor: { name: value("contributor_name") || null, contact: value("contributor_contact") || null,
        display_name: value("display_name") || null },
      consent: { publish: checked("consent_publish"), open_data: checked("consent_open_data"),
        research: checked("consent_research") },
      licence: value("licence") || "CC-BY-4.0",
      sensitivity: sensitivity ? sensitivity.value : "public",
      workshop: value("workshop") || null
    };
    return { type: "Feature", geometry: g, properties: props };
  }

  /* ---- the answer: the edit link of each place sent ------------------------------ */
  var shown = 0;  /* edit links on the page: a second one gets a block of its own */
  function showDone(receipt, photoProblem, title, item) {
    form.hidden = true;
    document.getElementById("waiting").hidden = true;
    var done = document.getElementById("done");
    var block = done.querySelector(".edit-link");
    if (shown) {
      var copy = block.cloneNode(true);
      var n = shown + 1;
      copy.querySelector("label").setAttribute("for", "edit-link-" + n);
      copy.querySelector("input").id = "edit-link-" + n;
      copy.querySelector("button").setAttribute("data-copy", "#edit-link-" + n);
      copy.querySelector(".copy-status").textContent = "";
      copy.querySelector(".help").removeAttribute("id");
      copy.querySelector("input").removeAttribute("aria-describedby");
      done.insertBefore(copy, block.nextSibling);
      block = copy;
    }
    shown += 1;
    if (title) {
      var named = document.createElement("p");
      named.className = "sent-title";
      named.textContent = title;  /* text, never markup */
      block.insertBefore(named, block.firstChild);
    }
    block.querySelector("input").value = receipt.edit_url;
    document.getElementById("done-published").hidden = receipt.status !== "published";
    document.getElementById("done-pending").hidden = receipt.status === "published";
    if (photoProblem) {
      var p = document.createElement("p");
      p.className = "field-error";
      p.textContent = say("photo_failed") + " " + photoProblem;
      block.parentNode.insertBefore(p, block);
    }
    if (item && item.voice) showVoice(block, item, item.voiceProblem);
    done.hidden = false;
    done.focus();
  }

  /* ---- sending, and keeping on the phone what cannot be sent yet ------------------- */
  // A place goes into the phone's outbox (outbox.js) before it is sent, and leaves it
  // once the service has answered for it and its photo. Without a connection it waits,
  // shown as waiting, and goes by itself when the connection returns, with the same
  // Idempotency-Key: the service stores it once however often it is tried.
  var RETRY_MS = 10000;
  var sendingNow = {};  /* keys on their way: one place is never sent twice at once */
  var current = null;   /* the key of the place this page's form sent */
  var retryTimer = null;
  var outbox = window.AtlasOutbox && window.AtlasOutbox.available ? window.AtlasOutbox : null;

  function busy(status) { return status >= 500 || status === 429 || status === 408; }

  function postPlace(item) {
    return fetch("/api/places", {
      method: "POST", body: JSON.stringify(item.feature),
      headers: { "Content-Type": "application/json", "Accept-Language": item.lang,
        "Idempotency-Key": item.key }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.status === 201) return { receipt: body };
        return busy(response.status) ? { kept: true } : { problem: body };
      }, function () { return busy(response.status) ? { kept: true } : { problem: { detail: say("offline") } }; });
    });
  }

  function hasPhoto(receipt) {
    /* a photo sent just before the connection dropped may have arrived: never twice */
    return fetch(receipt.url, { headers: { "X-Edit-Token": receipt.edit_token } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (f) { return !!(f && f.properties && f.properties.media && f.properties.media.length); });
  }

  function postPhoto(item, retries) {
    if (retries === undefined) retries = 2;
    var data = new FormData();
    data.append("file", item.photo, item.photoName || "photo");
    if (item.caption) data.append("caption", item.caption);
    return fetch(item.receipt.url + "/media", { method: "POST", body: data,
      headers: { "X-Edit-Token": item.receipt.edit_token, "Accept-Language": item.lang }
    }).then(function (r) {
      if (r.ok) return null;
      if (r.status === 503 && retries > 0) {
        // The service is busy with other photos: wait as long as it asks (a few seconds).
        var wait = Math.min(parseInt(r.headers.get("Retry-After"), 10) || 3, 30);
        return new Promise(function (resolve) { setTimeout(resolve, wait * 1000); })
          .then(function () { return postPhoto(item, retries - 1); });
      }
      return r.json().then(function (p) { return (p.errors && p.errors[0] && p.errors[0].message) || p.detail; });
    });
  }

  /* ---- the recording sent with the place (recorded by voice.js, or chosen) -------- */
  function voiceFile() {
    var input = form.elements.voice;
    return input && input.files && input.files[0];
  }

  // Details the server would refuse after the place is stored: told before it is sent.
  function voiceDetailsProblem() {
    if (!voiceFile() || !value("voice_transcript") || value("voice_language")) return null;
    return { errors: [{ field: "voice_language", message: say("transcript_language") }] };
  }

  function voiceFields() {
    var scope = form.querySelector("input[name=voice_scope]:checked");
    return { scope: scope ? scope.value : "public", title: value("voice_title"),
      transcript: value("voice_transcript"), transcript_language: value("voice_language") };
  }

  // The service keeps the same file with the same details once (a retry whose answer was
  // lost gets the recording already kept), so sending it again is safe. No connection:
  // the promise fails and the place stays in the outbox; a refusal is the problem shown.
  function postVoice(item) {
    var data = new FormData();
    data.append("file", item.voice, item.voiceName || "voice");
    Object.keys(item.voiceFields).forEach(function (k) {
      if (item.voiceFields[k]) data.append(k, item.voiceFields[k]);
    });
    return fetch(item.receipt.url + "/audio", { method: "POST", body: data,
      headers: { "X-Edit-Token": item.receipt.edit_token, "Accept-Language": item.lang }
    }).then(function (r) {
      if (r.ok) return null;
      return r.json().then(function (p) {
        return { message: (p.errors && p.errors[0] && p.errors[0].message) || p.detail, retry: r.status >= 500 };
      }, function () { return { message: say("voice_offline"), retry: true }; });
    });
  }

  // Beside the edit link: the recording was added, or why not, with a way to send the
  // same recording again (it stays in the page) and the edit page to add it later.
  function showVoice(block, item, problem) {
    var old = document.getElementById("voice-outcome");
    if (old) old.parentNode.removeChild(old);
    var box = document.createElement("div");
    box.id = "voice-outcome";
    box.setAttribute("role", "status");
    block.parentNode.insertBefore(box, block);
    if (!problem) {
      box.appendChild(document.createTextNode(say("voice_added")));
      return;
    }
    var p = document.createElement("p");
    p.className = "field-error";
    p.textContent = say("voice_failed") + " " + problem.message;
    box.appendChild(p);
    if (problem.retry) {
      var again = document.createElement("button");
      again.type = "button";
      again.textContent = say("voice_retry");
      again.addEventListener("click", function () {
        again.disabled = true;
        postVoice(item).catch(function () { return { message: say("voice_offline"), retry: true }; })
          .then(function (next) { showVoice(block, item, next); });
      });
      box.appendChild(again);
    }
    var later = document.createElement("p");
    var link = document.createElement("a");
    link.href = item.receipt.edit_url + "#voices";
    link.textContent = say("voice_later");
    later.appendChild(link);
    box.appendChild(later);
  }

  function keep(item) { return outbox ? outbox.put(item) : Promise.resolve(); }
  function forget(item) { return outbox ? outbox.remove(item.key) : Promise.resolve(); }

  /* One place: {outcome: "sent"}, "kept" (no connection, or a busy service) or "refused". */
  function send(item) {
    if (sendingNow[item.key]) return Promise.resolve({ outcome: "busy" });
    sendingNow[item.key] = true;
    var placed = item.receipt ? Promise.resolve({}) : postPlace(item).then(function (answer) {
      if (!answer.receipt) return answer;
      item.receipt = answer.receipt;
      return keep(item).then(function () { return {}; });  /* its photo may still wait */
    });
    return placed.then(function (answer) {
      if (answer.kept) return { outcome: "kept" };
      if (answer.problem) return forget(item).then(function () { return { outcome: "refused", problem: answer.problem }; });
      var photo = item.photo
        ? hasPhoto(item.receipt).then(function (has) { return has ? null : postPhoto(item); })
        : Promise.resolve(null);
      return photo.then(function (photoProblem) {
        item.photoProblem = photoProblem;
        return item.voice ? postVoice(item) : null;
      }).then(function (voiceProblem) {
        item.voiceProblem = voiceProblem;
        return forget(item).then(function () { return { outcome: "sent" }; });
      });
    }).catch(function () {
      return { outcome: "kept" };  /* the connection dropped on the way: it stays kept */
    }).then(function (result) {
      delete sendingNow[item.key];
      return result;
    });
  }

  function showWaiting(items, statusKey) {
    var waiting = document.getElementById("waiting");
    var list = document.getElementById("waiting-list");
    list.replaceChildren.apply(list, items.map(function (item) {
      var li = document.createElement("li");
      li.textContent = item.feature.properties.title || "…";  /* text, never markup */
      return li;
    }));
    waiting.hidden = items.length === 0;
    document.getElementById("waiting-status").textContent = statusKey ? say(statusKey) : "";
  }

  function handled(item, result) {
    if (result.outcome === "sent") {
      showDone(item.receipt, item.photoProblem, item.key === current ? null : item.feature.properties.title, item);
    } else if (result.outcome === "refused") {
      if (item.key === current) { form.hidden = false; showErrors(result.problem); }
      else {
        var status = document.getElementById("waiting-status");
        status.textContent = (item.feature.properties.title || "") + ": " + (result.problem.detail || "");
      }
    }
  }

  /* Try every kept place, oldest first; then show what still waits, and try again later. */
  function flush(statusKey) {
    if (!outbox) return Promise.resolve();
    clearTimeout(retryTimer);
    return outbox.all().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () { return send(item).then(function (r) { handled(item, r); }); });
      }, Promise.resolve());
    }).then(function () { return outbox.all(); }).then(function (left) {
      showWaiting(left, left.length ? statusKey : null);
      if (left.length) retryTimer = setTimeout(function () { flush("still_waiting"); }, RETRY_MS);
    });
  }

  function wireSubmit() {
    if (!form || form.getAttribute("data-mode") === "edit" || !window.fetch) return;
    var sending = document.getElementById("sending");
    var button = document.getElementById("submit-place");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var early = voiceDetailsProblem();
      if (early) { showErrors(early); return; }
      button.disabled = true;
      sending.textContent = say("sending");
      var file = form.elements.photo && form.elements.photo.files[0];
      var voice = voiceFile();
      var item = { key: value("submission_id"), feature: feature(), lang: form.getAttribute("data-lang"),
        photo: file || null, photoName: file ? file.name : null, caption: value("caption"),
        voice: voice || null, voiceName: voice ? voice.name : null,
        voiceFields: voice ? voiceFields() : null, created: Date.now() };
      current = item.key;
      keep(item).catch(function () { outbox = null; })  /* no storage: send it as it is */
        .then(function () { return send(item); })
        .then(function (result) {
          if (result.outcome === "kept") {
            if (!outbox) { showErrors({ detail: say("offline") }); return; }
            form.hidden = true;
            return outbox.all().then(function (items) {
              showWaiting(items, "waiting");
              var waiting = document.getElementById("waiting");
              waiting.focus();
              clearTimeout(retryTimer);
              retryTimer = setTimeout(function () { flush("still_waiting"); }, RETRY_MS);
            });
          }
          handled(item, result);
        })
        .then(function () { button.disabled = false; sending.textContent = ""; });
    });
    var retry = document.getElementById("retry-now");
    if (retry) retry.addEventListener("click", function () {
      document.getElementById("waiting-status").textContent = say("sending");
      flush("still_waiting");
    });
    window.addEventListener("online", function () { flush("still_waiting"); });
    flush("waiting");  /* places kept from before (a reload, a closed tab) go now */
  }

  initMap();
  wireSubmit();
  wireCopy();
})();
