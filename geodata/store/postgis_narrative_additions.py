"""PostGIS side of narrative additions (memories and translations residents add to
places, migration 0011_narrative_additions), mixed into
:class:`~geodata.store.postgis.PostGISStore`; the semantics match
:mod:`geodata.store.sqlite_narrative_additions` method for method."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from geodata.errors import Conflict, NotFound
from geodata.models import NarrativeAddition, Status
from geodata.store.narrative_additions import COLUMNS, addition_from_row, addition_row


class NarrativeAdditionsMixin:
    """Narrative additions; needs the connection helpers of PostGISStore."""

    _write: Callable[[], AbstractContextManager[psycopg.Connection]]
    _fetchone: Callable[..., tuple[Any, ...] | None]
    _fetchall: Callable[..., list[tuple[Any, ...]]]

    def lock_place(self, place_id: str) -> None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT 1 FROM places WHERE id = %s FOR UPDATE", (place_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"there is no place {place_id}")

    def add_narrative_addition(self, addition: NarrativeAddition) -> NarrativeAddition:
        a = addition
        try:
            with self._write() as conn:
                self.lock_place(a.place_id)
                conn.execute(
                    f"INSERT INTO narrative_additions ({COLUMNS}) VALUES "
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    addition_row(a),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"there is already a narrative {a.id}") from exc
        return a

    def narrative_addition(self, addition_id: str) -> NarrativeAddition:
        row = self._fetchone(
            f"SELECT {COLUMNS} FROM narrative_additions WHERE id = %s", (addition_id,)
        )
        if row is None:
            raise NotFound(f"there is no added narrative {addition_id}")
        return addition_from_row(row)

    _WHERE = (
        "WHERE (%(place)s::text IS NULL OR place_id = %(place)s) "
        "AND (%(status)s::text IS NULL OR status = %(status)s)"
    )

    def narrative_additions(
        self,
        *,
        place_id: str | None = None,
        status: Status | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[NarrativeAddition]:
        rows = self._fetchall(
            f"SELECT {COLUMNS} FROM narrative_additions {self._WHERE} "
            "ORDER BY created_at, id LIMIT %(limit)s OFFSET %(offset)s",
            {
                "place": place_id,
                "status": None if status is None else str(status),
                "limit": limit,
                "offset": offset,
            },
        )
        return [addition_from_row(r) for r in rows]

    def count_narrative_additions(
        self, *, place_id: str | None = None, status: Status | str | None = None
    ) -> int:
        row = self._fetchone(
            f"SELECT count(*) FROM narrative_additions {self._WHERE}",
            {"place": place_id, "status": None if status is None else str(status)},
        )
        return int(row[0]) if row else 0

    def update_narrative_addition(self, addition: NarrativeAddition) -> NarrativeAddition:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE narrative_additions SET status = %s, reason = %s, updated_at = %s "
                "WHERE id = %s",
                (str(addition.status), addition.reason, addition.updated_at, addition.id),
            ).rowcount
        if not changed:
            raise NotFound(f"there is no added narrative {addition.id}")
        return addition

    def narrative_addition_ids_by_contact(self, contact: str) -> list[str]:
        rows = self._fetchall(
            "SELECT id FROM narrative_additions WHERE contributor_contact IS NOT NULL AND "
            "lower(trim(contributor_contact)) = lower(trim(%s)) ORDER BY created_at, id",
            (contact,),
        )
        return [r[0] for r in rows]

    def delete_narrative_additions(self, addition_ids: Sequence[str]) -> int:
        if not addition_ids:
            return 0
        ids = list(addition_ids)
        with self._write() as conn:
            # Their own events (submitted, published, rejected...) name them in the snapshot.
            conn.execute(
                "DELETE FROM audit_log WHERE place_id IN (SELECT place_id FROM "
                "narrative_additions WHERE id = ANY(%(ids)s)) AND action LIKE 'narrative%%' "
                "AND (coalesce(after, before)::jsonb -> 'narrative' ->> 'id') = ANY(%(ids)s)",
                {"ids": ids},
            )
            return conn.execute(
                "DELETE FROM narrative_additions WHERE id = ANY(%s)", (ids,)
            ).rowcount
