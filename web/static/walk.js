/* A walk's story map: the map shows the route and numbered stops, the text column moves
   stop by stop and the map follows, by scrolling, by the buttons and by the keyboard.
   Without this script the page is an ordered list of stops beside a static map. */
(function () {
  "use strict";
  var walk = document.querySelector(".walk");
  var box = document.getElementById("walk-map");
  if (!walk || !box) { return; }
  var data;
  try { data = JSON.parse(box.getAttribute("data-map")); } catch (e) { return; }
  var stops = Array.prototype.slice.call(walk.querySelectorAll(".walk-stop"));
  if (!stops.length) { return; }
  var rtl = document.documentElement.dir === "rtl";
  var where = walk.querySelector(".walk-where");
  var prev = walk.querySelector(".walk-prev");
  var next = walk.querySelector(".walk-next");
  var markers = {};
  var map = null;
  var colourOk = /^#[0-9a-fA-F]{6}$/;

  if (typeof L !== "undefined") {
    box.hidden = false;
    var figure = walk.querySelector(".walk-static");
    if (figure) { figure.hidden = true; }
    map = L.map(box, { scrollWheelZoom: false, attributionControl: false });
    if (window.AtlasBackground) { window.AtlasBackground.draw(map, data.background); }
    var colour = colourOk.test(data.route_colour) ? data.route_colour : "#b03a2e";
    var points = [];
    if (data.route && data.route.length > 1) {
      L.polyline(data.route, { color: colour, weight: 5, dashArray: "10 6" }).addTo(map);
      points = points.concat(data.route);
    }
    data.stops.forEach(function (s) {
      var icon = L.divIcon({
        className: "walk-marker", html: "<span>" + Number(s.number) + "</span>",
        iconSize: [30, 30], iconAnchor: [15, 15]
      });
      var m = L.marker([s.lat, s.lon], { icon: icon, keyboard: false }).addTo(map);
      m.on("click", function () { go(s.number, true); });
      markers[s.number] = m;
      points.push([s.lat, s.lon]);
    });
    map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 17, animate: false });
    listStops();
  }

  // Beside the map, as on every map, the list of the stops in view (atlas-places-list.js):
  // an entry opens its stop's popup, which leads on to that stop of the story.
  function listStops() {
    if (!window.AtlasPlacesList) { return; }
    var byId = {};
    data.stops.forEach(function (s) { byId[s.id] = s; });
    var page = typeof data.place_page === "string" && data.place_page.charAt(0) === "/" &&
      data.place_page.charAt(1) !== "/" ? data.place_page : null;
    window.AtlasPlacesList.list({
      map: map,
      inView: function () {
        var bounds = map.getBounds();
        return data.stops.filter(function (s) { return bounds.contains([s.lat, s.lon]); })
          .map(function (s) { return { id: s.id, title: s.title }; });
      },
      count: function (n) { return (data.in_view || [])[n] || String(n); },
      placePage: function (id) { return page ? page.replace("{id}", encodeURIComponent(id)) : null; },
      open: function (id) { return byId[id] ? stopPopup(byId[id], page) : null; },
      refreshOn: "moveend"
    })();
  }

  function stopPopup(s, page) {
    var box = document.createElement("div");
    box.className = "atlas-popup walk-popup";
    var heading = document.createElement("h3");
    heading.textContent = String(s.title || "");
    heading.dir = "auto";
    box.appendChild(heading);
    var step = document.createElement("a");
    step.href = "#stop-" + Number(s.number);
    step.textContent = (where ? where.getAttribute("data-template") : "{number}")
      .replace("{number}", String(s.number)).replace("{count}", String(stops.length));
    step.addEventListener("click", function (e) { e.preventDefault(); go(Number(s.number), true); });
    box.appendChild(paragraph(step));
    if (page) {
      var more = document.createElement("a");
      more.href = page.replace("{id}", encodeURIComponent(s.id));
      more.textContent = String(data.place_page_text || "");
      box.appendChild(paragraph(more));
    }
    var popup = L.popup({ maxWidth: 300, autoPanPadding: [24, 24] })
      .setLatLng([s.lat, s.lon]).setContent(box).openOn(map);
    // Leaflet closes a popup on Escape only while the map itself has the focus.
    box.addEventListener("keydown", function (e) { if (e.key === "Escape") { map.closePopup(popup); } });
    return box;
  }

  function paragraph(child) {
    var p = document.createElement("p");
    p.appendChild(child);
    return p;
  }

  var current = 0;
  var steering = false;  // a button or key moved us: the scroll it causes is not a new choice

  function show(n) {
    current = n;
    walk.setAttribute("data-current", String(n));
    stops.forEach(function (li) {
      var on = Number(li.getAttribute("data-stop")) === n;
      li.classList.toggle("walk-stop-current", on);
      if (on) { li.setAttribute("aria-current", "step"); } else { li.removeAttribute("aria-current"); }
    });
    Object.keys(markers).forEach(function (k) {
      var el = markers[k].getElement();
      if (el) { el.classList.toggle("walk-marker-current", Number(k) === n); }
    });
    if (map && markers[n]) {
      map.setView(markers[n].getLatLng(), Math.max(map.getZoom(), 16), { animate: false });
      box.setAttribute("data-following", String(n));
    }
    if (where) {
      where.textContent = where.getAttribute("data-template")
        .replace("{number}", String(n)).replace("{count}", String(stops.length));
    }
    if (prev) { prev.disabled = n <= 1; }
    if (next) { next.disabled = n >= stops.length; }
  }

  function go(n, focus) {
    n = Math.max(1, Math.min(stops.length, n));
    show(n);
    if (focus) {
      steering = true;
      var li = stops[n - 1];
      li.focus({ preventScroll: true });
      li.scrollIntoView({ block: "start" });
      window.setTimeout(function () { steering = false; }, 400);  // "scrollend" is not everywhere
    }
  }

  var controls = walk.querySelector(".walk-controls");
  if (controls) { controls.hidden = false; }
  var keys = walk.querySelector(".walk-keys");
  if (keys) { keys.hidden = false; }
  if (prev) { prev.addEventListener("click", function () { go(current - 1, true); }); }
  if (next) { next.addEventListener("click", function () { go(current + 1, true); }); }

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON|SUMMARY)$/.test(t.tagName))) {
      if (!(t.tagName === "BUTTON" && (e.key === "ArrowDown" || e.key === "ArrowUp"))) { return; }
    }
    // In the map the arrow keys pan it, and in the list beside it they belong to the list.
    if (t && t.closest && t.closest(".leaflet-container, .atlas-places")) { return; }
    var forward = rtl ? "ArrowLeft" : "ArrowRight";
    var back = rtl ? "ArrowRight" : "ArrowLeft";
    var to = null;
    if (e.key === "ArrowDown" || e.key === forward || e.key === "j" || e.key === "J") { to = current + 1; }
    else if (e.key === "ArrowUp" || e.key === back || e.key === "k" || e.key === "K") { to = current - 1; }
    else if (e.key === "Home") { to = 1; }
    else if (e.key === "End") { to = stops.length; }
    if (to === null) { return; }
    e.preventDefault();
    go(to, true);
  });

  if ("IntersectionObserver" in window) {
    var seen = new IntersectionObserver(function (entries) {
      if (steering) { return; }
      // Someone in the map or in the list beside it is choosing there: the story's
      // scrolling must not move the map (and the list with it) from under them.
      var active = document.activeElement;
      if (active && active.closest && active.closest(".leaflet-container, .atlas-places")) { return; }
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { show(Number(entry.target.getAttribute("data-stop"))); }
      });
    }, { rootMargin: "-45% 0px -45% 0px" });
    stops.forEach(function (li) { seen.observe(li); });
  }

  // "Walk with me": the browser's position, never sent anywhere, picks the nearest stop
  // and opens its story (and plays its recording, if it has one) within about 30 m.
  var NEAR_M = 30;
  var follow = walk.querySelector(".walk-with-me");
  if (follow && navigator.geolocation && data.stops) {
    follow.hidden = false;
    var button = follow.querySelector(".walk-follow");
    var nearest = follow.querySelector(".walk-nearest");
    var watching = null;
    var opened = {};
    var metres = function (lat1, lon1, lat2, lon2) {
      var r = Math.PI / 180;
      var a = Math.sin((lat2 - lat1) * r / 2) * Math.sin((lat2 - lat1) * r / 2) +
        Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin((lon2 - lon1) * r / 2) * Math.sin((lon2 - lon1) * r / 2);
      return 6371008.8 * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
    };
    var moved = function (pos) {
      var best = null;
      data.stops.forEach(function (s) {
        var d = metres(pos.coords.latitude, pos.coords.longitude, s.lat, s.lon);
        if (best === null || d < best.d) { best = { n: s.number, d: d }; }
      });
      if (best === null) { return; }
      nearest.textContent = nearest.getAttribute("data-template")
        .replace("{number}", String(best.n)).replace("{metres}", String(Math.round(best.d)));
      walk.setAttribute("data-nearest", String(best.n));
      if (best.d <= NEAR_M && !opened[best.n]) {
        opened[best.n] = true;
        go(best.n, true);
        var sound = stops[best.n - 1].querySelector("audio");
        if (sound) { sound.play().catch(function () {}); }
      }
    };
    var failed = function () { nearest.textContent = nearest.getAttribute("data-unavailable"); };
    button.addEventListener("click", function () {
      if (watching !== null) {
        navigator.geolocation.clearWatch(watching);
        watching = null;
        button.textContent = button.getAttribute("data-on");
        return;
      }
      opened = {};
      watching = navigator.geolocation.watchPosition(moved, failed, { enableHighAccuracy: true, maximumAge: 5000 });
      button.textContent = button.getAttribute("data-off");
    });
  }

  // "Save for offline": the service worker keeps what the walk needs (see walk-sw.js).
  var offline = walk.querySelector(".walk-offline");
  if (offline && "serviceWorker" in navigator && window.caches && window.MessageChannel) {
    offline.hidden = false;
    var save = offline.querySelector(".walk-save");
    var saved = offline.querySelector(".walk-saved");
    save.addEventListener("click", function () {
      save.disabled = true;
      var done = function (ok) {
        saved.textContent = saved.getAttribute(ok ? "data-done" : "data-failed");
        walk.setAttribute("data-saved", ok ? "1" : "0");
        save.disabled = false;
      };
      navigator.serviceWorker.register("/walks/sw.js", { scope: "/" }).then(function () {
        return navigator.serviceWorker.ready;
      }).then(function (reg) {
        return fetch(save.getAttribute("data-list")).then(function (r) { return r.json(); }).then(function (job) {
          job.type = "save";
          job.urls.push(window.location.pathname + window.location.search);
          var channel = new MessageChannel();
          channel.port1.onmessage = function (e) { done(!!(e.data && e.data.saved)); };
          reg.active.postMessage(job, [channel.port2]);
        });
      }).catch(function () { done(false); });
    });
  }

  var wanted = /^#stop-(\d+)$/.exec(window.location.hash);
  show(wanted ? Math.min(Number(wanted[1]), stops.length) : 1);
  walk.setAttribute("data-ready", "1");
})();
