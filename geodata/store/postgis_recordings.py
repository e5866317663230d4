"""PostGIS side of :class:`~geodata.store.base_recordings.RecordingStore`, mixed into
:class:`~geodata.store.postgis.PostGISStore` (migrations 0013_recordings and
0014_walk_recordings); the semantics
match the SQLite side method for method."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from geodata.errors import NotFound
from geodata.place_attachments import Recording
from geodata.store.base_recordings import (
    RECORDING_COLUMNS,
    RecordingStore,
    by_place,
    recording_from_row,
    recording_values,
    voices_search_text,
)


class RecordingsMixin(RecordingStore):
    """Needs the connection helpers of PostGISStore."""

    _write: Callable[[], AbstractContextManager[psycopg.Connection]]
    _fetchone: Callable[..., tuple[Any, ...] | None]
    _fetchall: Callable[..., list[tuple[Any, ...]]]

    def add_recording(self, recording: Recording) -> Recording:
        with self._write() as conn:
            # Locking the place row makes concurrent uploads take positions one after another.
            if (
                conn.execute(
                    "SELECT 1 FROM places WHERE id = %s FOR UPDATE", (recording.place_id,)
                ).fetchone()
                is None
            ):
                raise NotFound(f"there is no place {recording.place_id}")
            if recording.walk_id is not None and (
                conn.execute(
                    "SELECT 1 FROM walk_stops WHERE walk_id = %s AND place_id = %s",
                    (recording.walk_id, recording.place_id),
                ).fetchone()
                is None
            ):
                raise NotFound(f"walk {recording.walk_id} has no stop at {recording.place_id}")
            row = conn.execute(
                "SELECT coalesce(max(position), 0) + 1 FROM recordings WHERE place_id = %s",
                (recording.place_id,),
            ).fetchone()
            recording.position = row[0] if row else 1
            values = recording_values(recording)
            conn.execute(
                f"INSERT INTO recordings ({RECORDING_COLUMNS}) VALUES "
                f"({', '.join('%s' for _ in values)})",
                values,
            )
            _index_voices(conn, recording.place_id)
        return recording

    def _recordings_where(self, condition: str, ids: Sequence[str]) -> list[Recording]:
        if not ids:
            return []
        rows = self._fetchall(
            f"SELECT {RECORDING_COLUMNS} FROM recordings WHERE {condition} "
            "ORDER BY place_id, position",
            (list(dict.fromkeys(ids)),),
        )
        return [recording_from_row(r) for r in rows]

    def recordings_for_places(self, place_ids: Sequence[str]) -> dict[str, list[Recording]]:
        return by_place(self._recordings_where("walk_id IS NULL AND place_id = ANY(%s)", place_ids))

    def walk_recordings(self, walk_id: str) -> dict[str, list[Recording]]:
        return by_place(self._recordings_where("walk_id = ANY(%s)", [walk_id]))

    def recordings_at_places(self, place_ids: Sequence[str]) -> list[Recording]:
        return self._recordings_where("place_id = ANY(%s)", place_ids)

    def get_recording(self, recording_id: str) -> Recording:
        row = self._fetchone(
            f"SELECT {RECORDING_COLUMNS} FROM recordings WHERE id = %s", (recording_id,)
        )
        if row is None:
            raise NotFound(f"there is no recording {recording_id}")
        return recording_from_row(row)

    def update_recording(self, recording: Recording) -> Recording:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE recordings SET scope = %s, title = %s, transcript = %s, "
                "transcript_language = %s WHERE id = %s",
                (str(recording.scope), recording.title, recording.transcript,
                 recording.transcript_language, recording.id),
            ).rowcount  # fmt: skip
            if not changed:
                raise NotFound(f"there is no recording {recording.id}")
            _index_voices(conn, recording.place_id)
        return self.get_recording(recording.id)

    def delete_recording(self, recording_id: str) -> None:
        with self._write() as conn:
            row = conn.execute(
                "DELETE FROM recordings WHERE id = %s RETURNING place_id", (recording_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"there is no recording {recording_id}")
            _index_voices(conn, row[0])


def _index_voices(conn: psycopg.Connection, place_id: str) -> None:
    """Write the folded transcripts of the place's public recordings (NULL: none)."""
    rows = conn.execute(
        "SELECT transcript FROM recordings WHERE place_id = %s AND scope = 'public' "
        "AND walk_id IS NULL ORDER BY position",
        (place_id,),
    ).fetchall()
    text = voices_search_text(r[0] for r in rows) or None
    conn.execute(
        "UPDATE places SET search_voices = %s WHERE id = %s AND search_voices IS DISTINCT FROM %s",
        (text, place_id, text),
    )
