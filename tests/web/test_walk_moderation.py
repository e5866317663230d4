"""The staff page for walks, /moderation/walks: the queue with a preview of each proposal,
publish / reject / ask for changes with the staff pages' roles and CSRF token, every
step in the audit trail, and the stops the public no longer sees flagged to staff."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest

from geodata.account_records import Role
from geodata.models import Sensitivity, Status
from tests.web.staff_helpers import bearer, make_staff, page_csrf, sign_in
from tests.web.test_walks_api import body, public_ids


@pytest.fixture
def staff(lisbon_store):
    return make_staff(lisbon_store)


def propose(client, place_ids: list[str], **kw) -> tuple[str, str]:
    answer = client.post("/api/walks", json=body(place_ids, **kw))
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], answer.json()["edit_token"]


def signed_in(client, staff, role=Role.FACILITATOR) -> None:
    client.cookies.clear()  # signed out first
    assert sign_in(client, staff[role].name, next_url="/moderation/walks").status_code == 303


def test_the_queue_previews_each_proposal_and_the_staff_menu_links_to_it(
    client, lisbon_store, staff
):
    ids = public_ids(lisbon_store, 3)
    titles = [
        {"text": "Across the old town", "language": "en"},
        {"text": "Pela cidade velha", "language": "pt", "provenance": "community_translation"},
    ]
    walk_id, _ = propose(client, ids, titles=titles)
    assert client.get("/moderation/walks", follow_redirects=False).status_code == 303  # sign in
    signed_in(client, staff)
    page = client.get("/moderation/walks", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert '<a href="/moderation/walks">' in page.text  # in the staff menu
    card = page.text[page.text.index(f'id="walk-{walk_id}"') :]
    assert "Across the old town" in card and "Pela cidade velha" in card
    assert "Portuguese (community translation)" in card and "English (original)" in card
    assert card.count('class="walk-static-map"') == 1  # the map the public will get
    assert len(re.findall(r"<circle ", card.split("</svg>")[0])) == 3  # three numbered stops
    stops = re.findall(r'<li><a href="/moderation/places/([^"]+)"', card)
    assert stops == ids  # in walking order, each to its place's review page
    assert "rui@example.org" in card  # the proposer's contact, for staff only
    assert f'action="/moderation/walks/{walk_id}/publish"' in card
    assert f'action="/moderation/walks/{walk_id}/request-changes"' in card
    assert f'action="/moderation/walks/{walk_id}/reject"' in card
    assert client.get("/moderation").text.count('href="/moderation/walks"') >= 2


def test_only_facilitators_and_admins_see_it(client, lisbon_store, staff):
    walk_id, _ = propose(client, public_ids(lisbon_store, 2))
    signed_in(client, staff, Role.PLANNER)
    assert client.get("/moderation/walks").status_code == 403
    assert client.get(f"/moderation/walks/{walk_id}").status_code == 403
    signed_in(client, staff, Role.ADMIN)
    assert client.get(f"/moderation/walks/{walk_id}").status_code == 200


def test_publish_reject_and_ask_for_changes_need_the_pages_csrf_token_and_are_audited(
    client, lisbon_store, staff
):
    ids = public_ids(lisbon_store, 3)
    walk_id, token = propose(client, ids)
    signed_in(client, staff)
    page = client.get(f"/moderation/walks/{walk_id}")
    csrf = page_csrf(page.text)
    forged = client.post(f"/moderation/walks/{walk_id}/publish", data={"next": "/moderation/walks"})
    assert forged.status_code == 403
    assert lisbon_store.get_walk(walk_id).status == Status.PENDING

    asked = client.post(
        f"/moderation/walks/{walk_id}/request-changes",
        data={"csrf_token": csrf, "message": "Say more at the second stop.",
              "next": f"/moderation/walks/{walk_id}"},
        follow_redirects=False,
    )  # fmt: skip
    assert asked.status_code == 303
    assert asked.headers["location"].startswith(f"/moderation/walks/{walk_id}?done=")
    assert lisbon_store.get_walk(walk_id).status == Status.PENDING
    own = client.get(f"/api/walks/{walk_id}", headers=bearer(token)).json()
    assert own["changes_requested"] == "Say more at the second stop."

    published = client.post(
        f"/moderation/walks/{walk_id}/publish",
        data={"csrf_token": csrf, "next": "/moderation/walks"},
    )
    assert published.status_code == 200 and "Published the walk" in published.text
    assert lisbon_store.get_walk(walk_id).status == Status.PUBLISHED
    assert client.get(f"/walks/{walk_id}").status_code == 200

    too_late = client.post(
        f"/moderation/walks/{walk_id}/request-changes",
        data={"csrf_token": csrf, "message": "More?", "next": "/moderation/walks"},
    )
    assert "Only a pending walk can be sent back for changes" in too_late.text  # not a 500
    hidden = client.post(
        f"/moderation/walks/{walk_id}/reject",
        data={"csrf_token": csrf, "reason": "A stop is private land.", "next": "/moderation/walks"},
    )
    assert hidden.status_code == 200
    assert lisbon_store.get_walk(walk_id).status == Status.REJECTED
    assert client.get(f"/walks/{walk_id}").status_code == 404

    events = lisbon_store.audit_events(place_id=walk_id)
    assert [e.action for e in events] == [
        "walk_create", "walk_changes_requested", "walk_publish", "walk_hide"
    ]  # fmt: skip
    assert events[1].detail == "Say more at the second stop."
    assert events[2].actor == f"{staff[Role.FACILITATOR].name} (facilitator)"
    history = client.get(f"/moderation/walks/{walk_id}", headers={"Accept-Language": "en"}).text
    assert "asked for changes" in history and "A stop is private land." in history


def test_the_api_asks_for_changes_too(client, lisbon_store, staff):
    walk_id, _ = propose(client, public_ids(lisbon_store, 2))
    facilitator = staff[Role.FACILITATOR].headers
    url = f"/api/moderation/walks/{walk_id}/request-changes"
    assert client.post(url, json={"message": "x"}).status_code == 401
    assert (
        client.post(url, json={"message": "x"}, headers=staff[Role.PLANNER].headers).status_code
        == 403
    )
    stale = client.post(
        url, json={"message": "x"}, headers={**facilitator, "If-Match": f'"{walk_id}-v9"'}
    )
    assert stale.status_code == 409
    asked = client.post(url, json={"message": "Add a route line."}, headers=facilitator)
    assert asked.status_code == 200 and asked.json()["changes_requested"] == "Add a route line."
    client.post(f"/api/moderation/walks/{walk_id}/publish", headers=facilitator)
    again = client.post(url, json={"message": "x"}, headers=facilitator)
    assert again.status_code == 409 and again.json()["code"] == "walk_not_pending"


def test_a_stop_that_stopped_being_public_is_flagged_to_staff_and_never_drawn(
    client, lisbon_store, staff
):
    from geodata import walk_lifecycle
    from geodata.audit import Actor
    from geodata.moderation import reject

    ids = public_ids(lisbon_store, 4)
    walk_id, _ = propose(client, ids)
    walk_lifecycle.publish(lisbon_store, walk_id, Actor("ana (facilitator)"))
    reject(lisbon_store, ids[1], Actor("ana (facilitator)"), "not a heritage place")
    lisbon_store.update(replace(lisbon_store.get(ids[2]), sensitivity=Sensitivity.GENERALISED))
    signed_in(client, staff)
    page = client.get("/moderation/walks?status=published", headers={"Accept-Language": "en"})
    card = page.text[page.text.index(f'id="walk-{walk_id}"') :].split("</article>")[0]
    flags = [
        html.unescape(f)
        for f in re.findall(r'<p class="flag" data-testid="hidden-stop">([^<]*)', card)
    ]
    second, third = lisbon_store.get(ids[1]).title, lisbon_store.get(ids[2]).title
    assert flags[0].startswith(
        f"Stop 2 (“{second}”) is hidden from the public: its place is rejected"
    )
    assert flags[1].startswith(
        f"Stop 3 (“{third}”) is hidden from the public: its place's location is protected "
        "(approximate location)"
    )
    assert len(re.findall(r"<circle ", card)) == 2  # the preview draws only the stops shown
    api = client.get(f"/api/moderation/walks/{walk_id}", headers=staff[Role.FACILITATOR].headers)
    assert [(h["position"], h["code"]) for h in api.json()["hidden_stops"]] == [
        (2, "place_not_published"), (3, "location_protected")
    ]  # fmt: skip
    arabic = client.get("/moderation/walks?status=published", headers={"Accept-Language": "ar"})
    assert 'dir="rtl"' in arabic.text and "is hidden from the public" not in arabic.text
