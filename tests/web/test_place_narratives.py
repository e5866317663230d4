"""Residents add to a place over HTTP: a memory or a translation through the API and the
plain form on the place's page, moderated per the place's workshop, out-of-date
translations marked on the page and for moderators, refusals in the reader's language,
retries that add nothing twice, the shared submission budget, and downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from geodata import moderation
from geodata.account_records import Role
from geodata.audit import Actor
from geodata.models import Moderation, Status, Workshop, utcnow
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from tests.mapping.conftest import make_place
from tests.web.staff_helpers import make_staff, page_csrf, sign_in
from web.app import create_app
from web.settings import Settings

MEMORY = {
    "kind": "memory",
    "text": "My grandmother sold fish on this corner every morning.",
    "language": "en",
    "author": "Rui from Alfama",
    "contact": "rui@example.org",
    "consent": True,
}


@pytest.fixture
def place(lisbon_store: PlaceStore):
    return lisbon_store.add(make_place(title="Chafariz d'El-Rei"))


@pytest.fixture
def facilitator(lisbon_store: PlaceStore) -> dict[str, str]:
    return make_staff(lisbon_store)[Role.FACILITATOR].headers


def _add(client, place_id: str, body: dict, **headers):
    return client.post(f"/api/places/{place_id}/narratives", json=body, headers=headers)


def test_memory_waits_for_a_facilitator_then_shows_with_its_author(
    client, place, lisbon_store, facilitator
) -> None:
    r = _add(client, place.id, MEMORY)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["status"] == "pending" and r.headers["location"] == f"/places/{place.id}"
    assert "grandmother" not in client.get(f"/places/{place.id}").text  # not public yet
    queue = client.get("/api/moderation/narratives", headers=facilitator).json()
    assert [i["id"] for i in queue["items"]] == [receipt["id"]]
    assert queue["items"][0]["contact"] == "rui@example.org"
    published = client.post(
        f"/api/moderation/narratives/{receipt['id']}/publish", headers=facilitator
    )
    assert published.json()["status"] == "published"
    page = client.get(f"/places/{place.id}?lang=pt").text
    assert "My grandmother sold fish" in page
    assert "Memória partilhada por \u2068Rui from Alfama\u2069" in page
    assert "rui@example.org" not in page
    history = client.get(f"/api/moderation/places/{place.id}/history", headers=facilitator)
    actions = [c["action"] for c in history.json()["changes"]]
    assert actions[-2:] == ["narrative_add", "narrative_publish"]


def test_in_an_open_post_moderated_workshop_a_memory_shows_at_once_and_can_be_hidden(
    client, lisbon_store, facilitator
) -> None:
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop("FADO42", "Fado night", now - timedelta(hours=1), now + timedelta(hours=1),
                 moderation=Moderation.POST)
    )  # fmt: skip
    place = lisbon_store.add(make_place(workshop="FADO42"))
    receipt = _add(client, place.id, MEMORY).json()
    assert receipt["status"] == "published"
    assert "My grandmother" in client.get(f"/places/{place.id}").text
    hidden = client.post(
        f"/api/moderation/narratives/{receipt['id']}/reject",
        json={"reason": "it names a neighbour"},
        headers=facilitator,
    )
    assert hidden.json()["status"] == "rejected"
    assert "My grandmother" not in client.get(f"/places/{place.id}").text


def test_a_place_that_is_not_public_answers_404_to_additions(client, lisbon_store) -> None:
    pending = lisbon_store.add(make_place(status=Status.PENDING))
    for place_id in (pending.id, "pl_nothing_here", "../etc"):
        r = _add(client, place_id, MEMORY)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/places/{pending.id}/add").status_code == 404
    assert lisbon_store.count_narrative_additions() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"text": "  "}, "text", "A história está vazia; escreva algumas palavras."),
        ({"language": "xx-nope-nope"}, "language", "não é um código de língua"),
        ({"text": "<a href='x'>click</a>"}, "text", "Escreva texto simples, sem HTML"),
        ({"consent": False}, "consent", "Marque a caixa para aceitar"),
    ],
)
def test_bad_additions_get_a_422_problem_in_the_readers_language(
    client, place, lisbon_store, change, field, message
) -> None:
    r = _add(client, place.id, {**MEMORY, **change}, **{"Accept-Language": "pt"})
    assert r.status_code == 422
    problem = r.json()
    assert problem["errors"][0]["field"] == field
    assert message in problem["errors"][0]["message"]
    assert lisbon_store.count_narrative_additions() == 0
    assert lisbon_store.get(place.id).version == place.version


def test_a_retry_with_the_same_idempotency_key_adds_once(client, place, lisbon_store) -> None:
    first = _add(client, place.id, MEMORY, **{"Idempotency-Key": "memory-retry-0001"})
    again = _add(client, place.id, MEMORY, **{"Idempotency-Key": "memory-retry-0001"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert lisbon_store.count_narrative_additions() == 1
    key = {"Idempotency-Key": "memory-retry-0001"}
    other = _add(client, place.id, {**MEMORY, "text": "Another"}, **key)
    assert other.status_code == 422


def test_additions_count_against_the_anonymous_submission_budget(
    tmp_path, lisbon_store, place
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}", tiles="none", submission_rate_limit=2,
        _env_file=None,
    )  # type: ignore[call-arg]  # fmt: skip
    with TestClient(create_app(settings, store=lisbon_store), base_url="http://127.0.0.1") as c:
        assert _add(c, place.id, MEMORY).status_code == 201
        assert _add(c, place.id, MEMORY).status_code == 201
        refused = _add(c, place.id, MEMORY)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        submission = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
            "properties": {
                "title": "Another place", "category": "memory", "consent": {"publish": True},
                "narratives": [{"text": "A story.", "language": "en"}],
            },
        }  # fmt: skip
        assert c.post("/api/places", json=submission).status_code == 429  # the same budget
    assert lisbon_store.count_narrative_additions() == 2


def test_translation_is_marked_out_of_date_when_the_original_is_edited(
    client, place, lisbon_store, facilitator
) -> None:
    body = {"kind": "translation", "translates": "pt", "language": "en", "consent": True,
            "text": "A story told in the neighbourhood."}  # fmt: skip
    receipt = _add(client, place.id, body).json()
    client.post(f"/api/moderation/narratives/{receipt['id']}/publish", headers=facilitator)
    page = client.get(f"/places/{place.id}?lang=en").text
    assert "Community translation, " in page and "earlier version of the story" not in page
    moderation.edit(
        lisbon_store, place.id, Actor("ana (facilitator)"), Vocabulary(),
        narratives=[{"text": "Uma história contada no bairro, desde 1900.", "language": "pt"}],
    )  # fmt: skip
    page = client.get(f"/places/{place.id}?lang=fr").text
    assert "Cette traduction a été faite à partir d’une version antérieure" in page
    item = client.get("/api/moderation/narratives?status=published", headers=facilitator)
    assert item.json()["items"][0]["out_of_date"] is True


def test_the_form_adds_a_memory_without_javascript_and_shows_errors_next_to_fields(
    client, place, lisbon_store
) -> None:
    form_page = client.get(f"/places/{place.id}/add?kind=memory&lang=ar")
    assert form_page.status_code == 200 and 'dir="rtl"' in form_page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text).group(1)
    submission_id = re.search(r'name="submission_id" value="([^"]+)"', form_page.text).group(1)
    fields = {"csrf_token": token, "submission_id": submission_id, "kind": "memory",
              "language": "en", "text": "<b>loud</b>", "author": "Rui"}  # fmt: skip
    bad = client.post(f"/places/{place.id}/add?lang=ar", data=fields)
    assert bad.status_code == 422
    assert re.search(r'id="error-text"\s*>اكتب نصًا عاديًا', bad.text)
    assert re.search(r'id="error-consent"\s*>ضع علامة في المربع', bad.text)
    assert "&lt;b&gt;loud&lt;/b&gt;" in bad.text  # kept, escaped, for the resident to fix
    assert lisbon_store.count_narrative_additions() == 0
    good = client.post(
        f"/places/{place.id}/add?lang=ar",
        data={**fields, "text": "I learned to swim in the fountain.", "consent": "yes"},
    )
    assert good.status_code == 201 and 'data-testid="added"' in good.text
    again = client.post(
        f"/places/{place.id}/add?lang=ar",
        data={**fields, "text": "I learned to swim in the fountain.", "consent": "yes"},
    )
    assert again.status_code == 201  # the same form sent twice adds it once
    assert lisbon_store.count_narrative_additions() == 1


def test_the_place_page_links_to_the_memory_and_translation_forms(client, place) -> None:
    page = client.get(f"/places/{place.id}").text
    assert f'href="/places/{place.id}/add?kind=memory&amp;lang=en"' in page
    assert f'href="/places/{place.id}/add?kind=translation&amp;story=pt&amp;lang=en"' in page


def test_moderators_see_out_of_date_marks_and_publish_from_the_queue_page(
    client, place, lisbon_store
) -> None:
    staff = make_staff(lisbon_store)[Role.FACILITATOR]
    body = {"kind": "translation", "translates": "pt", "language": "fr", "consent": True,
            "text": "Une histoire racontée dans le quartier."}  # fmt: skip
    receipt = _add(client, place.id, body).json()
    moderation.edit(
        lisbon_store, place.id, Actor("ana (facilitator)"), Vocabulary(),
        narratives=[{"text": "Outra história.", "language": "pt"}],
    )  # fmt: skip
    sign_in(client, staff.name, next_url="/moderation/narratives")
    queue = client.get("/moderation/narratives")
    assert 'data-testid="out-of-date"' in queue.text and "Une histoire racontée" in queue.text
    published = client.post(
        f"/moderation/narratives/{receipt['id']}/publish",
        data={"csrf_token": page_csrf(queue.text), "next": "/moderation/narratives"},
        follow_redirects=False,
    )
    assert published.status_code == 303
    assert lisbon_store.narrative_addition(receipt["id"]).status == Status.PUBLISHED
    review = client.get(f"/moderation/places/{place.id}").text
    assert "Memories and translations residents added" in review
    assert 'data-testid="out-of-date"' in review and "Original now (pt):</strong> Outra" in review


def test_published_additions_are_in_downloads_without_their_author(
    client, place, facilitator
) -> None:
    receipt = _add(client, place.id, MEMORY).json()
    client.post(f"/api/moderation/narratives/{receipt['id']}/publish", headers=facilitator)
    download = client.get("/api/export/places.geojson")
    assert b"rui@example.org" not in download.content and b"Rui from" not in download.content
    geojson = download.json()
    feature = next(f for f in geojson["features"] if f["id"] == place.id)
    memory = feature["properties"]["narratives"][1]
    assert memory == {"id": receipt["id"], "kind": "memory", "text": MEMORY["text"],
                      "language": "en", "provenance": "original"}  # fmt: skip
    assert feature["properties"]["languages"] == ["pt", "en"]
    rows = list(csv.DictReader(io.StringIO(client.get("/api/export/places.csv").text)))
    row = next(r for r in rows if r["id"] == place.id)
    assert MEMORY["text"] in row["narratives"] and "Rui from Alfama" not in row["narratives"]
    item = client.get(f"/ogc/collections/places/items/{place.id}").json()
    assert item["properties"]["narratives"][1]["id"] == receipt["id"]


def test_the_admins_backup_holds_every_addition_with_its_contact(
    client, place, lisbon_store
) -> None:
    receipt = _add(client, place.id, MEMORY).json()
    admin = make_staff(lisbon_store)[Role.ADMIN].headers
    body = client.get("/api/admin/backup", headers=admin).json()
    (kept,) = body["narrative_additions"]
    assert (kept["id"], kept["status"], kept["contact"]) == (
        receipt["id"], "pending", "rui@example.org",
    )  # fmt: skip
