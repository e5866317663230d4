"""A facilitator's workshop in Debian's Chromium, with nothing but the service reachable:
sign in, create a workshop, see its join code and QR code, publish a pending place from
the queue, and close the workshop."""

from __future__ import annotations

import httpx
import pytest

from geodata.account_records import Role
from geodata.models import Status
from geodata.store.base import PlaceStore
from tests.browser.conftest import on_every_backend
from tests.web.staff_helpers import PASSWORD, make_staff

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(page, live_server, lisbon_store):
    """The facilitator's browser tab, with the console watched for errors."""
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.base = live_server.url  # type: ignore[attr-defined]
    page.staff = make_staff(lisbon_store)  # type: ignore[attr-defined]
    return page


def sign_in(page, name: str) -> None:
    page.goto(page.base + "/workshops")
    assert "/login?next=" in page.url  # signed out: sent to sign in first
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(page.base + "/workshops")


@on_every_backend
def test_run_a_workshop_from_the_browser(desk, lisbon_store: PlaceStore):
    sign_in(desk, desk.staff[Role.FACILITATOR].name)
    cookie = next(c for c in desk.context.cookies() if c["name"] == "heritage_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    # Create a workshop.
    desk.fill("#w-title", "Alfama memories")
    desk.select_option("#w-hood", label="Santa Maria Maior")
    desk.fill("#w-langs", "pt en")
    desk.click("button:has-text('Open the workshop')")
    desk.wait_for_selector("[data-testid=join-code]")
    code = desk.url.rsplit("/", 1)[-1]
    assert len(code) == 6
    assert desk.inner_text("[data-testid=join-code]").replace(" ", "") == code

    # The QR code is drawn, large enough to scan from across a room.
    qr = desk.locator("[data-testid=qr-code] svg")
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 150 and box["height"] >= 150
    link = desk.get_attribute("[data-testid=contribute-link]", "href")
    assert link == f"{desk.base}/contribute?workshop={code}"
    assert desk.get_attribute("[data-testid=live-link]", "href") == f"/workshops/{code}/live"

    # A resident sends a place with the code; it waits in the queue.
    r = httpx.post(
        desk.base + "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1335, 38.7115]},
            "properties": {
                "title": "Fado on the steps",
                "narratives": [{"text": "Every June the whole street sings.", "language": "pt"}],
                "category": "tradition",
                "consent": {"publish": True, "open_data": True},
                "contributor": {"name": "Dona Lurdes", "contact": "lurdes@example.org"},
                "workshop": code,
            },
        },
    )
    assert r.status_code == 201 and r.json()["status"] == "pending"
    place_id = r.json()["id"]

    desk.click("[data-testid=queue-link]")
    card = desk.locator(f"#place-{place_id}")
    card.wait_for()
    assert "Fado on the steps" in card.inner_text()
    assert "lurdes@example.org" in card.inner_text()  # facilitators see the contact
    card.locator(".minimap[data-ready='1']").wait_for()  # Leaflet, served by us
    card.locator("button:has-text('Publish')").click()
    desk.wait_for_selector(".notice:has-text('Published')")
    assert lisbon_store.get(place_id).status == Status.PUBLISHED
    assert desk.locator(f"#place-{place_id}").count() == 0  # left the pending queue

    # Back on the dashboard, the counts moved; then close the workshop.
    desk.goto(f"{desk.base}/workshops/{code}")
    assert "1 published" in " ".join(desk.inner_text("[data-testid=counts]").split())
    desk.click("button:has-text('Close the workshop now')")
    desk.wait_for_selector("p.meta:has-text('closed')")
    assert not lisbon_store.get_workshop(code).is_open()

    assert desk.blocked_requests == []  # nothing from a CDN or anywhere else
    assert desk.console_errors == []


def test_reject_with_a_reason_from_the_queue(desk, lisbon_store: PlaceStore):
    r = httpx.post(
        desk.base + "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.14, 38.71]},
            "properties": {
                "title": "My neighbour's window",
                "narratives": [{"text": "She shouts at everyone.", "language": "en"}],
                "category": "memory",
                "consent": {"publish": True},
            },
        },
    )
    place_id, token = r.json()["id"], r.json()["edit_token"]
    sign_in(desk, desk.staff[Role.FACILITATOR].name)
    desk.goto(desk.base + "/moderation")
    card = desk.locator(f"#place-{place_id}")
    card.locator("summary:has-text('Reject')").click()
    card.locator("textarea").fill("It is about a private person; tell us about the street instead.")
    card.locator("button:has-text('Reject it')").click()
    desk.wait_for_selector(".notice:has-text('Took')")
    assert lisbon_store.get(place_id).status == Status.REJECTED
    # The resident opens their edit link and reads why.
    desk.goto(f"{desk.base}/contribute/edit/{place_id}?token={token}")
    assert "tell us about the street instead" in desk.inner_text("#rejection-reason")
    assert desk.console_errors == []
