/* A place's page: draw the place on its small map (the page works without this script).
   The place comes from the map element's data-map attribute, as the public may see it:
   a generalised place is drawn as a circle covering its grid cell. */
(function () {
  "use strict";
  var box = document.getElementById("place-map");
  if (!box || typeof L === "undefined") { return; }
  var data;
  try { data = JSON.parse(box.getAttribute("data-map")); } catch (e) { return; }
  if (!data || !data.geometry) { return; }
  var colour = /^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/.test(data.colour) ? data.colour : "#566573";
  box.hidden = false;
  var map = L.map(box, { scrollWheelZoom: false, attributionControl: false });
  if (window.AtlasBackground) { window.AtlasBackground.draw(map, data.background); }
  var g = data.geometry;
  if (g.type === "Point") {
    var at = L.latLng(g.coordinates[1], g.coordinates[0]);
    map.setView(at, data.zoom || 17);
    if (data.radius_m) {
      var area = L.circle(at, { radius: data.radius_m, color: colour, weight: 2, fillColor: colour, fillOpacity: 0.2 }).addTo(map);
      map.fitBounds(area.getBounds(), { padding: [16, 16], animate: false });
    } else {
      L.circleMarker(at, { radius: 9, color: "#ffffff", weight: 2, fillColor: colour, fillOpacity: 1 }).addTo(map);
    }
  } else {
    var shape = L.geoJSON(g, { style: { color: colour, weight: 4, fillColor: colour, fillOpacity: 0.25 } });
    map.fitBounds(shape.getBounds(), { maxZoom: 18, padding: [16, 16], animate: false });
    shape.addTo(map);
  }
  box.setAttribute("data-ready", "1");
})();
