"""SQLite side of neighbourhoods: replacing them, their versions, and the places' assignments
(semantics on :class:`~geodata.store.base.PlaceStore`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.models import (
    Neighbourhood,
)
from geodata.store.records import (
    neighbourhoods_from_rows,
    parse_iso,
)


class NeighbourhoodsMixin:
    """Neighbourhoods of :class:`~geodata.store.sqlite.SQLiteStore`; needs its connection."""

    def set_neighbourhood_ids(self, assignments: Iterable[tuple[str, int | None]]) -> None:
        with self.transaction():
            self.conn.executemany(
                "UPDATE places SET neighbourhood_id = ? WHERE id = ?",
                [(nid, pid) for pid, nid in assignments],
            )

    def replace_neighbourhoods(
        self, items: Sequence[tuple[str, BaseGeometry, str | None]]
    ) -> list[Neighbourhood]:
        with self.transaction():
            self.conn.execute("UPDATE places SET neighbourhood_id = NULL")
            self.conn.execute("DELETE FROM neighbourhoods")
            self.conn.executemany(
                "INSERT INTO neighbourhoods (id, name, code, geom) VALUES (?, ?, ?, ?)",
                [
                    (i, name, code, shapely.to_wkb(g))
                    for i, (name, g, code) in enumerate(items, start=1)
                ],
            )
        return self.neighbourhoods()

    def places_version(self) -> tuple[str, datetime | None]:
        # Updates and deletions bump the counter (triggers); inserts raise max(rid).
        row = self.conn.execute(
            "SELECT (SELECT max(rid) FROM places), version, changed_at FROM store_versions "
            "WHERE name = 'places'"
        ).fetchone()
        if row is None:  # pragma: no cover - emptied by hand
            return super().places_version()
        newest = self.conn.execute(
            "SELECT updated_at FROM places ORDER BY rid DESC LIMIT 1"
        ).fetchone()
        times = [parse_iso(t) for t in (row[2], newest and newest[0]) if t]
        return f"{row[0]}:{row[1]}", max(times) if times else None

    def neighbourhoods_version(self) -> str:
        row = self.conn.execute(
            "SELECT version FROM store_versions WHERE name = 'neighbourhoods'"
        ).fetchone()
        # In-memory databases share a path; the object tells them apart.
        where = f"{self.path}@{id(self)}" if self.path == ":memory:" else self.path
        return f"sqlite:{where}:{row[0]}"

    def neighbourhoods(self) -> list[Neighbourhood]:
        rows = self.conn.execute(
            "SELECT id, name, code, geom FROM neighbourhoods ORDER BY id"
        ).fetchall()
        return neighbourhoods_from_rows(rows)
