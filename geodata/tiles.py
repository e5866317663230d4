"""What the public may see in one vector tile: the open-data places as the downloads and
OGC items show them (one privacy path), and the neighbourhoods with their counts.

Places go through :func:`geodata.privacy.public_filter` (published, consent to open
data). Those shown where they are get drawn from their stored geometries by the store
(in SQL on PostGIS); generalised places are found and placed by the downloads' own rule
(:func:`geodata.io.export.generalised_in_bbox`, i.e. :func:`geodata.privacy.public_locations`)
and drawn at their grid cell only if that cell's point lies in the tile; hidden places
are never drawn. Matching a tile on public locations only means that no sequence of
tiles can narrow down where a generalised or hidden place really is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from geodata.io.export import generalised_in_bbox, neighbourhood_names
from geodata.models import Sensitivity
from geodata.privacy import DEFAULT_GRID_M, public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.tile_layers import TilePlaces
from geodata.tilematrix import Tile


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


def public_tile(
    store: PlaceStore,
    tile: Tile,
    flt: PlaceFilter | None = None,
    grid_m: float = DEFAULT_GRID_M,
) -> PublicTile:
    """The open-data places of ``flt`` whose public location lies in ``tile``."""
    wanted = public_filter(dataclasses.replace(flt or PlaceFilter(), bbox=tile.bounds), "open_data")
    exact = dataclasses.replace(wanted, sensitivity=str(Sensitivity.PUBLIC))
    batch = generalised_in_bbox(store, wanted, neighbourhood_names(store), grid_m)
    if batch is None:
        return PublicTile(tile, exact, TilePlaces.empty())
    generalised = TilePlaces(
        batch.geometries,
        {
            "id": batch.ids,
            "title": batch.column("title"),
            "category": batch.column("category"),
            "neighbourhood": batch.neighbourhood(),
            "year_from": batch.column("year_from"),
            "year_to": batch.column("year_to"),
            "location_generalised": list(batch.location_generalised),
        },
    )
    return PublicTile(tile, exact, generalised)


def neighbourhoods_tile(store: PlaceStore, tile: Tile, layer: str = "neighbourhoods") -> bytes:
    """The neighbourhoods meeting ``tile``, each with how many open-data places it holds
    (the count the OGC items and the neighbourhood download give)."""
    counts = store.counts_by_neighbourhood(public_filter(None, "open_data"))
    return store.neighbourhoods_tile(
        tile, {nid: n for nid, n in counts.items() if nid is not None}, layer=layer
    )
