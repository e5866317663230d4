"""Voices in a real browser (Debian's Chromium): a walk stop plays its recording with the
transcript beside it, "walk with me" plays it within 30 m, "Save for offline" keeps it
so it plays with no signal; the new-place form records a voice with MediaRecorder (a
fake microphone), keeps it through a form shown again for a problem, and sends it once
with the place."""

from __future__ import annotations

import io
import re

import pytest

from geodata.place_attachments import AudioScope
from geodata.voices import RecordingDetails
from geodata.walk_voices import add_stop_recording
from tests.browser.test_contribute_browser import PHONE, fill_story, tap_map
from tests.geodata.test_audio_files import FIXTURES

pytestmark = pytest.mark.browser
READY = ".walk[data-ready]"
TRANSCRIPT = "Daqui via-se o rio inteiro, dizia a minha avó."
STOP = 3


@pytest.fixture
def belem(app, lisbon_store):
    """The demo's Belém walk, its third stop with a public recording and a workshop one."""
    walk = next(w for w in lisbon_store.walks("published") if w.titles[0].text.startswith("Belém"))
    media = app.state.settings.media_path
    data = (FIXTURES / "tone.webm").read_bytes()
    told = RecordingDetails(AudioScope.PUBLIC, "A avó", TRANSCRIPT, "pt")
    public = add_stop_recording(lisbon_store, media, walk, STOP, io.BytesIO(data), told)
    private = RecordingDetails(AudioScope.WORKSHOP, "Só na oficina")
    add_stop_recording(lisbon_store, media, walk, STOP, io.BytesIO(data), private)
    walk.voice_id = public.recording.id  # type: ignore[attr-defined]
    return walk


def stop_audio_playing(page) -> bool:
    return page.evaluate(
        f"""() => {{ const a = document.querySelector('#stop-{STOP} audio');
                    return !!a && !a.paused && a.currentTime > 0; }}"""
    )


def test_a_walk_stop_plays_its_recording_with_the_transcript_beside_it(live_server, watched, belem):
    watched.goto(f"{live_server.url}/walks/{belem.id}?lang=en")
    watched.wait_for_selector(READY, state="attached", timeout=10_000)
    stop = watched.locator(f"#stop-{STOP}")
    assert stop.locator("audio").count() == 1  # the workshop one is not there
    assert watched.locator("audio").count() == 1
    transcript = stop.locator(".voice-transcript p")
    assert transcript.inner_text() == TRANSCRIPT and transcript.get_attribute("lang") == "pt"
    stop.scroll_into_view_if_needed()
    player, text = stop.locator("audio").bounding_box(), transcript.bounding_box()
    assert text["x"] >= player["x"] + player["width"]  # beside it, not below
    assert "Duration: 0:02" in stop.inner_text()
    watched.evaluate(
        f"() => {{ const a = document.querySelector('#stop-{STOP} audio'); a.muted = true; "
        "return a.play(); }"
    )
    watched.wait_for_function(f"() => document.querySelector('#stop-{STOP} audio').currentTime > 0")
    assert watched.problems == [] and watched.blocked_requests == []


def test_walk_with_me_plays_the_stops_recording_within_30_m(
    live_server, browser, lisbon_store, belem
):
    at = lisbon_store.get(belem.stops[STOP - 1].place_id).geometry.centroid
    context = browser.new_context(
        geolocation={"latitude": at.y + 0.0001, "longitude": at.x},  # about 11 m away
        permissions=["geolocation"],
        viewport=PHONE,
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/walks/{belem.id}?lang=en")
        page.wait_for_selector(READY, state="attached", timeout=10_000)
        page.evaluate("() => document.querySelectorAll('audio').forEach(a => { a.muted = true; })")
        assert not stop_audio_playing(page)
        page.locator(".walk-follow").click()
        page.wait_for_selector(f".walk[data-nearest='{STOP}']", state="attached", timeout=5_000)
        page.wait_for_function(
            f"() => {{ const a = document.querySelector('#stop-{STOP} audio'); "
            "return !a.paused && a.currentTime > 0; }",
            timeout=10_000,
        )
    finally:
        context.close()


def test_a_walk_saved_for_offline_plays_its_recording_with_no_signal(live_server, browser, belem):
    context = browser.new_context(service_workers="allow")
    page = context.new_page()
    try:
        url = f"{live_server.url}/walks/{belem.id}?lang=en"
        page.goto(url)
        page.wait_for_selector(READY, state="attached", timeout=10_000)
        page.locator(".walk-save").click()
        page.wait_for_selector(".walk[data-saved='1']", state="attached", timeout=30_000)
        context.set_offline(True)
        page.goto(url)
        page.wait_for_selector(READY, state="attached", timeout=10_000)
        page.evaluate(
            f"() => {{ const a = document.querySelector('#stop-{STOP} audio'); a.muted = true; "
            "return a.play(); }"
        )
        page.wait_for_function(
            f"() => document.querySelector('#stop-{STOP} audio').currentTime > 0", timeout=10_000
        )
        assert page.evaluate(
            f"() => document.querySelector('#stop-{STOP} audio').currentSrc"
        ).endswith(f"/audio/{belem.voice_id}")
    finally:
        context.close()


def test_the_new_place_form_records_a_voice_keeps_it_through_an_error_and_sends_it_once(
    live_server, microphone_page, lisbon_store
):
    page = microphone_page
    page.set_viewport_size(PHONE)
    before = lisbon_store.count()
    page.goto(f"{live_server.url}/contribute?lang=en")
    page.wait_for_selector("#map.leaflet-container")
    recorder = page.locator("#voice-recorder")
    assert recorder.is_visible()  # MediaRecorder is there: the recorder shows
    page.click("#voice-recorder [data-record]")
    page.wait_for_function(
        "() => document.querySelector('#voice-recorder [data-stop]').disabled === false"
    )
    page.wait_for_timeout(1500)  # a moment of the fake microphone's tone
    page.click("#voice-recorder [data-stop]")
    page.wait_for_function("() => document.getElementById('field-voice').files.length === 1")
    page.fill("#field-voice_transcript", TRANSCRIPT)
    tap_map(page)
    fill_story(page, title="")
    page.click("#submit-place")  # the transcript has no language: said before anything goes
    page.wait_for_selector("#error-voice_language:not([hidden])")
    page.fill("#field-voice_language", "pt")
    page.click("#submit-place")  # the place has no title: the server says so
    page.wait_for_selector("#error-title:not([hidden])")
    assert lisbon_store.count() == before
    assert page.evaluate("document.getElementById('field-voice').files.length") == 1  # kept
    page.fill("#field-title", "Miradouro da avó")
    page.click("#submit-place")
    page.wait_for_selector("#done:not([hidden])")
    assert "Your recording has been added." in page.locator("#voice-outcome").inner_text()
    link = page.input_value("#edit-link")
    place_id = re.search(r"/edit/(pl_[\w-]+)", link).group(1)
    assert lisbon_store.count() == before + 1
    (kept,) = lisbon_store.recordings(place_id)
    assert kept.mime_type in ("audio/webm", "audio/ogg") and kept.duration_s > 0.5
    assert kept.transcript == TRANSCRIPT and kept.transcript_language == "pt"
