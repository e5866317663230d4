"""Saving a walk for offline use: the service worker (``/walks/sw.js``, scope ``/``: it
answers from the network first, so it changes nothing while there is a signal)
and each walk's list of what to keep (``/walks/{id}/offline.json``): the page, its
scripts and styles, its stops' pages, photos and texts, the recordings anyone may hear at
its stops, and the background tiles of its area (zoom 13 to 17, at most MAX_TILES).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.basemap.coverage import tile_range
from geodata.errors import NotFound
from geodata.store.base import PlaceStore
from geodata.walk_views import PublicWalk
from web.basemap import ORIENTATION_URL, local_basemap
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
    "/static/leaflet-words.js",
    "/static/atlas/atlas-places-list.css",
    "/static/atlas/atlas-places-list.js",
    "/static/vendor/leaflet/leaflet.css",
    "/static/vendor/leaflet/leaflet.js",
    "/static/atlas/favicon.svg",
    "/static/atlas/atlas-background.js",
    "/static/atlas/atlas-vector-tiles.js",
    ORIENTATION_URL,
)


def tile_urls(
    walk: PublicWalk,
    template: str,
    zooms: range = ZOOMS,
    within: tuple[float, float, float, float] | None = None,
) -> list[str]:
    """The tiles covering the walk's area (with a margin), zoom by zoom until MAX_TILES;
    only those inside ``within`` (a basemap's area) when given."""
    points = [s.place.geometry.centroid for s in walk.stops]
    xs = [p.x for p in points] + ([c[0] for c in walk.route.coords] if walk.route else [])
    ys = [p.y for p in points] + ([c[1] for c in walk.route.coords] if walk.route else [])
    pad = 0.003  # about 300 m around it
    area = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
    out: list[str] = []
    for z in zooms:
        covered = tile_range(within, z) if within else None
        level = [
            template.replace("{s}", "a").replace("{z}", str(z)).replace("{x}", str(x))
            .replace("{y}", str(y)).replace("{r}", "")
            for x, y in tile_range(area, z).tiles() if covered is None or (x, y) in covered
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
    basemap = local_basemap(settings)
    if basemap is not None:  # the maps draw it, past its last zoom from that zoom's tiles
        zooms = range(max(ZOOMS.start, basemap.minzoom), min(ZOOMS.stop - 1, basemap.maxzoom) + 1)
        tiles = tile_urls(walk, basemap.url, zooms, basemap.bounds)
    elif settings.tiles_enabled:
        tiles = tile_urls(walk, settings.tiles)
    else:
        tiles = []
    return {"cache": f"walk-{walk.id}", "urls": urls, "tiles": tiles}
