"""Which tiles of the Web Mercator grid (XYZ: y counted from the north) cover an area.

>>> tile_range((-9.25, 38.68, -9.08, 38.80), 12)
TileRange(z=12, xmin=1942, ymin=1568, xmax=1944, ymax=1570)
>>> count_tiles((-9.25, 38.68, -9.08, 38.80), range(10, 13))
15
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from geodata.basemap.archive import MAX_LAT, MAX_ZOOM, BasemapError


@dataclass(frozen=True)
class TileRange:
    """Every tile of zoom ``z`` from column xmin to xmax and row ymin to ymax, inclusive."""

    z: int
    xmin: int
    ymin: int
    xmax: int
    ymax: int

    @property
    def count(self) -> int:
        return (self.xmax - self.xmin + 1) * (self.ymax - self.ymin + 1)

    def __contains__(self, xy: object) -> bool:
        if not isinstance(xy, tuple) or len(xy) != 2:
            return False
        x, y = xy
        return self.xmin <= x <= self.xmax and self.ymin <= y <= self.ymax

    def tiles(self) -> Iterator[tuple[int, int]]:
        """Column by column, rows north to south (neighbours stay near in the file)."""
        for x in range(self.xmin, self.xmax + 1):
            for y in range(self.ymin, self.ymax + 1):
                yield x, y


def _column(lon: float, z: int) -> int:
    n = 2**z
    return min(n - 1, max(0, math.floor((lon + 180.0) / 360.0 * n)))


def _row(lat: float, z: int) -> int:
    n = 2**z
    lat = math.radians(max(-MAX_LAT, min(MAX_LAT, lat)))
    y = (1.0 - math.asinh(math.tan(lat)) / math.pi) / 2.0 * n
    return min(n - 1, max(0, math.floor(y)))


def tile_range(bounds: tuple[float, float, float, float], z: int) -> TileRange:
    """The tiles of zoom ``z`` that touch ``bounds`` (west, south, east, north)."""
    w, s, e, n = bounds
    return TileRange(z, _column(w, z), _row(n, z), _column(e, z), _row(s, z))


def count_tiles(bounds: tuple[float, float, float, float], zooms: Iterable[int]) -> int:
    """How many tiles cover ``bounds`` at all of ``zooms`` (counted, not listed)."""
    return sum(tile_range(bounds, z).count for z in zooms)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """West, south, east, north of one tile, in degrees."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"W,S,E,N"`` in degrees, checked; BasemapError with what is wrong otherwise."""
    parts = [p.strip() for p in text.split(",")]
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise BasemapError(
            f"--bbox {text!r} is not four numbers W,S,E,N (west, south, east, north in "
            "degrees, such as -9.25,38.68,-9.08,38.80)"
        ) from None
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise BasemapError(f"--bbox {text!r} holds a number that is not finite")
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise BasemapError(
            f"--bbox {text!r} is outside the world: longitudes -180 to 180, latitudes -90 to 90"
        )
    if w >= e or s >= n:
        raise BasemapError(
            f"--bbox {text!r} is empty or reversed: west must be less than east and south "
            "less than north"
        )
    if s >= MAX_LAT or n <= -MAX_LAT:
        raise BasemapError(f"--bbox {text!r} lies beyond the 85° latitudes web maps cover")
    return (w, s, e, n)


def parse_zooms(text: str) -> range:
    """``"10-16"`` or ``"14"`` as the range of zooms, checked."""
    first, sep, last = text.partition("-")
    try:
        lo = int(first)
        hi = int(last) if sep else lo
    except ValueError:
        raise BasemapError(
            f"--zooms {text!r} is not a zoom or a range of zooms such as 10-16"
        ) from None
    if not (0 <= lo <= hi <= MAX_ZOOM):
        raise BasemapError(f"--zooms {text!r}: zooms go from 0 to {MAX_ZOOM}, lowest first")
    return range(lo, hi + 1)
