"""Voices at walk stops: recordings a walk's proposer adds to its stops (with the walk's
edit token), and who may hear them.

A stop's recording is received, checked, stripped and measured exactly as a place's
(:func:`geodata.voices.add_recording`), kept in the walk's own folder under the media
directory, with its own consent scope. Anyone hears a public one while the walk is
public and the stop is shown (its place public, at its exact location); a workshop one
only signed-in staff and the proposer; an archive one only the proposer (and the
admins' backup). Withdrawing or erasing the walk removes them, records and files;
erasing a place removes its stop from every walk, and the stop's recordings with it.

A walk stop also plays its place's own public recordings, after the walk's.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from geodata.audio import AudioLimits
from geodata.errors import NotFound
from geodata.models import Status
from geodata.place_attachments import AudioScope, Recording
from geodata.store.base import PlaceStore
from geodata.voices import Added, RecordingDetails, add_recording, playable, remove_recordings
from geodata.walk_views import PublicWalk, public_walk, shown_places
from geodata.walks import Walk


def stop_place_id(walk: Walk, number: int) -> str:
    """The place of the walk's stop ``number`` (1, 2, 3... in the walk's own order)."""
    if not 1 <= number <= len(walk.stops):
        raise NotFound(f"walk {walk.id} has no stop {number}")
    return walk.stops[number - 1].place_id


def stop_number(walk: Walk, place_id: str) -> int | None:
    """The number of the walk's stop at ``place_id`` (in the walk's own order), if any."""
    for number, stop in enumerate(walk.stops, start=1):
        if stop.place_id == place_id:
            return number
    return None


def add_stop_recording(
    store: PlaceStore,
    media_dir: str | Path,
    walk: Walk,
    number: int,
    source: BinaryIO,
    details: RecordingDetails,
    limits: AudioLimits | None = None,
) -> Added:
    """Add a recording to the walk's stop ``number`` (see :func:`add_recording`)."""
    place_id = stop_place_id(walk, number)
    return add_recording(store, media_dir, place_id, source, details, limits, walk_id=walk.id)


def walk_recording_list(store: PlaceStore, walk: Walk) -> list[Recording]:
    """Every recording of the walk's stops, stop by stop (the proposer's and staff's view)."""
    by_place = store.walk_recordings(walk.id)
    return [r for s in walk.stops for r in by_place.get(s.place_id, [])]


def public_stop_voices(
    store: PlaceStore, walk_id: str, place_ids: list[str]
) -> dict[str, list[Recording]]:
    """What anyone may hear at each stop shown (``place_ids``): the walk's own public
    recordings there, then the place's own public ones."""
    own = store.walk_recordings(walk_id)
    places = store.recordings_for_places(place_ids)
    return {
        pid: [r for r in (*own.get(pid, []), *places.get(pid, [])) if playable(r)]
        for pid in place_ids
    }


def public_walk_with_voices(store: PlaceStore, walk: Walk) -> PublicWalk | None:
    """The walk as the public sees it, each stop with the recordings it plays; None if
    the walk is not public."""
    places = shown_places(store, [s.place_id for s in walk.stops])
    if public_walk(walk, places) is None:
        return None
    return public_walk(walk, places, voices=public_stop_voices(store, walk.id, list(places)))


def heard_by_public(store: PlaceStore, recording: Recording) -> bool:
    """Whether anyone may hear this walk stop's recording now: public scope, the walk
    public, the stop still in it and shown."""
    if recording.walk_id is None or recording.scope != AudioScope.PUBLIC:
        return False
    try:
        walk = store.get_walk(recording.walk_id)
    except NotFound:
        return False
    if walk.status != Status.PUBLISHED or not walk.consent.publish:
        return False
    if stop_number(walk, recording.place_id) is None:
        return False
    return recording.place_id in shown_places(store, [recording.place_id])


def remove_walk_recordings(store: PlaceStore, media_dir: str | Path, walk_id: str) -> int:
    """Delete every recording of the walk's stops, records and files, and the walk's
    folder once empty; return how many (withdrawal)."""
    items = [r for group in store.walk_recordings(walk_id).values() for r in group]
    removed = remove_recordings(store, media_dir, items)
    remove_empty_folders(media_dir, [walk_id])
    return removed


def remove_empty_folders(media_dir: str | Path, names: list[str]) -> None:
    """Remove these folders of the media directory if nothing is left in them."""
    for name in names:
        folder = Path(media_dir) / name
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
