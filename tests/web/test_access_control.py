"""Every route either declares the role it needs or is on the public list below, and
the declared guard really refuses anonymous and wrong-role callers. Also: sign-in,
sessions, tokens, CSRF and revocation."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from geodata import accounts
from geodata.account_records import Role
from geodata.models import utcnow
from tests.web.staff_helpers import PASSWORD, Staff, bearer, make_staff, page_csrf, sign_in
from web.app import create_app
from web.auth import SESSION_COOKIE, RoleGuard

# Routes anyone may call, and why. A new route that is not here must declare a role
# guard (web.auth), or test_every_route_is_guarded_or_public fails.
PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "the API description",
    ("GET", "/docs"): "API documentation",
    ("GET", "/docs/oauth2-redirect"): "API documentation",
    ("GET", "/redoc"): "API documentation",
    ("GET", "/healthz"): "liveness: counts only",
    ("GET", "/"): "home page: published stories and counts only",
    ("GET", "/maps/city"): "public map",
    ("GET", "/maps/neighbourhoods/{neighbourhood_id}"): "public map",
    ("GET", "/workshops/{code}/live"): "the projected map: published places only",
    ("GET", "/api/map/places"): "public map data",
    ("GET", "/api/map/places/{place_id}"): "public popup",
    ("GET", "/places/{place_id}"): "a public place's page (404 for any other)",
    ("GET", "/api/map/search"): "public search",
    ("GET", "/api/map/orientation"): "the maps' orientation layer (neighbourhoods, water)",
    ("GET", "/tiles/basemap/{z}/{x}/{name}"): "the local basemap's tiles",
    ("GET", "/tiles/basemap.json"): "the local basemap's TileJSON",
    ("GET", "/api/map/workshops/{code}/updates"): "the projected map's updates",
    ("GET", "/api/export/places.geojson"): "open data",
    ("GET", "/api/export/places.csv"): "open data",
    ("GET", "/api/export/places.licence.txt"): "open data",
    ("GET", "/api/export/places.gpkg"): "open data",
    ("GET", "/api/export/places.csvt"): "open data: the CSV's column types",
    ("GET", "/api/export/places.parquet"): "open data",
    ("GET", "/api/export/places.fgb"): "open data",
    ("GET", "/api/export/places.{fmt}"): "a 404 problem naming the formats offered",
    ("GET", "/api/export/neighbourhoods.geojson"): "open data",
    ("GET", "/ogc"): "OGC API – Features (open data)",
    ("GET", "/ogc/"): "OGC API – Features (open data)",
    ("GET", "/ogc/conformance"): "OGC API – Features (open data)",
    ("GET", "/ogc/api"): "OGC API – Features (open data)",
    ("GET", "/ogc/collections"): "OGC API – Features (open data)",
    ("GET", "/ogc/collections/{collection_id}"): "OGC API – Features (open data)",
    ("GET", "/ogc/collections/{collection_id}/items"): "OGC API – Features (open data)",
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): "OGC API – Features",
    ("GET", "/ogc/collections/{collection_id}/queryables"): "OGC API – Features (filters)",
    ("GET", "/ogc/collections/{collection_id}/schema"): "OGC API – Features (schemas)",
    ("GET", "/ogc/collections/{collection_id}/feature-schema"): "OGC API – Features (GDAL)",
    ("GET", "/ogc/tileMatrixSets"): "OGC API – Tiles (open data)",
    ("GET", "/ogc/tileMatrixSets/{tile_matrix_set_id}"): "OGC API – Tiles (open data)",
    ("GET", "/ogc/collections/{collection_id}/tiles"): "OGC API – Tiles (open data)",
    ("GET", "/ogc/collections/{collection_id}/tiles/{tile_matrix_set_id}"): "OGC API – Tiles",
    (
        "GET",
        "/ogc/collections/{collection_id}/tiles/{tile_matrix_set_id}/tilejson.json",
    ): "OGC API – Tiles (TileJSON for map clients)",
    (
        "GET",
        "/ogc/collections/{collection_id}/tiles/{tile_matrix_set_id}/{tile_matrix}/"
        "{tile_row}/{tile_col}",
    ): "OGC API – Tiles (open data)",
    ("POST", "/api/places"): "residents submit without an account",
    ("GET", "/api/places/{place_id}"): "the resident's edit token guards it",
    ("PATCH", "/api/places/{place_id}"): "the resident's edit token guards it",
    ("DELETE", "/api/places/{place_id}"): "the resident's edit token guards it",
    ("POST", "/api/places/{place_id}/media"): "the resident's edit token guards it",
    ("DELETE", "/api/places/{place_id}/media/{media_id}"): "the resident's edit token",
    ("GET", "/media/{media_id}"): "public photo, or the edit token for unpublished ones",
    ("GET", "/media/{media_id}/thumbnail"): "as /media/{media_id}",
    ("POST", "/api/places/{place_id}/audio"): "the resident's edit token guards it",
    ("GET", "/api/places/{place_id}/audio"): "public recordings; all with the edit token",
    ("PATCH", "/api/places/{place_id}/audio/{recording_id}"): "the resident's edit token",
    ("DELETE", "/api/places/{place_id}/audio/{recording_id}"): "the resident's edit token",
    ("GET", "/audio/{recording_id}"): "as its scope allows (token, staff session, anyone)",
    ("POST", "/contribute/edit/{place_id}/audio"): "the resident's edit token guards it",
    ("GET", "/contribute"): "the residents' form",
    ("POST", "/contribute"): "the residents' form",
    ("GET", "/contribute/edit/{place_id}"): "the resident's edit token guards it",
    ("POST", "/contribute/edit/{place_id}"): "the resident's edit token guards it",
    ("GET", "/login"): "signing in",
    ("POST", "/login"): "signing in",
    ("POST", "/api/places/{place_id}/narratives"): "residents add to a public place",
    ("GET", "/places/{place_id}/add"): "the form to add to a public place",
    ("POST", "/places/{place_id}/add"): "the form to add to a public place",
    ("GET", "/walks"): "the published walks",
    ("GET", "/walks/{walk_id}"): "a published walk's page (404 for any other)",
    ("GET", "/walks/{walk_id}/print"): "a published walk's leaflet",
    ("GET", "/walks/{walk_id}.gpx"): "a published walk (open data)",
    ("GET", "/walks/{walk_id}.geojson"): "a published walk (open data)",
    ("GET", "/walks/{walk_id}/offline.json"): "what to keep of a published walk offline",
    ("GET", "/walks/sw.js"): "the walks' service worker script",
    ("GET", "/walks/new"): "residents propose a walk without an account",
    ("POST", "/walks/new"): "residents propose a walk without an account",
    ("POST", "/api/walks"): "residents propose a walk without an account",
    ("GET", "/api/walks/{walk_id}"): "the resident's edit token guards it",
    ("DELETE", "/api/walks/{walk_id}"): "the resident's edit token guards it",
    ("PUT", "/api/walks/{walk_id}"): "the resident's edit token guards it",
    ("GET", "/walks/{walk_id}/edit"): "the resident's edit token guards it",
    ("POST", "/walks/{walk_id}/edit"): "the resident's edit token guards it",
    ("POST", "/api/walks/{walk_id}/stops/{number}/audio"): "the walk's edit token guards it",
    ("GET", "/api/walks/{walk_id}/audio"): "public stop recordings; all with the edit token",
    ("PATCH", "/api/walks/{walk_id}/audio/{recording_id}"): "the walk's edit token",
    ("DELETE", "/api/walks/{walk_id}/audio/{recording_id}"): "the walk's edit token",
    ("GET", "/walks/{walk_id}/voices"): "the walk's edit token guards it",
    ("POST", "/walks/{walk_id}/voices"): "the walk's edit token guards it",
}
PUBLIC_MOUNT_PREFIX = "/static"  # scripts, styles, fonts


def guard_of(route) -> RoleGuard | None:
    """The role guard a route declares, anywhere among its dependencies."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RoleGuard):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def sample_url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def access_failures(app: FastAPI, staff: dict[Role, Staff]) -> list[str]:
    """What is wrong with the app's access rules (empty when every route is right)."""
    failures: list[str] = []
    seen: set[tuple[str, str]] = set()
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for route in iter_route_contexts(app.routes):
            if isinstance(route.original_route, Mount):
                if not (route.path or "").startswith(PUBLIC_MOUNT_PREFIX):
                    failures.append(f"mount {route.path}: only static files may be mounted")
                continue
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                key = (method, route.path)
                seen.add(key)
                if key in PUBLIC_ROUTES:
                    continue
                guard = guard_of(route)
                where = f"{method} {route.path}"
                if guard is None:
                    failures.append(f"{where}: declares no role and is not on the public list")
                    continue
                url = sample_url(route.path)
                anonymous = client.request(method, url, follow_redirects=False)
                if guard.page:
                    if anonymous.status_code != 303 or not anonymous.headers.get(
                        "location", ""
                    ).startswith("/login"):
                        failures.append(f"{where}: anonymous got {anonymous.status_code}")
                elif anonymous.status_code != 401:
                    failures.append(f"{where}: anonymous got {anonymous.status_code}")
                # A resident's edit token (or any other bearer) is not an account.
                stranger = client.request(
                    method, url, headers=bearer("hat_0123456789abcdef.not-the-secret-at-all")
                )
                if stranger.status_code != 401:
                    failures.append(f"{where}: an unknown token got {stranger.status_code}")
                for role, member in staff.items():
                    r = client.request(method, url, headers=member.headers, follow_redirects=False)
                    if role in guard.roles and r.status_code in (401, 403):
                        failures.append(f"{where}: {role} (allowed) got {r.status_code}")
                    if role not in guard.roles and r.status_code != 403:
                        failures.append(f"{where}: {role} (not allowed) got {r.status_code}")
    for key in PUBLIC_ROUTES:
        if key not in seen:
            failures.append(f"{key[0]} {key[1]} is on the public list but no longer exists")
    return failures


@pytest.fixture
def staff(lisbon_store) -> dict[Role, Staff]:
    return make_staff(lisbon_store)


def test_every_route_is_guarded_or_public(app, staff):
    assert access_failures(app, staff) == []


def test_an_unguarded_route_is_caught(settings, lisbon_store, staff):
    app = create_app(settings, store=lisbon_store)

    @app.get("/api/oops")
    def forgotten() -> dict[str, str]:
        return {"contact": "someone@example.org"}

    failures = access_failures(app, staff)
    assert failures == ["GET /api/oops: declares no role and is not on the public list"]


def test_a_guard_with_the_wrong_roles_is_caught(settings, lisbon_store, staff):
    from fastapi import Depends

    from web.auth import STAFF

    app = create_app(settings, store=lisbon_store)

    # The walk calls every guarded route as each role: a guard that does not do what it
    # declares (here it refuses everyone, with the wrong status too) is caught.
    class Broken(RoleGuard):
        async def __call__(self, request: Request) -> None:
            raise accounts.NotAllowed("nobody")

    @app.get("/api/broken", dependencies=[Depends(Broken({Role.FACILITATOR}))])
    def broken() -> dict[str, str]:
        return {}

    @app.get("/api/fine", dependencies=[Depends(STAFF)])
    def fine() -> dict[str, str]:
        return {}

    failures = access_failures(app, staff)
    assert "GET /api/broken: anonymous got 403" in failures
    assert "GET /api/broken: facilitator (allowed) got 403" in failures
    assert not [f for f in failures if "/api/fine" in f]


# ---------------------------------------------------------------------------
# Signing in, sessions and tokens
# ---------------------------------------------------------------------------


def test_sign_in_sets_an_httponly_samesite_session_cookie(client, staff):
    r = sign_in(client, staff[Role.FACILITATOR].name, next_url="/moderation")
    assert r.status_code == 303 and r.headers["location"] == "/moderation"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1
    assert client.get("/moderation").status_code == 200


def test_session_cookie_is_secure_over_https(app, staff):
    with TestClient(app, base_url="https://127.0.0.1") as client:
        r = sign_in(client, staff[Role.FACILITATOR].name)
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
        assert "Secure" in cookie


def test_wrong_password_and_unknown_name_get_the_same_answer(client, staff):
    wrong = sign_in(client, staff[Role.FACILITATOR].name, "not the password at all")
    unknown = sign_in(client, "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "The name or the password is wrong" in wrong.text
    assert "The name or the password is wrong" in unknown.text
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_sign_in_without_the_form_token_is_refused(client, staff):
    r = client.post(
        "/login",
        data={"name": staff[Role.ADMIN].name, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 400 and SESSION_COOKIE not in r.headers.get("set-cookie", "")


def test_next_after_sign_in_stays_on_this_site(client, staff):
    r = sign_in(client, staff[Role.FACILITATOR].name, next_url="//evil.example/")
    assert r.headers["location"] == "/workshops"


def test_sessions_live_in_the_database_so_any_worker_accepts_them(settings, lisbon_store, staff):
    first = create_app(settings, store=lisbon_store)
    second = create_app(settings, store=lisbon_store)  # another worker, same database
    with TestClient(first, base_url="http://127.0.0.1") as a:
        sign_in(a, staff[Role.FACILITATOR].name)
        cookie = a.cookies.get(SESSION_COOKIE)
    with TestClient(second, base_url="http://127.0.0.1") as b:
        b.cookies.set(SESSION_COOKIE, cookie)
        assert b.get("/api/me").json()["name"] == staff[Role.FACILITATOR].name


def test_sign_out_ends_the_session_everywhere(client, staff, lisbon_store):
    sign_in(client, staff[Role.FACILITATOR].name)
    cookie = client.cookies.get(SESSION_COOKIE)
    csrf = page_csrf(client.get("/workshops").text)
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    client.cookies.set(SESSION_COOKIE, cookie)  # a copy of the old cookie
    assert client.get("/api/me").status_code == 401
    assert client.get("/moderation", follow_redirects=False).status_code == 303


def test_a_cookie_session_must_send_the_csrf_token_with_changes(client, staff):
    sign_in(client, staff[Role.FACILITATOR].name)
    csrf = page_csrf(client.get("/workshops").text)
    body = {"title": "Evening walk"}
    assert client.post("/api/workshops", json=body).status_code == 403
    assert (
        client.post("/api/workshops", json=body, headers={"X-CSRF-Token": "0" * 64}).status_code
        == 403
    )
    ok = client.post("/api/workshops", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    # Bearer tokens need none: browsers never send them by themselves.
    with TestClient(client.app, base_url="http://127.0.0.1") as api:
        r = api.post("/api/workshops", json=body, headers=staff[Role.FACILITATOR].headers)
        assert r.status_code == 201


def test_revoked_token_stops_working_at_once(client, staff, lisbon_store):
    member = staff[Role.FACILITATOR]
    assert client.get("/api/me", headers=member.headers).status_code == 200
    token_id = member.token.removeprefix("hat_").split(".")[0]
    assert client.delete(f"/api/tokens/{token_id}", headers=member.headers).status_code == 204
    r = client.get("/api/me", headers=member.headers)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_only_admins_revoke_other_peoples_tokens(client, staff):
    planner_id = staff[Role.PLANNER].token.removeprefix("hat_").split(".")[0]
    facilitator = staff[Role.FACILITATOR].headers
    assert client.delete(f"/api/tokens/{planner_id}", headers=facilitator).status_code == 404
    assert client.get("/api/me", headers=staff[Role.PLANNER].headers).status_code == 200
    admin = staff[Role.ADMIN].headers
    assert client.delete(f"/api/tokens/{planner_id}", headers=admin).status_code == 204
    assert client.get("/api/me", headers=staff[Role.PLANNER].headers).status_code == 401


def test_expired_session_is_refused(lisbon_store, staff):
    account = lisbon_store.account_by_name(staff[Role.FACILITATOR].name)
    value, _ = accounts.start_session(lisbon_store, account, timedelta(seconds=1))
    accounts.authenticate(lisbon_store, value, accounts.SESSION)
    later = utcnow() + timedelta(seconds=2)
    with pytest.raises(accounts.NotSignedIn):
        accounts.authenticate(lisbon_store, value, accounts.SESSION, at=later)
    with pytest.raises(accounts.NotSignedIn):  # a session is not an API token
        accounts.authenticate(lisbon_store, value, accounts.TOKEN)


def test_disabled_account_is_refused(client, staff, lisbon_store):
    account = lisbon_store.account_by_name(staff[Role.PLANNER].name)
    account.disabled_at = utcnow()
    lisbon_store.update_account(account)
    assert client.get("/api/me", headers=staff[Role.PLANNER].headers).status_code == 401


def test_tokens_and_passwords_are_stored_only_as_argon2_hashes(settings, tmp_path: Path):
    from geodata.store import open_store

    db = tmp_path / "hashes.db"
    store = open_store(f"sqlite:///{db}")
    account, token = accounts.create_account(store, "hash-check", Role.ADMIN, password=PASSWORD)
    session, _ = accounts.start_session(store, account, timedelta(hours=1))
    store.close()
    with sqlite3.connect(db) as conn:
        hashes = [r[0] for r in conn.execute("SELECT secret_hash FROM credentials")]
        password_hash = conn.execute("SELECT password_hash FROM accounts").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes)
    assert password_hash.startswith("$argon2id$")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("hashes.db*"))
    for secret in (token.split(".")[1], session.split(".")[1], PASSWORD):
        assert secret.encode() not in raw


def test_create_user_command_prints_a_working_token(settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from web.cli import app as cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    result = runner.invoke(cli, ["create-user", "lena", "--role", "planner", "--database-url", url])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("hat_")
    again = runner.invoke(cli, ["create-user", "LENA", "--role", "planner", "--database-url", url])
    assert again.exit_code == 1 and "already an account" in again.output
    bad = runner.invoke(cli, ["create-user", "max", "--role", "chef", "--database-url", url])
    assert bad.exit_code == 1 and "not a role" in bad.output
    from geodata.store import open_store

    store = open_store(url)
    account, _ = accounts.authenticate(store, token, accounts.TOKEN)
    assert (account.name, account.role) == ("lena", Role.PLANNER)
    revoked = runner.invoke(cli, ["revoke-token", token, "--database-url", url])
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(accounts.NotSignedIn):
        accounts.authenticate(store, token, accounts.TOKEN)
    store.close()


def test_wrong_role_sees_a_readable_page_not_a_redirect(client, staff):
    sign_in(client, staff[Role.PLANNER].name)
    r = client.get("/moderation", follow_redirects=False)
    assert r.status_code == 403
    assert "This page needs a facilitator account." in r.text and "<html" in r.text
    assert "test-planner" in r.text  # who is signed in, in the header


def test_login_is_rate_limited(client, staff, monkeypatch):
    monkeypatch.setattr("web.routes.accounts.LOGIN_ATTEMPTS", 3)  # 20 in service
    for _ in range(3):
        sign_in(client, "someone", "wrong password!!")
    r = sign_in(client, staff[Role.ADMIN].name)
    assert r.status_code == 429 and "too many sign-in attempts" in r.text.lower()
