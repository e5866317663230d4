"""The store's contract for recordings of places, mixed into
:class:`~geodata.store.base.PlaceStore`; each backend implements it in its own module
(:mod:`~geodata.store.sqlite_recordings`, :mod:`~geodata.store.postgis_recordings`),
tested by one contract suite.

A recording belongs to a place, or (``walk_id`` set, migration 0014) to a walk's stop at
the place. Each change to a place's own recordings also writes the place's
``search_voices``: the transcripts of its *public* recordings, folded as narratives are
(:func:`voices_search_text`), so that search finds them with the narratives and never
finds what a workshop-only or archive-only recording says.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence

from geodata.place_attachments import AudioScope, Recording
from geodata.search import narratives_search_text

RECORDING_COLUMNS = (
    "id, place_id, position, mime_type, duration_s, bytes, path, sha256, scope, title, "
    "transcript, transcript_language, walk_id, created_at"
)


def recording_values(r: Recording) -> tuple:
    """A recording as a row in :data:`RECORDING_COLUMNS` order (timestamp as it is)."""
    return (
        r.id, r.place_id, r.position, r.mime_type, r.duration_s, r.bytes, r.path, r.sha256,
        str(r.scope), r.title, r.transcript, r.transcript_language, r.walk_id, r.created_at,
    )  # fmt: skip


def recording_from_row(row: Sequence) -> Recording:
    return Recording(
        id=row[0], place_id=row[1], position=row[2], mime_type=row[3], duration_s=row[4],
        bytes=row[5], path=row[6], sha256=row[7], scope=AudioScope(row[8]), title=row[9],
        transcript=row[10], transcript_language=row[11], walk_id=row[12], created_at=row[13],
    )  # fmt: skip


def by_place(items: Iterable[Recording]) -> dict[str, list[Recording]]:
    """Recordings grouped by their place, in the order given."""
    out: dict[str, list[Recording]] = {}
    for r in items:
        out.setdefault(r.place_id, []).append(r)
    return out


def voices_search_text(transcripts: Iterable[str | None]) -> str:
    """How the transcripts of a place's public recordings are stored for search."""
    return narratives_search_text(t for t in transcripts if t)


class RecordingStore(abc.ABC):
    """Recordings of places and of walk stops: their records (files are the caller's,
    under the media dir)."""

    @abc.abstractmethod
    def add_recording(self, recording: Recording) -> Recording:
        """Store a recording after the last one at its place (sets ``position``, unique
        per place across its own and its walk stops' recordings); NotFound if the place
        does not exist, or (``walk_id`` set) that walk has no stop at the place."""

    @abc.abstractmethod
    def recordings_for_places(self, place_ids: Sequence[str]) -> dict[str, list[Recording]]:
        """The places' own recordings (not their walk stops'), each list in order (places
        without any left out)."""

    def recordings(self, place_id: str) -> list[Recording]:
        """A place's own recordings in order."""
        return self.recordings_for_places([place_id]).get(place_id, [])

    @abc.abstractmethod
    def walk_recordings(self, walk_id: str) -> dict[str, list[Recording]]:
        """A walk's recordings by the place of their stop, each list in order."""

    @abc.abstractmethod
    def recordings_at_places(self, place_ids: Sequence[str]) -> list[Recording]:
        """Every recording at these places, their own and their walk stops' (erasing the
        places removes them all; the caller removes the files)."""

    @abc.abstractmethod
    def get_recording(self, recording_id: str) -> Recording:
        """One recording; raise NotFound."""

    @abc.abstractmethod
    def update_recording(self, recording: Recording) -> Recording:
        """Save a recording's scope, title, transcript and its language; raise NotFound."""

    @abc.abstractmethod
    def delete_recording(self, recording_id: str) -> None:
        """Forget a recording's record (its file is the caller's to remove); NotFound."""
