"""What the public may see in one vector tile: the open-data places as the downloads and
OGC items show them, and the neighbourhoods with their counts.

Places go through :func:`geodata.privacy.public_filter` (published, consent to open
data). Those shown where they are get drawn from their stored geometries by the store
(in SQL on PostGIS). Generalised places are placed by
:func:`geodata.privacy.public_locations` (the rule of ``public_view`` and of every
download) and drawn at their grid cell only when that cell's point lies in the tile;
hidden places are never drawn. Matching a tile on public locations only means that no
sequence of tiles can narrow down where a generalised or hidden place really is.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import shapely

from geodata.geometry_rules import M_PER_DEG_LAT, M_PER_DEG_LON
from geodata.models import Sensitivity
from geodata.privacy import DEFAULT_GRID_M, public_filter, public_locations
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.tile_layers import TilePlaces
from geodata.tilematrix import Tile

Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class PublicTile:
    """The open-data places of a tile: ``exact`` filters those the store may draw where
    they are stored; ``generalised`` holds the others, already at their public points."""

    tile: Tile
    exact: PlaceFilter
    generalised: TilePlaces

    def encode(
        self, store: PlaceStore, layer: str = "places", limit: int | None = None
    ) -> bytes | None:
        """The tile's places as one MVT layer (ST_AsMVT on PostGIS, numpy elsewhere), or
        None when there are more than ``limit``."""
        return store.places_tile(self.exact, self.tile, self.generalised, layer=layer, limit=limit)


def _grown(bbox: Bbox, grid_m: float) -> Bbox:
    """``bbox`` grown by a grid cell each way: a generalised place's public point lies
    within one cell of its stored geometry, so this finds every place that may be shown
    inside ``bbox`` (the selection only; what is shown is decided on public points)."""
    lat = min(max(abs(bbox[1]), abs(bbox[3])) + grid_m / M_PER_DEG_LAT, 89.0)
    dlat = grid_m / M_PER_DEG_LAT
    dlon = grid_m / (M_PER_DEG_LON * math.cos(math.radians(lat)))
    return (
        max(bbox[0] - dlon, -180.0),
        max(bbox[1] - dlat, -90.0),
        min(bbox[2] + dlon, 180.0),
        min(bbox[3] + dlat, 90.0),
    )


def public_tile(
    store: PlaceStore,
    tile: Tile,
    flt: PlaceFilter | None = None,
    grid_m: float = DEFAULT_GRID_M,
) -> PublicTile:
    """The open-data places of ``flt`` whose public location lies in ``tile``."""
    wanted = public_filter(dataclasses.replace(flt or PlaceFilter(), bbox=tile.bounds), "open_data")
    exact = dataclasses.replace(wanted, sensitivity=str(Sensitivity.PUBLIC))
    nearby = dataclasses.replace(
        wanted, bbox=_grown(tile.bounds, grid_m), sensitivity=str(Sensitivity.GENERALISED)
    )
    candidates = TilePlaces.from_rows(store.tile_rows(nearby), generalised=True)
    if not len(candidates):
        return PublicTile(tile, exact, candidates)
    shown, _ = public_locations(
        [str(Sensitivity.GENERALISED)] * len(candidates), candidates.geometries, grid_m
    )
    inside = shapely.intersects(shapely.box(*tile.bounds), shown)
    located = TilePlaces.of(shown, candidates.properties).select(inside)
    return PublicTile(tile, exact, located)


def neighbourhoods_tile(store: PlaceStore, tile: Tile, layer: str = "neighbourhoods") -> bytes:
    """The neighbourhoods meeting ``tile``, each with how many open-data places it holds
    (the count the OGC items and the neighbourhood download give)."""
    counts = store.counts_by_neighbourhood(public_filter(None, "open_data"))
    return store.neighbourhoods_tile(
        tile, {nid: n for nid, n in counts.items() if nid is not None}, layer=layer
    )
