"""The maps' data: places in view (or clusters), a place's popup, search, live updates.

Every answer goes through :func:`geodata.privacy.public_filter` / ``public_view``
(in :mod:`mapping`): published places only, no personal data, generalised places on
their grid, hidden places never drawn.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from geodata.errors import InvalidInput, NotFound
from geodata.privacy import public_filter, public_view
from geodata.project_index import project_index
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.vocabulary import Vocabulary
from mapping.features import Photo, place_details
from mapping.live import workshop_updates
from mapping.search import search_map
from mapping.viewport import places_in_view
from web.dependencies import get_settings, get_store, get_vocabulary
from web.language_choice import negotiate, request_language
from web.rate_limits import find_workshop
from web.routes.maps import map_options, neighbourhood_url
from web.settings import Settings

router = APIRouter(prefix="/api/map", tags=["maps"])
MAX_ZOOM = 22


def _json(body: Any, media_type: str = "application/json") -> Response:
    return Response(
        orjson.dumps(body),
        media_type=media_type,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` in WGS84; InvalidInput with the reason otherwise."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidInput(
            "bbox must be four numbers: min longitude, min latitude, "
            "max longitude, max latitude (e.g. -9.2,38.7,-9.1,38.75)",
            code="bad_bbox",
        )
    minx, miny, maxx, maxy = values
    if not (
        -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
    ):
        raise InvalidInput(
            "bbox is outside WGS84: longitudes go from -180 to 180, latitudes "
            "from -90 to 90 (longitude first)",
            code="bad_bbox",
        )
    if minx > maxx or miny > maxy:
        raise InvalidInput(
            "bbox minimums must not exceed its maximums "
            "(min longitude, min latitude, max longitude, max latitude)",
            code="bad_bbox",
        )
    return minx, miny, maxx, maxy


def parse_categories(text: str | None, vocabulary: Vocabulary) -> list[str] | None:
    if text is None:
        return None
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in vocabulary]
    if unknown:
        raise InvalidInput(
            f"unknown categor{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(repr(k) for k in unknown[:5])}; use any of "
            f"{', '.join(vocabulary.keys())}",
            code="unknown_category",
        )
    return keys


def _scope(
    request: Request, store: PlaceStore, neighbourhood: int | None, workshop: str | None
) -> PlaceFilter:
    """The filter for a map's scope; NotFound for a neighbourhood or workshop that is not
    (a wrong workshop code counts against the client's budget of codes)."""
    code = None
    if neighbourhood is not None:
        store.neighbourhood(neighbourhood)
    if workshop is not None:
        code = find_workshop(request, workshop).code
    return PlaceFilter(neighbourhood_id=neighbourhood, workshop=code)


@router.get("/places", summary="Public places in a view, or their clusters when too many")
def places(
    request: Request,
    bbox: str = Query(description="min lon, min lat, max lon, max lat (WGS84)"),
    zoom: int = Query(12, ge=0, le=MAX_ZOOM),
    categories: str | None = Query(None, description="comma-separated category keys"),
    neighbourhood: int | None = Query(None, ge=1, le=2**31 - 1),
    workshop: str | None = Query(None, min_length=1, max_length=40),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    """GeoJSON for the map client: ``mode`` says whether it holds places or clusters."""
    area = parse_bbox(bbox)
    flt = _scope(request, store, neighbourhood, workshop)
    keys = parse_categories(categories, vocabulary)
    if keys == []:  # every category switched off
        return _json(
            {"type": "FeatureCollection", "mode": "places", "features": []}, "application/geo+json"
        )
    if keys is not None:
        flt = PlaceFilter(
            neighbourhood_id=flt.neighbourhood_id, workshop=flt.workshop, category=keys
        )
    options = map_options(settings, request_language(request))
    view = places_in_view(store, flt, area, zoom, options)
    return _json(view.geojson(settings.privacy_k, options), "application/geo+json")


def _photo(store: PlaceStore, place_id: str) -> Photo | None:
    media = store.media(place_id)
    if not media:
        return None
    first = media[0]
    return Photo(
        f"/media/{first.id}/thumbnail", first.thumb_width, first.thumb_height, first.caption
    )


@router.get("/places/{place_id}", summary="What a map popup shows of a public place")
def place_popup(
    place_id: str,
    lang: str | None = Query(None, max_length=35, description="the viewer's language"),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    found = list(store.list(public_filter(PlaceFilter(ids=[place_id]), "map"), limit=1))
    if not found:
        raise NotFound(f"there is no public place {place_id}")
    labels = store.protocol_labels([place_id]).get(place_id, ())
    shown = public_view(found[0], settings.privacy_grid_m, protocol_labels=labels)
    language = (lang or settings.default_language).strip() or settings.default_language
    options = map_options(settings, negotiate(None, language, settings.default_language))
    details = place_details(shown, vocabulary, language, _photo(store, place_id), options)
    return _json(details)


@router.get("/search", summary="Neighbourhoods and public places matching a text")
def search(
    request: Request,
    q: str = Query(max_length=200),
    neighbourhood: int | None = Query(None, ge=1, le=2**31 - 1),
    workshop: str | None = Query(None, min_length=1, max_length=40),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    flt = _scope(request, store, neighbourhood, workshop)
    # The neighbourhoods as prepared for submissions, kept until they change: a search
    # runs at every keystroke and need not read every polygon again.
    hoods = [] if neighbourhood is not None else (
        project_index(store, settings.project_margin_m).neighbourhoods
    )  # fmt: skip
    return _json(search_map(store, q, hoods, map_options(settings), neighbourhood_url, flt=flt))


def parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            "since must be a timestamp such as 2024-05-01T10:00:00Z (the cursor "
            "of the previous answer)",
            code="bad_cursor",
        ) from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


@router.get("/workshops/{code}/updates", summary="What changed on a workshop's live map")
def workshop_live(
    request: Request,
    code: str,
    since: str | None = Query(None, max_length=64, description="cursor of the previous answer"),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Places published (or changed) since the cursor, ids to remove, and the panel's
    numbers; poll it with the returned ``cursor``."""
    workshop = find_workshop(request, code)
    options = map_options(settings, request_language(request))
    body = workshop_updates(store, workshop, parse_since(since), options)
    response = _json(body)
    response.headers["Cache-Control"] = "no-store"
    return response
