"""Proposing, moderating and withdrawing walks over HTTP, on every backend."""

from __future__ import annotations

import pytest

from geodata.account_records import Role
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter
from tests.web.staff_helpers import bearer, make_staff


def public_ids(store, n: int) -> list[str]:
    return [p.id for p in store.list(public_filter(PlaceFilter(), "map"), limit=n)]


def body(place_ids: list[str], **kw) -> dict:
    return {
        "titles": [{"text": "Across the old town", "language": "en"}],
        "introductions": [{"text": "Places I pass every morning.", "language": "en"}],
        "stops": [
            {"place_id": pid, "chapters": [{"text": f"Stop {i}", "language": "en"}]}
            for i, pid in enumerate(place_ids, 1)
        ],
        "consent": {"publish": True},
        "contributor": {"name": "Rui", "contact": "rui@example.org"},
        **kw,
    }


@pytest.fixture
def staff(lisbon_store):
    return make_staff(lisbon_store)


def test_a_proposed_walk_is_pending_until_a_facilitator_publishes_it(client, lisbon_store, staff):
    ids = public_ids(lisbon_store, 3)
    answer = client.post("/api/walks", json=body(ids))
    assert answer.status_code == 201, answer.text
    walk_id, token = answer.json()["id"], answer.json()["edit_token"]
    assert answer.json()["status"] == "pending"
    assert client.get(f"/walks/{walk_id}.geojson").status_code == 404
    facilitator = staff[Role.FACILITATOR].headers
    queue = client.get("/api/moderation/walks", headers=facilitator).json()  # pending ones
    assert [w["id"] for w in queue["walks"]] == [walk_id]
    assert queue["walks"][0]["contributor"]["contact"] == "rui@example.org"
    assert client.post(f"/api/moderation/walks/{walk_id}/publish").status_code == 401
    planner = staff[Role.PLANNER].headers
    assert (
        client.post(f"/api/moderation/walks/{walk_id}/publish", headers=planner).status_code == 403
    )
    published = client.post(
        f"/api/moderation/walks/{walk_id}/publish",
        headers={**facilitator, "If-Match": f'"{walk_id}-v1"'},
    )
    assert published.json()["status"] == "published"
    own = client.get(f"/api/walks/{walk_id}", headers=bearer(token)).json()
    assert own["status"] == "published" and [s["place_id"] for s in own["stops"]] == ids
    assert client.get(f"/api/walks/{walk_id}", headers=bearer("wrong")).status_code == 403
    gone = client.delete(f"/api/walks/{walk_id}", headers=bearer(token))
    assert gone.json()["status"] == "withdrawn"
    history = lisbon_store.audit_events(place_id=walk_id)
    assert [e.action for e in history] == ["walk_create", "walk_publish", "walk_withdraw"]


def test_a_bad_walk_gets_a_422_naming_each_problem_and_nothing_is_stored(client, lisbon_store):
    demo_walks = lisbon_store.count_walks()
    ids = public_ids(lisbon_store, 1)
    bad = body(
        [ids[0], ids[0], "pl_not_a_place"],
        route={"type": "LineString", "coordinates": [[-9.14, 38.71], [-9.14, 38.71]]},
    )
    answer = client.post("/api/walks", json=bad)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    named = {(e["field"], e["code"]) for e in answer.json()["errors"]}
    assert ("stops.1.place_id", "duplicate_stop") in named
    assert ("stops.2.place_id", "not_public_place") in named
    assert any(f == "route" for f, _ in named)
    empty = client.post("/api/walks", json=body([]))
    assert empty.status_code == 422
    assert [(e["field"], e["code"]) for e in empty.json()["errors"]] == [("stops", "no_stops")]
    assert (
        client.post(
            "/api/walks", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert lisbon_store.count_walks() == demo_walks


def test_problems_are_told_in_the_readers_language(client, lisbon_store):
    answer = client.post("/api/walks", json=body([]), headers={"Accept-Language": "pt"})
    assert answer.status_code == 422
    assert answer.headers["content-language"] == "pt"
    assert "paragem" in answer.json()["errors"][0]["message"]


def test_a_hidden_stop_is_reported_to_staff(client, lisbon_store, staff):
    from geodata.audit import Actor
    from geodata.moderation import reject

    ids = public_ids(lisbon_store, 3)
    walk_id = client.post("/api/walks", json=body(ids)).json()["id"]
    reject(lisbon_store, ids[1], Actor("ana (facilitator)"), "not a heritage place")
    seen = client.get(f"/api/moderation/walks/{walk_id}", headers=staff[Role.FACILITATOR].headers)
    hidden = seen.json()["hidden_stops"]
    assert [(h["position"], h["place_id"]) for h in hidden] == [(2, ids[1])]
    assert "no longer public" in hidden[0]["reason"]
