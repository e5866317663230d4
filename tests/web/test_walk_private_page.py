"""The proposer's private page of a walk, /walks/{id}/edit?token=...: what the moderators
said, revising the walk (and its open-data consent), and withdrawal, which takes the
walk off every page and output (404) and is recorded in the audit trail. And the same
revision through the API (PUT /api/walks/{id})."""

from __future__ import annotations

import re

import pyogrio
import pytest

from geodata import walk_lifecycle
from geodata.audit import Actor
from geodata.models import Status
from tests.web.staff_helpers import bearer
from tests.web.test_walk_form import csrf
from tests.web.test_walks_api import body, public_ids

ANA = Actor("ana (facilitator)")


@pytest.fixture
def proposed(client, lisbon_store):
    """A walk proposed with the form (open data ticked): (id, private link path, place ids)."""
    ids = public_ids(lisbon_store, 3)
    form = client.get("/walks/new?lang=en")
    sent = client.post("/walks/new?lang=en", data={
        "csrf_token": csrf(form.text), "title": "Morning errands", "introduction": "Three stops.",
        "language": "en", "stop_0_place": ids[0], "stop_0_text": "Bread.",
        "stop_1_place": ids[1], "stop_1_text": "Post.", "stop_2_place": ids[2],
        "stop_2_text": "Coffee.", "contact": "rui@example.org", "consent": "yes",
        "open_data": "yes",
    })  # fmt: skip
    assert sent.status_code == 201, sent.text
    link = re.search(r'id="walk-link"[^>]*value="([^"]+)"', sent.text).group(1)
    assert link.startswith("http://127.0.0.1/walks/wk_") and "?token=" in link
    path = link.removeprefix("http://127.0.0.1")
    walk_id = path.split("/")[2]
    return walk_id, path, ids


def send(client, path: str, page: str, **fields) -> object:
    token = path.split("token=")[1]
    return client.post(
        path.split("?")[0],
        data={"csrf_token": csrf(page), "token": token, **fields},
        follow_redirects=False,
    )


def form_fields(page: str) -> dict[str, str]:
    """The revise form's fields as the page fills them in."""
    revise = page[page.index('name="action" value="save"') : page.index('id="withdraw-title"')]
    fields = dict(re.findall(r'<input id="([^"]+)" name="[^"]+"[^>]*value="([^"]*)"', revise))
    fields |= dict(re.findall(r'<textarea id="([^"]+)"[^>]*>([^<]*)</textarea>', revise))
    if re.search(r'id="open_data" name="open_data" value="yes"\s+checked', revise):
        fields["open_data"] = "yes"
    return fields


def test_the_private_page_shows_the_walk_and_a_wrong_key_gets_nothing(
    client, lisbon_store, proposed
):
    walk_id, path, ids = proposed
    page = client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'data-status="pending"' in page.text and "Morning errands" in page.text
    fields = form_fields(page.text)
    assert [fields[f"stop_{i}_place"] for i in range(3)] == ids
    assert fields["stop_1_text"] == "Post." and fields["open_data"] == "yes"
    # the language picker keeps the key, so switching language keeps the page
    assert re.search(
        r'<input type="hidden" name="token" value="[^"]+">\s*<label for="lang-picker"', page.text
    )
    wrong = client.get(f"/walks/{walk_id}/edit?token=not-the-key")
    assert wrong.status_code == 403 and "This private link is not valid" in wrong.text
    assert "Morning errands" not in wrong.text
    assert client.get(f"/walks/{walk_id}/edit").status_code == 401
    assert client.get("/walks/wk_nothing/edit?token=x").status_code == 404


def test_withdrawing_hides_the_walk_everywhere_erases_the_contact_and_is_audited(
    client, lisbon_store, proposed, tmp_path
):
    walk_id, path, _ = proposed
    walk_lifecycle.publish(lisbon_store, walk_id, ANA)
    public = [f"/walks/{walk_id}", f"/walks/{walk_id}/print", f"/walks/{walk_id}.gpx",
              f"/walks/{walk_id}.geojson", f"/walks/{walk_id}/offline.json",
              f"/ogc/collections/walks/items/{walk_id}"]  # fmt: skip
    assert [client.get(u).status_code for u in public] == [200] * len(public)
    page = client.get(path).text
    unconfirmed = send(client, path, page, action="withdraw")
    assert unconfirmed.status_code == 422 and 'id="confirm_withdraw-error"' in unconfirmed.text
    assert lisbon_store.get_walk(walk_id).status == Status.PUBLISHED
    no_csrf = {"token": path.split("token=")[1], "action": "withdraw", "confirm_withdraw": "yes"}
    forged = client.post(path.split("?")[0], data=no_csrf)
    assert forged.status_code == 403 and lisbon_store.get_walk(walk_id).status == Status.PUBLISHED
    gone = send(client, path, page, action="withdraw", confirm_withdraw="yes")
    assert gone.status_code == 303 and gone.headers["location"].endswith("done=withdrawn")
    walk = lisbon_store.get_walk(walk_id)
    assert walk.status == Status.WITHDRAWN and walk.contributor_contact is None
    assert [client.get(u).status_code for u in public] == [404] * len(public)
    assert f"/walks/{walk_id}" not in client.get("/walks").text
    ogc = client.get("/ogc/collections/walks/items").json()
    assert walk_id not in [f["id"] for f in ogc["features"]]
    download = tmp_path / "atlas.gpkg"
    download.write_bytes(client.get("/api/export/places.gpkg").content)
    assert walk_id not in set(pyogrio.read_dataframe(download, layer="walks")["walk_id"])
    events = lisbon_store.audit_events(place_id=walk_id)
    assert events[-1].action == "walk_withdraw" and events[-1].actor == "resident (edit link)"
    after = client.get(gone.headers["location"], headers={"Accept-Language": "en"})
    assert "Your walk has been withdrawn" in after.text and 'action="/walks/' not in after.text
    again = send(client, path, page, action="save", title="Back again")
    assert again.status_code == 409 and lisbon_store.get_walk(walk_id).status == Status.WITHDRAWN


def test_the_proposer_revises_the_walk_the_moderators_sent_back(client, lisbon_store, proposed):
    walk_id, path, _ = proposed
    walk_lifecycle.request_changes(lisbon_store, walk_id, ANA, "Say what the post office was.")
    page = client.get(path, headers={"Accept-Language": "en"}).text
    assert 'id="moderator-note"' in page and "Say what the post office was." in page
    fields = form_fields(page) | {"stop_1_text": "The old post office, built in 1880."}
    saved = send(client, path, page, action="save", **fields)
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
    walk = lisbon_store.get_walk(walk_id)
    assert walk.status == Status.PENDING and walk.version == 2
    assert walk.stops[1].chapters[0].text == "The old post office, built in 1880."
    assert walk.contributor_contact == "rui@example.org" and walk.consent.open_data
    assert [e.action for e in lisbon_store.audit_events(place_id=walk_id)][-1] == "walk_edit"
    assert 'id="moderator-note"' not in client.get(path).text  # answered


def test_a_published_walk_goes_back_to_the_moderators_when_its_texts_change_but_not_its_consent(
    client, lisbon_store, proposed
):
    walk_id, path, _ = proposed
    walk_lifecycle.publish(lisbon_store, walk_id, ANA)
    page = client.get(path).text
    fields = form_fields(page)
    del fields["open_data"]  # untick: out of the open-data downloads, still on the site
    assert send(client, path, page, action="save", **fields).status_code == 303
    walk = lisbon_store.get_walk(walk_id)
    assert walk.status == Status.PUBLISHED and not walk.consent.open_data
    assert lisbon_store.audit_events(place_id=walk_id)[-1].action == "walk_consent"
    assert client.get(f"/ogc/collections/walks/items/{walk_id}").status_code == 404
    assert client.get(f"/walks/{walk_id}").status_code == 200
    page = client.get(path).text
    changed = form_fields(page) | {"title": "Evening errands"}
    assert send(client, path, page, action="save", **changed).status_code == 303
    assert lisbon_store.get_walk(walk_id).status == Status.PENDING
    assert client.get(f"/walks/{walk_id}").status_code == 404  # until checked again


def test_a_revision_with_problems_shows_each_beside_its_field_and_changes_nothing(
    client, lisbon_store, proposed
):
    walk_id, path, ids = proposed
    client.cookies.set("lang", "pt")  # as the language picker leaves it
    page = client.get(path).text
    fields = form_fields(page) | {"stop_2_place": ids[0], "title": ""}
    sent = send(client, path, page, action="save", **fields)
    assert sent.status_code == 422
    assert 'id="stop_2_place-error">Este lugar já é uma paragem' in sent.text
    assert 'id="title-error"' in sent.text
    walk = lisbon_store.get_walk(walk_id)
    assert walk.version == 1 and walk.titles[0].text == "Morning errands"


def test_the_api_revises_a_walk_in_several_languages_which_the_page_leaves_to_it(
    client, lisbon_store
):
    ids = public_ids(lisbon_store, 2)
    first = client.post("/api/walks", json=body(ids))
    assert first.json()["edit_url"].startswith("http://127.0.0.1/walks/")
    walk_id, token = first.json()["id"], first.json()["edit_token"]
    titles = [
        {"text": "Across the old town", "language": "en"},
        {"text": "Pela cidade velha", "language": "pt", "provenance": "community_translation"},
    ]
    url = f"/api/walks/{walk_id}"
    assert client.put(url, json=body(ids, titles=titles), headers=bearer("nope")).status_code == 403
    bad = client.put(url, json=body([ids[0], ids[0]]), headers=bearer(token))
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "duplicate_stop"
    revised = client.put(url, json=body(ids, titles=titles), headers=bearer(token))
    assert revised.status_code == 200, revised.text
    assert [t["language"] for t in revised.json()["titles"]] == ["en", "pt"]
    assert "contributor" in revised.json() and revised.json()["version"] == 2
    page = client.get(first.json()["edit_url"].removeprefix("http://127.0.0.1"))
    assert 'name="action" value="save"' not in page.text and "PUT /api/walks/" in page.text
    assert 'name="action" value="withdraw"' in page.text  # withdrawing works for any walk
