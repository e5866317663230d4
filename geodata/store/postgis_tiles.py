"""PostGIS side of vector tiles, mixed into :class:`~geodata.store.postgis.PostGISStore`:
``ST_AsMVTGeom`` and ``ST_AsMVT`` encode each layer in the database, so the rows of a
tile never travel to Python.

The places layer draws the rows the filter picks (places shown where they are) and the
places the caller located itself (generalised ones, at the public point
:mod:`geodata.privacy` chose), passed in as arrays: one privacy rule, one encoder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shapely

from geodata.mvt import EXTENT
from geodata.store.base import PlaceFilter, require_shown_where_stored
from geodata.store.postgis_sql import place_where
from geodata.tile_layers import TilePlaces
from geodata.tilematrix import BUFFER, Tile

_GEOM = (
    f"ST_AsMVTGeom(ST_Transform({{}}, 3857), ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true)"
)

_PLACES = f"""
WITH f AS (
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
)
SELECT ST_AsMVT(f, %s::text, {EXTENT}, 'geom') FROM f WHERE geom IS NOT NULL
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


class TilesMixin:
    """Places and neighbourhoods layers in SQL; needs PostGISStore's ``_fetchone``."""

    _fetchone: Callable[..., tuple[Any, ...] | None]

    def places_tile(
        self, flt: PlaceFilter, tile: Tile, extra: TilePlaces, *, layer: str = "places"
    ) -> bytes:
        require_shown_where_stored(flt)
        where, params = place_where(flt)
        p = extra.properties
        wkbs = shapely.to_wkb(extra.geometries).tolist() if len(extra) else []
        row = self._fetchone(
            _PLACES.format(where=where),
            [
                tile.z, tile.x, tile.y, *params, tile.z, tile.x, tile.y,
                p["id"], wkbs, p["title"], p["category"], p["neighbourhood"],
                p["year_from"], p["year_to"], p["location_generalised"], layer,
            ],
        )  # fmt: skip
        return bytes(row[0]) if row and row[0] else b""

    def neighbourhoods_tile(
        self, tile: Tile, counts: dict[int, int], *, layer: str = "neighbourhoods"
    ) -> bytes:
        ids = [i for i in counts if i is not None]
        row = self._fetchone(
            _NEIGHBOURHOODS,
            [tile.z, tile.x, tile.y, ids, [counts[i] for i in ids], *tile.bounds, layer],
        )
        return bytes(row[0]) if row and row[0] else b""
