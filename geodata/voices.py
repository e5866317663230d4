"""Voices: recordings of places kept on disk and in the store, each with its consent scope.

An upload is copied a block at a time into a hidden file in the place's folder under the
media directory (never held in memory whole, and refused as soon as it passes the size
limit), checked and stripped there (:func:`geodata.audio.prepare_audio`), renamed to its
final name, and only then recorded in the store. Whatever fails on the way (a refusal, a
store error, the client gone) removes the file: nothing half-written stays behind.

Who hears a recording is its own consent (:class:`~geodata.models.AudioScope`):
:func:`playable` is the one rule every output asks.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from geodata.audio import AudioError, AudioLimits, prepare_audio, too_large
from geodata.errors import InvalidInput
from geodata.media import media_file
from geodata.models import AudioScope, Recording, new_recording_id
from geodata.schemas import Problem
from geodata.store.base_recordings import RecordingStore
from geodata.text import check_language, check_text

BLOCK = 65536
MAX_TITLE = 200
MAX_TRANSCRIPT = 20_000


@dataclass(frozen=True)
class RecordingDetails:
    """What a resident says about a recording: who may hear it, what it is, what is said."""

    scope: AudioScope = AudioScope.PUBLIC
    title: str | None = None
    transcript: str | None = None
    transcript_language: str | None = None


def _field_error(exc: InvalidInput, name: str, limit: int | None = None) -> InvalidInput:
    params = {"label": name, "limit": limit} if limit else {}
    exc.problems = [Problem(name, exc.code, exc.message, params)]
    return exc


def check_details(
    scope: str | None, title: str | None, transcript: str | None, language: str | None
) -> RecordingDetails:
    """Read a recording's details as typed; raise InvalidInput naming the field."""
    try:
        chosen = AudioScope((scope or "public").strip())
    except ValueError:
        choices = ", ".join(s.value for s in AudioScope)
        raise InvalidInput(
            f"choose who may hear the recording: one of {choices}",
            code="enum",
            problems=[Problem("scope", "enum", f"choose one of: {choices}", {"choices": choices})],
        ) from None
    out = RecordingDetails(chosen)
    try:
        if title and title.strip():
            out = replace(out, title=check_text(title, "title", max_length=MAX_TITLE))
    except InvalidInput as exc:
        raise _field_error(exc, "title", MAX_TITLE) from None
    try:
        if transcript and transcript.strip():
            text = check_text(transcript, "transcript", max_length=MAX_TRANSCRIPT)
            out = replace(out, transcript=text)
    except InvalidInput as exc:
        raise _field_error(exc, "transcript", MAX_TRANSCRIPT) from None
    try:
        if language and language.strip():
            out = replace(out, transcript_language=check_language(language))
        elif out.transcript:
            raise InvalidInput(
                "say which language the transcript is in", code="transcript_language"
            )
    except InvalidInput as exc:
        raise _field_error(exc, "transcript_language") from None
    return out


def playable(recording: Recording, *, staff: bool = False, owner: bool = False) -> bool:
    """Whether a recording may be played to this listener: public ones to anyone (the
    place being public), workshop ones to signed-in staff and to the resident who made
    it, archive ones to that resident only (and to admins through the backup)."""
    if recording.scope == AudioScope.PUBLIC:
        return True
    if recording.scope == AudioScope.WORKSHOP:
        return staff or owner
    return owner


def public_recordings(store: RecordingStore, place_id: str) -> list[Recording]:
    """A public place's recordings that anyone may hear, in order (for its page and any
    walk stop at it)."""
    return [r for r in store.recordings(place_id) if playable(r)]


def check_room(store: RecordingStore, place_id: str, limits: AudioLimits) -> None:
    if len(store.recordings(place_id)) >= limits.max_per_place:
        raise AudioError(
            f"this place already has {limits.max_per_place} recordings, the most it can have; "
            "remove one first",
            code="too_many_recordings",
            params={"limit": limits.max_per_place},
        )


def receive(source: BinaryIO, folder: Path, limits: AudioLimits) -> Path:
    """Copy an upload into a hidden file in ``folder``, a block at a time; raise
    AudioTooLarge (and leave nothing) past the size limit."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            written = 0
            while block := source.read(BLOCK):
                written += len(block)
                if written > limits.max_bytes:
                    raise too_large(limits)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def add_recording(
    store: RecordingStore,
    media_dir: str | Path,
    place_id: str,
    source: BinaryIO,
    details: RecordingDetails,
    limits: AudioLimits | None = None,
    recording_id: str | None = None,
) -> Recording:
    """Receive, check, strip and store a recording after the place's others
    (``recording_id``: the id it already has elsewhere, for one synced from a venue)."""
    limits = limits or AudioLimits()
    check_room(store, place_id, limits)
    folder = media_file(media_dir, place_id)
    upload = receive(source, folder, limits)
    final: Path | None = None
    try:
        prepared = prepare_audio(upload)
        recording_id = recording_id or new_recording_id()
        relative = f"{place_id}/{recording_id}.{prepared.extension}"
        final = media_file(media_dir, relative)
        os.replace(upload, final)
        return store.add_recording(
            Recording(
                id=recording_id,
                place_id=place_id,
                mime_type=prepared.mime_type,
                duration_s=prepared.duration_s,
                bytes=prepared.bytes,
                path=relative,
                sha256=prepared.sha256,
                scope=details.scope,
                title=details.title,
                transcript=details.transcript,
                transcript_language=details.transcript_language,
            )
        )
    except BaseException:
        # The folder stays: another upload to the place may be writing into it now.
        for path in (upload, final):
            if path is not None:
                path.unlink(missing_ok=True)
        raise


def remove_recording_files(media_dir: str | Path, items: list[Recording]) -> None:
    """Delete these recordings' files (missing ones are fine: the goal is their absence)."""
    for item in items:
        with contextlib.suppress(FileNotFoundError, ValueError):
            media_file(media_dir, item.path).unlink()


def remove_recording(store: RecordingStore, media_dir: str | Path, item: Recording) -> None:
    store.delete_recording(item.id)
    remove_recording_files(media_dir, [item])


def remove_all_recordings(store: RecordingStore, media_dir: str | Path, place_id: str) -> int:
    """Delete every recording of a place, records and files (withdrawal); return how many."""
    items = store.recordings(place_id)
    for item in items:
        store.delete_recording(item.id)
    remove_recording_files(media_dir, items)
    return len(items)
