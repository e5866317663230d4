"""Voices at walk stops, over HTTP on every backend: the walk's proposer adds a recording
to a stop (API and plain form); it plays at that stop on the walk's page, goes into the
offline list, the print leaflet, GPX and GeoJSON, and only as its consent scope allows;
a hidden stop hides it, and withdrawal and erasure take it, record and file."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest

from geodata import walk_lifecycle
from geodata.account_records import Role
from geodata.accounts import create_account, start_session
from geodata.audit import Actor
from geodata.erasure import erase_contact
from geodata.models import Status
from tests.geodata.test_audio_files import FIXTURES
from tests.web.test_audio_api import files_under, tagged_mp3
from tests.web.test_contribute_form import hidden
from tests.web.test_walks_api import body, public_ids

TRANSCRIPT = "Aqui o meu avô vendia castanhas no inverno."
GPX = "{http://www.topografix.com/GPX/1/1}"


@pytest.fixture
def walk(client, lisbon_store) -> dict:
    answer = client.post("/api/walks", json=body(public_ids(lisbon_store, 3)))
    assert answer.status_code == 201, answer.text
    return answer.json()


def owner(walk: dict) -> dict[str, str]:
    return {"X-Edit-Token": walk["edit_token"]}


def upload(client, walk, stop: int, data: bytes, name: str = "voice.webm", **fields):
    return client.post(
        f"/api/walks/{walk['id']}/stops/{stop}/audio",
        files={"file": (name, data, "application/octet-stream")},
        data=fields,
        headers=owner(walk),
    )


def publish(store, walk: dict) -> None:
    walk_lifecycle.publish(store, walk["id"], Actor("test facilitator"))


def test_a_stop_recording_plays_at_its_stop_once_the_walk_is_published(
    client, walk, lisbon_store, tmp_path
):
    data = tagged_mp3(tmp_path)
    sent = upload(client, walk, 2, data, "avo.txt", title="O avô", transcript=TRANSCRIPT,
                  transcript_language="pt")  # fmt: skip
    assert sent.status_code == 201, sent.text
    voice = sent.json()
    assert voice["stop"] == 2 and voice["mime_type"] == "audio/mpeg" and voice["duration"] == "0:02"
    again = upload(client, walk, 2, data, "avo.mp3", title="O avô", transcript=TRANSCRIPT,
                   transcript_language="pt")  # fmt: skip
    assert again.status_code == 200 and again.json()["id"] == voice["id"]  # a retry: kept once
    assert client.get(voice["url"]).status_code == 404  # the walk is pending
    heard = client.get(voice["url"], params={"token": walk["edit_token"]})
    assert heard.status_code == 200 and b"Maria Secreta" not in heard.content
    assert client.get(f"/walks/{walk['id']}").status_code == 404

    publish(lisbon_store, walk)
    played = client.get(voice["url"])
    assert played.status_code == 200 and played.headers["content-type"] == "audio/mpeg"
    assert len(played.content) == voice["bytes"] and b"Maria Secreta" not in played.content
    page = client.get(f"/walks/{walk['id']}").text
    stops = re.split(r'<li class="walk-stop" id="stop-', page)[1:]
    assert "<audio" not in stops[0] and "<audio" not in stops[2]
    assert f'<source src="/audio/{voice["id"]}" type="audio/mpeg">' in stops[1]
    assert TRANSCRIPT in stops[1] and "O avô" in stops[1] and "Duration: 0:02" in stops[1]

    offline = client.get(f"/walks/{walk['id']}/offline.json").json()
    assert f"/audio/{voice['id']}" in offline["urls"]
    features = client.get(f"/walks/{walk['id']}.geojson").json()["features"]
    stop = next(f for f in features if f["properties"].get("number") == 2)
    (listed,) = stop["properties"]["recordings"]
    assert listed["url"].endswith(f"/audio/{voice['id']}") and listed["made_for"] == "walk"
    assert listed["transcript"] == TRANSCRIPT and listed["duration_s"] == voice["duration_s"]
    gpx = ET.fromstring(client.get(f"/walks/{walk['id']}.gpx").content)
    links = [wpt.findall(f"{GPX}link") for wpt in gpx.findall(f"{GPX}wpt")]
    assert [len(w) for w in links] == [1, 2, 1]  # each place's page; the recording at stop 2
    assert links[1][1].get("href").endswith(f"/audio/{voice['id']}")
    assert links[1][1].findtext(f"{GPX}text") == "O avô"
    assert links[1][1].findtext(f"{GPX}type") == "audio/mpeg"
    leaflet = client.get(f"/walks/{walk['id']}/print").text
    assert (
        f"/walks/{walk['id']}#stop-2" in leaflet and TRANSCRIPT in leaflet and "(0:02)" in leaflet
    )


def test_each_scope_decides_who_hears_a_stop_recording_in_every_output(client, walk, lisbon_store):
    data = (FIXTURES / "tone.webm").read_bytes()
    ids = {}
    for scope in ("public", "workshop", "archive"):
        answer = upload(client, walk, 1, data, scope=scope, transcript=f"words {scope}",
                        transcript_language="en")  # fmt: skip
        assert answer.status_code == 201, answer.text
        ids[scope] = answer.json()["id"]
    publish(lisbon_store, walk)
    facilitator, _ = create_account(lisbon_store, "fac", Role.FACILITATOR, password="x" * 16)
    session = start_session(lisbon_store, facilitator, timedelta(hours=1))[0]
    heard = {"public": {"public"}, "staff": {"public", "workshop"},
             "owner": {"public", "workshop", "archive"}}  # fmt: skip
    for who, expected in heard.items():
        client.cookies.clear()
        if who == "staff":
            client.cookies.set("heritage_session", session)
        params = {"token": walk["edit_token"]} if who == "owner" else {}
        got = {s for s, rid in ids.items() if client.get(f"/audio/{rid}", params=params).is_success}
        assert got == expected, who
        listed = client.get(
            f"/api/walks/{walk['id']}/audio", headers=owner(walk) if who == "owner" else {}
        )
        assert {r["scope"] for r in listed.json()["recordings"]} == expected, who
    client.cookies.clear()
    outputs = [
        client.get(f"/walks/{walk['id']}").text,
        client.get(f"/walks/{walk['id']}/print").text,
        client.get(f"/walks/{walk['id']}.geojson").text,
        client.get(f"/walks/{walk['id']}.gpx").text,
        client.get(f"/walks/{walk['id']}/offline.json").text,
    ]
    for text in outputs:
        assert ids["public"] in text or "words public" in text
        assert ids["workshop"] not in text and ids["archive"] not in text
        assert "words workshop" not in text and "words archive" not in text
    own = client.get(f"/api/walks/{walk['id']}", headers=owner(walk)).json()
    assert len(own["stops"][0]["recordings"]) == 3
    # The admins' backup lists every one, the archive's with its transcript.
    _, admin = create_account(lisbon_store, "adm", Role.ADMIN, password="x" * 16)
    backup = client.get("/api/admin/backup", headers={"Authorization": f"Bearer {admin}"}).json()
    (kept,) = [w for w in backup["walks"] if w["id"] == walk["id"]]
    assert {r["transcript"] for r in kept["stops"][0]["recordings"]} == {
        "words public", "words workshop", "words archive"}  # fmt: skip
    assert kept["contributor"]["contact"] == "rui@example.org"


def test_a_stop_plays_its_places_own_public_recordings_after_the_walks(client, lisbon_store):
    place = client.post(
        "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1333, 38.7139]},
            "properties": {"title": "Beco das Cruzes", "category": "memory",
                           "narratives": [{"text": "Um beco.", "language": "pt"}],
                           "consent": {"publish": True}},
        },
    ).json()  # fmt: skip
    from geodata.moderation import publish as publish_place

    publish_place(lisbon_store, place["id"], Actor("test facilitator"))
    data = (FIXTURES / "tone.opus.ogg").read_bytes()
    own = client.post(f"/api/places/{place['id']}/audio", files={"file": ("a.ogg", data)},
                      headers={"X-Edit-Token": place["edit_token"]}).json()  # fmt: skip
    walk = client.post("/api/walks", json=body([place["id"], *public_ids(lisbon_store, 1)])).json()
    stop = upload(client, walk, 1, (FIXTURES / "tone.webm").read_bytes()).json()
    publish(lisbon_store, walk)
    page = client.get(f"/walks/{walk['id']}").text
    assert page.index(f"/audio/{stop['id']}") < page.index(f"/audio/{own['id']}")
    features = client.get(f"/walks/{walk['id']}.geojson").json()["features"]
    first = next(f for f in features if f["properties"].get("number") == 1)
    assert [r["made_for"] for r in first["properties"]["recordings"]] == ["walk", "place"]
    # The place's own page and its owner's API do not take the walk's recording as theirs.
    assert stop["id"] not in client.get(f"/places/{place['id']}").text
    mine = client.get(
        f"/api/places/{place['id']}/audio", headers={"X-Edit-Token": place["edit_token"]}
    )
    assert [r["id"] for r in mine.json()["recordings"]] == [own["id"]]
    taken = client.delete(f"/api/places/{place['id']}/audio/{stop['id']}",
                          headers={"X-Edit-Token": place["edit_token"]})  # fmt: skip
    assert taken.status_code == 404 and client.get(f"/audio/{stop['id']}").status_code == 200


def test_a_hidden_stop_hides_its_recordings(client, walk, lisbon_store):
    voice = upload(client, walk, 2, (FIXTURES / "tone.webm").read_bytes()).json()
    publish(lisbon_store, walk)
    assert client.get(voice["url"]).status_code == 200
    place = lisbon_store.get(lisbon_store.get_walk(walk["id"]).stops[1].place_id)
    lisbon_store.update(replace(place, status=Status.REJECTED))
    assert client.get(voice["url"]).status_code == 404
    for path in ("", ".geojson", ".gpx", "/print", "/offline.json"):
        assert voice["id"] not in client.get(f"/walks/{walk['id']}{path}").text, path
    assert client.get(f"/api/walks/{walk['id']}/audio").json()["recordings"] == []
    assert client.get(voice["url"], params={"token": walk["edit_token"]}).status_code == 200


def test_withdrawal_and_erasure_take_the_recordings_and_their_files(client, lisbon_store, settings):
    media = settings.media_path
    data = (FIXTURES / "tone.webm").read_bytes()
    first = client.post("/api/walks", json=body(public_ids(lisbon_store, 2))).json()
    upload(client, first, 1, data)
    assert len(files_under(media)) == 1
    gone = client.delete(f"/api/walks/{first['id']}", headers=owner(first))
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    assert files_under(media) == [] and lisbon_store.walk_recordings(first["id"]) == {}
    again = upload(client, first, 1, data)
    assert again.status_code == 409  # a withdrawn walk takes no new recordings
    page = client.get(f"/walks/{first['id']}/voices", params={"token": first["edit_token"]})
    assert "has been withdrawn" in page.text and 'id="voice-form"' not in page.text
    assert files_under(media) == []

    second = client.post("/api/walks", json=body(public_ids(lisbon_store, 2))).json()
    upload(client, second, 2, data)
    assert len(files_under(media)) == 1
    report = erase_contact(lisbon_store, "RUI@example.org", media, Actor("test admin"))
    assert report.walks == 1  # the withdrawn walk lost its contact with its withdrawal
    assert files_under(media) == [] and not (media / second["id"]).exists()


def test_bad_stop_uploads_are_refused_and_leave_nothing(client, walk, lisbon_store, settings):
    data = (FIXTURES / "tone.webm").read_bytes()
    assert upload(client, walk, 4, data).status_code == 404
    assert upload(client, walk, 0, data).status_code == 404
    nobody = client.post(f"/api/walks/{walk['id']}/stops/1/audio", files={"file": ("a", data)})
    assert nobody.status_code == 401
    wrong = client.post(f"/api/walks/{walk['id']}/stops/1/audio", files={"file": ("a", data)},
                        headers={"X-Edit-Token": "wrong"})  # fmt: skip
    assert wrong.status_code == 403
    refused = upload(client, walk, 1, b"%PDF-1.7 not a sound" * 10, "voice.mp3")
    assert refused.status_code == 415
    assert refused.headers["content-type"] == "application/problem+json"
    flac = upload(client, walk, 1, (FIXTURES / "tone.flac").read_bytes(), "voice.ogg")
    assert flac.status_code == 415
    cut = upload(client, walk, 1, (FIXTURES / "tone.m4a").read_bytes()[:3000], "voice.m4a")
    assert cut.status_code == 422
    assert files_under(settings.media_path) == [] and lisbon_store.walk_recordings(walk["id"]) == {}
    listed = client.get(f"/api/walks/{walk['id']}/audio")
    assert listed.status_code == 404  # a pending walk is nobody's business but its proposer's


def test_the_walk_voices_form_adds_and_removes_recordings_without_javascript(
    client, walk, lisbon_store, settings
):
    page = client.get(f"/walks/{walk['id']}/voices", params={"token": walk["edit_token"]})
    assert page.status_code == 200
    assert 'id="voice-recorder"' in page.text and 'name="stop"' in page.text
    start = page.text.index('name="stop"')
    select = page.text[start : page.text.index("</select>", start)]
    assert select.count("<option") == 3
    fields = {"csrf_token": hidden(page.text, "csrf_token"), "token": walk["edit_token"]}

    def send(data: bytes, **more):
        return client.post(f"/walks/{walk['id']}/voices", data={**fields, **more},
                           files={"file": ("voice.webm", data, "audio/webm")},
                           follow_redirects=False)  # fmt: skip

    refused = send(b"not a sound" * 50, stop="3", transcript=TRANSCRIPT, transcript_language="pt")
    assert refused.status_code == 415
    assert 'id="error-voice"' in refused.text and "MP3, Ogg, M4A, WAV or WebM" in refused.text
    assert TRANSCRIPT in refused.text  # what was typed is shown again
    assert '<option value="3" selected>' in refused.text
    no_stop = send((FIXTURES / "tone.webm").read_bytes(), stop="9")
    assert no_stop.status_code == 422 and "choose the stop the recording is for" in no_stop.text
    assert files_under(settings.media_path) == []

    added = send((FIXTURES / "tone.webm").read_bytes(), stop="3", scope="workshop")
    assert added.status_code == 303 and "done=voice_added" in added.headers["location"]
    (rid,) = [r.id for group in lisbon_store.walk_recordings(walk["id"]).values() for r in group]
    shown = client.get(added.headers["location"])
    assert "The recording has been added." in shown.text and f"/audio/{rid}?token=" in shown.text
    removed = client.post(f"/walks/{walk['id']}/voices", data={**fields, "action": f"remove:{rid}"},
                          follow_redirects=False)  # fmt: skip
    assert removed.status_code == 303 and lisbon_store.walk_recordings(walk["id"]) == {}
    assert files_under(settings.media_path) == []
    wrong = client.get(f"/walks/{walk['id']}/voices", params={"token": "nope"})
    assert wrong.status_code == 403 and 'id="voice-form"' not in wrong.text
