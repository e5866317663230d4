"""Functions SQLite calls back into Python for CQL2 filters (registered on every
connection): CASEI and ACCENTI as :func:`geodata.filters.fold` applies them, and the
spatial functions evaluated on a place's public location (:mod:`geodata.privacy`)."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.filter_nodes import fold
from geodata.privacy import public_locations

_PREDICATES: dict[str, Callable[[BaseGeometry, BaseGeometry], bool]] = {
    "s_intersects": shapely.intersects,
    "s_equals": shapely.equals,
    "s_disjoint": shapely.disjoint,
    "s_touches": shapely.touches,
    "s_within": shapely.within,
    "s_overlaps": shapely.overlaps,
    "s_crosses": shapely.crosses,
    "s_contains": shapely.contains,
}
_POINT = struct.Struct("<BIdd")  # a two-dimensional little-endian WKB point


@lru_cache(maxsize=64)
def _query(wkb: bytes) -> BaseGeometry:
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


def _spatial(
    op: str, query_wkb: bytes, geom: bytes | None, sensitivity: str, grid_m: float
) -> int | None:
    """``op(public location, query)`` as 1 or 0; NULL for a place without one (hidden)."""
    if geom is None or sensitivity not in ("public", "generalised"):
        return None
    query = _query(query_wkb)
    if sensitivity == "public" and len(geom) == 21:
        order, kind, x, y = _POINT.unpack(geom)
        if order == 1 and kind == 1:  # the common case, without a geometry object
            if op == "s_intersects":
                return int(shapely.intersects_xy(query, x, y))
            if op == "s_within":  # a point is within what contains it
                return int(shapely.contains_xy(query, x, y))
    place = shapely.from_wkb(geom)
    if sensitivity == "generalised":
        shown, _ = public_locations([sensitivity], np.array([place], dtype=object), grid_m)
        place = shown[0]
    return int(_PREDICATES[op](place, query))


def register(conn: sqlite3.Connection) -> None:
    """Make the CQL2 functions available to SQL run on ``conn``."""
    conn.create_function(
        "cql2_casei", 1, lambda s: None if s is None else fold("casei", s), deterministic=True
    )
    conn.create_function(
        "cql2_accenti", 1, lambda s: None if s is None else fold("accenti", s), deterministic=True
    )
    conn.create_function("cql2_spatial", 5, _spatial, deterministic=True)
