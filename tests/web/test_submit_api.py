"""The submission API over HTTP: every field, every class of bad input, safe retries,
duplicates, corrections and withdrawal with right and wrong tokens. A bad input must
get a clear 4xx problem+json and leave the db exactly as it was."""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geodata.models import Moderation, Status, Workshop, utcnow
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.migrate import table_rows
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"


def load_geometry_corpus() -> list[tuple]:
    """The foundation issue's geometry corpus (tests/geodata/test_geometry_rules.py)."""
    path = ROOT / "tests" / "geodata" / "test_geometry_rules.py"
    spec = importlib.util.spec_from_file_location("geometry_corpus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CORPUS


CORPUS = load_geometry_corpus()


def feature(**properties) -> dict:
    geometry = properties.pop("geometry", {"type": "Point", "coordinates": [-9.1402, 38.7101]})
    props = {
        "title": "Tasca do Chico",
        "narratives": [{"text": "Fado vadio every Monday since 1993.", "language": "pt"}],
        "category": "memory",
        "consent": {"publish": True},
    }
    props.update(properties)
    return {"type": "Feature", "geometry": geometry, "properties": props}


def stored(db: PlaceStore) -> int:
    return db.count()


def assert_problem(
    response, status: int, field: str | None = None, code: str | None = None
) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["detail"]
    if field is not None:
        matching = [e for e in body["errors"] if e["field"] == field]
        assert matching, body
        assert all(e["message"] for e in matching)
        if code is not None:
            assert code in [e["code"] for e in matching], body
    return body


@pytest.fixture
def db(lisbon_store: PlaceStore) -> PlaceStore:
    """The Lisbon demo db the ``client`` app serves."""
    return lisbon_store


def submit(client: TestClient, body, **headers):
    return client.post("/api/places", json=body, headers=headers)


# ---------------------------------------------------------------------------
# Every field
# ---------------------------------------------------------------------------


def test_a_full_submission_is_stored_with_every_field(client, db):
    body = feature(
        title="Tasca do Chico <script>alert(1)</script>",
        narratives=[
            {"text": "Fado vadio todas as segundas.", "language": "pt", "provenance": "original"},
            {
                "text": "Amateur fado every Monday.",
                "language": "en",
                "provenance": "community_translation",
            },
            {
                "text": "غناء الفادو كل يوم اثنين",
                "language": "ar",
                "provenance": "machine_translation",
            },
        ],
        category="tradition",
        period="since the 1990s",
        year_from=1993,
        year_to=2025,
        tags=["#fado", "music", "Music"],
        contributor={"name": "Ana Silva", "contact": "ana@example.org", "display_name": "Ana"},
        consent={"publish": True, "open_data": True, "research": True},
        licence="CC-BY-SA-4.0",
        sensitivity="generalised",
    )
    response = submit(client, body)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["status"] == "pending"
    assert receipt["id"].startswith("pl_") and len(receipt["edit_token"]) >= 40
    assert receipt["edit_url"].endswith(
        f"/contribute/edit/{receipt['id']}?token={receipt['edit_token']}"
    )
    assert response.headers["location"] == f"/api/places/{receipt['id']}"

    place = db.get(receipt["id"])
    assert place.title == "Tasca do Chico <script>alert(1)</script>"  # stored as given
    assert [(n.language, str(n.provenance)) for n in place.narratives] == [
        ("pt", "original"),
        ("en", "community_translation"),
        ("ar", "machine_translation"),
    ]
    assert (place.category, place.period, place.year_from, place.year_to) == (
        "tradition",
        "since the 1990s",
        1993,
        2025,
    )
    assert place.tags == ["fado", "music"]
    assert (place.contributor_name, place.contributor_contact, place.display_name) == (
        "Ana Silva",
        "ana@example.org",
        "Ana",
    )
    assert place.consent.publish and place.consent.open_data and place.consent.research
    assert place.consent.given_at is not None
    assert (place.licence, str(place.sensitivity)) == ("CC-BY-SA-4.0", "generalised")
    assert place.neighbourhood_id is not None
    assert db.edit_token_hash(place.id) != receipt["edit_token"]  # only a hash is kept

    seen = client.get(
        f"/api/places/{place.id}", headers={"Authorization": f"Bearer {receipt['edit_token']}"}
    )
    assert seen.status_code == 200
    props = seen.json()["properties"]
    assert props["title"] == place.title and props["contributor"]["name"] == "Ana Silva"
    assert props["category_label"] == "Tradition, festival or craft"


def test_defaults_are_cc_by_public_and_opt_in_consents(client, db):
    receipt = submit(client, feature()).json()
    place = db.get(receipt["id"])
    assert place.licence == "CC-BY-4.0" and str(place.sensitivity) == "public"
    assert place.consent.publish and not place.consent.open_data and not place.consent.research


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "LineString", "coordinates": [[-9.14, 38.71], [-9.13, 38.715], [-9.125, 38.72]]},
        {
            "type": "Polygon",
            "coordinates": [
                [[-9.15, 38.71], [-9.145, 38.71], [-9.145, 38.715], [-9.15, 38.715], [-9.15, 38.71]]
            ],
        },
    ],
    ids=["route", "area"],
)
def test_routes_and_areas_are_accepted(client, db, geometry):
    response = submit(client, feature(geometry=geometry))
    assert response.status_code == 201, response.text
    assert db.get(response.json()["id"]).geometry.geom_type == geometry["type"]


def test_a_repaired_geometry_is_accepted_with_a_warning(client, db):
    clockwise = [[-9.15, 38.71], [-9.15, 38.715], [-9.145, 38.715], [-9.145, 38.71], [-9.15, 38.71]]
    response = submit(client, feature(geometry={"type": "Polygon", "coordinates": [clockwise]}))
    assert response.status_code == 201
    assert any("anticlockwise" in w for w in response.json()["warnings"])


# ---------------------------------------------------------------------------
# Every class of bad input: a clear 4xx, nothing stored
# ---------------------------------------------------------------------------


def _corpus_body(geometry) -> bytes:
    # json.dumps writes NaN and Infinity as bare words, as a careless client would.
    return json.dumps(feature(geometry=geometry)).encode()


# One app per backend for the whole corpus, each case a subtest reported by its name: a
# fresh app with the demo per case cost more than the case itself. The 14 accepted
# shapes stay within one client's submission budget (120 per window).
def test_geometry_corpus_through_the_api(client, db, subtests):
    for name, geometry, code, n_warnings in CORPUS:
        with subtests.test(case=name):
            before = stored(db)
            response = client.post(
                "/api/places",
                content=_corpus_body(geometry),
                headers={"content-type": "application/json"},
            )
            if code is None:
                assert response.status_code == 201, response.text
                assert len(response.json()["warnings"]) == n_warnings
                assert stored(db) == before + 1
                continue
            assert stored(db) == before
            if name == "million vertices":
                assert_problem(response, 413)  # refused by size before it is even parsed
            else:
                assert_problem(response, 422, "geometry", code)


@pytest.mark.parametrize(
    ("body", "status", "field", "code"),
    [
        (feature(consent=None), 422, "properties.consent", "model_type"),
        ({k: v for k, v in feature().items() if k != "geometry"}, 422, "geometry", "missing"),
        (
            feature(consent={"publish": False}),
            422,
            "properties.consent.publish",
            "consent_required",
        ),
        (feature(consent={"publish": "yes"}), 422, "properties.consent.publish", "bool_type"),
        (feature(category="castle"), 422, "properties.category", "unknown_category"),
        (
            feature(narratives=[{"text": "x", "language": "portuguese!"}]),
            422,
            "properties.narratives.0.language",
            "bad_language",
        ),
        (feature(narratives=[]), 422, "properties.narratives", "required"),
        (
            feature(narratives=[{"text": "a", "language": "pt"}, {"text": "b", "language": "PT"}]),
            422,
            "properties.narratives.1.language",
            "repeated_language",
        ),
        (
            feature(narratives=[{"text": "a", "language": "pt"}, {"text": "b", "language": "en"}]),
            422,
            "properties.narratives",
            "one_original",
        ),
        (
            feature(narratives=[{"text": "a", "language": "pt", "provenance": "guess"}]),
            422,
            "properties.narratives.0.provenance",
            "enum",
        ),
        (feature(title="x" * 201), 422, "properties.title", "too_long"),
        (feature(title="   "), 422, "properties.title", "empty_title"),
        (feature(title="evil\u202etxt"), 422, "properties.title", "control_character"),
        (
            feature(narratives=[{"text": "y" * 10_001, "language": "pt"}]),
            422,
            "properties.narratives.0.text",
            "too_long",
        ),
        (feature(period="p" * 201), 422, "properties.period", "too_long"),
        (feature(tags=["t"] * 21), 422, "properties.tags", "too_many"),
        (feature(tags=["x" * 51]), 422, "properties.tags.0", "too_long"),
        (feature(contributor={"name": "n" * 201}), 422, "properties.contributor.name", "too_long"),
        (
            feature(contributor={"display_name": "d" * 81}),
            422,
            "properties.contributor.display_name",
            "too_long",
        ),
        (
            feature(contributor={"phone": "123"}),
            422,
            "properties.contributor.phone",
            "extra_forbidden",
        ),
        (feature(year_from="1960"), 422, "properties.year_from", "int_type"),
        (feature(year_from=1990, year_to=1960), 422, "properties.year_to", "years_reversed"),
        (feature(year_from=99999), 422, "properties.year_from", "year_out_of_range"),
        (feature(licence="All rights reserved"), 422, "properties.licence", "unknown_licence"),
        (feature(sensitivity="secret"), 422, "properties.sensitivity", "enum"),
        (feature(titel="typo"), 422, "properties.titel", "extra_forbidden"),
        (feature(workshop="NOPE42"), 422, "properties.workshop", "workshop_not_open"),
        ({**feature(), "type": "FeatureCollection"}, 422, "type", "literal_error"),
        ([feature()], 422, "body", "model_type"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_fields_get_field_errors_and_store_nothing(client, db, body, status, field, code):
    before = stored(db)
    assert_problem(submit(client, body), status, field, code)
    assert stored(db) == before


def test_all_problems_are_reported_at_once(client, db):
    body = feature(
        geometry={"type": "Point", "coordinates": [2.35, 48.85]},
        title="",
        category="castle",
        consent={"publish": False},
    )
    fields = {e["field"] for e in assert_problem(submit(client, body), 422)["errors"]}
    assert fields == {
        "geometry",
        "properties.title",
        "properties.category",
        "properties.consent.publish",
    }


def test_wrong_content_type_is_415(client, db):
    before = stored(db)
    response = client.post(
        "/api/places", content=json.dumps(feature()), headers={"content-type": "text/plain"}
    )
    assert_problem(response, 415)
    response = client.post("/api/places", data={"title": "x"})
    assert_problem(response, 415)
    assert stored(db) == before


def test_truncated_json_is_400_with_a_readable_message(client, db):
    before = stored(db)
    text = json.dumps(feature())
    response = client.post(
        "/api/places", content=text[: len(text) // 2], headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400, "body", "json_invalid")
    assert "JSON" in body["detail"]
    assert stored(db) == before


def test_a_10_mb_body_is_413_on_every_endpoint(client, db):
    before = stored(db)
    big = b"x" * (10 * 1024 * 1024)
    for method, path in (
        ("POST", "/api/places"),
        ("PATCH", "/api/places/pl_x"),
        ("POST", "/api/places/pl_x/media"),
        ("POST", "/healthz"),
    ):
        response = client.request(
            method, path, content=big, headers={"content-type": "application/json"}
        )
        assert_problem(response, 413)
    assert stored(db) == before


def test_a_streamed_body_past_the_limit_is_cut_off_with_413(client, db):
    before = stored(db)

    def chunks():
        for _ in range(20):
            yield b" " * 100_000

    response = client.post(
        "/api/places", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)
    assert stored(db) == before


def test_field_errors_follow_accept_language(client, db):
    body = feature(consent={"publish": False}, category="castle")
    pt = assert_problem(submit(client, body, **{"Accept-Language": "pt-PT,pt;q=0.9"}), 422)
    ar = assert_problem(submit(client, body, **{"Accept-Language": "ar"}), 422)
    en = assert_problem(submit(client, body), 422)
    messages = {
        lang: {e["field"]: e["message"] for e in b["errors"]}
        for lang, b in (("pt", pt), ("ar", ar), ("en", en))
    }
    consent = "properties.consent.publish"
    assert "caixa" in messages["pt"][consent].lower()
    assert messages["ar"][consent] != messages["en"][consent]
    assert any("\u0600" <= ch <= "\u06ff" for ch in messages["ar"][consent])
    assert "castle" in messages["pt"]["properties.category"]


# ---------------------------------------------------------------------------
# Workshops
# ---------------------------------------------------------------------------


def _workshop(db: PlaceStore, code: str, moderation: Moderation, open_now: bool = True):
    now = utcnow()
    start = now - timedelta(hours=1) if open_now else now - timedelta(days=2)
    db.add_workshop(
        Workshop(
            code=code,
            title="Mouraria memories",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            moderation=moderation,
        )
    )


def test_post_moderated_workshop_publishes_at_once(client, db):
    _workshop(db, "LIVE1", Moderation.POST)
    receipt = submit(client, feature(workshop="live1")).json()
    assert receipt["status"] == "published"
    place = db.get(receipt["id"])
    assert place.workshop == "LIVE1" and place.status == Status.PUBLISHED
    assert place.id in {p.id for p in db.list(public_filter(PlaceFilter(workshop="LIVE1")))}


def test_pre_moderated_workshop_keeps_it_pending(client, db):
    _workshop(db, "MOD1", Moderation.PRE)
    receipt = submit(client, feature(workshop="MOD1")).json()
    assert receipt["status"] == "pending"
    assert db.get(receipt["id"]).workshop == "MOD1"


def test_closed_workshop_is_refused_as_a_wrong_code_would_be(client, db):
    _workshop(db, "OLD1", Moderation.POST, open_now=False)
    before = stored(db)
    closed = submit(client, feature(workshop="OLD1"))
    assert_problem(closed, 422, "properties.workshop", "workshop_not_open")
    wrong = submit(client, feature(workshop="OLD2"))
    assert wrong.json() == closed.json()  # nothing tells the two apart
    assert stored(db) == before


# ---------------------------------------------------------------------------
# Safe retries, duplicates, rate limits
# ---------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_answer(client, db):
    before = stored(db)
    key = "9b2f6c1e-4d53-4d6a-9a55-1f1e0f3b7c21"
    first = submit(client, feature(), **{"Idempotency-Key": key})
    again = submit(client, feature(), **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # the same id and the same edit token
    assert again.headers["idempotent-replayed"] == "true"
    assert stored(db) == before + 1
    other = submit(client, feature(title="Another"), **{"Idempotency-Key": key})
    assert_problem(other, 422, code=None)
    assert other.json()["code"] == "idempotency_key_reused"
    assert stored(db) == before + 1


def test_without_a_key_a_resubmission_is_a_new_place(client, db):
    before = stored(db)
    submit(client, feature())
    submit(client, feature())
    assert stored(db) == before + 2


def test_a_too_short_idempotency_key_is_refused(client, db):
    before = stored(db)
    assert_problem(submit(client, feature(), **{"Idempotency-Key": "1"}), 422, "Idempotency-Key")
    assert stored(db) == before


def test_the_edit_token_is_not_readable_from_the_stored_retry_answer(client, db):
    key = "5c4a1d0e-retry-key-for-a-train"
    token = submit(client, feature(), **{"Idempotency-Key": key}).json()["edit_token"]
    rows = table_rows(db, "idempotency_keys")  # the raw table, on either backend
    assert rows and all(
        token.encode() not in r["response"] and key not in r["key_hash"] for r in rows
    )


def test_a_similar_title_within_25_m_is_flagged_naming_the_other(client, db):
    first = submit(client, feature(title="Tasca do Chico")).json()
    near = submit(
        client,
        feature(
            title="A Tasca do Chico",
            geometry={"type": "Point", "coordinates": [-9.14035, 38.71015]},
        ),
    ).json()
    far = submit(
        client,
        feature(
            title="Tasca do Chico", geometry={"type": "Point", "coordinates": [-9.1380, 38.7125]}
        ),
    ).json()
    other_title = submit(client, feature(title="Igreja de São Cristóvão")).json()
    flags = db.flags(near["id"])
    assert near["status"] == "pending"  # accepted all the same
    assert [f.other_place_id for f in flags] == [first["id"]]
    # Kept as values, in no language: the other place's title and how far it is.
    assert flags[0].params["title"] == "Tasca do Chico" and flags[0].detail == ""
    assert 0 < flags[0].params["distance_m"] <= 25
    assert db.flags(far["id"]) == [] and db.flags(other_title["id"]) == []


def test_submissions_over_the_rate_limit_get_429_and_store_nothing(settings, db):
    limited = settings.model_copy(update={"submission_rate_limit": 2})
    with TestClient(create_app(limited, store=db), base_url="http://127.0.0.1") as c:
        assert [submit(c, feature(title=f"Place {i}")).status_code for i in range(2)] == [201, 201]
        before = stored(db)
        refused = submit(c, feature(title="One too many"))
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) > 0
        assert stored(db) == before


def test_rate_limit_zero_turns_it_off(settings, db):
    unlimited = settings.model_copy(update={"submission_rate_limit": 0})
    with TestClient(create_app(unlimited, store=db), base_url="http://127.0.0.1") as c:
        assert {submit(c, feature(title=f"P{i}")).status_code for i in range(5)} == {201}


# ---------------------------------------------------------------------------
# Seeing, correcting and withdrawing with the edit token
# ---------------------------------------------------------------------------


@pytest.fixture
def mine(client) -> dict:
    body = feature(
        contributor={"name": "Rui", "contact": "rui@example.org", "display_name": "Rui M."},
        consent={"publish": True, "open_data": True},
    )
    return submit(client, body).json()


def test_seeing_a_place_needs_its_own_token(client, mine):
    url = f"/api/places/{mine['id']}"
    assert client.get(url, headers={"X-Edit-Token": mine["edit_token"]}).status_code == 200
    missing = assert_problem(client.get(url), 401)
    assert missing["code"] == "edit_token_required"
    assert (
        assert_problem(client.get(url, headers={"X-Edit-Token": "x" * 43}), 403)["code"]
        == "wrong_edit_token"
    )
    other = submit(client, feature(title="Someone else's")).json()
    assert_problem(client.get(url, headers={"X-Edit-Token": other["edit_token"]}), 403)
    assert_problem(
        client.get("/api/places/pl_nothere", headers={"X-Edit-Token": mine["edit_token"]}), 404
    )


def test_correcting_with_the_right_token(client, db, mine):
    url, token = f"/api/places/{mine['id']}", mine["edit_token"]
    etag = client.get(url, headers={"X-Edit-Token": token}).headers["etag"]
    response = client.patch(
        url,
        json={
            "properties": {
                "title": "Tasca do Chico (Bairro Alto)",
                "tags": ["fado"],
                "period": None,
            }
        },
        headers={"Authorization": f"Bearer {token}", "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    place = db.get(mine["id"])
    assert place.title == "Tasca do Chico (Bairro Alto)" and place.tags == ["fado"]
    assert place.period is None and place.contributor_name == "Rui" and place.version == 2
    stale = client.patch(
        url,
        json={"properties": {"title": "Again"}},
        headers={"X-Edit-Token": token, "If-Match": etag},
    )
    assert_problem(stale, 409)
    moved = client.patch(
        url,
        json={"geometry": {"type": "Point", "coordinates": [-9.1335, 38.7139]}},
        headers={"X-Edit-Token": token},
    )
    assert moved.status_code == 200
    assert db.get(mine["id"]).geometry.x == -9.1335


def test_correcting_with_a_wrong_token_or_bad_fields_changes_nothing(client, db, mine):
    url = f"/api/places/{mine['id']}"
    before = db.get(mine["id"])
    assert_problem(
        client.patch(
            url,
            json={"properties": {"title": "Hacked"}},
            headers={"X-Edit-Token": "wrong-token-000000"},
        ),
        403,
    )
    assert_problem(
        client.patch(
            url,
            json={"properties": {"title": "", "category": "castle"}},
            headers={"X-Edit-Token": mine["edit_token"]},
        ),
        422,
        "properties.category",
        "unknown_category",
    )
    assert_problem(
        client.patch(
            url,
            json={"geometry": {"type": "Point", "coordinates": [2.35, 48.85]}},
            headers={"X-Edit-Token": mine["edit_token"]},
        ),
        422,
        "geometry",
        "outside_project_area",
    )
    after = db.get(mine["id"])
    assert (after.title, after.version, after.geometry) == (
        before.title,
        before.version,
        before.geometry,
    )


def test_an_edit_to_a_published_place_goes_back_to_moderation(client, db, mine):
    place = db.get(mine["id"])
    place.status = Status.PUBLISHED
    db.update(place)
    client.patch(
        f"/api/places/{mine['id']}",
        json={"properties": {"title": "New words"}},
        headers={"X-Edit-Token": mine["edit_token"]},
    )
    assert db.get(mine["id"]).status == Status.PENDING


def test_withdrawal_removes_it_everywhere_and_erases_personal_data(client, db, mine):
    place = db.get(mine["id"])
    place.status = Status.PUBLISHED
    db.update(place)
    ids = lambda audience: {p.id for p in db.list(public_filter(audience=audience))}  # noqa: E731
    assert mine["id"] in ids("map") and mine["id"] in ids("open_data")
    url = f"/api/places/{mine['id']}"
    assert_problem(client.delete(url, headers={"X-Edit-Token": "not-the-token"}), 403)
    assert mine["id"] in ids("map")
    assert client.delete(url, headers={"X-Edit-Token": mine["edit_token"]}).status_code == 204
    assert mine["id"] not in ids("map") and mine["id"] not in ids("open_data")
    gone = db.get(mine["id"])
    assert gone.status == Status.WITHDRAWN
    assert (gone.contributor_name, gone.contributor_contact, gone.display_name) == (None,) * 3
    seen = client.get(url, headers={"X-Edit-Token": mine["edit_token"]}).json()
    assert seen["properties"]["status"] == "withdrawn"
    assert client.delete(url, headers={"X-Edit-Token": mine["edit_token"]}).status_code == 204
    refused = client.patch(
        url, json={"properties": {"title": "Back"}}, headers={"X-Edit-Token": mine["edit_token"]}
    )
    assert assert_problem(refused, 409)["code"] == "withdrawn"


def test_openapi_documents_both_token_headers_and_the_input_model(client):
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["EditTokenBearer"]["scheme"] == "bearer"
    assert schemes["EditTokenHeader"]["name"] == "X-Edit-Token"
    post = schema["paths"]["/api/places"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in post["parameters"]}
    assert "PlaceSubmission" in schema["components"]["schemas"]
    assert schema["paths"]["/api/places/{place_id}"]["get"]["security"]
