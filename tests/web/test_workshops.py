"""Workshops over HTTP: creating one (API and form), its join code and QR code, the
dashboard, the time window submissions must fall in, closing it, and its outcome (a
GeoJSON of the published places and a printable map)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pyogrio
import pytest
import segno

from geodata.account_records import Role
from geodata.models import Status, utcnow
from geodata.workshops import JOIN_ALPHABET, new_join_code
from tests.web.staff_helpers import make_staff, page_csrf, sign_in

# Characters that look alike (or sound alike when spelt out): a code holds at most one
# of each group.
CONFUSABLE = ["0OQD", "1IL", "2Z", "5S", "8B", "6G", "UV", "MN", "AJK", "BCDEGPTVZ"]


@pytest.fixture
def staff(lisbon_store):
    return make_staff(lisbon_store)


@pytest.fixture
def facilitator(staff):
    return staff[Role.FACILITATOR].headers


def create(client, headers, **fields) -> dict:
    body = {"title": "Mouraria memories", "neighbourhood_id": 1, **fields}
    r = client.post("/api/workshops", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def feature(title: str, workshop: str | None = None, sensitivity: str = "public", **consent):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
        "properties": {
            "title": title,
            "narratives": [{"text": f"The story of {title}.", "language": "pt"}],
            "category": "memory",
            "consent": {"publish": True, "open_data": True, **consent},
            "contributor": {"name": "Zé Secret", "contact": "ze.secret@example.org"},
            "workshop": workshop,
            "sensitivity": sensitivity,
        },
    }


def test_join_codes_avoid_characters_that_look_or_sound_alike():
    for group in CONFUSABLE:
        assert len(set(group) & set(JOIN_ALPHABET)) <= 1, group
    codes = {new_join_code() for _ in range(2000)}
    assert len(codes) > 1990  # 14**6 codes: collisions are rare
    assert all(len(c) == 6 and set(c) <= set(JOIN_ALPHABET) for c in codes)


def test_create_gives_code_links_and_counts(client, facilitator):
    w = create(client, facilitator, moderation="post", languages=["pt", "EN", "ar"])
    assert re.fullmatch(f"[{JOIN_ALPHABET}]{{6}}", w["code"])
    assert w["spoken_code"] == f"{w['code'][:3]} {w['code'][3:]}"
    assert w["contribute_url"] == f"http://127.0.0.1/contribute?workshop={w['code']}"
    assert w["live_url"] == f"/workshops/{w['code']}/live"
    assert w["languages"] == ["pt", "en", "ar"] and w["moderation"] == "post"
    assert w["state"] == "open" and w["counts"]["pending"] == 0
    got = client.get(f"/api/workshops/{w['code'].lower()}", headers=facilitator).json()
    assert got["code"] == w["code"]


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"title": ""}, 422, "title is empty"),
        ({"ends_at": "2020-01-01T10:00:00Z", "starts_at": "2020-01-01T09:00:00Z"}, 422, "over"),
        ({"starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T09:00:00Z"}, 422, "end"),
        ({"starts_at": "2030-01-01T10:00:00"}, 422, "timezone"),
        ({"neighbourhood_id": 999}, 404, "neighbourhood 999"),
        ({"moderation": "later"}, 422, "moderation"),
        ({"languages": ["not a tag"]}, 422, "language tag"),
    ],
)
def test_bad_workshops_are_refused_clearly(
    client, facilitator, lisbon_store, fields, status, words
):
    body = {"title": "Mouraria memories", **fields}
    r = client.post("/api/workshops", json=body, headers=facilitator)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert words in r.text
    assert lisbon_store.workshops() == []


def test_submissions_join_the_workshop_only_inside_its_window(client, facilitator, lisbon_store):
    soon = utcnow() + timedelta(hours=2)
    end = soon + timedelta(hours=1)
    later = create(client, facilitator, starts_at=soon.isoformat(), ends_at=end.isoformat())
    r = client.post("/api/places", json=feature("Too early", later["code"]))
    assert r.status_code == 422 and "not open for contributions right now" in r.text
    now = create(client, facilitator)
    r = client.post("/api/places", json=feature("Just in time", now["code"].lower()))
    assert r.status_code == 201
    assert lisbon_store.get(r.json()["id"]).workshop == now["code"]
    closed = client.post(f"/api/workshops/{now['code']}/close", headers=facilitator)
    assert closed.json()["state"] == "closed"
    r = client.post("/api/places", json=feature("Too late", now["code"]))
    assert r.status_code == 422 and "not open for contributions right now" in r.text


def test_qr_code_encodes_the_contribute_link(client, facilitator):
    w = create(client, facilitator)
    r = client.get(f"/workshops/{w['code']}/qr.svg", headers=facilitator)
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    expected = io.BytesIO()
    segno.make(w["contribute_url"], error="m").save(
        expected, kind="svg", scale=10, border=4, title=f"Join workshop {w['code']}"
    )
    assert r.content == expected.getvalue()  # same modules: the same link
    other = io.BytesIO()
    segno.make(w["contribute_url"] + "X", error="m").save(other, kind="svg", scale=10, border=4)
    assert r.content != other.getvalue()


def test_dashboard_page_has_code_qr_live_queue_and_counts(client, staff, facilitator):
    w = create(client, facilitator)
    client.post("/api/places", json=feature("Fountain", w["code"]))
    sign_in(client, staff[Role.FACILITATOR].name)
    page = client.get(f"/workshops/{w['code']}")
    assert page.status_code == 200
    html = page.text
    assert w["spoken_code"] in html and w["contribute_url"] in html
    assert re.search(r'<svg [^>]*class="qrcode"', html)
    assert f'href="/workshops/{w["code"]}/live"' in html
    assert f'href="/moderation?workshop={w["code"]}"' in html
    assert re.search(r"<strong>1</strong> pending", html)
    # A code typed in lower case is sent to the canonical one (codes of digits only have
    # no lower case: take one with a letter; 20 draws without one has odds of about 1e-7).
    lettered = next(
        c for c in (create(client, facilitator)["code"] for _ in range(20)) if c.lower() != c
    )
    assert client.get(f"/workshops/{lettered.lower()}", follow_redirects=False).status_code == 308


def test_workshop_form_creates_and_closes(client, staff, lisbon_store):
    sign_in(client, staff[Role.FACILITATOR].name)
    csrf = page_csrf(client.get("/workshops").text)
    bad = client.post(
        "/workshops",
        data={"csrf_token": csrf, "title": "Evening", "timezone": "Mars/Olympus"},
    )
    assert bad.status_code == 422 and "not a time zone" in bad.text
    r = client.post(
        "/workshops",
        data={
            "csrf_token": csrf,
            "title": "Evening in Alfama",
            "neighbourhood_id": "3",
            "starts_at": "2031-06-12T18:00",
            "ends_at": "2031-06-12T21:00",
            "timezone": "Europe/Lisbon",
            "moderation": "post",
            "languages": "pt, en",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    code = r.headers["location"].rsplit("/", 1)[-1]
    w = lisbon_store.get_workshop(code)
    assert w.starts_at.isoformat() == "2031-06-12T17:00:00+00:00"  # 18:00 summer time
    assert (w.moderation, w.languages, w.neighbourhood_id) == ("post", ["pt", "en"], 3)
    r = client.post(f"/workshops/{code}/close", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert lisbon_store.get_workshop(code).ends_at <= utcnow() + timedelta(seconds=1)
    assert [e.action for e in lisbon_store.audit_events(action="workshop_close")] == [
        "workshop_close"
    ]


def test_outcome_geojson_holds_the_published_open_data_places_only(
    client, facilitator, lisbon_store
):
    w = create(client, facilitator)
    ids = {}
    for title, consent in (("Shown", {}), ("Map only", {"open_data": False}), ("Waiting", {})):
        ids[title] = client.post("/api/places", json=feature(title, w["code"], **consent)).json()[
            "id"
        ]
    client.post("/api/places", json=feature("Not in it"))
    for title in ("Shown", "Map only"):
        client.post(f"/api/moderation/places/{ids[title]}/publish", headers=facilitator)
    r = client.get(f"/workshops/{w['code']}/outcome.geojson", headers=facilitator)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    assert "attachment" in r.headers["content-disposition"]
    frame = pyogrio.read_dataframe(io.BytesIO(r.content))
    assert list(frame["title"]) == ["Shown"]
    assert "Zé Secret" not in r.text and "ze.secret" not in r.text
    assert r.json()["title"].endswith("Mouraria memories")


def test_printable_map_numbers_the_places_and_hides_hidden_ones(client, staff, facilitator):
    w = create(client, facilitator)
    shown = client.post("/api/places", json=feature("Old bakery", w["code"])).json()["id"]
    hidden = client.post(
        "/api/places", json=feature("Sacred spring", w["code"], sensitivity="hidden")
    ).json()["id"]
    pending = client.post("/api/places", json=feature("Not yet", w["code"])).json()["id"]
    for pid in (shown, hidden):
        client.post(f"/api/moderation/places/{pid}/publish", headers=facilitator)
    sign_in(client, staff[Role.FACILITATOR].name)
    page = client.get(f"/workshops/{w['code']}/print")
    assert page.status_code == 200
    svg = re.search(r"<svg .*?</svg>", page.text, re.S).group(0)
    assert svg.count('class="place"') == 1 and ">1</text>" in svg and ">2</text>" not in svg
    assert 'class="area"' in svg  # the neighbourhood's outline
    assert "Old bakery" in page.text and "Sacred spring" in page.text
    assert "location not shown" in page.text
    assert "Not yet" not in page.text and "Zé Secret" not in page.text
    assert pending


def test_planners_cannot_run_workshops(client, staff):
    r = client.post("/api/workshops", json={"title": "x"}, headers=staff[Role.PLANNER].headers)
    assert r.status_code == 403


def test_post_moderated_workshop_places_count_as_published(client, facilitator, lisbon_store):
    w = create(client, facilitator, moderation="post")
    r = client.post("/api/places", json=feature("Straight on the map", w["code"]))
    assert r.json()["status"] == Status.PUBLISHED
    counts = client.get(f"/api/workshops/{w['code']}", headers=facilitator).json()["counts"]
    assert counts["published"] == 1 and counts["pending"] == 0
