/* Leaflet titles its zoom buttons in English: give them the page's own words, which this
   script's tag carries (data-zoom-in, data-zoom-out), before any map is made. */
(function () {
  var words = document.currentScript && document.currentScript.dataset;
  var zoom = window.L && L.Control.Zoom.prototype.options;
  if (!words || !zoom) return;
  if (words.zoomIn) zoom.zoomInTitle = words.zoomIn;
  if (words.zoomOut) zoom.zoomOutTitle = words.zoomOut;
})();
