"""PostGIS side of neighbourhoods: replacing them, their versions, and assigning places
to them in the database (semantics on :class:`~geodata.store.base.PlaceStore`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.models import Neighbourhood
from geodata.store.records import (
    neighbourhoods_from_rows,
)


class NeighbourhoodsMixin:
    """Neighbourhoods of :class:`~geodata.store.postgis.PostGISStore`; needs its connections."""

    def set_neighbourhood_ids(self, assignments: Iterable[tuple[str, int | None]]) -> None:
        pairs = list(assignments)
        with self._write() as conn:
            # One statement over two arrays instead of a round trip per place.
            conn.execute(
                "UPDATE places p SET neighbourhood_id = a.nid "
                "FROM unnest(%s::text[], %s::integer[]) AS a(id, nid) WHERE p.id = a.id",
                ([pid for pid, _ in pairs], [nid for _, nid in pairs]),
            )

    def assign_neighbourhoods_in_db(self, place_ids: Sequence[str] | None = None) -> int:
        """Set each place's neighbourhood in the database; return how many places changed.

        Same rule as :func:`geodata.neighbourhoods.assign_neighbourhoods`: a point goes to
        the lowest-id neighbourhood containing it; a route or an area to the one it
        overlaps most (geodesic length or area of ``ST_Intersection``), ties to the
        lowest id; a place outside every neighbourhood gets none. ``place_ids`` limits it.
        """
        scope, params = ("", []) if place_ids is None else ("AND p.id = ANY(%s)", [list(place_ids)])
        with self._write() as conn:
            cur = conn.execute(
                f"""
                UPDATE places p SET neighbourhood_id = best.nid
                FROM places q LEFT JOIN LATERAL (
                    SELECT n.id AS nid FROM neighbourhoods n
                    WHERE ST_Intersects(q.geom, n.geom)
                    ORDER BY CASE
                        WHEN ST_Dimension(q.geom) = 0 OR ST_CoveredBy(q.geom, n.geom)
                            THEN 'Infinity'::float8
                        WHEN ST_Dimension(q.geom) = 2
                            THEN ST_Area(ST_Intersection(q.geom, n.geom)::geography)
                        ELSE ST_Length(ST_Intersection(q.geom, n.geom)::geography)
                    END DESC, n.id
                    LIMIT 1) best ON TRUE
                WHERE p.rid = q.rid {scope}
                  AND p.neighbourhood_id IS DISTINCT FROM best.nid""",
                params,
            )
            return cur.rowcount

    def reassign_neighbourhoods(self) -> int:
        return self.assign_neighbourhoods_in_db()

    def replace_neighbourhoods(
        self, items: Sequence[tuple[str, BaseGeometry, str | None]]
    ) -> list[Neighbourhood]:
        with self._write() as conn:
            conn.execute(
                "UPDATE places SET neighbourhood_id = NULL WHERE neighbourhood_id IS NOT NULL"
            )
            conn.execute("DELETE FROM neighbourhoods")
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO neighbourhoods (id, name, code, geom) "
                    "VALUES (%s, %s, %s, ST_GeomFromWKB(%s, 4326))",
                    [
                        (i, name, code, shapely.to_wkb(g))
                        for i, (name, g, code) in enumerate(items, start=1)
                    ],
                )
        return self.neighbourhoods()

    def places_version(self) -> tuple[str, datetime | None]:
        row = self._fetchone("SELECT version, changed_at FROM store_versions WHERE name = 'places'")
        if row is None:  # emptied by hand: fall back to reading every place
            return super().places_version()
        return row[0], row[1]

    def neighbourhoods_version(self) -> str:
        row = self._fetchone("SELECT version FROM store_versions WHERE name = 'neighbourhoods'")
        if row is None:  # emptied by hand: fall back to reading every polygon
            return super().neighbourhoods_version()
        # The database and schema as well: one process may open several stores.
        return f"postgis:{self.conninfo}:{self.schema}:{row[0]}"

    def neighbourhoods(self) -> list[Neighbourhood]:
        version = self._snapshot_version("neighbourhoods")
        kept = self._kept_neighbourhoods
        if version is not None and kept is not None and kept[0] == version:
            return list(kept[1])
        rows = self._fetchall(
            "SELECT id, name, code, ST_AsBinary(geom) FROM neighbourhoods ORDER BY id"
        )
        hoods = neighbourhoods_from_rows(rows)
        if version is not None:  # read in the snapshot that read the version: they agree
            self._kept_neighbourhoods = (version, hoods)
        return list(hoods)
