"""SQLite side of narrative additions (memories and translations residents add to
places), mixed into :class:`~geodata.store.sqlite.SQLiteStore`; semantics on
:class:`~geodata.store.narrative_additions.NarrativeAdditionsInterface`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import orjson

from geodata.errors import Conflict, NotFound
from geodata.models import NarrativeAddition, Status
from geodata.store.narrative_additions import COLUMNS, addition_from_row, addition_row
from geodata.store.records import iso, parse_iso


class NarrativeAdditionsMixin:
    """Narrative additions; needs SQLiteStore's ``conn`` and ``transaction``."""

    conn: sqlite3.Connection
    transaction: Callable[[], AbstractContextManager[None]]

    def lock_place(self, place_id: str) -> None:
        # A transaction holds SQLite's one write lock already: only the place's existence.
        if self.conn.execute("SELECT 1 FROM places WHERE id = ?", (place_id,)).fetchone() is None:
            raise NotFound(f"there is no place {place_id}")

    def add_narrative_addition(self, addition: NarrativeAddition) -> NarrativeAddition:
        a = addition
        try:
            with self.transaction():
                self.lock_place(a.place_id)
                self.conn.execute(
                    f"INSERT INTO narrative_additions ({COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    addition_row(a, iso),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"there is already a narrative {a.id}") from exc
        return a

    def narrative_addition(self, addition_id: str) -> NarrativeAddition:
        row = self.conn.execute(
            f"SELECT {COLUMNS} FROM narrative_additions WHERE id = ?", (addition_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"there is no added narrative {addition_id}")
        return addition_from_row(row, parse_iso)

    _WHERE = "WHERE (?1 IS NULL OR place_id = ?1) AND (?2 IS NULL OR status = ?2)"

    def narrative_additions(
        self,
        *,
        place_id: str | None = None,
        status: Status | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[NarrativeAddition]:
        rows = self.conn.execute(
            f"SELECT {COLUMNS} FROM narrative_additions {self._WHERE} "
            "ORDER BY created_at, rowid LIMIT ?3 OFFSET ?4",
            (place_id, None if status is None else str(status), -1 if limit is None else limit,
             offset),
        ).fetchall()  # fmt: skip
        return [addition_from_row(r, parse_iso) for r in rows]

    def count_narrative_additions(
        self, *, place_id: str | None = None, status: Status | str | None = None
    ) -> int:
        return self.conn.execute(
            f"SELECT count(*) FROM narrative_additions {self._WHERE}",
            (place_id, None if status is None else str(status)),
        ).fetchone()[0]

    def update_narrative_addition(self, addition: NarrativeAddition) -> NarrativeAddition:
        with self.transaction():
            changed = self.conn.execute(
                "UPDATE narrative_additions SET status = ?, reason = ?, updated_at = ? "
                "WHERE id = ?",
                (str(addition.status), addition.reason, iso(addition.updated_at), addition.id),
            ).rowcount
        if not changed:
            raise NotFound(f"there is no added narrative {addition.id}")
        return addition

    def narrative_addition_ids_by_contact(self, contact: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT id FROM narrative_additions WHERE contributor_contact IS NOT NULL AND "
            "lower(trim(contributor_contact)) = lower(trim(?)) ORDER BY created_at, rowid",
            (contact,),
        ).fetchall()
        return [r[0] for r in rows]

    def delete_narrative_additions(self, addition_ids: Sequence[str]) -> int:
        if not addition_ids:
            return 0
        ids = orjson.dumps(list(addition_ids)).decode()
        with self.transaction():
            # Their own events (submitted, published, rejected...) name them in the snapshot.
            self.conn.execute(
                "DELETE FROM audit_log WHERE place_id IN (SELECT place_id FROM "
                "narrative_additions WHERE id IN (SELECT value FROM json_each(?1))) AND "
                "action LIKE 'narrative%' AND "
                "json_extract(coalesce(after, before), '$.narrative.id') IN "
                "(SELECT value FROM json_each(?1))",
                (ids,),
            )
            return self.conn.execute(
                "DELETE FROM narrative_additions WHERE id IN (SELECT value FROM json_each(?))",
                (ids,),
            ).rowcount
