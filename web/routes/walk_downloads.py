"""A public walk for phones and GIS: ``/walks/{id}.gpx`` and ``/walks/{id}.geojson``.

A walk that is not public (pending, hidden, withdrawn, unknown) is a 404, the same for
every reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.errors import NotFound
from geodata.io.walks import walk_geojson, walk_gpx
from geodata.store.base import PlaceStore
from geodata.walk_views import PublicWalk
from mapping.features import choose_narrative
from web.dependencies import get_settings, get_store
from web.i18n import gettext_for, request_language
from web.public_url import public_base_url
from web.routes.walks import find_public_walk
from web.settings import Settings

router = APIRouter(tags=["walks"])


def _public(store: PlaceStore, walk_id: str) -> PublicWalk:
    walk = find_public_walk(store, walk_id)
    if walk is None:
        raise NotFound("no public walk has this id")
    return walk


def _headers(walk: PublicWalk, extension: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{walk.id}.{extension}"',
        "Cache-Control": "no-cache",
    }


@router.get(
    "/walks/{walk_id}.gpx",
    summary="A walk as GPX: its route as a track, its stops as waypoints in order",
    response_class=Response,
    responses={
        200: {"content": {"application/gpx+xml": {}}},
        404: {"description": "no public walk"},
    },
)
def walk_gpx_file(
    request: Request,
    walk_id: str,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    walk = _public(store, walk_id)
    language = request_language(request)
    _ = gettext_for(language)
    title = choose_narrative(walk.titles, language)
    body = walk_gpx(
        walk,
        title.text if title else walk.id,
        public_base_url(request, settings),
        _("Recording {number}"),
    )
    return Response(body, media_type="application/gpx+xml", headers=_headers(walk, "gpx"))


@router.get(
    "/walks/{walk_id}.geojson",
    summary="A walk as GeoJSON: its route, then its stops with their texts",
    response_class=Response,
    responses={
        200: {"content": {"application/geo+json": {}}},
        404: {"description": "no public walk"},
    },
)
def walk_geojson_file(
    request: Request,
    walk_id: str,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    walk = _public(store, walk_id)
    body = walk_geojson(walk, public_base_url(request, settings))
    return Response(body, media_type="application/geo+json", headers=_headers(walk, "geojson"))
