"""Vector tiles of the open-data collections: places and walks (or, past the cap, their
clusters) and neighbourhoods, as Mapbox Vector Tiles.

A places tile holds at most ``options.max_features`` places. With more, it holds the
clusters the maps draw at that zoom instead (:func:`mapping.viewport.cell_size_deg`
cells counted by the database, ``PlaceStore.tile_grid``; generalised places counted at
their public point), each with its ``count`` only from ``options.k`` up. A walks tile
likewise holds at most that many routes; past it, the walks starting in the tile as
clusters on the same grid, at their first points.
"""

from __future__ import annotations

import math

import numpy as np

from geodata.mvt import encode_layer
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.tilematrix import Tile
from geodata.tiles import PublicTile, neighbourhoods_tile, public_tile
from geodata.walk_tiles import WALK_TILE_KINDS, WalkLines
from mapping.features import Cluster
from mapping.options import MapOptions
from mapping.style import short_count
from mapping.viewport import cell_size_deg, merge_cells

COLLECTIONS = ("places", "neighbourhoods", "walks")


def clusters_layer(name: str, tile: Tile, clusters: list[Cluster], k: int) -> bytes:
    """Cluster points with ``cluster`` true, their ``count`` (left out below ``k``, as the
    maps do) and the bubble's ``label`` ("<3", "250", "1.2k")."""
    if not clusters:
        return b""
    lonlat = np.array([(c.lon, c.lat) for c in clusters], dtype=np.float64)
    return encode_layer(
        name,
        points=tile.points(lonlat),
        point_properties={
            "cluster": [True] * len(clusters),
            "count": [c.count if c.count >= k else None for c in clusters],
            "label": [short_count(c.count, k) for c in clusters],
        },
    )


def _point_cells(xy: np.ndarray, cell: float) -> list[tuple[int, int, int, float, float]]:
    """Each lon/lat point as a grid cell of one (merged by :func:`merge_cells`)."""
    return [(math.floor(x / cell), math.floor(y / cell), 1, x, y) for x, y in xy.tolist()]


def tile_clusters(store: PlaceStore, public: PublicTile) -> list[Cluster]:
    """The tile's places merged on the maps' cluster grid for its zoom."""
    cell = cell_size_deg(public.tile.z)
    rows = [(c.col, c.row, c.count, c.lon, c.lat) for c in store.tile_grid(public.exact, cell)]
    rows += _point_cells(public.generalised.xy, cell)  # generalised places are points
    return merge_cells(rows)


def places_tile(
    store: PlaceStore, tile: Tile, options: MapOptions, flt: PlaceFilter | None = None
) -> bytes:
    """The ``places`` layer of a tile: the places in it, or their clusters past the cap."""
    public = public_tile(store, tile, flt, options.grid_m)
    places = public.encode(store, "places", limit=options.max_features)
    if places is not None:
        return places
    return clusters_layer("places", tile, tile_clusters(store, public), options.k)


def walks_tile(store: PlaceStore, tile: Tile, options: MapOptions, walks: WalkLines) -> bytes:
    """The ``walks`` layer of a tile: the public routes meeting it (ST_AsMVT on PostGIS),
    or past the cap the walks starting in it, clustered."""
    routes = walks.in_tile(tile)
    if len(routes) <= options.max_features:
        return store.features_tile(tile, routes, WALK_TILE_KINDS, layer="walks")
    clusters = merge_cells(_point_cells(walks.starts_in(tile), cell_size_deg(tile.z)))
    return clusters_layer("walks", tile, clusters, options.k)


def collection_tile(
    store: PlaceStore,
    collection: str,
    tile: Tile,
    options: MapOptions,
    walks: WalkLines | None = None,
) -> bytes:
    """One collection's tile (an empty tile is zero bytes, a valid MVT). ``walks``: the
    open-data walks when the caller keeps them (read from the store otherwise)."""
    if collection == "places":
        return places_tile(store, tile, options)
    if collection == "neighbourhoods":
        return neighbourhoods_tile(store, tile)
    if collection == "walks":
        lines = walks if walks is not None else WalkLines.open_data(store)
        return walks_tile(store, tile, options, lines)
    raise ValueError(f"no tiles for {collection!r}")
