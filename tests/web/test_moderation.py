"""Moderation over HTTP: the queue (with contributors' details, photos, duplicate hints),
publish, reject with a reason the contributor sees, hide in post-moderated workshops,
corrections kept in the history, protocol labels on popups and downloads, bulk
publishing that is all-or-nothing, and filters."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from markupsafe import escape
from PIL import Image

from geodata.account_records import Role
from geodata.models import Moderation, Status, Workshop, utcnow
from geodata.place_attachments import PlaceFlag
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from tests.web.staff_helpers import make_staff, page_csrf, sign_in

LISBON = [-9.1402, 38.7101]


def feature(title: str = "Tasca do Chico", at=LISBON, **properties) -> dict:
    props = {
        "title": title,
        "narratives": [{"text": "Fado vadio every Monday since 1993.", "language": "pt"}],
        "category": "memory",
        "consent": {"publish": True, "open_data": True},
        "contributor": {"name": "Rosa Tavares", "contact": "rosa@example.org"},
    }
    props.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": at},
        "properties": props,
    }


@pytest.fixture
def staff(lisbon_store: PlaceStore):
    return make_staff(lisbon_store)


@pytest.fixture
def facilitator(staff):
    return staff[Role.FACILITATOR].headers


def submit(client, body) -> dict:
    r = client.post("/api/places", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def on_public_map(store: PlaceStore, place_id: str) -> bool:
    return store.count(public_filter(PlaceFilter(ids=[place_id]), "map")) == 1


def test_queue_shows_pending_places_with_contributor_and_duplicate_hint(client, facilitator):
    first = submit(client, feature("Tasca do Chico"))
    second = submit(client, feature("Tasca do Chico (fado)", at=[-9.14021, 38.71011]))
    r = client.get("/api/moderation/places", headers=facilitator)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    ids = [f["id"] for f in body["features"]]
    assert ids == [first["id"], second["id"]] and body["total"] == 2
    props = body["features"][1]["properties"]
    assert props["contributor"] == {
        "name": "Rosa Tavares",
        "contact": "rosa@example.org",
        "display_name": None,
    }
    assert props["flags"][0]["kind"] == "possible_duplicate"
    assert props["flags"][0]["other_place_id"] == first["id"]
    assert props["flags"][0]["params"]["title"] == "Tasca do Chico"
    distance = props["flags"][0]["params"]["distance_m"]
    assert props["flags"][0]["detail"] == (
        f"May be the same place as “Tasca do Chico” ({first['id']}), {distance} m away."
    )
    assert body["features"][0]["geometry"] == {"type": "Point", "coordinates": LISBON}


def test_a_duplicate_hint_is_said_in_each_moderators_language(client, staff, lisbon_store):
    facilitator = staff[Role.FACILITATOR].headers
    first = submit(client, feature("Tasca do Chico"))
    second = submit(client, feature("Tasca do Chico (fado)", at=[-9.14021, 38.71011]))
    (flag,) = lisbon_store.flags(second["id"])
    french = client.get(f"/api/moderation/places/{second['id']}",
                        headers={**facilitator, "Accept-Language": "fr"})  # fmt: skip
    distance = flag.params["distance_m"]
    assert french.json()["properties"]["flags"][0]["detail"] == (
        f"Peut-être le même lieu que « Tasca do Chico » ({first['id']}), à {distance} m."
    )
    # The pages too; and a note stored in English by an older version reads as written.
    third = submit(client, feature("Igreja de São Cristóvão", at=[-9.1350, 38.7150]))
    old = f"may be the same place as 'Tasca do Chico' ({first['id']}), 3 m away"
    lisbon_store.add_flags([PlaceFlag(third["id"], "possible_duplicate", first["id"], old)])
    sign_in(client, staff[Role.FACILITATOR].name, next_url="/moderation")
    queue = client.get("/moderation?lang=pt").text
    assert (
        escape(f"Pode ser o mesmo lugar que «Tasca do Chico» ({first['id']}), a {distance} m.")
        in queue
    )
    assert escape(old) in queue
    page = client.get(f"/moderation/places/{second['id']}?lang=ar").text
    assert escape(f"قد يكون المكان نفسه «Tasca do Chico» ({first['id']})، على بعد ") in page
    assert "May be the same place" not in queue + page


def test_publish_makes_a_pending_place_public(client, facilitator, lisbon_store):
    place = submit(client, feature())
    assert not on_public_map(lisbon_store, place["id"])
    r = client.post(f"/api/moderation/places/{place['id']}/publish", headers=facilitator)
    assert r.status_code == 200 and r.json()["properties"]["status"] == "published"
    assert on_public_map(lisbon_store, place["id"])
    popup = client.get(f"/api/map/places/{place['id']}")
    assert popup.status_code == 200


def test_reject_needs_a_reason_the_contributor_then_reads(client, facilitator, lisbon_store):
    place = submit(client, feature())
    url = f"/api/moderation/places/{place['id']}/reject"
    assert client.post(url, json={"reason": "  "}, headers=facilitator).status_code == 422
    assert lisbon_store.get(place["id"]).status == Status.PENDING  # nothing half-done
    reason = "Please add where exactly the door was; we could not find it."
    r = client.post(url, json={"reason": reason}, headers=facilitator)
    assert r.status_code == 200 and r.json()["properties"]["rejection_reason"] == reason
    # The resident, with their edit token, sees why (API and the edit page).
    mine = client.get(
        f"/api/places/{place['id']}", headers={"Authorization": f"Bearer {place['edit_token']}"}
    )
    assert mine.json()["properties"]["status"] == "rejected"
    assert mine.json()["properties"]["rejection_reason"] == reason
    page = client.get(f"/contribute/edit/{place['id']}?token={place['edit_token']}")
    assert "we could not find it" in page.text
    # Published again later: the old reason is no longer shown.
    client.post(f"/api/moderation/places/{place['id']}/publish", headers=facilitator)
    again = client.get(
        f"/api/places/{place['id']}", headers={"Authorization": f"Bearer {place['edit_token']}"}
    )
    assert again.json()["properties"]["rejection_reason"] is None


def test_post_moderated_workshop_shows_at_once_and_can_hide(client, facilitator, lisbon_store):
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop("POSTMD", "Open evening", now - timedelta(hours=1), now + timedelta(hours=1),
                 moderation=Moderation.POST)
    )  # fmt: skip
    place = submit(client, feature(workshop="POSTMD"))
    assert place["status"] == "published" and on_public_map(lisbon_store, place["id"])
    listed = client.get(
        "/api/moderation/places?status=published&workshop=postmd", headers=facilitator
    ).json()
    assert [f["id"] for f in listed["features"]] == [place["id"]]
    r = client.post(
        f"/api/moderation/places/{place['id']}/reject",
        json={"reason": "This names a private person."},
        headers=facilitator,
    )
    assert r.status_code == 200 and not on_public_map(lisbon_store, place["id"])
    history = client.get(f"/api/moderation/places/{place['id']}/history", headers=facilitator)
    assert [c["action"] for c in history.json()["changes"]] == ["create", "hide"]


def test_pre_moderated_workshop_keeps_places_pending(client, lisbon_store):
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop("PREMOD", "Quiet", now - timedelta(hours=1), now + timedelta(hours=1))
    )
    place = submit(client, feature(workshop="PREMOD"))
    assert place["status"] == "pending" and not on_public_map(lisbon_store, place["id"])


def test_edit_records_the_change_and_keeps_the_earlier_version(client, facilitator, staff):
    place = submit(client, feature())
    url = f"/api/moderation/places/{place['id']}"
    r = client.patch(
        url,
        json={
            "title": "Tasca do Chico, Bairro Alto",
            "category": "food",
            "narratives": [
                {"text": "Fado vadio on Mondays since 1993.", "language": "pt"},
                {"text": "Amateur fado on Mondays.", "language": "en",
                 "provenance": "community_translation"},
            ],
        },
        headers=facilitator,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["title"] == "Tasca do Chico, Bairro Alto" and props["category"] == "food"
    assert props["status"] == "pending"  # a moderator's correction does not publish it
    history = client.get(f"{url}/history", headers=facilitator).json()
    edit = history["changes"][-1]
    assert (
        edit["action"] == "edit"
        and edit["actor"] == f"{staff[Role.FACILITATOR].name} (facilitator)"
    )
    assert set(edit["changed"]) == {"title", "category", "narratives"}
    assert edit["before"]["title"] == "Tasca do Chico"
    assert edit["after"]["title"] == "Tasca do Chico, Bairro Alto"
    assert [v["title"] for v in history["versions"]] == [
        "Tasca do Chico",
        "Tasca do Chico, Bairro Alto",
    ]
    # Stale versions are refused, bad values too, and nothing changes.
    stale = client.patch(
        url, json={"title": "x"}, headers={**facilitator, "If-Match": f'"{place["id"]}-v1"'}
    )
    assert stale.status_code == 409
    bad = client.patch(url, json={"category": "volcano"}, headers=facilitator)
    assert bad.status_code == 422 and "not a category" in bad.json()["detail"]


def test_bulk_publish_is_all_or_nothing(client, facilitator, lisbon_store):
    a = submit(client, feature("Alpha street"))["id"]
    b = submit(client, feature("Beta square", at=[-9.135, 38.712]))["id"]
    r = client.post("/api/moderation/publish", json={"ids": [a, "pl_missing"]}, headers=facilitator)
    assert r.status_code == 404
    assert lisbon_store.get(a).status == Status.PENDING
    r = client.post("/api/moderation/publish", json={"ids": [a, b]}, headers=facilitator)
    assert r.status_code == 200 and r.json() == {"published": [a, b]}
    assert on_public_map(lisbon_store, a) and on_public_map(lisbon_store, b)


def test_filters_by_workshop_and_neighbourhood(client, facilitator, lisbon_store):
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop("FLTWSH", "Filter", now - timedelta(hours=1), now + timedelta(hours=1))
    )
    in_workshop = submit(client, feature("In the workshop", workshop="FLTWSH"))["id"]
    outside = submit(client, feature("Elsewhere", at=[-9.2, 38.75]))["id"]
    r = client.get("/api/moderation/places?workshop=FLTWSH", headers=facilitator).json()
    assert [f["id"] for f in r["features"]] == [in_workshop]
    hood = lisbon_store.get(outside).neighbourhood_id
    r = client.get(f"/api/moderation/places?neighbourhood={hood}", headers=facilitator).json()
    assert outside in [f["id"] for f in r["features"]] and in_workshop not in [
        f["id"] for f in r["features"]
    ]
    assert client.get("/api/moderation/places?status=lost", headers=facilitator).status_code == 422
    assert (
        client.get("/api/moderation/places?workshop=NOPE", headers=facilitator).status_code == 404
    )


def test_protocol_labels_show_on_the_popup_and_in_downloads(client, facilitator, lisbon_store):
    place = submit(client, feature())["id"]
    url = f"/api/moderation/places/{place}/labels"
    bad = client.put(
        url, json={"labels": [{"label_id": "tk_zz", "text": "x"}]}, headers=facilitator
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "labels.0.label_id"
    labels = [
        {"label_id": "tk_a", "text": "Told by the Mouraria elders; name them when you retell it."},
        {"label_id": "tk_nc", "text": "Not for commercial use.",
         "url": "https://localcontexts.org/label/tk-non-commercial/"},
    ]  # fmt: skip
    r = client.put(url, json={"labels": labels}, headers=facilitator)
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["properties"]["protocol_labels"]] == ["tk_a", "tk_nc"]
    client.post(f"/api/moderation/places/{place}/publish", headers=facilitator)
    assert lisbon_store.protocol_labels([place])[place][0].name == "TK Attribution"
    download = client.get("/api/export/places.geojson").json()
    exported = next(f for f in download["features"] if f["id"] == place)
    assert "tk_a" in str(exported["properties"]["protocol_labels"])
    history = client.get(f"/api/moderation/places/{place}/history", headers=facilitator).json()
    assert history["changes"][1]["action"] == "labels"


def test_withdrawn_places_cannot_be_published(client, facilitator):
    place = submit(client, feature())
    gone = client.delete(
        f"/api/places/{place['id']}", headers={"Authorization": f"Bearer {place['edit_token']}"}
    )
    assert gone.status_code == 204
    r = client.post(f"/api/moderation/places/{place['id']}/publish", headers=facilitator)
    assert r.status_code == 409


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_moderators_see_photos_of_pending_places_the_public_cannot(client, facilitator):
    place = submit(client, feature())
    up = client.post(
        f"/api/places/{place['id']}/media",
        files={"file": ("door.jpg", _jpeg(), "image/jpeg")},
        headers={"Authorization": f"Bearer {place['edit_token']}"},
    )
    assert up.status_code == 201, up.text
    photo = client.get("/api/moderation/places", headers=facilitator).json()["features"][0]
    thumb = photo["properties"]["photos"][0]["thumbnail_url"]
    assert client.get(thumb, headers=facilitator).status_code == 200
    assert client.get(thumb).status_code == 401
    assert client.get(f"/media/{up.json()['id']}").status_code == 404  # not public yet


# ---------------------------------------------------------------------------
# The pages (plain forms)
# ---------------------------------------------------------------------------


def test_queue_page_publishes_with_a_form_and_shows_everything_escaped(client, staff, lisbon_store):
    place = submit(client, feature("<script>alert(1)</script> Fado"))
    sign_in(client, staff[Role.FACILITATOR].name)
    page = client.get("/moderation")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Fado" in page.text
    assert "rosa@example.org" in page.text  # facilitators see the contact
    assert "script-src 'self'" in page.headers["content-security-policy"]
    csrf = page_csrf(page.text)
    r = client.post(
        f"/moderation/places/{place['id']}/publish",
        data={"csrf_token": csrf, "next": "/moderation"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/moderation?done=")
    assert lisbon_store.get(place["id"]).status == Status.PUBLISHED
    forged = client.post(f"/moderation/places/{place['id']}/reject", data={"reason": "x"})
    assert forged.status_code == 403  # no CSRF token: refused


def test_place_page_edits_labels_and_shows_history(client, staff, lisbon_store):
    place = submit(client, feature())
    sign_in(client, staff[Role.FACILITATOR].name)
    page = client.get(f"/moderation/places/{place['id']}")
    csrf = page_csrf(page.text)
    r = client.post(
        f"/moderation/places/{place['id']}/edit",
        data={
            "csrf_token": csrf,
            "title": "Tasca do Chico (corrected)",
            "category": "memory",
            "narrative_language": "pt",
            "narrative_text": "Fado vadio, Monday nights.",
            "narrative_provenance": "original",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=" in r.headers["location"]
    r = client.post(
        f"/moderation/places/{place['id']}/labels",
        data={"csrf_token": csrf, "label_id": "tk_cs", "text_tk_cs": "Sensitive to the family."},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=" in r.headers["location"]
    page = client.get(f"/moderation/places/{place['id']}")
    assert "Tasca do Chico (corrected)" in page.text and "TK Culturally Sensitive" in page.text
    assert "<del>Tasca do Chico</del>" in page.text
    assert lisbon_store.get(place["id"]).title == "Tasca do Chico (corrected)"


def test_bulk_publish_form(client, staff, lisbon_store):
    a = submit(client, feature("Alpha street"))["id"]
    b = submit(client, feature("Beta square", at=[-9.135, 38.712]))["id"]
    sign_in(client, staff[Role.FACILITATOR].name)
    csrf = page_csrf(client.get("/moderation").text)
    r = client.post(
        "/moderation/publish",
        data={"csrf_token": csrf, "ids": [a, b], "next": "/moderation"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert {lisbon_store.get(a).status, lisbon_store.get(b).status} == {Status.PUBLISHED}
