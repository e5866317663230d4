"""Voices in a real browser (Debian's Chromium): a place's page plays its recording in an
audio element, with its duration and the transcript beside it, and the file it plays has
lost its tags; the edit page records a voice with MediaRecorder (a fake microphone) and
sends it through the plain form."""

from __future__ import annotations

import re

import httpx
import pytest

from geodata.audit import Actor
from geodata.moderation import publish
from tests.geodata.test_audio_files import FIXTURES

pytestmark = pytest.mark.browser
TRANSCRIPT = "A minha avó cantava aqui todas as manhãs."


def send_place(live_server) -> dict:
    sent = httpx.post(
        live_server.url + "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1333, 38.7139]},
            "properties": {
                "title": "Beco das Cruzes",
                "narratives": [{"text": "Um beco da Mouraria.", "language": "pt"}],
                "category": "memory",
                "consent": {"publish": True},
            },
        },
    )
    assert sent.status_code == 201, sent.text
    return sent.json()


@pytest.fixture
def voiced(live_server, lisbon_store) -> dict:
    place = send_place(live_server)
    data = (FIXTURES / "tone.webm").read_bytes()
    assert "Avó Maria".encode() in data  # the file's own title tag
    answer = httpx.post(
        live_server.url + f"/api/places/{place['id']}/audio",
        files={"file": ("avo.webm", data, "audio/webm")},
        data={"title": "A avó", "transcript": TRANSCRIPT, "transcript_language": "pt"},
        headers={"X-Edit-Token": place["edit_token"]},
    )
    assert answer.status_code == 201, answer.text
    publish(lisbon_store, place["id"], Actor("test facilitator"))
    return {**place, "recording": answer.json()}


def test_the_place_page_plays_the_recording_with_its_transcript_beside_it(
    live_server, watched, voiced
):
    page = watched
    page.goto(f"{live_server.url}/places/{voiced['id']}")
    audio = page.locator(".voice audio")
    page.wait_for_function("() => document.querySelector('.voice audio').readyState >= 1")
    duration = page.evaluate("document.querySelector('.voice audio').duration")
    assert duration == pytest.approx(1.5, abs=0.1)
    assert "0:02" in page.locator(".voice-duration").inner_text()
    transcript = page.locator(".voice-transcript p")
    assert transcript.inner_text() == TRANSCRIPT and transcript.get_attribute("lang") == "pt"
    player, text = audio.bounding_box(), transcript.bounding_box()
    assert text["x"] >= player["x"] + player["width"]  # beside it, not below
    page.evaluate("a => { a.muted = true; return a.play(); }", audio.element_handle())
    page.wait_for_function("() => document.querySelector('.voice audio').currentTime > 0")
    played = page.evaluate(
        """url => fetch(url).then(r => r.arrayBuffer()).then(b => {
            const text = new TextDecoder('latin1').decode(new Uint8Array(b));
            return [b.byteLength, text.includes('Maria'), text.includes('Lavf')];
        })""",
        voiced["recording"]["url"],
    )
    assert played == [voiced["recording"]["bytes"], False, False]  # tags gone
    assert page.problems == []


def test_a_voice_recorded_in_the_browser_is_sent_with_the_edit_form(
    live_server, microphone_page, lisbon_store
):
    page = microphone_page
    place = send_place(live_server)
    page.goto(f"{live_server.url}/contribute/edit/{place['id']}?token={place['edit_token']}")
    recorder = page.locator("#voice-recorder")
    assert recorder.is_visible()  # MediaRecorder is there: the recorder shows
    page.click("#voice-recorder [data-record]")
    page.wait_for_function(
        "() => document.querySelector('#voice-recorder [data-stop]').disabled === false"
    )
    page.wait_for_timeout(1500)  # let it record a moment of the fake microphone's tone
    page.click("#voice-recorder [data-stop]")
    page.wait_for_function("() => document.getElementById('field-voice').files.length === 1")
    assert page.locator("#voice-recorder audio").is_visible()
    page.fill("#field-voice_transcript", TRANSCRIPT)
    page.fill("#field-voice_language", "pt")
    page.click("#voice-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=voice_added"))
    stored = lisbon_store.recordings(place["id"])
    assert len(stored) == 1 and stored[0].mime_type == "audio/webm"
    assert stored[0].duration_s > 0.5 and stored[0].transcript == TRANSCRIPT
    assert page.locator(".voice-list li").count() == 1
