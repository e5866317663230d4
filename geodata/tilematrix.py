"""The WebMercatorQuad tile matrix set (OGC 17-083r4, through ``morecantile``): which tiles
exist, where each lies, and lon/lat geometries in a tile's own coordinates.

A tile's coordinates follow PostGIS's ``ST_AsMVTGeom``: Web Mercator metres mapped
onto ``0..extent`` with y pointing down, snapped to whole units with ``rint`` (halves to
even), lines and polygons clipped to the tile grown by ``buffer`` units.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import morecantile
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.errors import FieldProblem, NotFound
from geodata.mvt import EXTENT

TILE_MATRIX_SET = "WebMercatorQuad"
MAX_ZOOM = 22  # the deepest tile matrix served (the maps stop there too)
BUFFER = 64  # tile units kept around the tile when clipping lines and polygons
_RADIUS = 6_378_137.0  # EPSG:3857's sphere
_MAX_LAT = 85.0511287798066  # where Web Mercator's square world ends


@cache
def tile_matrix_set() -> morecantile.TileMatrixSet:
    return morecantile.tms.get(TILE_MATRIX_SET)


class TileNotFound(NotFound):
    """A tile outside the tile matrix set's limits; names the parameter at fault."""

    code = "tile_not_found"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message, problems=[FieldProblem(parameter, "out_of_range", message)])


def mercator(lonlat: np.ndarray) -> np.ndarray:
    """(n, 2) lon/lat degrees to EPSG:3857 metres (latitudes clamped to the square world)."""
    lon = np.radians(lonlat[:, 0])
    lat = np.radians(np.clip(lonlat[:, 1], -_MAX_LAT, _MAX_LAT))
    return np.column_stack([_RADIUS * lon, _RADIUS * np.log(np.tan(np.pi / 4 + lat / 2))])


@dataclass(frozen=True)
class Tile:
    """One tile of WebMercatorQuad: ``z`` the tile matrix, ``y`` its row, ``x`` its column."""

    z: int
    x: int
    y: int

    @classmethod
    def checked(cls, z: int, y: int, x: int) -> Tile:
        """The tile, or :class:`TileNotFound` naming tileMatrix, tileRow or tileCol."""
        if not 0 <= z <= MAX_ZOOM:
            raise TileNotFound(
                "tileMatrix", f"tileMatrix {z} does not exist here: use 0 to {MAX_ZOOM}"
            )
        last = 2**z - 1
        for name, value in (("tileRow", y), ("tileCol", x)):
            if not 0 <= value <= last:
                raise TileNotFound(
                    name, f"{name} {value} is outside tile matrix {z}: use 0 to {last}"
                )
        return cls(z, x, y)

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        b = tile_matrix_set().bounds(morecantile.Tile(self.x, self.y, self.z))
        return (b.left, b.bottom, b.right, b.top)

    @cached_property
    def xy_bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) in EPSG:3857 metres."""
        b = tile_matrix_set().xy_bounds(morecantile.Tile(self.x, self.y, self.z))
        return (b.left, b.bottom, b.right, b.top)

    def units(self, lonlat: np.ndarray, extent: int = EXTENT) -> np.ndarray:
        """(n, 2) lon/lat to (unsnapped) tile units: x right, y down, 0..extent inside."""
        minx, miny, maxx, maxy = self.xy_bounds
        xy = mercator(np.asarray(lonlat, dtype=np.float64).reshape(-1, 2))
        return np.column_stack(
            [
                (xy[:, 0] - minx) * (extent / (maxx - minx)),
                (maxy - xy[:, 1]) * (extent / (maxy - miny)),
            ]
        )

    def points(self, lonlat: np.ndarray, extent: int = EXTENT) -> np.ndarray:
        """(n, 2) lon/lat points to whole tile units (``rint``, as PostGIS snaps)."""
        return np.rint(self.units(lonlat, extent)).astype(np.int64)

    def shapes(
        self, geometries: np.ndarray, extent: int = EXTENT, buffer: int = BUFFER
    ) -> np.ndarray:
        """Lon/lat lines and polygons in whole tile units: clipped to the buffered tile,
        snapped, repaired, exterior rings turned to positive area (MVT's winding); None
        where nothing is left."""
        if not len(geometries):
            return np.array([], dtype=object)
        shapes = shapely.transform(
            np.asarray(geometries, dtype=object), lambda c: self.units(c, extent)
        )
        shapes = shapely.clip_by_rect(shapes, -buffer, -buffer, extent + buffer, extent + buffer)
        shapes = shapely.transform(shapes, np.rint)
        polygonal = np.isin(shapely.get_type_id(shapes), (3, 6))
        if polygonal.any():
            fixed = shapely.make_valid(shapes[polygonal])
            # Snapping may collapse slivers into lines: a polygon keeps only its area.
            fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
            shapes[polygonal] = shapely.orient_polygons(fixed, exterior_cw=False)
        empty = shapely.is_empty(shapes) | shapely.is_missing(shapes)
        shapes[empty] = None
        return shapes


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None
