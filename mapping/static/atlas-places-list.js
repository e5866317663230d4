/* Heritage Atlas: the list of places in view beside a map, for keyboards and screen
 * readers (mapping/places_list.py serves it filled; this keeps it to the view).
 *
 * An entry is a link to the place's page; activated with Enter or a click it opens the
 * place's popup on the map instead and moves focus into it; closing the popup brings
 * focus back to the entry. Titles go in with textContent, never as HTML.
 */
(function (global) {
  "use strict";

  var MAX = 300;  // as LIST_MAX in mapping/places_list.py

  function attach(atlas) {
    var list = document.getElementById("atlas-places-list");
    var count = document.getElementById("atlas-places-count");
    var note = document.getElementById("atlas-places-note");
    if (!list || !count) return;
    var el = global.AtlasMap.el, latLngOf = global.AtlasMap.latLngOf;
    var collator = new Intl.Collator(atlas.config.language || undefined, {sensitivity: "base"});
    var returnTo = null;  // the id of the entry that opened the popup

    function centre(known) {
      if (!known.centre) known.centre = latLngOf(known.feature);
      return known.centre;
    }

    function entry(place) {
      var href = atlas.placePage(place.id), link;
      if (href) {
        link = el("a", null, place.title);
        link.href = href;
      } else {
        link = el("button", null, place.title);
        link.type = "button";
      }
      link.setAttribute("data-place-id", place.id);
      var li = el("li");
      li.appendChild(link);
      return li;
    }

    function find(id) {
      var found = null;
      list.querySelectorAll("[data-place-id]").forEach(function (node) {
        if (node.getAttribute("data-place-id") === id) found = node;
      });
      return found;
    }

    function setCount(text) {
      // A live region: only a changed count is announced.
      if (count.textContent !== text) count.textContent = text;
    }

    function refresh() {
      if (atlas.mode === "clusters") {
        setCount(atlas.text.zoom_in);
        if (note) note.hidden = true;
        list.replaceChildren();
        return;
      }
      var bounds = atlas.map.getBounds(), enabled = new Set(atlas.enabledCategories()), shown = [];
      atlas.index.forEach(function (known, id) {
        if (atlas.layers[known.category] && !enabled.has(known.category)) return;
        if (bounds.contains(centre(known))) {
          shown.push({id: id, title: String(known.feature.properties.title || "")});
        }
      });
      shown.sort(function (a, b) { return collator.compare(a.title, b.title); });
      setCount(atlas.plural("in_view", shown.length));
      if (note) note.hidden = shown.length <= MAX;
      var active = document.activeElement;
      var focused = active && list.contains(active) ? active.getAttribute("data-place-id") : null;
      list.replaceChildren.apply(list, shown.slice(0, MAX).map(entry));
      var again = focused && find(focused);
      if (again) again.focus();
    }

    function open(target) {
      var id = target.getAttribute("data-place-id"), known = atlas.index.get(id);
      if (!known) return false;  // not drawn here: the link opens the place's page
      var popup = atlas.showPopup(centre(known), id, known.feature.properties);
      var box = popup && popup.getElement() && popup.getElement().querySelector(".atlas-popup");
      if (box) {
        box.tabIndex = -1;
        box.focus({preventScroll: true});
      }
      returnTo = id;
      return true;
    }

    list.addEventListener("click", function (e) {
      var target = e.target.closest ? e.target.closest("[data-place-id]") : null;
      // A new tab or window was asked for: the link does what it says.
      if (!target || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.button > 0) return;
      if (open(target)) e.preventDefault();
    });
    atlas.map.on("popupclose", function () {
      var id = returnTo;
      returnTo = null;
      var active = document.activeElement;
      if (!id || (active && active !== document.body && !atlas.map.getContainer().contains(active))) return;
      var back = find(id);
      if (back) back.focus();
    });
    atlas.map.on("atlas:drawn", refresh);
    // Inline places stay drawn as the map moves: only the list changes.
    if (atlas.config.source.kind === "inline") atlas.map.on("moveend overlayadd overlayremove", refresh);
    atlas.refreshList = refresh;
  }

  global.AtlasPlacesList = {attach: attach};
})(window);
