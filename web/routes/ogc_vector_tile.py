"""One vector tile of OGC API – Tiles: its ETag (from the versions of what it is cut from
and what shapes a tile), the answer to If-None-Match, a small per-worker cache under
that ETag, and gzip for clients that take it."""

from __future__ import annotations

import gzip
import hashlib

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.store.base import PlaceStore
from geodata.tilematrix import Tile
from mapping.tiles import collection_tile
from web.dependencies import get_settings, get_store
from web.routes.export import accepts_gzip
from web.routes.ogc_tile_requests import checked_tileset, open_walks, tile_address, walks_version
from web.routes.ogc_tiles import FORMAT_VERSION, MVT, tile_options
from web.settings import Settings
from web.tile_cache import TileCache

router = APIRouter(prefix="/ogc", tags=["OGC API – Tiles"])
# Smaller tiles go uncompressed: gzip's own 18 bytes would outweigh what it saves.
GZIP_FROM = 512


def _etag(store: PlaceStore, settings: Settings, cid: str, tile: Tile, walks: str | None) -> str:
    version, _ = store.places_version()
    key = orjson.dumps(
        [
            FORMAT_VERSION,
            cid,
            tile.z,
            tile.x,
            tile.y,
            version,
            store.neighbourhoods_version(),
            walks,
            settings.tile_max_features,
            settings.privacy_k,
            settings.privacy_grid_m,
        ],
        default=str,
    )
    return 'W/"' + hashlib.sha256(key).hexdigest()[:32] + '"'


def _matches(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if given is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in given.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def _cache(request: Request) -> TileCache:
    state = request.app.state
    if not hasattr(state, "tile_cache"):
        state.tile_cache = TileCache()
    return state.tile_cache


@router.get(
    "/collections/{collection_id}/tiles/{tile_matrix_set_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="One vector tile of a collection (Mapbox Vector Tile)",
    response_class=Response,
    responses={
        200: {"content": {MVT: {}}, "description": "The tile (empty when nothing is in it)"},
        304: {"description": "Not modified since the ETag given in If-None-Match"},
        400: {"description": "A tile index is not a whole number"},
        404: {"description": "No such collection, tile matrix set or tile"},
    },
)
def tile(
    collection_id: str,
    tile_matrix_set_id: str,
    tile_matrix: str,
    tile_row: str,
    tile_col: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    cid = checked_tileset(request, collection_id, tile_matrix_set_id, "mvt")
    address = tile_address(tile_matrix, tile_row, tile_col)
    walks = walks_version(store) if cid == "walks" else None
    etag = _etag(store, settings, cid, address, walks)
    headers = {
        "ETag": etag,
        "Cache-Control": "public, no-cache",  # kept, but asked again: withdrawals show at once
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag",
    }
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    # Kept as sent: gzip under "<etag>:gz", plain under the ETag (small tiles go plain).
    zipped, cache = accepts_gzip(request), _cache(request)
    body = cache.get(etag + ":gz") if zipped else None
    if body is not None:
        headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=MVT, headers=headers)
    body = cache.get(etag)
    if body is None:
        lines = open_walks(request, store, walks) if walks is not None else None
        body = collection_tile(store, cid, address, tile_options(settings), lines)
        if zipped and len(body) >= GZIP_FROM:
            body = gzip.compress(body, compresslevel=6, mtime=0)
            cache.put(etag + ":gz", body)
            headers["Content-Encoding"] = "gzip"
        else:
            cache.put(etag, body)
    return Response(body, media_type=MVT, headers=headers)
