"""SQLite side of workshops: adding one, finding one by its join code, listing them
(semantics on :class:`~geodata.store.base.PlaceStore`)."""

from __future__ import annotations

import sqlite3

import orjson

from geodata.errors import Conflict, NotFound
from geodata.models import (
    Workshop,
)
from geodata.store.records import (
    WORKSHOP_COLUMNS,
    iso,
    workshop_from_row,
)


class WorkshopsMixin:
    """Workshops of :class:`~geodata.store.sqlite.SQLiteStore`; needs its connection."""

    def add_workshop(self, workshop: Workshop) -> Workshop:
        workshop.code = workshop.code.upper()
        try:
            with self.transaction():
                self.conn.execute(
                    f"INSERT INTO workshops ({WORKSHOP_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        workshop.code,
                        workshop.title,
                        workshop.neighbourhood_id,
                        iso(workshop.starts_at),
                        iso(workshop.ends_at),
                        str(workshop.moderation),
                        orjson.dumps(workshop.languages).decode(),
                        workshop.created_by,
                        iso(workshop.created_at),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"the join code {workshop.code} is already taken") from exc
        return workshop

    def get_workshop(self, code: str) -> Workshop:
        row = self.conn.execute(
            f"SELECT {WORKSHOP_COLUMNS} FROM workshops WHERE code = ?",
            (code.strip().upper(),),
        ).fetchone()
        if row is None:
            raise NotFound(f"there is no workshop with the code {code!r}")
        return workshop_from_row(row)

    def workshops(self) -> list[Workshop]:
        rows = self.conn.execute(
            f"SELECT {WORKSHOP_COLUMNS} FROM workshops ORDER BY created_at DESC"
        ).fetchall()
        return [workshop_from_row(r) for r in rows]
