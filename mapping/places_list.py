"""The list of places in view beside every map: what a keyboard or a screen reader uses
instead of pointing at pins.

The page carries the list as served (links to each place's page, so it works without
JavaScript); ``atlas-places-list.js`` then keeps it to the places in view as the map
moves, and an entry opens the place's popup on the map. A skip link before the map leads
to it. The folium maps get both through :func:`add_places_list`; a page that draws its own
map (a walk's story map) puts :func:`skip_link_html` and :func:`places_list_html` in
its template. Titles are escaped here like every other text people typed
(:mod:`mapping.escaping`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import folium
from branca.element import Element, Figure

from geodata.models import Place, Sensitivity
from geodata.search import fold
from geodata.store.base import PlaceFilter, PlaceStore
from mapping.elements import DEFAULT_TEXT, PageHtml
from mapping.escaping import html_text
from mapping.options import MapOptions
from mapping.plurals import plural

LIST_MAX = 300  # entries listed at once; the count still says how many are in view
DRAWN = (Sensitivity.PUBLIC, Sensitivity.GENERALISED)  # hidden places are never drawn


@dataclass(frozen=True)
class Listing:
    """The places a map lists as served: (id, title) pairs by title, and how many it draws."""

    places: list[tuple[str, str]]
    total: int


def listing(places: Iterable[Place], total: int) -> Listing:
    """``places`` (as the public may see them; hidden ones are not drawn, so not listed)
    by title, at most ``LIST_MAX`` of them."""
    shown = [(p.id, p.title) for p in places if p.sensitivity in DRAWN]
    # Folded as search folds text: "Árvore" sorts with "arvore", before "zebra".
    shown.sort(key=lambda pair: fold(pair[1]))
    return Listing(shown[:LIST_MAX], total)


def store_listing(store: PlaceStore, flt: PlaceFilter) -> Listing:
    """The listing of ``flt`` (already limited to what the public may see), read with a
    bounded query: the first ``LIST_MAX`` drawn places, and how many are drawn."""
    drawn = dataclasses.replace(flt, sensitivity=[str(s) for s in DRAWN])
    return listing(store.list(drawn, limit=LIST_MAX), store.count(drawn))


def _text(options: MapOptions) -> dict[str, str]:
    return {**{k: options.gettext(m) for k, m in DEFAULT_TEXT.items()}, **options.text}


def places_list_html(shown: Listing | None, options: MapOptions) -> str:
    """The list's markup: a heading, the live count and the entries (escaped); with no
    ``shown``, empty until the map client fills it."""
    e = html_text
    text = _text(options)
    page = options.place_page_url
    entries = []
    for place_id, title in shown.places if shown else []:
        if page:
            url = page.replace("{id}", place_id)
            entry = f'<a href="{e(url)}" data-place-id="{e(place_id)}">{e(title)}</a>'
        else:
            entry = f'<button type="button" data-place-id="{e(place_id)}">{e(title)}</button>'
        entries.append(f"<li>{entry}</li>")
    count = plural(options, "in_view", shown.total) if shown else ""
    cut = shown is not None and len(shown.places) < shown.total
    note = e(text["list_cut"].replace("{shown}", str(LIST_MAX)))
    return (
        '<aside class="atlas-places" id="atlas-places" tabindex="-1"'
        ' aria-labelledby="atlas-places-heading">'
        f'<h2 id="atlas-places-heading">{e(text["places_heading"])}</h2>'
        f'<p class="atlas-places-count" id="atlas-places-count" role="status">'
        f"{e(count)}</p>"
        f'<p class="atlas-places-note" id="atlas-places-note"{"" if cut else " hidden"}>'
        f"{note}</p>"
        f'<ul class="atlas-places-list" id="atlas-places-list">{"".join(entries)}</ul>'
        "</aside>"
    )


def skip_link_html(options: MapOptions) -> str:
    """The link that skips the map to the list (out of sight until it has the focus)."""
    words = html_text(_text(options)["skip_to_list"])
    return f'<a class="atlas-skip" href="#atlas-places">{words}</a>'


def add_places_list(m: folium.Map, shown: Listing | None, options: MapOptions) -> None:
    """The list beside ``m`` and, first in the page, the link that skips the map to it."""
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.html.add_child(Element(skip_link_html(options)), name="atlas_skip", index=0)
    PageHtml(places_list_html(shown, options)).add_to(m)
