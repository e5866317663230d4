"""Saving a walk for offline use: the service worker (``/walks/sw.js``, scope ``/``: it
answers from the network first, so it changes nothing while there is a signal)
and each walk's list of what to keep (``/walks/{id}/offline.json``): the page, its
scripts and styles, its stops' pages, photos and texts, the recordings anyone may hear at
its stops, and the background tiles of its area (zoom 13 to 17, at most MAX_TILES).
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.errors import NotFound
from geodata.store.base import PlaceStore
from geodata.walk_views import PublicWalk
from web.dependencies import get_settings, get_store
from web.routes.walks import find_public_walk
from web.security import tile_origins
from web.settings import Settings

router = APIRouter(tags=["walks"])
ZOOMS = range(13, 18)
MAX_TILES = 600  # about 10 MB of background at most on the phone per walk
ASSETS = (
    "/static/place.css",
    "/static/walk.css",
    "/static/walk.js",
    "/static/vendor/leaflet/leaflet.css",
    "/static/vendor/leaflet/leaflet.js",
    "/static/atlas/favicon.svg",
)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_urls(walk: PublicWalk, template: str) -> list[str]:
    """The tiles covering the walk's area (with a margin), zoom by zoom until MAX_TILES."""
    points = [s.place.geometry.centroid for s in walk.stops]
    xs = [p.x for p in points] + ([c[0] for c in walk.route.coords] if walk.route else [])
    ys = [p.y for p in points] + ([c[1] for c in walk.route.coords] if walk.route else [])
    pad = 0.003  # about 300 m around it
    out: list[str] = []
    for z in ZOOMS:
        x0, y0 = _tile(min(xs) - pad, max(ys) + pad, z)
        x1, y1 = _tile(max(xs) + pad, min(ys) - pad, z)
        level = [
            template.replace("{s}", "a").replace("{z}", str(z)).replace("{x}", str(x))
            .replace("{y}", str(y)).replace("{r}", "")
            for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)
        ]  # fmt: skip
        if len(out) + len(level) > MAX_TILES:
            break
        out.extend(level)
    return out


@router.get(
    "/walks/sw.js",
    summary="The walks' service worker (Save for offline)",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {"schema": {"type": "string"}}}}},
)
def service_worker(settings: Settings = Depends(get_settings)) -> Response:
    script = (resources.files("web") / "static" / "walk-sw.js").read_text(encoding="utf-8")
    origins = tile_origins(settings)
    return Response(
        script,
        media_type="text/javascript",
        headers={
            "Cache-Control": "no-cache",
            # Scope "/": a stop's own place page (where its QR code leads) opens offline too.
            "Service-Worker-Allowed": "/",
            # The worker may fetch the background tiles it keeps, and nothing else abroad.
            "Content-Security-Policy": "default-src 'none'; connect-src 'self'"
            + (f" {origins}" if origins else ""),
        },
    )


@router.get("/walks/{walk_id}/offline.json", summary="What to keep to walk a walk offline")
def offline_list(
    request: Request,
    walk_id: str,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    walk = find_public_walk(store, walk_id)
    if walk is None:
        raise NotFound("no public walk has this id")
    media = store.media_for_places([s.place.id for s in walk.stops])
    urls = [f"/walks/{walk.id}", *ASSETS]
    for stop in walk.stops:
        urls.append(f"/places/{stop.place.id}")
        for m in media.get(stop.place.id, []):
            urls += [f"/media/{m.id}", f"/media/{m.id}/thumbnail"]
        urls += [f"/audio/{r.id}" for r in stop.voices]  # what anyone may hear there
    tiles = tile_urls(walk, settings.tiles) if settings.tiles_enabled else []
    return {"cache": f"walk-{walk.id}", "urls": urls, "tiles": tiles}
