"""Voices: recordings of places (and of walk stops: :mod:`geodata.walk_voices`) kept on
disk and in the store, each with its consent scope.

An upload is copied a block at a time into a hidden file in the place's (or walk's)
folder under the media directory (never held in memory whole, and refused as soon as it
passes the size limit), checked and stripped there (:func:`geodata.audio.prepare_audio`),
renamed to its final name, and only then recorded in the store. Whatever fails on the
way (a refusal, a store error, the client gone) removes the file: nothing half-written
stays behind. A new place's form takes the recording first (:func:`take_recording`) and
keeps it (:func:`keep_recording`) once the place is stored.

Who hears a recording is its own consent (:class:`~geodata.place_attachments.AudioScope`):
:func:`playable` is the one rule every output asks.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, NamedTuple

from geodata.audio import AudioError, AudioLimits, PreparedAudio, prepare_audio, too_large
from geodata.errors import InvalidInput
from geodata.media import media_file
from geodata.place_attachments import AudioScope, Recording, new_recording_id
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


def details_of(recording: Recording) -> RecordingDetails:
    return RecordingDetails(
        recording.scope, recording.title, recording.transcript, recording.transcript_language
    )


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
    """A public place's own recordings that anyone may hear, in order (for its page and
    any walk stop at it)."""
    return [r for r in store.recordings(place_id) if playable(r)]


def recordings_of(store: RecordingStore, place_id: str, walk_id: str | None) -> list[Recording]:
    """The place's own recordings (``walk_id`` None) or that walk's stop's at the place."""
    if walk_id is None:
        return store.recordings(place_id)
    return store.walk_recordings(walk_id).get(place_id, [])


def check_room(
    store: RecordingStore, place_id: str, limits: AudioLimits, walk_id: str | None = None
) -> None:
    if len(recordings_of(store, place_id, walk_id)) < limits.max_per_place:
        return
    if walk_id is None:
        raise AudioError(
            f"this place already has {limits.max_per_place} recordings, the most it can have; "
            "remove one first",
            code="too_many_recordings",
            params={"limit": limits.max_per_place},
        )
    raise AudioError(
        f"this stop already has {limits.max_per_place} recordings, the most it can have; "
        "remove one first",
        code="too_many_stop_recordings",
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


class Added(NamedTuple):
    recording: Recording
    new: bool  # False: the very same file was there already (a retry), and is returned


@dataclass(frozen=True)
class Taken:
    """An upload received and prepared (checked, stripped, measured) in a hidden file,
    not yet anyone's: :func:`keep_recording` files it, :func:`drop` forgets it."""

    upload: Path
    prepared: PreparedAudio


def take_recording(source: BinaryIO, folder: Path, limits: AudioLimits) -> Taken:
    """Receive an upload into a hidden file in ``folder`` and prepare it; raise AudioError
    (and leave nothing) if it cannot be a recording."""
    upload = receive(source, folder, limits)
    try:
        return Taken(upload, prepare_audio(upload))
    except BaseException:
        upload.unlink(missing_ok=True)
        raise


def drop(taken: Taken) -> None:
    taken.upload.unlink(missing_ok=True)


def keep_recording(
    store: RecordingStore,
    media_dir: str | Path,
    taken: Taken,
    place_id: str,
    details: RecordingDetails,
    walk_id: str | None = None,
    recording_id: str | None = None,
) -> Added:
    """File a prepared upload as a recording of the place (or of ``walk_id``'s stop
    there), after the others (``recording_id``: the id it already has elsewhere, for one
    synced from a venue). The same file with the same details again (a retry whose
    answer was lost) is dropped, and the recording already kept answered."""
    same = next(
        (
            r
            for r in recordings_of(store, place_id, walk_id)
            if r.sha256 == taken.prepared.sha256 and details_of(r) == details
        ),
        None,
    )
    if same is not None:
        drop(taken)
        return Added(same, new=False)
    owner = walk_id or place_id  # each place's, and each walk's, files in a folder of its own
    recording_id = recording_id or new_recording_id()
    relative = f"{owner}/{recording_id}.{taken.prepared.extension}"
    final = media_file(media_dir, relative)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(taken.upload, final)
        item = store.add_recording(
            Recording(
                id=recording_id,
                place_id=place_id,
                walk_id=walk_id,
                mime_type=taken.prepared.mime_type,
                duration_s=taken.prepared.duration_s,
                bytes=taken.prepared.bytes,
                path=relative,
                sha256=taken.prepared.sha256,
                scope=details.scope,
                title=details.title,
                transcript=details.transcript,
                transcript_language=details.transcript_language,
            )
        )
    except BaseException:
        # The folder stays: another upload to the place may be writing into it now.
        drop(taken)
        final.unlink(missing_ok=True)
        raise
    return Added(item, new=True)


def add_recording(
    store: RecordingStore,
    media_dir: str | Path,
    place_id: str,
    source: BinaryIO,
    details: RecordingDetails,
    limits: AudioLimits | None = None,
    *,
    walk_id: str | None = None,
    recording_id: str | None = None,
) -> Added:
    """Receive, check, strip and store a recording after the others at the place (of the
    place itself, or of ``walk_id``'s stop there; ``recording_id`` as in
    :func:`keep_recording`)."""
    limits = limits or AudioLimits()
    check_room(store, place_id, limits, walk_id)
    taken = take_recording(source, media_file(media_dir, walk_id or place_id), limits)
    return keep_recording(store, media_dir, taken, place_id, details, walk_id, recording_id)


def remove_recording_files(media_dir: str | Path, items: list[Recording]) -> None:
    """Delete these recordings' files (missing ones are fine: the goal is their absence)."""
    for item in items:
        with contextlib.suppress(FileNotFoundError, ValueError):
            media_file(media_dir, item.path).unlink()


def remove_recording(store: RecordingStore, media_dir: str | Path, item: Recording) -> None:
    store.delete_recording(item.id)
    remove_recording_files(media_dir, [item])


def remove_all_recordings(store: RecordingStore, media_dir: str | Path, place_id: str) -> int:
    """Delete every recording of a place's own, records and files (withdrawal: the walk
    stops' recordings there are their walk's, and stay hidden while the place is not
    public); return how many."""
    return remove_recordings(store, media_dir, store.recordings(place_id))


def remove_recordings(store: RecordingStore, media_dir: str | Path, items: list[Recording]) -> int:
    """Delete these recordings, records and files; return how many."""
    for item in items:
        store.delete_recording(item.id)
    remove_recording_files(media_dir, items)
    return len(items)
