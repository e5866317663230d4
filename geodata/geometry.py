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
latitude/longitude recognised), size limits. The rules live in
:mod:`geodata.geometry_rules`, the structure check in :mod:`geodata.geometry_structure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geodata.errors import GeometryError
from geodata.geometry_rules import KIND, M_PER_DEG_LAT, M_PER_DEG_LON, GeometryRules
from geodata.geometry_structure import Reject, build_geometry, parse_structure
from geodata.tangles import Tangle
from geodata.validity import fmt_position as _fmt
from geodata.validity import needs_scan, scan, settle_invalid


@dataclass
class ValidatedGeometry:
    geometry: BaseGeometry
    warnings: list[str] = field(default_factory=list)


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
            raise Reject("too_few_points", "the route has only one distinct point")
        if geom.geom_type == "Polygon" and len(geom.exterior.coords) < 4:
            raise Reject(
                "too_few_points", "the area's outline needs at least three different corners"
            )
        tangle = None
        if needs_scan(np.array([geom]), rules.tangles)[0]:
            tangle, problem = scan(geom, rules.tangles)
            if problem is not None:
                raise Reject(*problem)
        if not shapely.is_valid(geom):
            settled = settle_invalid(geom, tangle, rules.tangles)
            if settled.problem is not None:
                raise Reject(*settled.problem)
            warnings.append(settled.warning)
            geom = settled.geometry
    if geom.geom_type == "Polygon" and not shapely.is_ccw(geom.exterior):
        geom = shapely.orient_polygons(geom)
        warnings.append(ORIENT_WARNING)
    if rules.area is not None and not rules.area.covers(geom):
        swapped = shapely.transform(geom, _swap)
        if shapely.is_valid(swapped) and rules.area.covers(swapped):
            raise Reject("swapped_coordinates", _swapped_message(kind, geom))
        raise Reject("outside_project_area", _outside_message(kind, geom))
    if geom.geom_type == "Polygon":
        size = shapely.area(shapely.transform(geom, _metric))
        if size > rules.max_area_m2:
            raise Reject("too_large", _size_message(kind, size, rules.max_area_m2, "m2"))
    elif geom.geom_type == "LineString":
        size = shapely.length(shapely.transform(geom, _metric))
        if size > rules.max_length_m:
            raise Reject("too_long", _size_message(kind, size, rules.max_length_m, "m"))
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
        return _check_single(build_geometry(gtype, coords), rules)
    except Reject as exc:
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
        except Reject as exc:
            codes[i], messages[i] = exc.code, exc.message
            continue
        if gtype == "Point":
            point_idx.append(i)
            point_xy.append(coords)
        else:
            geoms[i] = build_geometry(gtype, coords)
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
