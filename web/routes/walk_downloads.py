"""A public walk for phones and GIS: ``/walks/{id}.gpx`` and ``/walks/{id}.geojson``.

A walk that is not public (pending, hidden, withdrawn, unknown) is a 404, the same for
every reason. Each format is one :class:`WalkDownload`; the routes are made from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.errors import NotFound
from geodata.io.walks import walk_geojson, walk_gpx
from geodata.store.base import PlaceStore
from geodata.walk_views import PublicWalk
from mapping.features import choose_narrative
from web.dependencies import get_settings, get_store
from web.i18n import gettext_for
from web.language_choice import request_language
from web.public_url import public_base_url
from web.routes.walks import find_public_walk
from web.settings import Settings

router = APIRouter(tags=["walks"])


@dataclass(frozen=True)
class WalkDownload:
    """One download format of a walk, served at ``/walks/{id}.<extension>``."""

    extension: str
    media_type: str
    summary: str
    name: str  # the route's name (and so its OpenAPI operation id)
    # The file: from the request (for its language), the walk and the site's base URL.
    write: Callable[[Request, PublicWalk, str], bytes]


def _gpx(request: Request, walk: PublicWalk, base_url: str) -> bytes:
    language = request_language(request)
    _ = gettext_for(language)
    title = choose_narrative(walk.titles, language)
    # A stop's recording without a title is named in the reader's language.
    return walk_gpx(walk, title.text if title else walk.id, base_url, _("Recording {number}"))


def _geojson(request: Request, walk: PublicWalk, base_url: str) -> bytes:
    return walk_geojson(walk, base_url)


DOWNLOADS = (
    WalkDownload(
        "gpx",
        "application/gpx+xml",
        "A walk as GPX: its route as a track, its stops as waypoints in order",
        "walk_gpx_file",
        _gpx,
    ),
    WalkDownload(
        "geojson",
        "application/geo+json",
        "A walk as GeoJSON: its route, then its stops with their texts",
        "walk_geojson_file",
        _geojson,
    ),
)


def _public(store: PlaceStore, walk_id: str) -> PublicWalk:
    walk = find_public_walk(store, walk_id)
    if walk is None:
        raise NotFound("no public walk has this id")
    return walk


def _endpoint(download: WalkDownload) -> Callable[..., Response]:
    def walk_file(
        request: Request,
        walk_id: str,
        store: PlaceStore = Depends(get_store),
        settings: Settings = Depends(get_settings),
    ) -> Response:
        walk = _public(store, walk_id)
        body = download.write(request, walk, public_base_url(request, settings))
        headers = {
            "Content-Disposition": f'attachment; filename="{walk.id}.{download.extension}"',
            "Cache-Control": "no-cache",
        }
        return Response(body, media_type=download.media_type, headers=headers)

    return walk_file


for _download in DOWNLOADS:
    router.add_api_route(
        f"/walks/{{walk_id}}.{_download.extension}",
        _endpoint(_download),
        methods=["GET"],
        name=_download.name,
        summary=_download.summary,
        response_class=Response,
        responses={
            200: {"content": {_download.media_type: {}}},
            404: {"description": "no public walk"},
        },
    )
