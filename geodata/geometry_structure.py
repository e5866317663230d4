"""The structure of a GeoJSON geometry, checked before any geometry is built: types,
nesting, numbers, 2-D, WGS84 range, enough points, closed rings, limits on points and
holes. Both validation paths of :mod:`geodata.geometry` share it (it walks Python lists;
there is no array form)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geodata.geometry_rules import KIND, PLACE_TYPES, GeometryRules
from geodata.validity import fmt_position as _fmt


class Reject(Exception):
    """A geometry refused: a machine-readable code and a message a person can act on."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message


def _position(pos: Any, where: str) -> tuple[float, float]:
    if not isinstance(pos, list | tuple):
        raise Reject(
            "bad_coordinates",
            f"{where}: a position must be a list [longitude, latitude], got {pos!r:.40}",
        )
    if len(pos) != 2:
        if len(pos) == 3:
            raise Reject(
                "not_2d",
                f"{where}: has three numbers (with altitude); send longitude and latitude only",
            )
        raise Reject(
            "bad_coordinates",
            f"{where}: a position needs exactly two numbers, longitude and latitude; "
            f"got {len(pos)}",
        )
    x, y = pos
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, int | float):
            kind = "text" if isinstance(v, str) else type(v).__name__
            raise Reject(
                "coordinates_not_numbers",
                f"{where}: coordinates must be numbers, not {kind} ({v!r:.20})",
            )
        if isinstance(v, int) and v.bit_length() > 1000:  # 10**1000: beyond any float
            digits = int(v.bit_length() * math.log10(2)) + 1
            raise Reject(
                "non_finite", f"{where}: coordinates must be finite numbers, got {digits} digits"
            )
        if not math.isfinite(v):
            raise Reject("non_finite", f"{where}: coordinates must be finite numbers, got {v}")
    x, y = float(x), float(y)
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        if -90.0 <= x <= 90.0 and -180.0 <= y <= 180.0:
            raise Reject(
                "swapped_coordinates",
                f"{where}: latitude and longitude look swapped ({x}, {y}); GeoJSON "
                "puts longitude first: [longitude, latitude]",
            )
        raise Reject(
            "out_of_range",
            f"{where}: ({x}, {y}) is off the map; longitude must be between -180 and "
            "180 and latitude between -90 and 90",
        )
    return x, y


def _well_formed(raw: list | tuple) -> np.ndarray | None:
    """The positions as an (n, 2) array when every one is a pair of plain numbers in
    range, else None. Same verdict as :func:`_position` on each, without a Python object
    per position: 10,000 tuples would wake the garbage collector, whose passes over a
    server's heap cost more than the whole check."""
    try:
        if not all(type(v) is float or type(v) is int for p in raw for v in p):
            return None  # text, booleans, nesting: the slow path names the problem
        coords = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    if coords.ndim != 2 or coords.shape[1] != 2 or not np.isfinite(coords).all():
        return None
    x, y = coords[:, 0], coords[:, 1]
    if (np.abs(x) > 180.0).any() or (np.abs(y) > 90.0).any():
        return None
    return coords


def _ring(raw: Any, where: str, max_vertices: int) -> Any:
    """A ring's or a route's positions: an (n, 2) array, or a list of (x, y)."""
    if not isinstance(raw, list | tuple):
        raise Reject("bad_coordinates", f"{where}: expected a list of positions")
    if len(raw) > max_vertices:
        raise Reject(
            "too_many_vertices",
            f"{where}: has {len(raw):,} points; the limit is {max_vertices:,} - simplify the shape",
        )
    # A few positions are quicker one by one than through numpy.
    coords = _well_formed(raw) if len(raw) > 32 else None
    return coords if coords is not None else [_position(p, where) for p in raw]


def parse_structure(obj: Any, rules: GeometryRules) -> tuple[str, Any]:
    """Check a GeoJSON geometry's structure; return its type and coordinates as floats."""
    if not isinstance(obj, Mapping):
        raise Reject(
            "not_a_geometry", "the geometry must be a GeoJSON object with 'type' and 'coordinates'"
        )
    gtype = obj.get("type")
    if gtype not in PLACE_TYPES:
        if gtype in ("MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"):
            raise Reject(
                "unsupported_type",
                f"a {gtype} holds several shapes; send one point "
                "(Point), one route (LineString) or one area (Polygon)",
            )
        raise Reject(
            "unknown_type", f"unknown geometry type {gtype!r:.40}; use Point, LineString or Polygon"
        )
    coords = obj.get("coordinates")
    if coords is None or (isinstance(coords, list | tuple) and len(coords) == 0):
        raise Reject("empty", f"the {KIND[gtype]} has no coordinates")
    if gtype == "Point":
        return gtype, _position(coords, "the point")
    if gtype == "LineString":
        line = _ring(coords, "the route", rules.max_route_vertices)
        if len(line) < 2:
            raise Reject("too_few_points", "a route needs at least two points")
        return gtype, line
    if isinstance(coords, list | tuple) and len(coords) - 1 > rules.max_holes:
        raise Reject(
            "too_many_holes",
            f"the area has {len(coords) - 1:,} holes; the limit is {rules.max_holes:,} - "
            "leave out the small ones",
        )
    if not isinstance(coords, list | tuple) or not all(isinstance(r, list | tuple) for r in coords):
        raise Reject(
            "bad_coordinates",
            "an area's coordinates are a list of rings, each a "
            "list of [longitude, latitude] positions",
        )
    total = sum(len(r) for r in coords)
    max_vertices = rules.max_area_vertices
    if total > max_vertices:
        raise Reject(
            "too_many_vertices",
            f"the area has {total:,} points; the limit is {max_vertices:,} - simplify the outline",
        )
    rings = []
    for i, raw in enumerate(coords):
        where = "the area's outline" if i == 0 else f"hole {i} of the area"
        ring = _ring(raw, where, max_vertices)
        if len(ring) == 0:
            raise Reject("empty", f"{where} has no points")
        if tuple(ring[0]) != tuple(ring[-1]):
            raise Reject(
                "unclosed_ring",
                f"{where} is not closed: its last point must repeat "
                f"its first ({_fmt(ring[0][1], ring[0][0])})",
            )
        if len(ring) < 4:
            raise Reject("too_few_points", f"{where} needs at least three different corners")
        rings.append(ring)
    return gtype, rings


def build_geometry(gtype: str, coords: Any) -> BaseGeometry:
    if gtype == "Point":
        return Point(coords)
    if gtype == "LineString":
        return LineString(coords)
    return Polygon(coords[0], coords[1:])
