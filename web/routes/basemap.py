"""The local basemap over HTTP: its tiles at ``/tiles/basemap/{z}/{x}/{y}.{ext}`` and its
TileJSON at ``/tiles/basemap.json`` (for QGIS, MapLibre and other clients).

A tile's ETag is its content's hash; the maps ask with the import's ``?v=`` in the URL,
so those answers may be kept a week, while a bare URL is asked again after five minutes.
Vector tiles go out gzip-compressed to clients that take it (as stored, or compressed
once and kept) and plain to others. Outside the archive's zooms or area, or where it
has no tile, the answer is a 404.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from geodata.basemap.archive import FORMAT_NAMES, inflate_gzip
from geodata.basemap.coverage import tile_range
from geodata.errors import NotFound
from web.basemap import TILE_PATH, TILEJSON_PATH, OpenBasemap, current_basemap
from web.dependencies import get_settings
from web.i18n import N_, request_language, translate_text
from web.public_url import public_base_url
from web.routes.export import accepts_gzip
from web.settings import Settings
from web.tile_cache import TileCache

router = APIRouter(tags=["maps"])
NO_BASEMAP = N_("This atlas has no basemap of its own.")
NO_TILE = N_("The basemap has no tile at {z}/{x}/{name} (its tiles are {format}).")
_NAME = re.compile(r"^(\d{1,10})\.([a-z]{3,4})$")
MAX_INFLATED = 16 * 1024 * 1024  # a vector tile unpacked for a client without gzip
KEEP_VERSIONED = "public, max-age=604800"  # a week: ?v= changes with every import
KEEP_BARE = "public, max-age=300"
TILE_RESPONSES = {
    200: {
        "content": {
            "image/png": {},
            "image/jpeg": {},
            "image/webp": {},
            "application/vnd.mapbox-vector-tile": {},
        },
        "description": "The tile, as the basemap archive holds it",
    },
    304: {"description": "Not modified since the ETag given in If-None-Match"},
    404: {"description": "No basemap, or no tile there (outside its zooms or area)"},
}


def _missing(request: Request, message: str, **values: object) -> NotFound:
    return NotFound(translate_text(message, request_language(request)).format(**values))


def _installed(request: Request, settings: Settings) -> OpenBasemap:
    found = current_basemap(settings)
    if found is None:
        raise _missing(request, NO_BASEMAP)
    return found


def _cache(request: Request) -> TileCache:
    state = request.app.state
    if not hasattr(state, "basemap_gzip_cache"):
        state.basemap_gzip_cache = TileCache(16 * 1024 * 1024)
    return state.basemap_gzip_cache


def _matches(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if given is None:
        return False
    return "*" in given or etag in {t.strip().removeprefix("W/") for t in given.split(",")}


@router.get(
    TILE_PATH + "/{z}/{x}/{name}",
    summary="A tile of the local basemap",
    response_class=Response,
    responses=TILE_RESPONSES,  # type: ignore[arg-type]
)
def basemap_tile(
    request: Request,
    z: int = Path(ge=0, le=2**31 - 1, description="zoom"),
    x: int = Path(ge=0, le=2**31 - 1, description="column, from the west"),
    name: str = Path(max_length=20, description="row (from the north) and extension: 1570.png"),
    settings: Settings = Depends(get_settings),
) -> Response:
    """One tile; ``{ext}`` is the archive's own: png, jpg, webp or pbf (vector)."""
    found = _installed(request, settings)
    info = found.installed.info
    m = _NAME.match(name)
    y = int(m.group(1)) if m else -1
    asked = FORMAT_NAMES.get(m.group(2)) if m else None
    where = {"z": z, "x": x, "name": name, "format": info.format}
    if (
        asked != info.format
        or not info.minzoom <= z <= info.maxzoom
        or (x, y) not in tile_range(info.bounds, z)
    ):
        raise _missing(request, NO_TILE, **where)
    data = found.archive.tile(z, x, y)
    if data is None:
        raise _missing(request, NO_TILE, **where)
    versioned = request.query_params.get("v") == found.installed.version
    headers = {
        "Cache-Control": KEEP_VERSIONED if versioned else KEEP_BARE,
        "Access-Control-Allow-Origin": "*",
    }
    zipped = False
    if info.vector:
        headers["Vary"] = "Accept-Encoding"
        zipped = accepts_gzip(request)
        if zipped and not info.gzipped:
            key = f"{found.installed.version}/{z}/{x}/{y}"
            packed = _cache(request).get(key)
            if packed is None:
                packed = gzip.compress(data, compresslevel=6, mtime=0)
                _cache(request).put(key, packed)
            data = packed
        elif not zipped and info.gzipped:
            try:
                data = inflate_gzip(data, MAX_INFLATED)
            except (ValueError, zlib.error):
                raise _missing(request, NO_TILE, **where) from None
    tag = hashlib.blake2b(data, digest_size=16).hexdigest()
    headers["ETag"] = f'"{tag}{"-gzip" if zipped else ""}"'
    if _matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=info.media_type, headers=headers)


@router.get(
    TILEJSON_PATH,
    summary="The local basemap's TileJSON",
    responses={404: {"description": "This atlas has no basemap of its own"}},
)
def basemap_tilejson(request: Request, settings: Settings = Depends(get_settings)) -> dict:
    """TileJSON 3.0.0: the tile URL, zooms, area, attribution (and vector layers)."""
    found = _installed(request, settings)
    info, version = found.installed.info, found.installed.version
    w, s, e, n = info.bounds
    base = public_base_url(request, settings)
    document = {
        "tilejson": "3.0.0",
        "name": info.name or found.installed.source,
        "attribution": info.attribution,
        "tiles": [f"{base}{TILE_PATH}/{{z}}/{{x}}/{{y}}.{info.format}?v={version}"],
        "minzoom": info.minzoom,
        "maxzoom": info.maxzoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2, (s + n) / 2, max(info.minzoom, min(info.maxzoom, 13))],
        "format": info.format,
        "scheme": "xyz",
    }
    if info.vector:
        document["vector_layers"] = [{"id": layer, "fields": {}} for layer in info.vector_layers]
    return document
