"""Functions SQLite calls back into Python for CQL2 filters (registered on every
connection): CASEI and ACCENTI as :func:`geodata.filter_nodes.fold` applies them, and the
spatial functions evaluated on a place's public location (:mod:`geodata.privacy`)."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.filter_nodes import fold
from geodata.privacy import grid_centres

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


@dataclass(frozen=True)
class _Query:
    geometry: BaseGeometry  # prepared
    box: tuple[float, float, float, float] | None  # when the geometry is an upright box


@lru_cache(maxsize=64)
def _query(wkb: bytes) -> _Query:
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    bounds = geometry.bounds
    upright = geometry.geom_type == "Polygon" and geometry.equals(shapely.box(*bounds))
    return _Query(geometry, bounds if upright and geometry.area > 0 else None)


def _point(x: float, y: float, op: str, query: _Query) -> int | None:
    """The usual tests of a point, without a geometry object; None when there is no
    shortcut for ``op``."""
    if query.box is not None:
        minx, miny, maxx, maxy = query.box
        if op in ("s_intersects", "s_disjoint"):
            meets = minx <= x <= maxx and miny <= y <= maxy
            return int(meets if op == "s_intersects" else not meets)
        if op == "s_within":  # a point is within a box when inside its edges
            return int(minx < x < maxx and miny < y < maxy)
    if op in ("s_intersects", "s_disjoint"):
        meets = bool(shapely.intersects_xy(query.geometry, x, y))
        return int(meets if op == "s_intersects" else not meets)
    if op == "s_within":  # a point is within what contains it
        return int(shapely.contains_xy(query.geometry, x, y))
    return None


@lru_cache(maxsize=8192)
def _generalised(geom: bytes, grid_m: float) -> tuple[float, float]:
    """Where the public sees a generalised place (privacy.public_locations' rule)."""
    place = shapely.from_wkb(geom)
    if place.geom_type != "Point":
        place = shapely.point_on_surface(place)
    x, y = grid_centres(np.array([[place.x, place.y]]), grid_m)[0].tolist()
    return x, y


def _spatial(
    op: str, query_wkb: bytes, geom: bytes | None, sensitivity: str, grid_m: float
) -> int | None:
    """``op(public location, query)`` as 1 or 0; NULL for a place without one (hidden)."""
    if geom is None or sensitivity not in ("public", "generalised"):
        return None
    query = _query(query_wkb)
    if sensitivity == "generalised":
        x, y = _generalised(geom, grid_m)
        found = _point(x, y, op, query)
        return int(_PREDICATES[op](shapely.Point(x, y), query.geometry)) if found is None else found
    if len(geom) == 21:
        order, kind, x, y = _POINT.unpack(geom)
        if order == 1 and kind == 1:
            found = _point(x, y, op, query)
            if found is not None:
                return found
    return int(_PREDICATES[op](shapely.from_wkb(geom), query.geometry))


def register(conn: sqlite3.Connection) -> None:
    """Make the CQL2 functions available to SQL run on ``conn``."""
    conn.create_function(
        "cql2_casei", 1, lambda s: None if s is None else fold("casei", s), deterministic=True
    )
    conn.create_function(
        "cql2_accenti", 1, lambda s: None if s is None else fold("accenti", s), deterministic=True
    )
    conn.create_function("cql2_spatial", 5, _spatial, deterministic=True)
