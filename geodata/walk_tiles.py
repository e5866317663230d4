"""The open-data walks as vector tiles draw them: each walk's public route with the short
fields of its OGC item, indexed so that a tile finds its walks without a database query.

What the public sees of a walk is decided once, by :func:`geodata.walk_views.open_data_walks`
(published, consent to open data, only the stops still public; a route that passed by a
stop no longer public gives way to the line through the stops still shown), exactly as
for the OGC items and the downloads. A walk without a route (a single stop left) is not
drawn, as its OGC item has no geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from geodata.io.walks import WALK_FIELDS, walk_record
from geodata.store.base import PlaceStore
from geodata.tile_layers import TilePlaces
from geodata.tilematrix import Tile
from geodata.walk_views import PublicWalk, open_data_walks

# A walk's properties in a tile: its id, then the short fields of its OGC item (the long
# texts, the stops' titles and the page's address stay in the item).
WALK_TILE_FIELDS = (
    "title",
    "title_language",
    "stops",
    "length_m",
    "walking_minutes",
    "languages",
    "editorial",
    "licence",
)
# Each property's kind ("string", "integer", "boolean"), as the OGC schema types it.
WALK_TILE_KINDS = {"id": "string", **{name: WALK_FIELDS[name] for name in WALK_TILE_FIELDS}}


@dataclass(frozen=True)
class WalkLines:
    """Walk routes as columns: ``routes`` the lines, ``starts`` each route's first point
    (lon/lat), ``properties`` per name of :data:`WALK_TILE_KINDS` a list."""

    routes: np.ndarray
    starts: np.ndarray
    properties: dict[str, list[Any]]
    tree: shapely.STRtree

    def __len__(self) -> int:
        return len(self.routes)

    @classmethod
    def of(cls, walks: Sequence[PublicWalk]) -> WalkLines:
        """From the public views of walks (only what the public may see of them)."""
        drawn = [w for w in walks if w.route is not None]
        records = [walk_record(w, "") for w in drawn]
        properties = {
            "id": [w.id for w in drawn],
            **{name: [r[name] for r in records] for name in WALK_TILE_FIELDS},
        }
        routes = np.empty(len(drawn), dtype=object)
        routes[:] = [w.route for w in drawn]
        starts = shapely.get_coordinates(shapely.get_point(routes, 0)).reshape(-1, 2)
        return cls(routes, starts, properties, shapely.STRtree(routes))

    @classmethod
    def open_data(cls, store: PlaceStore) -> WalkLines:
        """The walks every open-data output holds."""
        return cls.of(open_data_walks(store))

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        if not len(self):
            return None
        minx, miny, maxx, maxy = shapely.total_bounds(self.routes).tolist()
        return minx, miny, maxx, maxy

    def in_tile(self, tile: Tile) -> TilePlaces:
        """The walks whose route meets ``tile``, in the order they were given."""
        hits = np.sort(self.tree.query(shapely.box(*tile.bounds), predicate="intersects"))
        index = hits.tolist()
        return TilePlaces.of(
            self.routes[hits], {k: [v[i] for i in index] for k, v in self.properties.items()}
        )

    def starts_in(self, tile: Tile) -> np.ndarray:
        """The first points (lon/lat) of the walks that start in ``tile``: each walk is
        counted in one tile of a zoom, as each place is."""
        if not len(self):
            return self.starts
        w, s, e, n = tile.bounds
        x, y = self.starts[:, 0], self.starts[:, 1]
        return self.starts[(x >= w) & (x < e) & (y > s) & (y <= n)]  # half-open: one tile
