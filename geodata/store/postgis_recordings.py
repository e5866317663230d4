"""PostGIS side of :class:`~geodata.store.base_recordings.RecordingStore`, mixed into
:class:`~geodata.store.postgis.PostGISStore` (migration 0013_recordings); the semantics
match the SQLite side method for method."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from geodata.errors import NotFound
from geodata.models import Recording
from geodata.store.base_recordings import (
    RECORDING_COLUMNS,
    RecordingStore,
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

    def recordings_for_places(self, place_ids: Sequence[str]) -> dict[str, list[Recording]]:
        out: dict[str, list[Recording]] = {}
        if not place_ids:
            return out
        rows = self._fetchall(
            f"SELECT {RECORDING_COLUMNS} FROM recordings WHERE place_id = ANY(%s) "
            "ORDER BY place_id, position",
            (list(dict.fromkeys(place_ids)),),
        )
        for r in rows:
            out.setdefault(r[1], []).append(recording_from_row(r))
        return out

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
        "ORDER BY position",
        (place_id,),
    ).fetchall()
    text = voices_search_text(r[0] for r in rows) or None
    conn.execute(
        "UPDATE places SET search_voices = %s WHERE id = %s AND search_voices IS DISTINCT FROM %s",
        (text, place_id, text),
    )
