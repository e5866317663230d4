"""A contributor's name and contact never leave the service except to facilitators and
admins: a place is submitted with a unique name and contact, moderated, labelled and
exported, and every public output and the captured log are searched for them. A
deliberately leaky route in a test app shows the search would catch one. Erasure by
contact leaves nothing of them in the SQLite file's bytes."""

from __future__ import annotations

import io
import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from PIL import Image
from starlette.routing import Mount
from typer.testing import CliRunner

from geodata.account_records import Role
from geodata.store.base import PlaceStore
from tests.geodata.test_audio_files import FIXTURES
from tests.web.staff_helpers import Staff, make_staff, sign_in
from tests.web.test_access_control import PUBLIC_ROUTES
from web.app import create_app
from web.cli import app as cli


@dataclass
class Secrets:
    name: str
    contact: str
    display_name: str  # chosen to be shown, so not searched for in public outputs

    def found_in(self, data: bytes) -> list[str]:
        lowered = data.lower()
        return [s for s in (self.name, self.contact) if s.lower().encode() in lowered]


@dataclass
class Seeded:
    secrets: Secrets
    staff: dict[Role, Staff]
    place_id: str
    edit_token: str
    hidden_id: str
    media_id: str
    workshop: str
    neighbourhood_id: int
    title: str
    recording_id: str = ""


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def seed(client: TestClient, store: PlaceStore) -> Seeded:
    """A published place (with a photo and a label) and a published hidden-location one,
    both in a workshop, both by the same contributor with unique name and contact."""
    tag = uuid.uuid4().hex[:10]
    secrets = Secrets(f"Zofia Leakcheck-{tag}", f"leak-{tag}@example.org", f"Zo-{tag}")
    staff = make_staff(store)
    facilitator = staff[Role.FACILITATOR].headers
    workshop = client.post(
        "/api/workshops", json={"title": "Leak check", "neighbourhood_id": 1}, headers=facilitator
    ).json()["code"]
    title = f"Leak check fountain {tag}"
    ids = []
    for i, sensitivity in enumerate(("public", "hidden")):
        r = client.post(
            "/api/places",
            json={
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-9.1402 + i * 0.001, 38.7101]},
                "properties": {
                    "title": f"{title} {i}",
                    "narratives": [{"text": "Water for the whole street.", "language": "pt"}],
                    "category": "memory",
                    "consent": {"publish": True, "open_data": True, "research": True},
                    "contributor": {
                        "name": secrets.name,
                        "contact": secrets.contact,
                        "display_name": secrets.display_name,
                    },
                    "sensitivity": sensitivity,
                    "workshop": workshop,
                },
            },
        )
        assert r.status_code == 201, r.text
        ids.append((r.json()["id"], r.json()["edit_token"]))
    (place_id, token), (hidden_id, _) = ids
    photo = client.post(
        f"/api/places/{place_id}/media",
        files={"file": ("fountain.jpg", _jpeg(), "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert photo.status_code == 201, photo.text
    voice = client.post(
        f"/api/places/{place_id}/audio",
        files={"file": ("voice.webm", (FIXTURES / "tone.webm").read_bytes(), "audio/webm")},
        data={"transcript": "Água para a rua toda.", "transcript_language": "pt"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert voice.status_code == 201, voice.text
    client.put(
        f"/api/moderation/places/{place_id}/labels",
        json={"labels": [{"label_id": "tk_a", "text": "Name the street's elders."}]},
        headers=facilitator,
    )
    # The resident corrects the story once: the audit trail keeps both versions.
    fixed = client.patch(
        f"/api/places/{place_id}",
        json={"properties": {"narratives": [{"text": "Water for the street.", "language": "pt"}]}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert fixed.status_code == 200, fixed.text
    published = client.post(
        "/api/moderation/publish", json={"ids": [place_id, hidden_id]}, headers=facilitator
    )
    assert published.status_code == 200
    return Seeded(
        secrets,
        staff,
        place_id,
        token,
        hidden_id,
        photo.json()["id"],
        workshop,
        store.get(place_id).neighbourhood_id,
        title,
        recording_id=voice.json()["id"],
    )


def public_urls(app: FastAPI, seeded: Seeded, public: dict[tuple[str, str], str]) -> list[str]:
    """A real URL for every public GET route (two for those answering JSON or HTML)."""
    values = {
        "neighbourhood_id": str(seeded.neighbourhood_id),
        "code": seeded.workshop,
        "place_id": seeded.place_id,
        "collection_id": "places",
        "feature_id": seeded.place_id,
        "media_id": seeded.media_id,
        "recording_id": seeded.recording_id,
        # No walk is seeded here: the walk routes answer 404, and must not leak either.
        "walk_id": "no-such-walk",
        "fmt": "shp",
        # Vector tiles: the whole world's tile holds every place (fewer than the cap).
        "tile_matrix_set_id": "WebMercatorQuad",
        "tile_matrix": "0",
        "tile_row": "0",
        "tile_col": "0",
        # The local basemap (none is installed here: its tiles answer 404).
        "z": "0",
        "x": "0",
        "name": "0.png",
    }
    queries = {
        "/api/map/places": ["bbox=-9.3,38.6,-9.0,38.8&zoom=18", "bbox=-9.3,38.6,-9.0,38.8&zoom=3"],
        "/api/map/search": [f"q={seeded.title[:20]}"],
        "/api/map/places/{place_id}": ["", f"lang=en&x={seeded.hidden_id}"],
        "/places/{place_id}": ["", "lang=pt", "lang=ar&story=pt"],
        "/": ["", "lang=pt", "lang=ar"],
        "/ogc/collections/{collection_id}/items": ["f=json", "f=html"],
        "/ogc/collections/{collection_id}/items/{feature_id}": ["f=json", "f=html"],
        "/ogc/collections/{collection_id}": ["f=json", "f=html"],
        "/api/export/places.geojson": ["", f"workshop={seeded.workshop}"],
    }
    urls = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount) or "GET" not in (route.methods or set()):
            continue
        if ("GET", route.path) not in public:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], route.path)
        for query in queries.get(route.path, [""]):
            urls.append(path + (f"?{query}" if query else ""))
    # The hidden place's own popup, page and OGC item must not tell either.
    urls += [
        f"/api/map/places/{seeded.hidden_id}",
        f"/places/{seeded.hidden_id}",
        f"/ogc/collections/places/items/{seeded.hidden_id}",
    ]
    return urls


def leaks(
    app: FastAPI, seeded: Seeded, public: dict[tuple[str, str], str] = PUBLIC_ROUTES
) -> list[str]:
    """Every public URL whose answer holds the contributor's name, contact or display name."""
    found = []
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for url in public_urls(app, seeded, public):
            r = client.get(url)
            assert r.status_code < 500, (url, r.status_code)
            body = r.content
            if r.headers.get("content-type") == "application/vnd.apache.parquet":
                import pyarrow.parquet as pq  # compressed columns: search what they hold

                body += str(pq.read_table(io.BytesIO(body)).to_pylist()).encode()
            hits = seeded.secrets.found_in(body + str(r.headers).encode())
            if hits:
                found.append(f"{url}: {', '.join(hits)}")
    return found


@pytest.fixture
def seeded(client, lisbon_store) -> Seeded:
    return seed(client, lisbon_store)


def test_no_public_output_and_no_log_line_holds_personal_data(app, lisbon_store, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    with TestClient(app, base_url="http://127.0.0.1") as client:
        seeded = seed(client, lisbon_store)
        # A bad submission quoting the contact in a field that refuses it: logs stay clean.
        bad = {
            "type": "Feature",
            "properties": {"contributor": {"contact": [seeded.secrets.contact]}},
        }
        assert client.post("/api/places", json=bad).status_code == 422
    urls = public_urls(app, seeded, PUBLIC_ROUTES)
    assert len(urls) >= 30  # maps, map data, exports, OGC API, photos, health, docs...
    assert leaks(app, seeded) == []
    assert caplog.records  # the log was captured (every request is logged by the client)
    assert seeded.secrets.found_in(caplog.text.encode()) == []


def test_a_route_that_forgets_the_rules_is_caught(settings, lisbon_store, client):
    seeded = seed(client, lisbon_store)
    app = create_app(settings, store=lisbon_store)

    @app.get("/api/map/places/{place_id}/raw")
    def raw_place(place_id: str) -> dict[str, str | None]:
        place = lisbon_store.get(place_id)  # no public_view: everything goes out
        return {"title": place.title, "by": place.contributor_contact}

    public = {**PUBLIC_ROUTES, ("GET", "/api/map/places/{place_id}/raw"): "leaky on purpose"}
    assert leaks(app, seeded, public) == [
        f"/api/map/places/{seeded.place_id}/raw: {seeded.secrets.contact}"
    ]


def test_staff_outputs_show_personal_data_to_the_right_roles_only(client, lisbon_store):
    seeded = seed(client, lisbon_store)
    staff = {r.value: s for r, s in seeded.staff.items()}
    secret = seeded.secrets.contact.encode()
    # Facilitators and admins see it where they moderate.
    for role in ("facilitator", "admin"):
        r = client.get(f"/api/moderation/places/{seeded.place_id}", headers=staff[role].headers)
        assert secret in r.content
    # Planners get aggregate counts only, and no backup.
    planner = staff["planner"].headers
    stats = client.get("/api/stats", headers=planner)
    assert stats.status_code == 200 and secret not in stats.content
    assert stats.json()["by_status"]["published"] >= 2
    assert client.get("/api/moderation/places", headers=planner).status_code == 403
    assert client.get("/api/admin/backup", headers=planner).status_code == 403
    assert client.get("/api/admin/backup", headers=staff["facilitator"].headers).status_code == 403
    # Admins export everything, pending places and personal data included.
    pending = client.post(
        "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.15, 38.72]},
            "properties": {"title": "Pending one", "category": "memory",
                           "narratives": [{"text": "Waiting.", "language": "en"}],
                           "consent": {"publish": True}},
        },
    ).json()["id"]  # fmt: skip
    backup = client.get("/api/admin/backup", headers=staff["admin"].headers)
    assert backup.status_code == 200 and "attachment" in backup.headers["content-disposition"]
    body = backup.json()
    ids = {f["id"] for f in body["features"]}
    assert {seeded.place_id, seeded.hidden_id, pending} <= ids
    assert len(ids) == lisbon_store.count()
    mine = next(f for f in body["features"] if f["id"] == seeded.place_id)
    assert mine["properties"]["contributor"]["contact"] == seeded.secrets.contact
    assert {a["name"] for a in body["accounts"]} >= {"test-admin", "test-planner"}
    assert "password" not in backup.text.replace("signs_in_with_password", "")
    assert "$argon2" not in backup.text


def test_planner_numbers_page_has_counts_not_people(client, lisbon_store):
    seeded = seed(client, lisbon_store)
    sign_in(client, "test-planner")
    page = client.get("/stats")
    assert page.status_code == 200 and "published" in page.text
    assert seeded.secrets.found_in(page.content) == []
    assert seeded.title not in page.text  # counts only, no places


def test_erasing_a_contact_leaves_no_personal_data_in_the_database_file(
    client, lisbon_store, settings, backend
):
    if backend != "sqlite":
        pytest.skip("reads the SQLite file's bytes")
    seeded = seed(client, lisbon_store)
    other = client.post(
        "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.15, 38.72]},
            "properties": {"title": "Someone else's", "category": "memory",
                           "narratives": [{"text": "Theirs.", "language": "en"}],
                           "consent": {"publish": True},
                           "contributor": {"contact": "keep-me@example.org"}},
        },
    ).json()["id"]  # fmt: skip
    db_path = Path(lisbon_store.path)
    photos = list(settings.media_path.rglob("*"))
    assert any(p.is_file() for p in photos)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["erase", "--contact", seeded.secrets.contact.upper(), "--yes",
         "--database-url", f"sqlite:///{db_path}"],
        env={"HERITAGE_MEDIA_DIR": str(settings.media_path)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "erased 2 place(s), 1 photo(s)" in result.stdout
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert seeded.secrets.found_in(raw) == []
    assert seeded.secrets.display_name.encode() not in raw
    assert seeded.title.encode() not in raw  # their stories went with them
    assert b"keep-me@example.org" in raw  # and nobody else's
    assert not [p for p in settings.media_path.rglob("*") if p.is_file()]
    assert lisbon_store.get(other).contributor_contact == "keep-me@example.org"
    erase = lisbon_store.audit_events(action="erase")
    assert len(erase) == 1 and "2 place(s)" in erase[0].detail


def test_changing_consent_takes_the_place_out_of_downloads_at_once(client, lisbon_store):
    seeded = seed(client, lisbon_store)
    mine = {"Authorization": f"Bearer {seeded.edit_token}"}

    def in_download() -> bool:
        body = client.get(f"/api/export/places.geojson?workshop={seeded.workshop}").json()
        return seeded.place_id in {f["id"] for f in body["features"]}

    def on_map() -> bool:
        return client.get(f"/api/map/places/{seeded.place_id}").status_code == 200

    assert in_download() and on_map()
    r = client.patch(
        f"/api/places/{seeded.place_id}",
        json={"properties": {"consent": {"publish": True, "open_data": False}}},
        headers=mine,
    )
    assert r.status_code == 200 and r.json()["properties"]["consent"]["given_at"]
    assert not in_download() and on_map()
    events = lisbon_store.audit_events(place_id=seeded.place_id)
    assert events[-1].action == "consent" and events[-1].actor == "resident (edit link)"
    assert client.delete(f"/api/places/{seeded.place_id}", headers=mine).status_code == 204
    assert not on_map()
