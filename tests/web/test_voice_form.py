"""Voices on the private edit page without JavaScript: a file sent with the plain form is
stored (and then heard on the place's page once public); a refused one is explained
next to the voice field, in the resident's language, and nothing is kept."""

from __future__ import annotations

import pytest

from geodata.audit import Actor
from geodata.moderation import publish
from tests.geodata.test_audio_files import FIXTURES
from tests.web.test_audio_api import files_under
from tests.web.test_contribute_form import hidden


@pytest.fixture
def place(client) -> dict:
    answer = client.post(
        "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1361, 38.7119]},
            "properties": {
                "title": "Largo da Severa",
                "narratives": [{"text": "Onde viveu a Severa.", "language": "pt"}],
                "category": "memory",
                "consent": {"publish": True},
            },
        },
    )
    assert answer.status_code == 201
    return answer.json()


def send(client, place, data: bytes, name: str, **fields):
    edit = client.get(f"/contribute/edit/{place['id']}", params={"token": place["edit_token"]})
    assert 'id="voice-form"' in edit.text and 'id="voice-recorder"' in edit.text
    return client.post(
        f"/contribute/edit/{place['id']}/audio",
        data={
            "csrf_token": hidden(edit.text, "csrf_token"),
            "token": place["edit_token"],
            **fields,
        },
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


def test_a_recording_sent_with_the_plain_form_is_kept_and_heard_once_public(
    client, place, lisbon_store
):
    sent = send(
        client,
        place,
        (FIXTURES / "tone.opus.ogg").read_bytes(),
        "fado.ogg",
        scope="public",
        title="<script>alert(1)</script>",
        transcript="Canta-se o fado aqui.",
        transcript_language="pt",
    )
    assert sent.status_code == 303 and "done=voice_added" in sent.headers["location"]
    edit = client.get(sent.headers["location"])
    assert "The recording has been added." in edit.text and "0:02" in edit.text
    page = client.get(f"/places/{place['id']}")
    assert page.status_code == 404  # not public yet
    publish(lisbon_store, place["id"], Actor("test facilitator"))
    page = client.get(f"/places/{place['id']}")
    assert "<audio controls" in page.text and "Canta-se o fado aqui." in page.text
    assert "<script>alert(1)</script>" not in page.text  # the title, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    rid = lisbon_store.recordings(place["id"])[0].id
    removed = client.post(
        f"/contribute/edit/{place['id']}/audio",
        data={
            "csrf_token": hidden(edit.text, "csrf_token"),
            "token": place["edit_token"],
            "action": f"remove:{rid}",
        },
        follow_redirects=False,
    )
    assert removed.status_code == 303 and lisbon_store.recordings(place["id"]) == []


def test_a_workshop_only_recording_stays_off_the_public_page(client, place, lisbon_store):
    sent = send(
        client,
        place,
        (FIXTURES / "tone.mp3").read_bytes(),
        "a.mp3",
        scope="workshop",
        transcript="Só para a oficina.",
        transcript_language="pt",
    )
    assert sent.status_code == 303
    publish(lisbon_store, place["id"], Actor("test facilitator"))
    page = client.get(f"/places/{place['id']}")
    assert page.status_code == 200 and "<audio" not in page.text
    assert "Só para a oficina." not in page.text


def test_a_refused_file_is_explained_by_the_voice_field_and_nothing_is_kept(
    client, place, lisbon_store, settings
):
    sent = send(client, place, b"not a sound at all" * 20, "voice.mp3")
    assert sent.status_code == 415
    assert 'id="error-voice"' in sent.text and "MP3, Ogg, M4A, WAV or WebM" in sent.text
    client.headers["Accept-Language"] = "pt"
    cut = (FIXTURES / "tone.m4a").read_bytes()[:3000]
    sent = send(client, place, cut, "voice.m4a", transcript="Sem língua")
    assert sent.status_code == 422
    assert "Indique em que língua está a transcrição." in sent.text  # by its own field
    assert lisbon_store.recordings(place["id"]) == []
    assert files_under(settings.media_path) == []
