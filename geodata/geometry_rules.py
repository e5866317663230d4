"""What a place geometry must respect: its types, the project area and the limits on points,
holes, size and tangles; and the metres in a degree the checks measure with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.validity import TangleLimits

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
