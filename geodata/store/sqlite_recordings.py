"""SQLite side of :class:`~geodata.store.base_recordings.RecordingStore`, mixed into
:class:`~geodata.store.sqlite.SQLiteStore` (migrations 0013_recordings, 0014_walk_recordings)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

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
from geodata.store.records import iso, parse_iso

_CHUNK = 500  # ids per query: under SQLite's bound-parameter limit


class RecordingsMixin(RecordingStore):
    """Needs SQLiteStore's ``conn`` and ``transaction``."""

    conn: sqlite3.Connection
    transaction: Callable[[], AbstractContextManager[None]]

    def add_recording(self, recording: Recording) -> Recording:
        with self.transaction():
            if (
                self.conn.execute(
                    "SELECT 1 FROM places WHERE id = ?", (recording.place_id,)
                ).fetchone()
                is None
            ):
                raise NotFound(f"there is no place {recording.place_id}")
            if recording.walk_id is not None and (
                self.conn.execute(
                    "SELECT 1 FROM walk_stops WHERE walk_id = ? AND place_id = ?",
                    (recording.walk_id, recording.place_id),
                ).fetchone()
                is None
            ):
                raise NotFound(f"walk {recording.walk_id} has no stop at {recording.place_id}")
            recording.position = self.conn.execute(
                "SELECT coalesce(max(position), 0) + 1 FROM recordings WHERE place_id = ?",
                (recording.place_id,),
            ).fetchone()[0]
            values = recording_values(recording)
            self.conn.execute(
                f"INSERT INTO recordings ({RECORDING_COLUMNS}) VALUES "
                f"({', '.join('?' for _ in values)})",
                (*values[:-1], iso(recording.created_at)),
            )
            self._index_voices(recording.place_id)
        return recording

    def _recordings_where(self, condition: str, ids: Sequence[str]) -> list[Recording]:
        """Recordings matching ``condition`` (with one ``{marks}`` for a chunk of ids)."""
        out: list[Recording] = []
        ids = list(dict.fromkeys(ids))
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = self.conn.execute(
                f"SELECT {RECORDING_COLUMNS} FROM recordings WHERE "
                f"{condition.format(marks=marks)} ORDER BY place_id, position",
                chunk,
            ).fetchall()
            out.extend(_recording(r) for r in rows)
        return out

    def recordings_for_places(self, place_ids: Sequence[str]) -> dict[str, list[Recording]]:
        return by_place(
            self._recordings_where("walk_id IS NULL AND place_id IN ({marks})", place_ids)
        )

    def walk_recordings(self, walk_id: str) -> dict[str, list[Recording]]:
        return by_place(self._recordings_where("walk_id IN ({marks})", [walk_id]))

    def recordings_at_places(self, place_ids: Sequence[str]) -> list[Recording]:
        return self._recordings_where("place_id IN ({marks})", place_ids)

    def get_recording(self, recording_id: str) -> Recording:
        row = self.conn.execute(
            f"SELECT {RECORDING_COLUMNS} FROM recordings WHERE id = ?", (recording_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"there is no recording {recording_id}")
        return _recording(row)

    def update_recording(self, recording: Recording) -> Recording:
        with self.transaction():
            changed = self.conn.execute(
                "UPDATE recordings SET scope = ?, title = ?, transcript = ?, "
                "transcript_language = ? WHERE id = ?",
                (str(recording.scope), recording.title, recording.transcript,
                 recording.transcript_language, recording.id),
            ).rowcount  # fmt: skip
            if not changed:
                raise NotFound(f"there is no recording {recording.id}")
            self._index_voices(recording.place_id)
        return self.get_recording(recording.id)

    def delete_recording(self, recording_id: str) -> None:
        with self.transaction():
            row = self.conn.execute(
                "DELETE FROM recordings WHERE id = ? RETURNING place_id", (recording_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"there is no recording {recording_id}")
            self._index_voices(row[0])

    def _index_voices(self, place_id: str) -> None:
        """Write the folded transcripts of the place's public recordings (NULL: none)."""
        rows = self.conn.execute(
            "SELECT transcript FROM recordings WHERE place_id = ? AND scope = 'public' "
            "AND walk_id IS NULL ORDER BY position",
            (place_id,),
        ).fetchall()
        text = voices_search_text(r[0] for r in rows) or None
        self.conn.execute(
            "UPDATE places SET search_voices = ? WHERE id = ? AND search_voices IS NOT ?",
            (text, place_id, text),
        )


def _recording(row: Sequence) -> Recording:
    return recording_from_row((*row[:-1], parse_iso(row[-1])))
