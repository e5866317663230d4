"""A recording sent with a new place's form, without JavaScript (on every backend): kept
with the place, stripped of its tags; a refused one keeps the place from being stored
and says why beside the voice field; a form shown again for another problem says its
recording was not kept (a file field cannot be filled again), and a resent form keeps
it once."""

from __future__ import annotations

import html
import re

import pytest

from geodata.audio import AudioLimits
from tests.geodata.test_audio_files import FIXTURES, sine_wav
from tests.web.test_audio_api import files_under, tagged_mp3
from tests.web.test_contribute_form import form_data

TRANSCRIPT = "O pregão das varinas, às sete da manhã."


def voice_error(page: str, name: str = "voice") -> str:
    found = re.search(rf'<p class="field-error" id="error-{name}" >([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def send(client, data: bytes | None, name: str = "voice.mp3", **fields):
    page = client.get("/contribute").text
    assert 'id="voice-recorder"' in page and 'name="voice"' in page
    values = form_data(page, **fields)
    files = {"voice": (name, data, "application/octet-stream")} if data is not None else None
    return client.post("/contribute", data=values, files=files), values


def test_a_new_place_is_stored_with_its_recording_stripped_of_its_tags(
    client, lisbon_store, tmp_path
):
    before = lisbon_store.count()
    sent, _ = send(client, tagged_mp3(tmp_path), "avo.txt", voice_scope="workshop",
                   voice_title="As varinas", voice_transcript=TRANSCRIPT,
                   voice_language="pt")  # fmt: skip
    assert sent.status_code == 201, voice_error(sent.text) or sent.text[:2000]
    assert "Your recording (0:02) has been added." in sent.text
    assert lisbon_store.count() == before + 1
    place_id = re.search(r"/contribute/edit/([^?]+)\?token=", sent.text).group(1)
    (kept,) = lisbon_store.recordings(place_id)
    assert (kept.scope, kept.title, kept.transcript) == ("workshop", "As varinas", TRANSCRIPT)
    assert kept.transcript_language == "pt" and kept.mime_type == "audio/mpeg"
    stored = [p for p in files_under(client.app.state.settings.media_path) if p.is_file()]
    assert [p.name for p in stored] == [kept.path.split("/")[1]]
    assert b"Maria Secreta" not in stored[0].read_bytes()


def test_a_refused_recording_keeps_the_place_from_being_stored(client, lisbon_store):
    before = lisbon_store.count()
    sent, _ = send(client, b"%PDF-1.7 this is no sound" * 40, voice_transcript=TRANSCRIPT,
                   voice_language="pt")  # fmt: skip
    assert sent.status_code == 415
    assert "WAV or WebM" in voice_error(sent.text)
    assert TRANSCRIPT in sent.text  # what was typed is there again
    cut, _ = send(client, (FIXTURES / "tone.m4a").read_bytes()[:3000], "voice.m4a")
    assert cut.status_code == 422 and "damaged or cut short" in voice_error(cut.text)
    untold, _ = send(client, (FIXTURES / "tone.webm").read_bytes(), voice_transcript=TRANSCRIPT)
    assert untold.status_code == 422
    assert "language" in voice_error(untold.text, "voice_language")
    assert lisbon_store.count() == before
    assert files_under(client.app.state.settings.media_path) == []


def test_a_form_shown_again_for_another_problem_says_its_recording_was_not_kept(
    client, lisbon_store
):
    before = lisbon_store.count()
    sent, _ = send(client, (FIXTURES / "tone.webm").read_bytes(), title="",
                   voice_transcript=TRANSCRIPT, voice_language="pt")  # fmt: skip
    assert sent.status_code == 422
    assert "not kept" in voice_error(sent.text) and "choose it again" in voice_error(sent.text)
    assert TRANSCRIPT in sent.text and lisbon_store.count() == before
    assert files_under(client.app.state.settings.media_path) == []
    # In Portuguese too: the sentence is in every catalog.
    page = client.get("/contribute", headers={"Accept-Language": "pt"}).text
    again = client.post("/contribute", data=form_data(page, title=""),
                        files={"voice": ("v.webm", (FIXTURES / "tone.webm").read_bytes())},
                        headers={"Accept-Language": "pt"})  # fmt: skip
    assert "não foi guardada" in voice_error(again.text)


def test_a_resent_form_keeps_its_recording_once(client, lisbon_store):
    page = client.get("/contribute").text
    values = form_data(page)
    files = {"voice": ("v.webm", (FIXTURES / "tone.webm").read_bytes(), "audio/webm")}
    first = client.post("/contribute", data=values, files=files)
    second = client.post("/contribute", data=values, files=files)  # the back button, resent
    assert first.status_code == second.status_code == 201
    place_id = re.search(r"/contribute/edit/([^?]+)\?token=", first.text).group(1)
    assert place_id in second.text and len(lisbon_store.recordings(place_id)) == 1
    assert len(files_under(client.app.state.settings.media_path)) == 1


@pytest.fixture
def small_audio(app):
    app.state.settings.max_audio_bytes = 100_000
    return AudioLimits(max_bytes=100_000)


def test_a_recording_over_the_limit_is_refused_beside_its_field(client, lisbon_store, small_audio):
    before = lisbon_store.count()
    sent, _ = send(client, sine_wav(seconds=10), "long.wav")  # 160 kB
    assert sent.status_code == 413 and "larger than the limit of 0.1 MB" in voice_error(sent.text)
    assert lisbon_store.count() == before
    assert files_under(client.app.state.settings.media_path) == []
