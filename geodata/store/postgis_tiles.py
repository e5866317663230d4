"""PostGIS side of vector tiles, mixed into :class:`~geodata.store.postgis.PostGISStore`:
``ST_AsMVTGeom`` and ``ST_AsMVT`` encode each layer in the database, so the rows of a
tile never travel to Python.

The places layer draws the rows the filter picks (places shown where they are) and the
places the caller located itself (generalised ones, at the public point
:mod:`geodata.privacy` chose), passed in as arrays: one privacy rule, one encoder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import shapely
from psycopg import sql

from geodata.mvt import EXTENT
from geodata.store.base import PlaceFilter
from geodata.store.base_tiles import GridCell, require_shown_where_stored
from geodata.store.postgis_sql import place_where
from geodata.tile_layers import TilePlaces
from geodata.tilematrix import BUFFER, Tile

_GEOM = (
    f"ST_AsMVTGeom(ST_Transform({{}}, 3857), ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true)"
)

_PLACES_LAYER = f"""
SELECT ST_AsMVT(f, %s::text, {EXTENT}, 'geom') FROM (
    SELECT p.id, p.title, p.category, n.name AS neighbourhood, p.year_from, p.year_to,
           false AS location_generalised, {_GEOM.format("p.geom")} AS geom
    FROM places p LEFT JOIN neighbourhoods n ON n.id = p.neighbourhood_id
    WHERE {{where}}
    UNION ALL
    SELECT e.id, e.title, e.category, e.neighbourhood, e.year_from, e.year_to,
           e.location_generalised, {_GEOM.format("ST_GeomFromWKB(e.wkb, 4326)")}
    FROM unnest(%s::text[], %s::bytea[], %s::text[], %s::text[], %s::text[], %s::int[],
                %s::int[], %s::bool[])
         AS e(id, wkb, title, category, neighbourhood, year_from, year_to,
              location_generalised)
) f WHERE geom IS NOT NULL
"""
# Counted first, in the same statement: the layer is only built within the limit (a
# CASE evaluates its subquery only when it is reached).
_PLACES = """
WITH counted AS (SELECT count(*) AS n FROM places p WHERE {where})
SELECT CASE WHEN counted.n + %s <= %s THEN coalesce(({layer}), ''::bytea) END FROM counted
"""

_NEIGHBOURHOODS = f"""
WITH f AS (
    SELECT n.id, n.name, n.code, coalesce(c.places, 0) AS places,
           {_GEOM.format("n.geom")} AS geom
    FROM neighbourhoods n LEFT JOIN unnest(%s::int[], %s::int[]) AS c(id, places)
         ON c.id = n.id
    WHERE ST_Intersects(n.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))
)
SELECT ST_AsMVT(f, %s::text, {EXTENT}, 'geom') FROM f WHERE geom IS NOT NULL
"""


# Features located in Python (the walks' public routes), encoded here: their geometries
# and each property come in as arrays, one typed array a property.
_FEATURES = sql.SQL(f"""
SELECT ST_AsMVT(f, %s::text, {EXTENT}, 'geom') FROM (
    SELECT {{columns}}, {_GEOM.format("ST_GeomFromWKB(e.wkb, 4326)")} AS geom
    FROM unnest(%s::bytea[], {{arrays}}) AS e(wkb, {{names}})
) f WHERE geom IS NOT NULL
""")
_SQL_TYPES = {"string": "text", "integer": "int8", "boolean": "bool"}


class TilesMixin:
    """Places and neighbourhoods layers in SQL; needs PostGISStore's connections."""

    _borrow: Callable[[], contextlib.AbstractContextManager[Any]]
    _held: Any
    _fetchall: Callable[..., list[tuple[Any, ...]]]
    transaction: Callable[[], contextlib.AbstractContextManager[None]]

    def tile_rows(self, flt: PlaceFilter) -> list[tuple[Any, ...]]:
        where, params = place_where(flt)
        return self._fetchall(
            "SELECT p.id, ST_AsBinary(p.geom), p.title, p.category, n.name, p.year_from, "
            "p.year_to FROM places p LEFT JOIN neighbourhoods n ON n.id = p.neighbourhood_id "
            f"WHERE {where}",
            params,
        )

    @contextlib.contextmanager
    def _serial(self) -> Iterator[Any]:
        """A connection in a transaction without parallel workers. A map asks for a dozen
        tiles at once, whose workers would only compete with each other; and the cost
        PostGIS declares for ``ST_AsMVTGeom`` makes the planner start them for a few
        thousand rows, where starting them costs more than it saves."""
        with contextlib.ExitStack() as stack:
            conn = self._held or stack.enter_context(self._borrow())
            stack.enter_context(conn.transaction())
            conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            yield conn

    def _tile_query(self, query: str | sql.Composable, params: list[Any]) -> bytes | None:
        """The bytes one tile statement answers (None for NULL)."""
        with self._serial() as conn:
            row = conn.execute(query, params).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def tile_grid(self, flt: PlaceFilter, cell_deg: float) -> list[GridCell]:
        with self.transaction():  # the grid's query runs on the connection held here
            self._held.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            return self.cluster_grid(flt, cell_deg)  # type: ignore[attr-defined]

    def places_tile(
        self,
        flt: PlaceFilter,
        tile: Tile,
        extra: TilePlaces,
        *,
        layer: str = "places",
        limit: int | None = None,
    ) -> bytes | None:
        require_shown_where_stored(flt)
        where, params = place_where(flt)
        p = extra.properties
        wkbs = shapely.to_wkb(extra.geometries).tolist() if len(extra) else []
        layer_params = [
            layer, tile.z, tile.x, tile.y, *params, tile.z, tile.x, tile.y,
            p["id"], wkbs, p["title"], p["category"], p["neighbourhood"],
            p["year_from"], p["year_to"], p["location_generalised"],
        ]  # fmt: skip
        query = _PLACES_LAYER.format(where=where)
        if limit is None:
            return self._tile_query(query, layer_params) or b""
        counted = _PLACES.format(where=where, layer=query)
        return self._tile_query(counted, [*params, len(extra), limit, *layer_params])

    def features_tile(
        self, tile: Tile, features: TilePlaces, kinds: Mapping[str, str], *, layer: str
    ) -> bytes:
        if not len(features):
            return b""
        names = [sql.Identifier(name) for name in kinds]
        query = _FEATURES.format(
            columns=sql.SQL(", ").join(sql.SQL("e.{}").format(n) for n in names),
            arrays=sql.SQL(", ").join(
                sql.SQL("%s::{}[]").format(sql.SQL(_SQL_TYPES[kind])) for kind in kinds.values()
            ),
            names=sql.SQL(", ").join(names),
        )
        wkbs = shapely.to_wkb(features.geometries).tolist()
        params = [layer, tile.z, tile.x, tile.y, wkbs, *(features.properties[k] for k in kinds)]
        return self._tile_query(query, params) or b""

    def neighbourhoods_tile(
        self, tile: Tile, counts: dict[int, int], *, layer: str = "neighbourhoods"
    ) -> bytes:
        ids = [i for i in counts if i is not None]
        return (
            self._tile_query(
                _NEIGHBOURHOODS,
                [tile.z, tile.x, tile.y, ids, [counts[i] for i in ids], *tile.bounds, layer],
            )
            or b""
        )
