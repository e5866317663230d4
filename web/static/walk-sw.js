/* The walks' service worker ("Save for offline"): a walk page hands it the addresses a
   walk needs (its page, scripts and styles, its stops' pages, texts, photos and
   recordings, and the background tiles of its area); it keeps them in a cache of that
   walk, and answers from the network when it can, from the cache when it cannot. */
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("message", function (event) {
  var job = event.data || {};
  if (job.type !== "save" || !/^walk-wk_[A-Za-z0-9_-]+$/.test(job.cache || "")) { return; }
  var port = event.ports && event.ports[0];
  event.waitUntil(caches.open(job.cache).then(function (cache) {
    var own = (job.urls || []).map(function (u) { return cache.add(new Request(u, { credentials: "same-origin" })); });
    // Tiles come from another server: kept as it sends them (opaque), for <img> only.
    var tiles = (job.tiles || []).map(function (u) {
      return fetch(u, { mode: "no-cors" }).then(function (r) { return cache.put(u, r); }).catch(function () {});
    });
    return Promise.all(own).then(function () { return Promise.all(tiles); });
  }).then(function () {
    if (port) { port.postMessage({ saved: true }); }
  }, function (error) {
    if (port) { port.postMessage({ saved: false, error: String(error) }); }
  }));
});

self.addEventListener("fetch", function (event) {
  if (event.request.method !== "GET") { return; }
  event.respondWith(fetch(event.request).catch(function () {
    return caches.match(event.request).then(function (hit) {
      return hit || Response.error();
    });
  }));
});
