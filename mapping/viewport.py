"""What the map client receives for one view: the places in it, or clusters of them.

The browser never holds more than ``max_features`` places: when more match the view,
the database aggregates them on a grid (``PlaceStore.cluster_grid``, over the rows the
spatial index selects) and only the cells travel.

Privacy: public maps only ever see places through :func:`geodata.privacy.public_filter`
and :func:`geodata.privacy.public_view`. Places with a generalised location are selected
and grouped by the generalised point, never the true one, so moving the view's edges
cannot reveal where a generalised place really is; hidden places are never drawn.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from shapely import box

from geodata.geometry_rules import M_PER_DEG_LAT, M_PER_DEG_LON
from geodata.models import Sensitivity
from geodata.privacy import PublicPlace, public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore
from mapping.features import Cluster, cluster_feature, place_features
from mapping.options import MapOptions

Bbox = tuple[float, float, float, float]
CLUSTER_PIXELS = 80  # a cluster cell is about this wide on screen
TILE_PIXELS = 256


def cell_size_deg(zoom: int, pixels: int = CLUSTER_PIXELS) -> float:
    """Grid cell size in degrees that is about ``pixels`` wide at ``zoom`` (powers of two,
    so the cells of one zoom level nest in those of the level above)."""
    return 360.0 / (TILE_PIXELS * 2**zoom) * pixels


def grid_margin(bbox: Bbox, grid_m: float) -> Bbox:
    """``bbox`` grown by one generalisation cell, to catch places whose generalised point
    lies inside it while their true location lies just outside."""
    lat = max(abs(bbox[1]), abs(bbox[3]))
    dlat = grid_m / M_PER_DEG_LAT
    dlon = grid_m / (M_PER_DEG_LON * max(math.cos(math.radians(min(lat, 89.0))), 1e-6))
    return (
        max(bbox[0] - dlon, -180.0),
        max(bbox[1] - dlat, -90.0),
        min(bbox[2] + dlon, 180.0),
        min(bbox[3] + dlat, 90.0),
    )


@dataclass(frozen=True)
class View:
    """What to send for one view: places, or clusters when there are too many."""

    mode: str  # "places" or "clusters"
    total: int  # places drawn in the view (all of them, even in cluster mode)
    places: list[PublicPlace]
    clusters: list[Cluster]

    def geojson(self, k: int, options: MapOptions | None = None) -> dict[str, Any]:
        if self.mode == "places":
            features = place_features(self.places)
        else:
            features = [cluster_feature(c, k, options or MapOptions()) for c in self.clusters]
        return {"type": "FeatureCollection", "mode": self.mode, "features": features}


def _generalised_in_view(
    store: PlaceStore, flt: PlaceFilter, bbox: Bbox, grid_m: float
) -> list[PublicPlace]:
    candidates = dataclasses.replace(
        flt, bbox=grid_margin(bbox, grid_m), sensitivity=str(Sensitivity.GENERALISED)
    )
    shown = [public_view(p, grid_m) for p in store.list(candidates)]
    if not shown:
        return []
    inside = shapely.intersects(box(*bbox), [p.geometry for p in shown])
    return [p for p, keep in zip(shown, inside, strict=True) if keep]


def merge_cells(cells: Iterable[tuple[int, int, int, float, float]]) -> list[Cluster]:
    """Sum (col, row, count, lon, lat) rows per cell; the position is the mean of members."""
    sums: dict[tuple[int, int], list[float]] = {}
    for col, row, count, lon, lat in cells:
        s = sums.setdefault((col, row), [0.0, 0.0, 0.0])
        s[0] += count
        s[1] += lon * count
        s[2] += lat * count
    return [Cluster(lon=s[1] / s[0], lat=s[2] / s[0], count=int(s[0])) for s in sums.values()]


def places_in_view(
    store: PlaceStore, flt: PlaceFilter, bbox: Bbox, zoom: int, options: MapOptions
) -> View:
    """The public places of ``flt`` inside ``bbox``, or their clusters at this ``zoom``."""
    flt = public_filter(flt, "map")
    exact = dataclasses.replace(flt, bbox=bbox, sensitivity=str(Sensitivity.PUBLIC))
    cell = cell_size_deg(zoom)
    grid = store.cluster_grid(exact, cell)
    generalised = _generalised_in_view(store, flt, bbox, options.grid_m)
    total = sum(c.count for c in grid) + len(generalised)
    if total <= options.max_features:
        places = [public_view(p, options.grid_m) for p in store.list(exact)]
        return View("places", total, places + generalised, [])
    rows = [(c.col, c.row, c.count, c.lon, c.lat) for c in grid]
    for p in generalised:
        pt = p.geometry.representative_point()  # type: ignore[union-attr]
        rows.append((math.floor(pt.x / cell), math.floor(pt.y / cell), 1, pt.x, pt.y))
    return View("clusters", total, [], merge_cells(rows))
