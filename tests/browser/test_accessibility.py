"""Every page a browser reaches, in English and in Arabic (right to left), checked by
axe-core in Debian's Chromium: no violation of serious or critical impact. axe-core comes
inside the ``axe-playwright-python`` package, so nothing is fetched to run it."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from geodata import walk_lifecycle
from geodata.account_records import Role
from geodata.audit import Actor
from geodata.models import Status, Workshop, utcnow
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from tests.geodata.test_audio_files import FIXTURES
from tests.kit_helpers import venue_change
from tests.web.staff_helpers import PASSWORD, make_staff
from tests.web.test_walks_api import body as walks_api_body

pytestmark = pytest.mark.browser
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")

BLOCKING = {"serious", "critical"}
READY = "html[data-atlas-ready]"
MAP_PAGES = {"/maps/city", "/maps/neighbourhoods/6", "/workshops/AXE1/live"}
WALK_READY = ".walk[data-ready]"  # a walk's story map, drawn with its list of stops


def blocking_violations(page) -> list[dict]:
    """axe's violations of serious or critical impact on the page as it is now."""
    results = axe_sync.Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def readable(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:6]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines.append(f"       {node.get('failureSummary', '').replace(chr(10), ' ')[:300]}")
    return "\n".join(lines)


def assert_accessible(page, where: str) -> None:
    found = blocking_violations(page)
    assert not found, f"{where}:\n{readable(found)}"


@pytest.fixture
def site(live_server, lisbon_store: PlaceStore):
    """The demo, a workshop, one place sent with its edit link, and staff accounts."""
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop("AXE1", "Memórias de Alfama", now - timedelta(hours=1), now + timedelta(hours=3),
                 neighbourhood_id=6)
    )  # fmt: skip
    r = httpx.post(
        live_server.url + "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1335, 38.7115]},
            "properties": {
                "title": "Fado on the steps",
                "narratives": [{"text": "Every June the whole street sings.", "language": "pt"}],
                "category": "tradition",
                "consent": {"publish": True, "open_data": True},
                "workshop": "AXE1",
            },
        },
    )
    assert r.status_code == 201, r.text
    sent = r.json()
    published = next(iter(lisbon_store.list(limit=1)))
    assert published.status == Status.PUBLISHED
    walk = httpx.post(
        live_server.url + "/api/walks",
        json={
            "titles": [{"text": "Fado walk", "language": "pt"}],
            "introductions": [{"text": "Where the street sings.", "language": "pt"}],
            "stops": [
                {"place_id": published.id, "chapters": [{"text": "Start here.", "language": "pt"}]}
            ],
            "consent": {"publish": True},
        },
    )
    assert walk.status_code == 201, walk.text
    venue_change(lisbon_store, published.id)
    voiced = voiced_walk(live_server.url, lisbon_store)
    return {
        "voiced_walk": f"/walks/{voiced['id']}",
        "walk_voices": f"/walks/{voiced['id']}/voices?token={voiced['edit_token']}",
        "walk": walk.json()["id"],
        "walk_private": walk.json()["edit_url"].removeprefix(live_server.url),
        "demo_walk": lisbon_store.walks("published", limit=1)[0].id,
        "base": live_server.url,
        "edit": f"/contribute/edit/{sent['id']}?token={sent['edit_token']}",
        "pending": sent["id"],
        "place": published.id,
        "staff": make_staff(lisbon_store),
    }


def voiced_walk(base: str, store: PlaceStore) -> dict:
    """A published walk of three stops, its second with a recording and its transcript."""
    stops = [p.id for p in store.list(public_filter(PlaceFilter(), "map"), limit=3)]
    r = httpx.post(base + "/api/walks", json=walks_api_body(stops))
    assert r.status_code == 201, r.text
    walk = r.json()
    sent = httpx.post(
        f"{base}/api/walks/{walk['id']}/stops/2/audio",
        files={"file": ("v.webm", (FIXTURES / "tone.webm").read_bytes())},
        data={"title": "A avó", "transcript": "Aqui cantava-se.", "transcript_language": "pt"},
        headers={"X-Edit-Token": walk["edit_token"]},
    )
    assert sent.status_code == 201, sent.text
    walk_lifecycle.publish(store, walk["id"], Actor("axe facilitator"))
    return walk


def choose_language(page, base: str, language: str) -> None:
    """As the language picker does: the ``lang`` cookie, for every page after."""
    page.context.add_cookies([{"name": "lang", "value": language, "url": base}])


def visit(page, url: str, path: str) -> None:
    page.goto(url)
    if path.split("?")[0] in MAP_PAGES:
        page.wait_for_selector(READY, state="attached", timeout=10_000)
    elif page.locator(".walk").count():
        page.wait_for_selector(WALK_READY, state="attached", timeout=10_000)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_public_pages_have_no_serious_accessibility_violation(page, site, language):
    paths = [
        "/",
        "/maps/city",
        "/maps/neighbourhoods/6",
        f"/places/{site['place']}",
        "/contribute",
        "/contribute?workshop=AXE1",
        site["edit"],
        "/workshops/AXE1/live",
        "/ogc?f=html",
        "/ogc/conformance?f=html",
        "/ogc/api?f=html",
        "/ogc/collections/places/queryables?f=html",
        "/ogc/collections/places/schema?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/places?f=html",
        "/ogc/collections/places/items?f=html&limit=5",
        f"/ogc/collections/places/items/{site['place']}?f=html",
        "/walks",
        f"/walks/{site['demo_walk']}",
        f"/walks/{site['demo_walk']}/print",
        "/walks/new",
        site["walk_private"],
        site["voiced_walk"],
        site["walk_voices"],
        "/no-such-page",
        f"/places/{site['pending']}",
        "/login",
    ]
    choose_language(page, site["base"], language)
    failures = []
    for path in paths:
        visit(page, site["base"] + path, path)
        found = blocking_violations(page)
        if found:
            failures.append(f"{path} [{language}]:\n{readable(found)}")
    assert not failures, "\n\n".join(failures)


def sign_in(page, base: str, name: str) -> None:
    page.goto(base + "/login?next=/moderation")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.locator("form.stack button[type=submit]").click()  # not the language picker's
    page.wait_for_url(base + "/moderation")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_staff_pages_have_no_serious_accessibility_violation(page, site, language):
    base = site["base"]
    choose_language(page, base, language)
    sign_in(page, base, site["staff"][Role.ADMIN].name)
    paths = [
        "/moderation",
        f"/moderation/places/{site['pending']}",
        "/moderation/walks",
        f"/moderation/walks/{site['walk']}",
        "/moderation/conflicts",
        "/workshops",
        "/workshops/AXE1",
        "/workshops/AXE1/print",
        "/admin",
        "/stats",
    ]
    failures = []
    for path in paths:
        visit(page, f"{base}{path}", path)
        found = blocking_violations(page)
        if found:
            failures.append(f"{path} [{language}]:\n{readable(found)}")
    assert not failures, "\n\n".join(failures)
