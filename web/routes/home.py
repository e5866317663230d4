"""The home page, ``/``: what the atlas is, in the reader's language, and a way in for each
of its users: the map, the latest stories, adding a place, joining a workshop, and the
downloads and OGC API for planners. Plain HTML, no script.

The small map is drawn on the server (:mod:`mapping.outline`), its outlines cached per
neighbourhoods version; the latest stories are one bounded query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from geodata.models import Neighbourhood, Sensitivity
from geodata.privacy import public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore
from mapping.features import choose_narrative
from mapping.outline import OutlineMap, outline_map
from mapping.style import ChoroplethClass, choropleth_classes, class_for
from web.dependencies import get_settings, get_store
from web.i18n import N_, direction, gettext_for
from web.language_choice import LANGUAGES, request_language
from web.place_view import excerpt
from web.public_url import public_base_url
from web.routes.maps import neighbourhood_url
from web.routes.place_pages import place_page_url
from web.settings import Settings
from web.templating import templates

router = APIRouter(tags=["maps"])
LATEST = 6  # stories on the home page
EXCERPT = 160  # characters of each
EXPORTS = (
    ("GeoJSON", "/api/export/places.geojson"),
    ("GeoPackage", "/api/export/places.gpkg"),
    ("CSV", "/api/export/places.csv"),
)

NONE = N_("None")
FEWER = N_("Fewer than {k}")
AT_LEAST = N_("{lower} or more")
BETWEEN = N_("{lower} to {upper}")
COUNT_NONE = N_("Published places in {name}: none")
COUNT_FEWER = N_("Published places in {name}: fewer than {k}")
COUNT = N_("Published places in {name}: {count}")

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Teaser:
    """A published story as the home page shows it: the resident's words, only cut short."""

    url: str
    title: str
    text: str
    language: str
    neighbourhood: str | None


@dataclass(frozen=True)
class Shape:
    """A neighbourhood on the small map: its outline, shade, link and what it counts."""

    path: str
    colour: str
    url: str
    label: str


@dataclass(frozen=True)
class Key:
    colour: str
    label: str


def _outlines(request: Request, store: PlaceStore) -> tuple[OutlineMap, dict[int, str]]:
    """The projected outlines and the neighbourhoods' names, drawn once per version."""
    version = store.neighbourhoods_version()
    cached = getattr(request.app.state, "home_outlines", None)
    if cached is None or cached[0] != version:
        hoods: list[Neighbourhood] = store.neighbourhoods()
        cached = (version, outline_map(hoods), {n.id: n.name for n in hoods})
        request.app.state.home_outlines = cached
    return cached[1], cached[2]


def _key_label(c: ChoroplethClass, k: int, _: Gettext) -> str:
    if c.upper == 0:
        return _(NONE)
    if c.lower == 1 and c.upper == k - 1 and k > 1:
        return _(FEWER).format(k=k)
    if c.upper is None:
        return _(AT_LEAST).format(lower=c.lower)
    if c.upper == c.lower:
        return str(c.lower)
    return _(BETWEEN).format(lower=c.lower, upper=c.upper)


def _count_label(name: str, n: int, k: int, _: Gettext) -> str:
    """A neighbourhood's count as the city map tells it: small counts never exactly."""
    if n == 0:
        return _(COUNT_NONE).format(name=name)
    if n < k:
        return _(COUNT_FEWER).format(name=name, k=k)
    return _(COUNT).format(name=name, count=n)


def _small_map(
    drawing: OutlineMap, counts: dict[int | None, int], k: int, _: Gettext
) -> tuple[list[Shape], list[Key]]:
    classes = choropleth_classes([counts.get(o.id, 0) for o in drawing.outlines], k)
    shapes = [
        Shape(
            o.path,
            class_for(counts.get(o.id, 0), classes).colour,
            neighbourhood_url(o.id),
            _count_label(o.name, counts.get(o.id, 0), k, _),
        )
        for o in drawing.outlines
    ]
    return shapes, [Key(c.colour, _key_label(c, k, _)) for c in classes]


def _teasers(
    store: PlaceStore, settings: Settings, names: dict[int, str], language: str
) -> list[Teaser]:
    # Published, consented, with a location that may be drawn (hidden places are counted,
    # never pointed at), newest first: one query, at most LATEST rows.
    shown = (Sensitivity.PUBLIC.value, Sensitivity.GENERALISED.value)
    flt = public_filter(PlaceFilter(sensitivity=shown), "map")
    teasers = []
    for place in store.latest_with_story(flt, limit=LATEST):
        public = public_view(place, settings.privacy_grid_m)
        story = choose_narrative(public.narratives, language)
        if story is None:
            continue
        hood = public.neighbourhood_id
        teasers.append(
            Teaser(
                url=place_page_url(public.id),
                title=public.title,
                text=excerpt(story.text, EXCERPT),
                language=story.language,
                neighbourhood=names.get(hood) if hood is not None else None,
            )
        )
    return teasers


@router.get("/", response_class=HTMLResponse, summary="The home page: a way in for everyone")
def home_page(
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    language = request_language(request)
    _ = gettext_for(language)
    drawing, names = _outlines(request, store)
    counts = store.counts_by_neighbourhood(public_filter(PlaceFilter(), "map"))
    shapes, key = _small_map(drawing, counts, settings.privacy_k, _)
    context = {
        "_": _,
        "lang": language,
        "dir": direction(language),
        "languages": LANGUAGES,
        "drawing": drawing,
        "shapes": shapes,
        "key": key,
        "stories": _teasers(store, settings, names, language),
        "exports": EXPORTS,
        "ogc_url": public_base_url(request, settings) + "/ogc",
    }
    headers = {
        "Cache-Control": "no-cache",
        "Content-Language": language,
        "Vary": "Accept-Language, Cookie",
    }
    return templates.TemplateResponse(request, "home.html", context, headers=headers)
