/* Staff pages: draw each place on a small map (the pages work without this script).
   Leaflet comes from /static/vendor; the background as every map draws it (atlas-background.js). */
(function () {
  "use strict";
  // The workshop form: times are in the facilitator's own time zone unless they say so.
  var zone = document.querySelector("[data-browser-timezone]");
  if (zone && zone.value === "UTC" && window.Intl) {
    zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  }
  if (typeof L === "undefined") { return; }
  var maps = document.querySelectorAll(".minimap[data-geojson]");
  Array.prototype.forEach.call(maps, function (el) {
    var shape;
    try { shape = JSON.parse(el.getAttribute("data-geojson")); } catch (e) { return; }
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: false });
    if (window.AtlasBackground) { window.AtlasBackground.fromElement(map, el); }
    var layer = L.geoJSON(shape, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: "#b03a2e", fillOpacity: 1 });
      },
      style: function () { return { color: "#b03a2e", weight: 3, fillOpacity: 0.25 }; }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { maxZoom: 17, padding: [20, 20] });
    } else {
      map.setView([0, 0], 2);
    }
    el.setAttribute("data-ready", "1");
  });
})();
