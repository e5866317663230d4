/* Heritage Atlas: the list of places in view beside a map, for keyboards and screen
 * readers (mapping/places_list.py serves it filled; this keeps it to the view).
 *
 * An entry is a link to the place's page; activated with Enter or a click it opens the
 * place's popup on the map instead and moves focus into it; closing the popup brings
 * focus back to the entry. Titles go in with textContent, never as HTML.
 *
 * Any Leaflet map can have it: ``AtlasPlacesList.list(view)`` takes what the map knows
 * (see ``list`` below); ``attach(atlas)`` is that for the atlas maps (atlas-map.js), and
 * a walk's story map (walk.js, in the web package) gives its own.
 */
(function (global) {
  "use strict";

  var MAX = 300;  // as LIST_MAX in mapping/places_list.py

  /* view:
   *   map        the Leaflet map
   *   inView()   the places to list now, in the order to list them ([{id, title}]), or a
   *              sentence saying why none can be listed (the atlas's clusters)
   *   count(n)   "n places in view" in the reader's language
   *   placePage(id)  the address of the place's page, or null
   *   open(id)   open the place's popup; the element to focus in it, or null when the
   *              place is not drawn here (its link then opens the page)
   *   refreshOn  the map's events after which the list changes (space-separated)
   * Returns the function that brings the list up to date.
   */
  function list(view) {
    var items = document.getElementById("atlas-places-list");
    var count = document.getElementById("atlas-places-count");
    var note = document.getElementById("atlas-places-note");
    if (!items || !count) return function () {};
    var returnTo = null;  // the id of the entry that opened the popup

    function entry(place) {
      var href = view.placePage(place.id), link;
      if (href) {
        link = document.createElement("a");
        link.href = href;
      } else {
        link = document.createElement("button");
        link.type = "button";
      }
      link.textContent = String(place.title || "");
      link.setAttribute("data-place-id", place.id);
      var li = document.createElement("li");
      li.appendChild(link);
      return li;
    }

    function find(id) {
      var found = null;
      items.querySelectorAll("[data-place-id]").forEach(function (node) {
        if (node.getAttribute("data-place-id") === id) found = node;
      });
      return found;
    }

    function setCount(text) {
      // A live region: only a changed count is announced.
      if (count.textContent !== text) count.textContent = text;
    }

    function refresh() {
      var shown = view.inView();
      if (typeof shown === "string") {
        setCount(shown);
        if (note) note.hidden = true;
        items.replaceChildren();
        return;
      }
      setCount(view.count(shown.length));
      if (note) note.hidden = shown.length <= MAX;
      var active = document.activeElement;
      var focused = active && items.contains(active) ? active.getAttribute("data-place-id") : null;
      items.replaceChildren.apply(items, shown.slice(0, MAX).map(entry));
      var again = focused && find(focused);
      if (again) again.focus();
    }

    function open(target) {
      var id = target.getAttribute("data-place-id");
      var box = view.open(id);
      if (!box) return false;  // not drawn here: the link opens the place's page
      box.tabIndex = -1;
      box.focus({preventScroll: true});
      returnTo = id;
      return true;
    }

    items.addEventListener("click", function (e) {
      var target = e.target.closest ? e.target.closest("[data-place-id]") : null;
      // A new tab or window was asked for: the link does what it says.
      if (!target || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.button > 0) return;
      if (open(target)) e.preventDefault();
    });
    view.map.on("popupclose", function () {
      var id = returnTo;
      returnTo = null;
      var active = document.activeElement;
      if (!id || (active && active !== document.body && !view.map.getContainer().contains(active))) return;
      var back = find(id);
      if (back) back.focus();
    });
    view.map.on(view.refreshOn, refresh);
    return refresh;
  }

  // The atlas maps (atlas-map.js): the places drawn in view, by title; none while the
  // server sends clusters.
  function attach(atlas) {
    var latLngOf = global.AtlasMap.latLngOf;
    var collator = new Intl.Collator(atlas.config.language || undefined, {sensitivity: "base"});

    function centre(known) {
      if (!known.centre) known.centre = latLngOf(known.feature);
      return known.centre;
    }

    list({
      map: atlas.map,
      inView: function () {
        if (atlas.mode === "clusters") return atlas.text.zoom_in;
        var bounds = atlas.map.getBounds(), enabled = new Set(atlas.enabledCategories()), shown = [];
        atlas.index.forEach(function (known, id) {
          if (atlas.layers[known.category] && !enabled.has(known.category)) return;
          if (bounds.contains(centre(known))) {
            shown.push({id: id, title: String(known.feature.properties.title || "")});
          }
        });
        return shown.sort(function (a, b) { return collator.compare(a.title, b.title); });
      },
      count: function (n) { return atlas.plural("in_view", n); },
      placePage: function (id) { return atlas.placePage(id); },
      open: function (id) {
        var known = atlas.index.get(id);
        if (!known) return null;
        var popup = atlas.showPopup(centre(known), id, known.feature.properties);
        return (popup && popup.getElement() && popup.getElement().querySelector(".atlas-popup")) || null;
      },
      // Inline places stay drawn as the map moves: only the list changes.
      refreshOn: "atlas:drawn" +
        (atlas.config.source.kind === "inline" ? " moveend overlayadd overlayremove" : "")
    });
  }

  global.AtlasPlacesList = {attach: attach, list: list};
})(window);
