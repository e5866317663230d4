"""Limits an attacker cannot step around: a workshop's own submission budget (a room behind
one NAT) that only an open code reaches; a lock on an account name that forged
addresses do not dodge; a budget of workshop codes per client; and wrong, shut and
not-yet-open codes answered alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from geodata.account_records import Role
from geodata.login_throttle import LOCK_ACTION
from geodata.models import Moderation, Workshop, utcnow
from geodata.store.base import PlaceStore
from tests.web.staff_helpers import PASSWORD, make_staff
from web.app import create_app
from web.auth import SESSION_COOKIE

PROXY = ("10.0.0.5", 41000)
NAT = {"X-Forwarded-For": "192.0.2.50"}  # the venue's one public address


def feature(title: str = "Tasca do Chico", workshop: str | None = None) -> dict:
    props = {
        "title": title,
        "narratives": [{"text": "Fado vadio every Monday.", "language": "pt"}],
        "category": "memory",
        "consent": {"publish": True},
    }
    if workshop is not None:
        props["workshop"] = workshop
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
        "properties": props,
    }


def add_workshop(store: PlaceStore, code: str, state: str = "open") -> None:
    now = utcnow()
    start = {
        "open": now - timedelta(hours=1),
        "closed": now - timedelta(days=2),
        "upcoming": now + timedelta(days=2),
    }[state]
    store.add_workshop(
        Workshop(
            code,
            "Mouraria memories",
            start,
            start + timedelta(hours=3),
            moderation=Moderation.POST,
        )
    )


@pytest.fixture
def app_with(settings, lisbon_store):
    """An app with these settings changed, behind our trusted proxy at 10.0.0.5."""

    def build(**changes):
        changes.setdefault("trusted_proxies", ["10.0.0.5"])
        return create_app(settings.model_copy(update=changes), store=lisbon_store)

    return build


def through_proxy(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", client=PROXY)


def from_address(client: TestClient, address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


# ---------------------------------------------------------------------------
# Submissions: a workshop's own budget
# ---------------------------------------------------------------------------


def test_an_open_workshop_has_its_own_budget_beyond_one_address(app_with, lisbon_store):
    add_workshop(lisbon_store, "ROOM42")
    app = app_with(submission_rate_limit=2, workshop_rate_limit=5)
    with through_proxy(app) as venue:
        in_room = [
            venue.post("/api/places", json=feature(f"Place {i}", "ROOM42"), headers=NAT)
            for i in range(6)
        ]
        assert [r.status_code for r in in_room] == [201] * 5 + [429]
        refused = in_room[-1]
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["errors"][0]["code"] == "workshop_busy"
        # The address's own budget is untouched by the workshop's submissions...
        alone = [venue.post("/api/places", json=feature(), headers=NAT) for _ in range(3)]
        assert [r.status_code for r in alone] == [201, 201, 429]
        # ...and another client's submission is not held by either.
        other = venue.post("/api/places", json=feature(), headers={"X-Forwarded-For": "192.0.2.9"})
        assert other.status_code == 201


@pytest.mark.parametrize("state", ["closed", "upcoming", "unknown"])
def test_a_code_that_is_not_open_never_reaches_the_workshop_budget(app_with, lisbon_store, state):
    if state != "unknown":
        add_workshop(lisbon_store, "SHUT42", state)
    app = app_with(submission_rate_limit=1, workshop_rate_limit=100)
    before = lisbon_store.count()
    with through_proxy(app) as venue:
        assert venue.post("/api/places", json=feature(), headers=NAT).status_code == 201
        assert venue.post("/api/places", json=feature(), headers=NAT).status_code == 429
        for _ in range(3):  # the address's budget is spent: a code does not open another
            r = venue.post("/api/places", json=feature(workshop="SHUT42"), headers=NAT)
            assert r.status_code == 422
            assert r.json()["errors"][0]["code"] == "workshop_not_open"
    assert lisbon_store.count() == before + 1


# ---------------------------------------------------------------------------
# Sign-in: the account is throttled, whatever address each guess comes from
# ---------------------------------------------------------------------------


def _login(client: TestClient, name: str, password: str, address: str):
    form = client.get("/login", headers=from_address(client, address))
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/login",
        data={"name": name, "password": password, "next": "/workshops", "csrf_token": token},
        headers=from_address(client, address),
        follow_redirects=False,
    )


def test_forty_guesses_from_forty_addresses_lock_the_account(app_with, lisbon_store):
    staff = make_staff(lisbon_store)
    name = staff[Role.ADMIN].name
    app = app_with(login_lock_first_s=600.0)  # no lock runs out during the test
    with through_proxy(app) as attacker:
        answers = [
            _login(attacker, name, f"guess number {i}!", f"198.51.100.{i + 1}") for i in range(40)
        ]
        assert [r.status_code for r in answers] == [401] * 5 + [429] * 35
        locked = answers[-1]
        assert 0 < int(locked.headers["Retry-After"]) <= 600
        assert "Too many sign-in attempts" in locked.text
        assert "wrong" not in locked.text  # says nothing about the password
        right = _login(attacker, name, PASSWORD, "203.0.113.77")
        assert right.status_code == 429 and SESSION_COOKIE not in right.headers.get(
            "set-cookie", ""
        )
        # A name that is no account is locked exactly alike.
        ghost = [_login(attacker, "nobody-here", "guess!", f"198.51.100.{i + 1}") for i in range(7)]
        assert [r.status_code for r in ghost] == [401] * 5 + [429] * 2
        # Other accounts are not held.
        other = _login(attacker, staff[Role.PLANNER].name, PASSWORD, "203.0.113.78")
        assert other.status_code == 303
    (lock,) = [e for e in lisbon_store.audit_events(action=LOCK_ACTION) if name in (e.detail or "")]
    assert lock.actor == "sign-in from 198.51.100.5"  # the address that made the fifth guess
    assert "after 5 failed sign-ins" in lock.detail


def test_a_lock_that_ran_out_lets_the_right_password_in(app_with, lisbon_store):
    staff = make_staff(lisbon_store)
    app = app_with(login_lock_after=2, login_lock_first_s=0.001)
    with through_proxy(app) as client:
        for i in range(2):
            assert (
                _login(client, staff[Role.ADMIN].name, "wrong!", f"192.0.2.{i}").status_code == 401
            )
        # The first lock is a millisecond: over before the next request arrives.
        assert _login(client, staff[Role.ADMIN].name, PASSWORD, "192.0.2.3").status_code == 303


# ---------------------------------------------------------------------------
# Workshop codes: a budget per client, and no answer that tells codes apart
# ---------------------------------------------------------------------------


def _normalised(page: str) -> str:
    """The page without what changes on every request (tokens, nonces, ids)."""
    page = re.sub(r'name="(csrf_token|submission_id)" value="[^"]*"', r'name="\1"', page)
    return re.sub(r'nonce="[^"]*"', "", page)


def test_wrong_shut_and_upcoming_codes_get_the_same_page(app_with, lisbon_store):
    add_workshop(lisbon_store, "SHUT42", "closed")
    add_workshop(lisbon_store, "SOON42", "upcoming")
    app = app_with()
    answers = {}
    with through_proxy(app) as client:
        for i, code in enumerate(["SHUT42", "SOON42", "WRONG4", "shut42"]):
            answers[code] = client.get(
                f"/contribute?workshop={code}", headers={"X-Forwarded-For": f"192.0.2.{i + 1}"}
            )
    assert {r.status_code for r in answers.values()} == {200}
    pages = {code: _normalised(r.text) for code, r in answers.items()}
    assert len(set(pages.values())) == 1, "the pages differ"
    assert "not open for contributions right now" in pages["WRONG4"]
    assert "Mouraria" not in pages["SHUT42"] and "SHUT42" not in pages["SHUT42"]
    headers = {code: sorted(k for k in r.headers if k != "content-length") for code, r in
               answers.items()}  # fmt: skip
    assert len({tuple(h) for h in headers.values()}) == 1


def test_wrong_shut_and_upcoming_codes_get_the_same_api_answer(app_with, lisbon_store):
    add_workshop(lisbon_store, "SHUT42", "closed")
    add_workshop(lisbon_store, "SOON42", "upcoming")
    with through_proxy(app_with()) as client:
        answers = [
            client.post("/api/places", json=feature(workshop=code), headers=from_address(client, a))
            for code, a in [
                ("SHUT42", "192.0.2.1"),
                ("SOON42", "192.0.2.2"),
                ("WRONG4", "192.0.2.3"),
            ]
        ]
    assert {r.status_code for r in answers} == {422}
    assert answers[0].json() == answers[1].json() == answers[2].json()


def test_guessing_codes_is_refused_after_the_budget_even_for_a_right_one(app_with, lisbon_store):
    add_workshop(lisbon_store, "ROOM42")
    app = app_with(join_code_rate_limit=30)
    guesser = {"X-Forwarded-For": "198.51.100.66"}
    with through_proxy(app) as client:
        # An open code costs nothing: a room full of residents may all join.
        for _ in range(40):
            assert client.get("/contribute?workshop=ROOM42", headers=guesser).status_code == 200
        guesses = [
            client.get(f"/contribute?workshop=G{i:05d}", headers=guesser) for i in range(300)
        ]
        assert [r.status_code for r in guesses] == [200] * 30 + [429] * 270
        refused = guesses[-1]
        assert int(refused.headers["Retry-After"]) > 0
        assert "Too many workshop codes were tried" in refused.text
        # Once the budget is spent every code is refused, so a 429 tells nothing.
        right = client.get("/contribute?workshop=ROOM42", headers=guesser)
        assert right.status_code == 429 and "Mouraria" not in right.text
        # Every other way of trying a code shares the budget.
        api = client.post("/api/places", json=feature(workshop="ROOM42"), headers=guesser)
        assert api.status_code == 429 and api.json()["errors"][0]["code"] == "too_many_codes"
        assert int(api.headers["Retry-After"]) > 0
        live = client.get("/api/map/workshops/ROOM42/updates", headers=guesser)
        assert live.status_code == 429 and int(live.headers["Retry-After"]) > 0
        assert client.get("/workshops/ROOM42/live", headers=guesser).status_code == 429
        # Another client is not held.
        other = client.get("/contribute?workshop=ROOM42", headers={"X-Forwarded-For": "192.0.2.8"})
        assert other.status_code == 200 and "Mouraria memories" in other.text


def test_every_route_that_looks_a_code_up_counts_a_wrong_one(app_with, lisbon_store):
    app = app_with(join_code_rate_limit=4)
    guesser = {"X-Forwarded-For": "198.51.100.67"}
    with through_proxy(app) as client:
        tries = [
            client.get("/api/map/workshops/NOPE01/updates", headers=guesser),
            client.get("/workshops/NOPE02/live", headers=guesser),
            client.get("/api/map/places?bbox=-9.2,38.7,-9.1,38.8&workshop=NOPE03", headers=guesser),
            client.post("/api/places", json=feature(workshop="NOPE04"), headers=guesser),
            client.get("/api/map/search?q=fado&workshop=NOPE05", headers=guesser),
        ]
    assert [r.status_code for r in tries] == [404, 404, 404, 422, 429]


def test_the_code_budget_message_is_translated(app_with, lisbon_store):
    app = app_with(join_code_rate_limit=1)
    guesser = {"X-Forwarded-For": "198.51.100.68"}
    with through_proxy(app) as client:
        client.get("/contribute?workshop=NOPE01&lang=pt", headers=guesser)
        page = client.get("/contribute?workshop=NOPE02&lang=pt", headers=guesser)
        assert page.status_code == 429
        assert "Foram tentados demasiados códigos de oficina" in page.text
        client.cookies.clear()  # the language picker's cookie would say Portuguese
        api = client.post(
            "/api/places",
            json=feature(workshop="NOPE03"),
            headers={**guesser, "Accept-Language": "fr"},
        )
        assert api.status_code == 429 and "Trop de codes d'atelier" in api.json()["detail"]
