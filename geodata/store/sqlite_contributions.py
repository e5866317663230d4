"""SQLite side of contributions (edit tokens, flags, photos) and of the request
bookkeeping every worker shares (idempotent answers, rate-limit hits, service secrets),
mixed into :class:`~geodata.store.sqlite.SQLiteStore`; the PostGIS twin is
:mod:`geodata.store.postgis_contributions`. Semantics on
:class:`~geodata.store.base.PlaceStore`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from geodata.errors import Conflict, NotFound
from geodata.models import utcnow
from geodata.place_attachments import Media, PlaceFlag
from geodata.store.base_contributions import IdempotentResponse
from geodata.store.records import iso, parse_iso


class ContributionsMixin:
    """Edit tokens, flags, photos and request bookkeeping; needs SQLiteStore's ``conn``
    and ``transaction``."""

    conn: sqlite3.Connection
    transaction: Callable[[], AbstractContextManager[None]]

    # -- contributions: edit tokens, flags, photos --------------------------------------
    def set_edit_token_hash(self, place_id: str, token_hash: str) -> None:
        try:
            with self.transaction():
                self.conn.execute(
                    "INSERT INTO place_edit_tokens (place_id, token_hash, created_at) "
                    "VALUES (?, ?, ?) ON CONFLICT (place_id) DO UPDATE SET "
                    "token_hash = excluded.token_hash, created_at = excluded.created_at",
                    (place_id, token_hash, iso(utcnow())),
                )
        except sqlite3.IntegrityError as exc:
            raise NotFound(f"there is no place {place_id}") from exc

    def edit_token_hash(self, place_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT token_hash FROM place_edit_tokens WHERE place_id = ?", (place_id,)
        ).fetchone()
        return row[0] if row else None

    def add_flags(self, flags: Sequence[PlaceFlag]) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT OR IGNORE INTO place_flags "
                "(place_id, kind, other_place_id, detail, created_at) VALUES (?, ?, ?, ?, ?)",
                [
                    (f.place_id, f.kind, f.other_place_id, f.stored_note(), iso(f.created_at))
                    for f in flags
                ],
            )

    def flags(self, place_id: str | None = None, kind: str | None = None) -> list[PlaceFlag]:
        rows = self.conn.execute(
            "SELECT place_id, kind, other_place_id, detail, created_at FROM place_flags "
            "WHERE (?1 IS NULL OR place_id = ?1) AND (?2 IS NULL OR kind = ?2) "
            "ORDER BY created_at, rowid",
            (place_id, kind),
        ).fetchall()
        return [PlaceFlag.from_stored(r[0], r[1], r[2], r[3], parse_iso(r[4])) for r in rows]

    _MEDIA_COLUMNS = (
        "id, place_id, position, mime_type, width, height, bytes, path, thumb_path, "
        "thumb_width, thumb_height, sha256, caption, created_at"
    )

    @staticmethod
    def _media(r: Sequence[Any]) -> Media:
        return Media(
            id=r[0],
            place_id=r[1],
            position=r[2],
            mime_type=r[3],
            width=r[4],
            height=r[5],
            bytes=r[6],
            path=r[7],
            thumb_path=r[8],
            thumb_width=r[9],
            thumb_height=r[10],
            sha256=r[11],
            caption=r[12],
            created_at=parse_iso(r[13]),
        )

    def add_media(self, media: Media) -> Media:
        with self.transaction():
            if (
                self.conn.execute("SELECT 1 FROM places WHERE id = ?", (media.place_id,)).fetchone()
                is None
            ):
                raise NotFound(f"there is no place {media.place_id}")
            media.position = self.conn.execute(
                "SELECT coalesce(max(position), 0) + 1 FROM media WHERE place_id = ?",
                (media.place_id,),
            ).fetchone()[0]
            self.conn.execute(
                f"INSERT INTO media ({self._MEDIA_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    media.id,
                    media.place_id,
                    media.position,
                    media.mime_type,
                    media.width,
                    media.height,
                    media.bytes,
                    media.path,
                    media.thumb_path,
                    media.thumb_width,
                    media.thumb_height,
                    media.sha256,
                    media.caption,
                    iso(media.created_at),
                ),
            )
        return media

    def media(self, place_id: str) -> list[Media]:
        return self.media_for_places([place_id]).get(place_id, [])

    def media_for_places(self, place_ids: Sequence[str]) -> dict[str, list[Media]]:
        out: dict[str, list[Media]] = {}
        ids = list(dict.fromkeys(place_ids))
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            rows = self.conn.execute(
                f"SELECT {self._MEDIA_COLUMNS} FROM media WHERE place_id IN "
                f"({', '.join('?' for _ in chunk)}) ORDER BY place_id, position",
                chunk,
            ).fetchall()
            for r in rows:
                out.setdefault(r[1], []).append(self._media(r))
        return out

    def get_media(self, media_id: str) -> Media:
        row = self.conn.execute(
            f"SELECT {self._MEDIA_COLUMNS} FROM media WHERE id = ?", (media_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"there is no photo {media_id}")
        return self._media(row)

    def delete_media(self, media_id: str) -> None:
        with self.transaction():
            if self.conn.execute("DELETE FROM media WHERE id = ?", (media_id,)).rowcount == 0:
                raise NotFound(f"there is no photo {media_id}")

    # -- request bookkeeping shared by every worker ---------------------------------------
    def idempotent_response(self, key_hash: str) -> IdempotentResponse | None:
        row = self.conn.execute(
            "SELECT request_hash, status, response, created_at FROM idempotency_keys "
            "WHERE key_hash = ?",
            (key_hash,),
        ).fetchone()
        if row is None:
            return None
        return IdempotentResponse(row[0], row[1], bytes(row[2]), parse_iso(row[3]))

    def save_idempotent_response(self, key_hash: str, response: IdempotentResponse) -> None:
        try:
            with self.transaction():
                self.conn.execute(
                    "INSERT INTO idempotency_keys "
                    "(key_hash, request_hash, status, response, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        key_hash,
                        response.request_hash,
                        response.status,
                        response.body,
                        iso(response.created_at),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict("this Idempotency-Key has already been used") from exc

    def purge_idempotent_responses(self, before: datetime) -> int:
        with self.transaction():
            return self.conn.execute(
                "DELETE FROM idempotency_keys WHERE created_at < ?", (iso(before),)
            ).rowcount

    def count_hit(
        self, bucket: str, window_s: int, at: datetime | None = None, cost: int = 1
    ) -> int:
        now = (at or utcnow()).timestamp()
        window = int(now // window_s) * window_s
        if cost == 0:
            row = self.conn.execute(
                "SELECT hits FROM rate_limits WHERE bucket = ? AND window_start = ?",
                (bucket, window),
            ).fetchone()
            return row[0] if row else 0
        with self.transaction():
            self.conn.execute(
                "DELETE FROM rate_limits WHERE bucket = ? AND window_start < ?", (bucket, window)
            )
            return self.conn.execute(
                "INSERT INTO rate_limits (bucket, window_start, hits) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = hits + ?3 "
                "RETURNING hits",
                (bucket, window, cost),
            ).fetchone()[0]

    def secret(self, name: str, create: Callable[[], bytes]) -> bytes:
        row = self.conn.execute(
            "SELECT value FROM service_secrets WHERE name = ?", (name,)
        ).fetchone()
        if row is not None:
            return bytes(row[0])
        with self.transaction():
            # INSERT OR IGNORE then read back: a concurrent first caller's value wins.
            self.conn.execute(
                "INSERT OR IGNORE INTO service_secrets (name, value, created_at) VALUES (?, ?, ?)",
                (name, create(), iso(utcnow())),
            )
            return bytes(
                self.conn.execute(
                    "SELECT value FROM service_secrets WHERE name = ?", (name,)
                ).fetchone()[0]
            )
