"""PostGIS side of workshops: adding one, finding one by its join code, listing them
(semantics on :class:`~geodata.store.base.PlaceStore`)."""

from __future__ import annotations

import orjson

from geodata.errors import Conflict, NotFound
from geodata.models import Workshop
from geodata.store.records import (
    WORKSHOP_COLUMNS,
    iso,
    workshop_from_row,
)


class WorkshopsMixin:
    """Workshops of :class:`~geodata.store.postgis.PostGISStore`; needs its connection."""

    def add_workshop(self, workshop: Workshop) -> Workshop:
        workshop.code = workshop.code.upper()
        with self._write() as conn:
            cur = conn.execute(
                f"INSERT INTO workshops ({WORKSHOP_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s) ON CONFLICT (code) DO NOTHING",
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
            if cur.rowcount == 0:
                raise Conflict(f"the join code {workshop.code} is already taken")
        return workshop

    def get_workshop(self, code: str) -> Workshop:
        row = self._fetchone(
            f"SELECT {self._WORKSHOP_SELECT} FROM workshops WHERE code = %s",
            (code.strip().upper(),),
        )
        if row is None:
            raise NotFound(f"there is no workshop with the code {code!r}")
        return workshop_from_row(row)

    def workshops(self) -> list[Workshop]:
        rows = self._fetchall(
            f"SELECT {self._WORKSHOP_SELECT} FROM workshops ORDER BY created_at DESC"
        )
        return [workshop_from_row(r) for r in rows]
