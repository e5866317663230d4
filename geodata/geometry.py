"""Geometry validation and repair for places, one feature at a time or as arrays.

Two paths give the same verdicts (a test holds them against each other):

* :func:`validate_place_geometry` checks one GeoJSON geometry (or shapely geometry)
  and raises :class:`~geodata.errors.GeometryError`;
* :func:`validate_place_geometries` checks many at once through shapely 2's array
  functions and returns a verdict per input, for bulk imports.

The checks run in one order in both: structure (types, nesting, numbers, 2-D,
WGS84 range, enough points, closed rings, limits on points and holes), then repeated
vertices (repaired), tangles and validity at a bounded cost (``geodata/validity.py``:
safe repairs applied, the rest refused with the place it fails), ring orientation
(repaired to RFC 7946's right-hand rule), location (inside the project area, swapped
latitude/longitude recognised), size limits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from geodata.errors import GeometryError
from geodata.tangles import Tangle
from geodata.validity import TangleLimits, needs_scan, scan, settle_invalid
from geodata.validity import fmt_position as _fmt

PLACE_TYPES = ("Point", "LineString", "Polygon")
KIND = {"Point": "point", "LineString": "route", "Polygon": "area"}
# Metres per degree of latitude, and of longitude at the equator (WGS84, local approximation).
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0


@dataclass(frozen=True)
class ProjectArea:
    """Where places may be: the neighbourhoods' union grown by a margin (in metres)."""

    geometry: BaseGeometry
    margin_m: float = 0.0

    @classmethod
    def from_geometries(
        cls, geometries: Sequence[BaseGeometry] | np.ndarray, margin_m: float = 1000.0
    ) -> ProjectArea | None:
        """Union the neighbourhood polygons and grow them by ``margin_m`` metres."""
        geoms = np.asarray(geometries, dtype=object)
        if geoms.size == 0:
            return None
        union = shapely.union_all(geoms)
        if margin_m > 0:
            lat = union.centroid.y
            # A degree of longitude shrinks with latitude; buffer in degrees of the larger
            # one so the margin is at least ``margin_m`` in every direction.
            deg = margin_m / (M_PER_DEG_LON * max(math.cos(math.radians(lat)), 0.01))
            union = shapely.buffer(union, deg, quad_segs=4)
        shapely.prepare(union)
        return cls(union, margin_m)

    def covers(self, geometries: Any) -> Any:
        return shapely.covers(self.geometry, geometries)


@dataclass(frozen=True)
class GeometryRules:
    """Limits a place geometry must respect; ``area`` None means anywhere on Earth."""

    area: ProjectArea | None = None
    max_route_vertices: int = 10_000  # a GPS track of a long walk
    max_area_vertices: int = 5_000  # all rings together; Lisbon's largest parish has 724
    max_holes: int = 100
    tangles: TangleLimits = field(default_factory=TangleLimits)
    max_area_m2: float = 25_000_000.0  # 25 km²: a neighbourhood-sized area at most
    max_length_m: float = 100_000.0  # a 100 km route


@dataclass
class ValidatedGeometry:
    geometry: BaseGeometry
    warnings: list[str] = field(default_factory=list)


class _Reject(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message


# ---------------------------------------------------------------------------
# Structure: shared by both paths (it walks Python lists, there is no array form)
# ---------------------------------------------------------------------------


def _position(pos: Any, where: str) -> tuple[float, float]:
    if not isinstance(pos, list | tuple):
        raise _Reject(
            "bad_coordinates",
            f"{where}: a position must be a list [longitude, latitude], got {pos!r:.40}",
        )
    if len(pos) != 2:
        if len(pos) == 3:
            raise _Reject(
                "not_2d",
                f"{where}: has three numbers (with altitude); send longitude and latitude only",
            )
        raise _Reject(
            "bad_coordinates",
            f"{where}: a position needs exactly two numbers, longitude and latitude; "
            f"got {len(pos)}",
        )
    x, y = pos
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, int | float):
            kind = "text" if isinstance(v, str) else type(v).__name__
            raise _Reject(
                "coordinates_not_numbers",
                f"{where}: coordinates must be numbers, not {kind} ({v!r:.20})",
            )
        if isinstance(v, int) and v.bit_length() > 1000:  # 10**1000: beyond any float
            digits = int(v.bit_length() * math.log10(2)) + 1
            raise _Reject(
                "non_finite", f"{where}: coordinates must be finite numbers, got {digits} digits"
            )
        if not math.isfinite(v):
            raise _Reject("non_finite", f"{where}: coordinates must be finite numbers, got {v}")
    x, y = float(x), float(y)
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        if -90.0 <= x <= 90.0 and -180.0 <= y <= 180.0:
            raise _Reject(
                "swapped_coordinates",
                f"{where}: latitude and longitude look swapped ({x}, {y}); GeoJSON "
                "puts longitude first: [longitude, latitude]",
            )
        raise _Reject(
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
        raise _Reject("bad_coordinates", f"{where}: expected a list of positions")
    if len(raw) > max_vertices:
        raise _Reject(
            "too_many_vertices",
            f"{where}: has {len(raw):,} points; the limit is {max_vertices:,} - simplify the shape",
        )
    # A few positions are quicker one by one than through numpy.
    coords = _well_formed(raw) if len(raw) > 32 else None
    return coords if coords is not None else [_position(p, where) for p in raw]


def parse_structure(obj: Any, rules: GeometryRules) -> tuple[str, Any]:
    """Check a GeoJSON geometry's structure; return its type and coordinates as floats."""
    if not isinstance(obj, Mapping):
        raise _Reject(
            "not_a_geometry", "the geometry must be a GeoJSON object with 'type' and 'coordinates'"
        )
    gtype = obj.get("type")
    if gtype not in PLACE_TYPES:
        if gtype in ("MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"):
            raise _Reject(
                "unsupported_type",
                f"a {gtype} holds several shapes; send one point "
                "(Point), one route (LineString) or one area (Polygon)",
            )
        raise _Reject(
            "unknown_type", f"unknown geometry type {gtype!r:.40}; use Point, LineString or Polygon"
        )
    coords = obj.get("coordinates")
    if coords is None or (isinstance(coords, list | tuple) and len(coords) == 0):
        raise _Reject("empty", f"the {KIND[gtype]} has no coordinates")
    if gtype == "Point":
        return gtype, _position(coords, "the point")
    if gtype == "LineString":
        line = _ring(coords, "the route", rules.max_route_vertices)
        if len(line) < 2:
            raise _Reject("too_few_points", "a route needs at least two points")
        return gtype, line
    if isinstance(coords, list | tuple) and len(coords) - 1 > rules.max_holes:
        raise _Reject(
            "too_many_holes",
            f"the area has {len(coords) - 1:,} holes; the limit is {rules.max_holes:,} - "
            "leave out the small ones",
        )
    if not isinstance(coords, list | tuple) or not all(isinstance(r, list | tuple) for r in coords):
        raise _Reject(
            "bad_coordinates",
            "an area's coordinates are a list of rings, each a "
            "list of [longitude, latitude] positions",
        )
    total = sum(len(r) for r in coords)
    max_vertices = rules.max_area_vertices
    if total > max_vertices:
        raise _Reject(
            "too_many_vertices",
            f"the area has {total:,} points; the limit is {max_vertices:,} - simplify the outline",
        )
    rings = []
    for i, raw in enumerate(coords):
        where = "the area's outline" if i == 0 else f"hole {i} of the area"
        ring = _ring(raw, where, max_vertices)
        if len(ring) == 0:
            raise _Reject("empty", f"{where} has no points")
        if tuple(ring[0]) != tuple(ring[-1]):
            raise _Reject(
                "unclosed_ring",
                f"{where} is not closed: its last point must repeat "
                f"its first ({_fmt(ring[0][1], ring[0][0])})",
            )
        if len(ring) < 4:
            raise _Reject("too_few_points", f"{where} needs at least three different corners")
        rings.append(ring)
    return gtype, rings


def _build(gtype: str, coords: Any) -> BaseGeometry:
    if gtype == "Point":
        return Point(coords)
    if gtype == "LineString":
        return LineString(coords)
    return Polygon(coords[0], coords[1:])


# ---------------------------------------------------------------------------
# Geometry checks: scalar versions (single path) and array versions (bulk path)
# ---------------------------------------------------------------------------


def _metric(coords: np.ndarray) -> np.ndarray:
    # Local equirectangular projection per vertex: plenty for size limits.
    out = np.empty_like(coords)
    out[:, 0] = coords[:, 0] * M_PER_DEG_LON * np.cos(np.radians(coords[:, 1]))
    out[:, 1] = coords[:, 1] * M_PER_DEG_LAT
    return out


def _swap(coords: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(coords[:, ::-1])


def _repeated_warning(removed: int) -> str:
    return f"removed {removed} repeated point{'s' if removed != 1 else ''}"


ORIENT_WARNING = "turned the area's outline anticlockwise (GeoJSON's right-hand rule)"


def _size_message(kind: str, value: float, limit: float, unit: str) -> str:
    if unit == "m2":
        return (
            f"the {kind} covers {value / 1e6:,.1f} km²; the limit is {limit / 1e6:,.1f} km² - "
            "draw a smaller area or split it"
        )
    return (
        f"the route is {value / 1e3:,.1f} km long; the limit is {limit / 1e3:,.1f} km - "
        "split it into shorter routes"
    )


def _outside_message(kind: str, geom: BaseGeometry) -> str:
    p = geom if geom.geom_type == "Point" else geom.representative_point()
    return (
        f"the {kind} at {_fmt(p.y, p.x)} is outside the project area; place it within "
        "the mapped neighbourhoods"
    )


SWAPPED_MESSAGE = (
    "latitude and longitude look swapped: the {kind} lands outside the project "
    "area at {here}, but inside it at {there}; GeoJSON puts longitude first"
)


def _swapped_message(kind: str, geom: BaseGeometry) -> str:
    p = geom if geom.geom_type == "Point" else geom.representative_point()
    return SWAPPED_MESSAGE.format(kind=kind, here=_fmt(p.y, p.x), there=_fmt(p.x, p.y))


def _check_single(geom: BaseGeometry, rules: GeometryRules) -> ValidatedGeometry:
    warnings: list[str] = []
    kind = KIND[geom.geom_type]
    if geom.geom_type != "Point":
        before = shapely.get_num_coordinates(geom)
        geom = shapely.remove_repeated_points(geom, 0.0)
        removed = before - shapely.get_num_coordinates(geom)
        if removed:
            warnings.append(_repeated_warning(removed))
        if geom.geom_type == "LineString" and shapely.length(geom) == 0:
            raise _Reject("too_few_points", "the route has only one distinct point")
        if geom.geom_type == "Polygon" and len(geom.exterior.coords) < 4:
            raise _Reject(
                "too_few_points", "the area's outline needs at least three different corners"
            )
        tangle = None
        if needs_scan(np.array([geom]), rules.tangles)[0]:
            tangle, problem = scan(geom, rules.tangles)
            if problem is not None:
                raise _Reject(*problem)
        if not shapely.is_valid(geom):
            settled = settle_invalid(geom, tangle, rules.tangles)
            if settled.problem is not None:
                raise _Reject(*settled.problem)
            warnings.append(settled.warning)
            geom = settled.geometry
    if geom.geom_type == "Polygon" and not shapely.is_ccw(geom.exterior):
        geom = shapely.orient_polygons(geom)
        warnings.append(ORIENT_WARNING)
    if rules.area is not None and not rules.area.covers(geom):
        swapped = shapely.transform(geom, _swap)
        if shapely.is_valid(swapped) and rules.area.covers(swapped):
            raise _Reject("swapped_coordinates", _swapped_message(kind, geom))
        raise _Reject("outside_project_area", _outside_message(kind, geom))
    if geom.geom_type == "Polygon":
        size = shapely.area(shapely.transform(geom, _metric))
        if size > rules.max_area_m2:
            raise _Reject("too_large", _size_message(kind, size, rules.max_area_m2, "m2"))
    elif geom.geom_type == "LineString":
        size = shapely.length(shapely.transform(geom, _metric))
        if size > rules.max_length_m:
            raise _Reject("too_long", _size_message(kind, size, rules.max_length_m, "m"))
    return ValidatedGeometry(geom, warnings)


def validate_place_geometry(
    obj: Mapping[str, Any] | BaseGeometry, rules: GeometryRules | None = None
) -> ValidatedGeometry:
    """Check one place geometry; return it repaired, with warnings, or raise GeometryError.

    >>> validate_place_geometry({"type": "Point", "coordinates": [-9.14, 38.71]}).geometry.wkt
    'POINT (-9.14 38.71)'
    """
    rules = rules or GeometryRules()
    if isinstance(obj, BaseGeometry):
        obj = mapping(obj)
    try:
        gtype, coords = parse_structure(obj, rules)
        return _check_single(_build(gtype, coords), rules)
    except _Reject as exc:
        raise GeometryError(exc.message, code=exc.code) from None


@dataclass
class BulkVerdicts:
    """Verdicts of :func:`validate_place_geometries`, one entry per input, in order."""

    geometries: np.ndarray  # object array; None where rejected
    codes: list[str | None]
    messages: list[str | None]
    warnings: list[list[str]]

    @property
    def ok(self) -> np.ndarray:
        return np.array([c is None for c in self.codes], dtype=bool)

    def __len__(self) -> int:
        return len(self.codes)


def validate_place_geometries(
    objs: Sequence[Any], rules: GeometryRules | None = None
) -> BulkVerdicts:
    """Check many place geometries at once; same verdicts as :func:`validate_place_geometry`.

    Structure is checked per feature (it is Python data); everything after runs as
    shapely array operations over all features.
    """
    rules = rules or GeometryRules()
    n = len(objs)
    codes: list[str | None] = [None] * n
    messages: list[str | None] = [None] * n
    warnings: list[list[str]] = [[] for _ in range(n)]
    geoms = np.empty(n, dtype=object)

    point_idx: list[int] = []
    point_xy: list[tuple[float, float]] = []
    for i, obj in enumerate(objs):
        if isinstance(obj, BaseGeometry):
            obj = mapping(obj)
        # Fast path for the common case: a well-formed 2-D point.
        if type(obj) is dict and obj.get("type") == "Point":
            c = obj.get("coordinates")
            if (
                type(c) is list
                and len(c) == 2
                and type(c[0]) is float
                and type(c[1]) is float
                and -180.0 <= c[0] <= 180.0
                and -90.0 <= c[1] <= 90.0
            ):
                point_idx.append(i)
                point_xy.append((c[0], c[1]))
                continue
        try:
            gtype, coords = parse_structure(obj, rules)
        except _Reject as exc:
            codes[i], messages[i] = exc.code, exc.message
            continue
        if gtype == "Point":
            point_idx.append(i)
            point_xy.append(coords)
        else:
            geoms[i] = _build(gtype, coords)
    if point_idx:
        geoms[np.asarray(point_idx)] = shapely.points(np.asarray(point_xy, dtype=float))

    def reject(mask: np.ndarray, code: str, message_for) -> None:
        for i in np.flatnonzero(mask):
            codes[i], messages[i] = code, message_for(i)
            geoms[i] = None

    live = np.array([g is not None for g in geoms], dtype=bool)
    types = np.full(n, -1)
    types[live] = shapely.get_type_id(geoms[live])  # 0 point, 1 line, 3 polygon

    # Repeated vertices (lines and areas).
    shaped = live & (types != 0)
    if shaped.any():
        idx = np.flatnonzero(shaped)
        before = shapely.get_num_coordinates(geoms[idx])
        geoms[idx] = shapely.remove_repeated_points(geoms[idx], 0.0)
        removed = before - shapely.get_num_coordinates(geoms[idx])
        for i, r in zip(idx, removed, strict=True):
            if r:
                warnings[i].append(_repeated_warning(int(r)))
        ncoords = shapely.get_num_coordinates(geoms[idx])
        short_line = (types[idx] == 1) & ((ncoords < 2) | (shapely.length(geoms[idx]) == 0))
        reject(
            np.isin(np.arange(n), idx[short_line]),
            "too_few_points",
            lambda i: "the route has only one distinct point",
        )
        poly_idx = idx[types[idx] == 3]
        if poly_idx.size:
            ext_n = shapely.get_num_coordinates(shapely.get_exterior_ring(geoms[poly_idx]))
            reject(
                np.isin(np.arange(n), poly_idx[ext_n < 4]),
                "too_few_points",
                lambda i: "the area's outline needs at least three different corners",
            )

    # Tangles and validity, each at a bounded cost (geodata/validity.py); the large
    # shapes are scanned one by one, the small ones go to GEOS as one array.
    live = np.array([g is not None for g in geoms], dtype=bool)
    scanned: dict[int, Tangle] = {}
    if live.any():
        idx = np.flatnonzero(live)
        for i in idx[needs_scan(geoms[idx], rules.tangles)]:
            tangle, problem = scan(geoms[i], rules.tangles)
            if problem is not None:
                codes[i], messages[i] = problem
                geoms[i] = None
            else:
                scanned[i] = tangle
    live = np.array([g is not None for g in geoms], dtype=bool)
    if live.any():
        idx = np.flatnonzero(live)
        for i in idx[~shapely.is_valid(geoms[idx])]:
            settled = settle_invalid(geoms[i], scanned.get(i), rules.tangles)
            if settled.problem is not None:
                codes[i], messages[i] = settled.problem
                geoms[i] = None
            else:
                warnings[i].append(settled.warning)
                geoms[i] = settled.geometry

    # Orientation (RFC 7946 right-hand rule).
    live = np.array([g is not None for g in geoms], dtype=bool)
    types = np.full(n, -1)
    types[live] = shapely.get_type_id(geoms[live])
    poly = np.flatnonzero(types == 3)
    if poly.size:
        cw = ~shapely.is_ccw(shapely.get_exterior_ring(geoms[poly]))
        if cw.any():
            geoms[poly[cw]] = shapely.orient_polygons(geoms[poly[cw]])
            for i in poly[cw]:
                warnings[i].append(ORIENT_WARNING)

    # Location.
    if rules.area is not None and live.any():
        idx = np.flatnonzero(live)
        inside = rules.area.covers(geoms[idx])
        out = idx[~inside]
        if out.size:
            swapped = shapely.transform(geoms[out], _swap)
            swapped_in = shapely.is_valid(swapped) & rules.area.covers(swapped)
            for i, sw in zip(out, swapped_in, strict=True):
                kind = KIND[geoms[i].geom_type]
                if sw:
                    codes[i], messages[i] = "swapped_coordinates", _swapped_message(kind, geoms[i])
                else:
                    codes[i], messages[i] = "outside_project_area", _outside_message(kind, geoms[i])
                geoms[i] = None

    # Size limits.
    live = np.array([g is not None for g in geoms], dtype=bool)
    types = np.full(n, -1)
    types[live] = shapely.get_type_id(geoms[live])
    for tid, measure, limit, code, unit in (
        (3, shapely.area, rules.max_area_m2, "too_large", "m2"),
        (1, shapely.length, rules.max_length_m, "too_long", "m"),
    ):
        idx = np.flatnonzero(types == tid)
        if idx.size:
            size = measure(shapely.transform(geoms[idx], _metric))
            for i, s in zip(idx[size > limit], size[size > limit], strict=True):
                kind = KIND[geoms[i].geom_type]
                codes[i], messages[i] = code, _size_message(kind, float(s), limit, unit)
                geoms[i] = None

    return BulkVerdicts(geoms, codes, messages, warnings)
