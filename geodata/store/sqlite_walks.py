"""SQLite side of walks (migration 0012_walks), mixed into
:class:`~geodata.store.sqlite.SQLiteStore`; the PostGIS twin is
:mod:`geodata.store.postgis_walks`, the semantics on :class:`~geodata.store.walks.WalkStore`.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from geodata.errors import Conflict, NotFound
from geodata.models import utcnow
from geodata.store.records import iso, parse_iso
from geodata.store.walks import (
    MAX_WALKS_PAGE,
    NEW_WALK_COLUMNS,
    WALK_COLUMNS,
    changed_walk_values,
    chapters_json,
    check_version,
    new_walk_values,
    walks_from_rows,
)
from geodata.walks import Walk


class WalksMixin:
    """Walks and their stops; needs SQLiteStore's ``conn`` and ``transaction``."""

    conn: sqlite3.Connection
    transaction: Callable[[], AbstractContextManager[None]]

    def _write_stops(self, walk: Walk) -> None:
        self.conn.execute("DELETE FROM walk_stops WHERE walk_id = ?", (walk.id,))
        try:
            self.conn.executemany(
                "INSERT INTO walk_stops (walk_id, position, place_id, chapters) "
                "VALUES (?, ?, ?, ?)",
                [(walk.id, i, s.place_id, chapters_json(s)) for i, s in enumerate(walk.stops, 1)],
            )
        except sqlite3.IntegrityError as exc:
            raise NotFound("a stop names a place that does not exist, or one place twice") from exc

    def add_walk(self, walk: Walk, edit_token_hash: str | None = None) -> Walk:
        with self.transaction():
            try:
                self.conn.execute(
                    f"INSERT INTO walks ({NEW_WALK_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    new_walk_values(walk, edit_token_hash, iso),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"there is already a walk {walk.id}") from exc
            self._write_stops(walk)
        return walk

    def _walks_from(self, rows: list[Any]) -> list[Walk]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ", ".join("?" * len(ids))
        stop_rows = self.conn.execute(
            f"SELECT walk_id, place_id, chapters FROM walk_stops WHERE walk_id IN ({marks}) "
            "ORDER BY walk_id, position",
            ids,
        )
        return walks_from_rows(rows, stop_rows, parse_iso)

    def get_walk(self, walk_id: str) -> Walk:
        rows = self.conn.execute(
            f"SELECT {WALK_COLUMNS}, route FROM walks WHERE id = ?", (walk_id,)
        ).fetchall()
        if not rows:
            raise NotFound(f"there is no walk {walk_id}")
        return self._walks_from(rows)[0]

    def update_walk(self, walk: Walk, *, expected_version: int | None = None) -> Walk:
        with self.transaction():
            row = self.conn.execute("SELECT version FROM walks WHERE id = ?", (walk.id,)).fetchone()
            if row is None:
                raise NotFound(f"there is no walk {walk.id}")
            check_version(walk.id, row[0], expected_version)
            updated = dataclasses.replace(walk, version=row[0] + 1, updated_at=utcnow())
            self.conn.execute(
                "UPDATE walks SET status = ?, content = ?, route = ?, contributor_name = ?, "
                "contributor_contact = ?, display_name = ?, updated_at = ?, version = ? "
                "WHERE id = ?",
                changed_walk_values(updated, iso),
            )
            self._write_stops(updated)
        return updated

    def walks(self, status: str | None = None, *, limit: int = 100, offset: int = 0) -> list[Walk]:
        rows = self.conn.execute(
            f"SELECT {WALK_COLUMNS}, route FROM walks WHERE (?1 IS NULL OR status = ?1) "
            "ORDER BY created_at DESC, id LIMIT ?2 OFFSET ?3",
            (status, min(limit, MAX_WALKS_PAGE), offset),
        ).fetchall()
        return self._walks_from(rows)

    def count_walks(self, status: str | None = None) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM walks WHERE (?1 IS NULL OR status = ?1)", (status,)
        ).fetchone()[0]

    def walk_edit_token_hash(self, walk_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT edit_token_hash FROM walks WHERE id = ?", (walk_id,)
        ).fetchone()
        return row[0] if row else None

    def walk_ids_by_contact(self, contact: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT id FROM walks WHERE lower(trim(contributor_contact)) = lower(trim(?)) "
            "ORDER BY created_at, id",
            (contact,),
        ).fetchall()
        return [r[0] for r in rows]

    def delete_walk(self, walk_id: str) -> None:
        with self.transaction():
            if self.conn.execute("DELETE FROM walks WHERE id = ?", (walk_id,)).rowcount == 0:
                raise NotFound(f"there is no walk {walk_id}")
