"""What every OGC API – Tiles route shares: the checks of its path and query, each refused
with a problem naming the parameter (an unknown collection or tile matrix set, or a tile
outside the matrix set, is a 404; an index that is not a number, an unknown parameter or
``f`` a 400), and the open-data walks the walks tiles are cut from, kept per worker.
"""

from __future__ import annotations

import hashlib
import re

import orjson
from fastapi import Request

from geodata.errors import FieldProblem, NotFound
from geodata.store.base import PlaceStore
from geodata.tilematrix import TILE_MATRIX_SET, Tile
from geodata.walk_tiles import WalkLines
from geodata.walk_views import walk_versions
from web.routes.ogc_common import known_collection
from web.routes.ogc_params import BadParameter, check_params
from web.tile_cache import KeptByVersion

_INDEX = re.compile(r"-?[0-9]{1,12}")


def checked_tile_matrix_set(tid: str) -> str:
    if tid != TILE_MATRIX_SET:
        message = f"there is no tile matrix set {tid!r}; use {TILE_MATRIX_SET}"
        raise NotFound(message, problems=[FieldProblem("tileMatrixSetId", "unknown", message)])
    return tid


def checked_format(request: Request, f: str) -> None:
    """Only ``f`` in the query, and only the one representation the route has."""
    check_params(request, {"f"})
    given = request.query_params.get("f")
    if given is not None and given != f:
        message = f"f must be {f} here, not {given[:40]!r}"
        raise BadParameter(message, problems=[FieldProblem("f", "unknown", message)])


def checked_tileset(
    request: Request, collection_id: str, tile_matrix_set_id: str | None, f: str
) -> str:
    """The collection of a tiles route's path (and its tile matrix set, when the path has
    one), after checking the query asks for ``f`` and nothing else."""
    cid = known_collection(collection_id)  # each has tiles (mapping.tiles.COLLECTIONS)
    if tile_matrix_set_id is not None:
        checked_tile_matrix_set(tile_matrix_set_id)
    checked_format(request, f)
    return cid


def _index(name: str, raw: str) -> int:
    if not _INDEX.fullmatch(raw):
        message = f"{name} must be a whole number, not {raw[:40]!r}"
        raise BadParameter(message, problems=[FieldProblem(name, "not_a_number", message)])
    return int(raw)


def tile_address(tile_matrix: str, tile_row: str, tile_col: str) -> Tile:
    """The tile a path names: 400 for an index that is not a number, 404 outside the set."""
    return Tile.checked(
        _index("tileMatrix", tile_matrix), _index("tileRow", tile_row), _index("tileCol", tile_col)
    )


def walks_version(store: PlaceStore) -> str:
    """A value that changes whenever what the public sees of a walk may change: a walk
    published, changed or withdrawn, or a place (a stop) changed."""
    key = orjson.dumps([walk_versions(store), store.places_version()[0]], default=str)
    return hashlib.sha256(key).hexdigest()[:32]


def open_walks(request: Request, store: PlaceStore, version: str) -> WalkLines:
    """The open-data walks as tiles draw them, built once per ``version`` in this worker
    (a map asks for a dozen tiles at once, each of which would read every walk)."""
    state = request.app.state
    if not hasattr(state, "walk_lines"):
        state.walk_lines = KeptByVersion()
    return state.walk_lines.get(version, lambda: WalkLines.open_data(store))
