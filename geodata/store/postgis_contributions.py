"""PostGIS side of residents' contributions and the request bookkeeping every worker shares.

Edit-token hashes, moderator flags, photos, Idempotency-Key answers, rate-limit windows
and service secrets (migration 0002_contributions), mixed into
:class:`~geodata.store.postgis.PostGISStore`; the semantics match
:class:`~geodata.store.sqlite.SQLiteStore` method for method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import psycopg

from geodata.errors import Conflict, NotFound
from geodata.models import utcnow
from geodata.place_attachments import Media, PlaceFlag
from geodata.store.base_contributions import IdempotentResponse

_MEDIA_COLUMNS = (
    "id, place_id, position, mime_type, width, height, bytes, path, thumb_path, "
    "thumb_width, thumb_height, sha256, caption, created_at"
)


def _media(r: Sequence[Any]) -> Media:
    return Media(
        id=r[0], place_id=r[1], position=r[2], mime_type=r[3], width=r[4], height=r[5],
        bytes=r[6], path=r[7], thumb_path=r[8], thumb_width=r[9], thumb_height=r[10],
        sha256=r[11], caption=r[12], created_at=r[13],
    )  # fmt: skip


class ContributionsMixin:
    """Store methods for contributions; needs the connection helpers of PostGISStore."""

    _write: Callable[[], AbstractContextManager[psycopg.Connection]]
    _fetchone: Callable[..., tuple[Any, ...] | None]
    _fetchall: Callable[..., list[tuple[Any, ...]]]

    # -- edit tokens and flags ---------------------------------------------------------
    def set_edit_token_hash(self, place_id: str, token_hash: str) -> None:
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO place_edit_tokens (place_id, token_hash, created_at) "
                    "VALUES (%s, %s, %s) ON CONFLICT (place_id) DO UPDATE SET "
                    "token_hash = excluded.token_hash, created_at = excluded.created_at",
                    (place_id, token_hash, utcnow()),
                )
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFound(f"there is no place {place_id}") from exc

    def edit_token_hash(self, place_id: str) -> str | None:
        row = self._fetchone(
            "SELECT token_hash FROM place_edit_tokens WHERE place_id = %s", (place_id,)
        )
        return row[0] if row else None

    def add_flags(self, flags: Sequence[PlaceFlag]) -> None:
        if not flags:
            return
        with self._write() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO place_flags (place_id, kind, other_place_id, detail, created_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [
                    (f.place_id, f.kind, f.other_place_id, f.stored_note(), f.created_at)
                    for f in flags
                ],
            )

    def flags(self, place_id: str | None = None, kind: str | None = None) -> list[PlaceFlag]:
        rows = self._fetchall(
            "SELECT place_id, kind, other_place_id, detail, created_at FROM place_flags "
            "WHERE (%(place)s::text IS NULL OR place_id = %(place)s) "
            "AND (%(kind)s::text IS NULL OR kind = %(kind)s) ORDER BY created_at, seq",
            {"place": place_id, "kind": kind},
        )
        return [PlaceFlag.from_stored(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    # -- photos --------------------------------------------------------------------------
    def add_media(self, media: Media) -> Media:
        with self._write() as conn:
            # Locking the place row makes concurrent uploads take positions one after another.
            if (
                conn.execute(
                    "SELECT 1 FROM places WHERE id = %s FOR UPDATE", (media.place_id,)
                ).fetchone()
                is None
            ):
                raise NotFound(f"there is no place {media.place_id}")
            row = conn.execute(
                "SELECT coalesce(max(position), 0) + 1 FROM media WHERE place_id = %s",
                (media.place_id,),
            ).fetchone()
            media.position = row[0] if row else 1
            conn.execute(
                f"INSERT INTO media ({_MEDIA_COLUMNS}) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    media.id, media.place_id, media.position, media.mime_type, media.width,
                    media.height, media.bytes, media.path, media.thumb_path, media.thumb_width,
                    media.thumb_height, media.sha256, media.caption, media.created_at,
                ),
            )  # fmt: skip
        return media

    def media(self, place_id: str) -> list[Media]:
        return self.media_for_places([place_id]).get(place_id, [])

    def media_for_places(self, place_ids: Sequence[str]) -> dict[str, list[Media]]:
        out: dict[str, list[Media]] = {}
        if not place_ids:
            return out
        rows = self._fetchall(
            f"SELECT {_MEDIA_COLUMNS} FROM media WHERE place_id = ANY(%s) "
            "ORDER BY place_id, position",
            (list(dict.fromkeys(place_ids)),),
        )
        for r in rows:
            out.setdefault(r[1], []).append(_media(r))
        return out

    def get_media(self, media_id: str) -> Media:
        row = self._fetchone(f"SELECT {_MEDIA_COLUMNS} FROM media WHERE id = %s", (media_id,))
        if row is None:
            raise NotFound(f"there is no photo {media_id}")
        return _media(row)

    def delete_media(self, media_id: str) -> None:
        with self._write() as conn:
            if conn.execute("DELETE FROM media WHERE id = %s", (media_id,)).rowcount == 0:
                raise NotFound(f"there is no photo {media_id}")

    # -- request bookkeeping shared by every worker ---------------------------------------
    def idempotent_response(self, key_hash: str) -> IdempotentResponse | None:
        row = self._fetchone(
            "SELECT request_hash, status, response, created_at FROM idempotency_keys "
            "WHERE key_hash = %s",
            (key_hash,),
        )
        if row is None:
            return None
        return IdempotentResponse(row[0], row[1], bytes(row[2]), row[3])

    def save_idempotent_response(self, key_hash: str, response: IdempotentResponse) -> None:
        with self._write() as conn:
            # ON CONFLICT instead of catching the error: the outer transaction stays usable.
            cur = conn.execute(
                "INSERT INTO idempotency_keys (key_hash, request_hash, status, response, "
                "created_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key_hash) DO NOTHING",
                (key_hash, response.request_hash, response.status, response.body,
                 response.created_at),
            )  # fmt: skip
            if cur.rowcount == 0:
                raise Conflict("this Idempotency-Key has already been used")

    def purge_idempotent_responses(self, before: datetime) -> int:
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM idempotency_keys WHERE created_at < %s", (before,)
            ).rowcount

    def count_hit(
        self, bucket: str, window_s: int, at: datetime | None = None, cost: int = 1
    ) -> int:
        now = (at or utcnow()).timestamp()
        window = int(now // window_s) * window_s
        if cost == 0:
            row = self._fetchone(
                "SELECT hits FROM rate_limits WHERE bucket = %s AND window_start = %s",
                (bucket, window),
            )
            return row[0] if row else 0
        with self._write() as conn:
            conn.execute(
                "DELETE FROM rate_limits WHERE bucket = %s AND window_start < %s", (bucket, window)
            )
            # One atomic upsert: concurrent workers each get a distinct count.
            row = conn.execute(
                "INSERT INTO rate_limits (bucket, window_start, hits) VALUES (%s, %s, %s) "
                "ON CONFLICT (bucket, window_start) DO UPDATE SET "
                "hits = rate_limits.hits + EXCLUDED.hits RETURNING hits",
                (bucket, window, cost),
            ).fetchone()
            return row[0] if row else cost

    def secret(self, name: str, create: Callable[[], bytes]) -> bytes:
        row = self._fetchone("SELECT value FROM service_secrets WHERE name = %s", (name,))
        if row is not None:
            return bytes(row[0])
        with self._write() as conn:
            # Insert-if-absent then read back: a concurrent first caller's value wins.
            conn.execute(
                "INSERT INTO service_secrets (name, value, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, create(), utcnow()),
            )
            row = conn.execute(
                "SELECT value FROM service_secrets WHERE name = %s", (name,)
            ).fetchone()
            return bytes(row[0]) if row else b""
