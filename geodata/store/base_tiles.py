"""Vector tiles from the store: the grid cells of clustered maps, the privacy check every
tile makes, and tiles built in Python (PostGIS encodes them in SQL instead)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geodata.place_filter import PlaceFilter
from geodata.store.base_exports import EXPORT_COLUMNS

if TYPE_CHECKING:  # the tile modules import numpy and pandas: only when tiles are built
    from geodata.tile_layers import TilePlaces
    from geodata.tilematrix import Tile


@dataclass(frozen=True)
class GridCell:
    """The matching places whose bounding-box centre falls in one cell of a lon/lat grid."""

    col: int  # floor(centre longitude / cell size)
    row: int  # floor(centre latitude / cell size)
    count: int
    lon: float  # mean of the places' bounding-box centres
    lat: float


def require_shown_where_stored(flt: PlaceFilter) -> None:
    """Refuse a filter that could let a stored geometry out which the public may not see
    there (generalised and hidden places): tiles draw stored geometries as they are."""
    if flt.audience is None or flt.sensitivity is None or str(flt.sensitivity) != "public":
        raise ValueError(
            "a tile draws stored geometries: give it a public_filter with sensitivity 'public'"
        )


class TileDefaults:
    """Tiles built in Python, mixed into :class:`~geodata.store.base.PlaceStore`."""

    def tile_rows(self, flt: PlaceFilter) -> list[tuple[Any, ...]]:
        """(id, WKB geometry, title, category, neighbourhood name, year_from, year_to) of
        the places matching ``flt`` (``bbox`` exact): public columns only."""
        names = {n.id: n.name for n in self.neighbourhoods()}
        c = {name: i for i, name in enumerate(EXPORT_COLUMNS)}
        return [
            (
                r[c["id"]],
                r[c["geom"]],
                r[c["title"]],
                r[c["category"]],
                names.get(r[c["neighbourhood_id"]]),
                r[c["year_from"]],
                r[c["year_to"]],
            )
            for rows in self.export_rows(flt)
            for r in rows
        ]

    def places_tile(
        self,
        flt: PlaceFilter,
        tile: Tile,
        extra: TilePlaces,
        *,
        layer: str = "places",
        limit: int | None = None,
    ) -> bytes | None:
        """An MVT layer of the places matching ``flt`` at their stored geometries, and of
        ``extra`` (places the caller has located: generalised ones at their public point),
        with :data:`~geodata.tile_layers.PLACE_PROPERTIES`; None when they are more than
        ``limit``. ``flt`` must come from :func:`geodata.privacy.public_filter` narrowed
        to places shown where they are."""
        from geodata.tile_layers import TilePlaces, places_layer

        require_shown_where_stored(flt)
        if limit is not None and self.count(flt) + len(extra) > limit:
            return None
        return places_layer(layer, tile, TilePlaces.from_rows(self.tile_rows(flt)).concat(extra))

    def tile_grid(self, flt: PlaceFilter, cell_deg: float) -> list[GridCell]:
        """:meth:`cluster_grid` for one vector tile (PostGIS runs it without parallel
        workers: a map asks for a dozen tiles at once, which would only compete)."""
        return self.cluster_grid(flt, cell_deg)

    def features_tile(
        self, tile: Tile, features: TilePlaces, kinds: Mapping[str, str], *, layer: str
    ) -> bytes:
        """An MVT layer of ``features`` (already public, such as the walks' public routes),
        with their properties, each of the kind ``kinds`` names ("string", "integer",
        "boolean")."""
        from geodata.tile_layers import features_layer

        return features_layer(layer, tile, features)

    def neighbourhoods_tile(
        self, tile: Tile, counts: dict[int, int], *, layer: str = "neighbourhoods"
    ) -> bytes:
        """An MVT layer of the neighbourhoods meeting ``tile``, each with its ``places``
        count from ``counts``."""
        from geodata.tile_layers import neighbourhoods_layer

        return neighbourhoods_layer(layer, tile, self.neighbourhoods(), counts)
