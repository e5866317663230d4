"""PostGIS side of walks (migration 0012_walks), mixed into
:class:`~geodata.store.postgis.PostGISStore`; the semantics match
:class:`~geodata.store.sqlite_walks.WalksMixin` method for method.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from geodata.errors import Conflict, NotFound
from geodata.models import utcnow
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

_SELECT = f"{WALK_COLUMNS}, ST_AsBinary(route)"


class WalksMixin:
    """Walks and their stops; needs the connection helpers of PostGISStore."""

    _write: Callable[[], AbstractContextManager[psycopg.Connection]]
    _fetchone: Callable[..., tuple[Any, ...] | None]
    _fetchall: Callable[..., list[tuple[Any, ...]]]

    @staticmethod
    def _write_stops(conn: psycopg.Connection, walk: Walk) -> None:
        conn.execute("DELETE FROM walk_stops WHERE walk_id = %s", (walk.id,))
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO walk_stops (walk_id, position, place_id, chapters) "
                    "VALUES (%s, %s, %s, %s::jsonb)",
                    [
                        (walk.id, i, s.place_id, chapters_json(s))
                        for i, s in enumerate(walk.stops, 1)
                    ],
                )
        except (psycopg.errors.ForeignKeyViolation, psycopg.errors.UniqueViolation) as exc:
            raise NotFound("a stop names a place that does not exist, or one place twice") from exc

    def add_walk(self, walk: Walk, edit_token_hash: str | None = None) -> Walk:
        with self._write() as conn:
            try:
                with conn.transaction():
                    conn.execute(
                        f"INSERT INTO walks ({NEW_WALK_COLUMNS}) VALUES (%s, %s, %s::jsonb, "
                        "ST_GeomFromWKB(%s, 4326), %s, %s, %s, %s, %s, %s, %s)",
                        new_walk_values(walk, edit_token_hash),
                    )
            except psycopg.errors.UniqueViolation as exc:
                raise Conflict(f"there is already a walk {walk.id}") from exc
            self._write_stops(conn, walk)
        return walk

    def _walks_from(self, rows: list[tuple[Any, ...]]) -> list[Walk]:
        if not rows:
            return []
        stop_rows = self._fetchall(
            "SELECT walk_id, place_id, chapters FROM walk_stops WHERE walk_id = ANY(%s) "
            "ORDER BY walk_id, position",
            ([r[0] for r in rows],),
        )
        return walks_from_rows(rows, stop_rows)

    def get_walk(self, walk_id: str) -> Walk:
        rows = self._fetchall(f"SELECT {_SELECT} FROM walks WHERE id = %s", (walk_id,))
        if not rows:
            raise NotFound(f"there is no walk {walk_id}")
        return self._walks_from(rows)[0]

    def update_walk(self, walk: Walk, *, expected_version: int | None = None) -> Walk:
        with self._write() as conn:
            row = conn.execute(
                "SELECT version FROM walks WHERE id = %s FOR UPDATE", (walk.id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"there is no walk {walk.id}")
            check_version(walk.id, row[0], expected_version)
            updated = dataclasses.replace(walk, version=row[0] + 1, updated_at=utcnow())
            conn.execute(
                "UPDATE walks SET status = %s, content = %s::jsonb, "
                "route = ST_GeomFromWKB(%s, 4326), contributor_name = %s, "
                "contributor_contact = %s, display_name = %s, updated_at = %s, version = %s "
                "WHERE id = %s",
                changed_walk_values(updated),
            )
            self._write_stops(conn, updated)
        return updated

    def walks(self, status: str | None = None, *, limit: int = 100, offset: int = 0) -> list[Walk]:
        rows = self._fetchall(
            f"SELECT {_SELECT} FROM walks WHERE (%(s)s::text IS NULL OR status = %(s)s) "
            "ORDER BY created_at DESC, id LIMIT %(l)s OFFSET %(o)s",
            {"s": status, "l": min(limit, MAX_WALKS_PAGE), "o": offset},
        )
        return self._walks_from(rows)

    def count_walks(self, status: str | None = None) -> int:
        row = self._fetchone(
            "SELECT count(*) FROM walks WHERE (%(s)s::text IS NULL OR status = %(s)s)",
            {"s": status},
        )
        return row[0] if row else 0

    def walk_edit_token_hash(self, walk_id: str) -> str | None:
        row = self._fetchone("SELECT edit_token_hash FROM walks WHERE id = %s", (walk_id,))
        return row[0] if row else None

    def walk_ids_by_contact(self, contact: str) -> list[str]:
        rows = self._fetchall(
            "SELECT id FROM walks WHERE lower(trim(contributor_contact)) = lower(trim(%s)) "
            "ORDER BY created_at, id",
            (contact,),
        )
        return [r[0] for r in rows]

    def delete_walk(self, walk_id: str) -> None:
        with self._write() as conn:
            if conn.execute("DELETE FROM walks WHERE id = %s", (walk_id,)).rowcount == 0:
                raise NotFound(f"there is no walk {walk_id}")
