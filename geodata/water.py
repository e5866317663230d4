"""Rivers, lakes and the sea for the maps' orientation layer, read from a vector file.

Any file GDAL reads (``HERITAGE_WATER_FILE``): areas (a river's or the sea's polygons)
or lines (a river's course, a coastline), in any CRS. They are reprojected to
longitude/latitude, repaired, cut to the area the maps show and simplified to a few
metres, so a national water layer costs no more than the city's own share of it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geodata.errors import SourceError
from geodata.neighbourhoods import read_vector_file, to_wgs84

TOLERANCE_DEG = 0.00005  # about 5 m: finer than a map of a neighbourhood shows
MAX_COORDINATES = 300_000  # after cutting and simplifying; more is a country, not a city
MARGIN_DEG = 0.1  # the maps may be panned a little past the neighbourhoods


def read_water(
    path: str | Path, around: tuple[float, float, float, float] | None = None
) -> list[BaseGeometry]:
    """The water areas and lines of ``path``, cut to ``around`` (west, south, east, north,
    widened by a margin) when given; SourceError when the file is unusable."""
    gdf = to_wgs84(read_vector_file(path), path)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    geoms = shapely.make_valid(geoms[~shapely.is_empty(geoms)])
    if around is not None:
        w, s, e, n = around
        geoms = shapely.intersection(
            geoms, box(w - MARGIN_DEG, s - MARGIN_DEG, e + MARGIN_DEG, n + MARGIN_DEG)
        )
    geoms = shapely.simplify(geoms, TOLERANCE_DEG, preserve_topology=True)
    kept: list[BaseGeometry] = []
    for g in geoms:
        parts = getattr(g, "geoms", [g])
        kept += [p for p in parts if p.geom_type in ("Polygon", "LineString") and not p.is_empty]
    if not kept and len(geoms):
        raise SourceError(f"{path}: holds no areas or lines near the neighbourhoods")
    if shapely.get_num_coordinates(np.asarray(kept, dtype=object)).sum() > MAX_COORDINATES:
        raise SourceError(
            f"{path}: too detailed to draw on every map (over {MAX_COORDINATES:,} points "
            "near the neighbourhoods); clip or simplify it first"
        )
    return kept
