"""Recordings kept on disk and in the store together: a stored record always has its
file, a refused or failed one leaves neither, erasure takes both (both backends)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from shapely.geometry import Point

from geodata.audio import AudioError, AudioLimits
from geodata.audit import Actor
from geodata.erasure import erase_contact
from geodata.errors import InvalidInput
from geodata.models import Narrative, Place
from geodata.place_attachments import AudioScope
from geodata.voices import RecordingDetails, add_recording, check_details, playable
from tests.geodata.test_audio_files import FIXTURES


def _place(store, contact: str = "avo@example.org") -> Place:
    return store.add(
        Place(
            geometry=Point(-9.13, 38.71),
            title="Pátio",
            narratives=[Narrative("Um pátio", "pt")],
            category="memory",
            contributor_contact=contact,
        )
    )


def files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def test_a_stored_recording_has_its_file_and_erasure_takes_both(store, tmp_path):
    place = _place(store)
    media = tmp_path / "media"
    source = io.BytesIO((FIXTURES / "tone.vorbis.ogg").read_bytes())
    item = add_recording(
        store, media, place.id, source, RecordingDetails(AudioScope.ARCHIVE)
    ).recording
    assert files(media) == [media / item.path]
    assert store.get_recording(item.id).bytes == (media / item.path).stat().st_size
    report = erase_contact(store, "AVO@example.org ", media, Actor("test admin"))
    assert report.places == 1
    assert files(media) == [] and store.recordings(place.id) == []


def test_a_refused_or_excess_recording_leaves_no_file_and_no_record(store, tmp_path):
    place = _place(store)
    media = tmp_path / "media"
    with pytest.raises(AudioError):
        add_recording(store, media, place.id, io.BytesIO(b"RIFF....WAVEjunk"), RecordingDetails())
    assert files(media) == [] and store.recordings(place.id) == []
    limits = AudioLimits(max_per_place=1)
    add_recording(store, media, place.id, io.BytesIO((FIXTURES / "tone.mp3").read_bytes()),
                  RecordingDetails(), limits)  # fmt: skip
    with pytest.raises(AudioError) as caught:
        add_recording(store, media, place.id, io.BytesIO((FIXTURES / "tone.mp3").read_bytes()),
                      RecordingDetails(), limits)  # fmt: skip
    assert caught.value.code == "too_many_recordings"
    assert len(files(media)) == 1 and len(store.recordings(place.id)) == 1


def test_details_are_checked_and_each_scope_has_its_listeners():
    details = check_details("workshop", " A avó ", "Cantava", "pt-br")
    assert details.title == "A avó" and details.transcript_language == "pt-BR"
    bad_details = [
        ("everyone", None, None, None),
        ("public", None, "text", None),
        ("public", None, "text", "not a tag!"),
        ("public", "x" * 201, None, None),
    ]
    for bad in bad_details:
        with pytest.raises(InvalidInput):
            check_details(*bad)
    from geodata.place_attachments import Recording

    def heard(scope: AudioScope) -> tuple[bool, bool, bool]:
        r = Recording("pl_x", "audio/ogg", 1.0, 1, "pl_x/a.ogg", "0" * 64, scope=scope)
        return playable(r), playable(r, staff=True), playable(r, owner=True)

    assert heard(AudioScope.PUBLIC) == (True, True, True)
    assert heard(AudioScope.WORKSHOP) == (False, True, True)
    assert heard(AudioScope.ARCHIVE) == (False, False, True)


def test_erasing_a_place_takes_the_recordings_of_walk_stops_there_files_and_all(store, tmp_path):
    from geodata.walk_voices import add_stop_recording
    from geodata.walks import Walk, WalkStop

    place = _place(store)
    other = _place(store, "someone@example.org")
    walk = store.add_walk(
        Walk([Narrative("A walk", "en")], [Narrative("Two stops", "en")],
             [WalkStop(place.id, []), WalkStop(other.id, [])], contributor_contact="w@x.org")
    )  # fmt: skip
    media = tmp_path / "media"
    data = (FIXTURES / "tone.webm").read_bytes()
    first = add_stop_recording(
        store, media, walk, 1, io.BytesIO(data), RecordingDetails()
    ).recording
    second = add_stop_recording(
        store, media, walk, 2, io.BytesIO(data), RecordingDetails()
    ).recording
    assert first.path.startswith(f"{walk.id}/") and len(files(media)) == 2
    erase_contact(store, "avo@example.org", media, Actor("test admin"))
    assert files(media) == [media / second.path]
    assert [r.id for g in store.walk_recordings(walk.id).values() for r in g] == [second.id]
