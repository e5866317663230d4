"""``/api/map/orientation``: the orientation layer every map draws under its places
(:mod:`mapping.orientation`), built once per version of the neighbourhoods and kept."""

from __future__ import annotations

import hashlib
import logging
import threading

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.errors import SourceError
from geodata.store.base import PlaceStore
from geodata.water import read_water
from mapping.orientation import orientation_collection
from web.dependencies import get_settings, get_store
from web.settings import Settings

router = APIRouter(prefix="/api/map", tags=["maps"])
log = logging.getLogger("heritage_atlas")
_lock = threading.Lock()


def _water(request: Request, settings: Settings, bounds) -> list:
    """The water file's shapes near the neighbourhoods (read once per app; a file that
    cannot be used is logged and left out: the outlines still orient)."""
    state = request.app.state
    cached = getattr(state, "orientation_water", None)
    if cached is None or cached[0] != bounds:
        shapes = []
        if settings.water_file:
            try:
                shapes = read_water(settings.water_file, bounds)
            except SourceError as exc:
                log.warning("HERITAGE_WATER_FILE left out of the maps: %s", exc.message)
        cached = (bounds, shapes)
        state.orientation_water = cached
    return cached[1]


@router.get(
    "/orientation",
    summary="The orientation layer drawn under every map",
    response_class=Response,
    responses={
        200: {"content": {"application/geo+json": {}}, "description": "A FeatureCollection"},
        304: {"description": "Not modified since the ETag given in If-None-Match"},
    },
)
def orientation(
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Neighbourhood outlines and names, the edge of them all, and water when the
    service has a water file: GeoJSON with ``kind`` water, neighbourhood, edge or label."""
    version = store.neighbourhoods_version()
    state = request.app.state
    with _lock:
        cached = getattr(state, "orientation", None)
        if cached is None or cached[0] != version:
            hoods = store.neighbourhoods()
            bounds = None
            if hoods:
                import shapely

                bounds = tuple(shapely.total_bounds([n.geometry for n in hoods]).tolist())
            body = orjson.dumps(
                orientation_collection(
                    hoods, _water(request, settings, bounds), settings.water_attribution
                )
            )
            etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
            cached = (version, body, etag)
            state.orientation = cached
    _, body, etag = cached
    headers = {"ETag": etag, "Cache-Control": "public, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/geo+json", headers=headers)
