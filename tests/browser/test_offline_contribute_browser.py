"""The contribution form when the connection drops (a venue's Wi-Fi): the place is kept in
the phone's storage, shown as waiting to send, and sent by itself when the connection
returns, with its Idempotency-Key, so it is stored once however often it is tried."""

from __future__ import annotations

import re

import pytest

from geodata.store.base import PlaceFilter, PlaceStore
from tests.browser.conftest import on_every_backend
from tests.browser.test_contribute_browser import PHONE, fill_story, tap_map
from tests.kit_helpers import jpeg

pytestmark = pytest.mark.browser
KEPT = (
    "() => new Promise(r => { const q = indexedDB.open('heritage-atlas-outbox', 1); "
    "q.onsuccess = () => { const t = q.result.transaction('submissions').objectStore("
    "'submissions').count(); t.onsuccess = () => r(t.result); }; })"
)


@pytest.fixture
def phone(page, live_server):
    page.set_viewport_size(PHONE)
    page.base = live_server.url  # type: ignore[attr-defined]
    page.keys = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]

    def seen(request) -> None:
        if request.method == "POST" and request.url.endswith("/api/places"):
            page.keys.append(request.headers.get("idempotency-key"))  # type: ignore[attr-defined]

    page.on("request", seen)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def _titled(store: PlaceStore, title: str) -> list:
    return [p for p in store.list(PlaceFilter(status="pending")) if p.title == title]


def test_a_place_sent_offline_waits_visibly_and_goes_when_the_connection_returns(
    phone, lisbon_store: PlaceStore
):
    phone.goto(phone.base + "/contribute")
    phone.wait_for_selector("#map.leaflet-container")
    tap_map(phone)
    fill_story(phone, "Offline bakery")
    phone.set_input_files(
        "#field-photo", files=[{"name": "b.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    key = phone.input_value("input[name=submission_id]")
    phone.context.set_offline(True)
    phone.click("#submit-place")
    phone.wait_for_selector("#waiting:not([hidden])")
    waiting = phone.text_content("#waiting")
    assert "Waiting to send" in waiting and "Offline bakery" in waiting
    assert "no connection" in phone.text_content("#waiting-status")
    assert phone.locator("#contribute-form").is_hidden()
    assert phone.evaluate(KEPT) == 1
    assert _titled(lisbon_store, "Offline bakery") == []

    phone.context.set_offline(False)  # the browser says "online": the kept place goes
    phone.wait_for_selector("#done:not([hidden])", timeout=30_000)
    link = phone.input_value("#edit-link")
    assert re.search(r"/contribute/edit/pl_[\w-]+\?token=[\w-]{40,}$", link)
    assert phone.locator("#waiting").is_hidden()
    stored = _titled(lisbon_store, "Offline bakery")
    assert len(stored) == 1 and len(lisbon_store.media(stored[0].id)) == 1
    assert phone.evaluate(KEPT) == 0
    assert phone.keys and set(phone.keys) == {key}  # every try carried the form's key
    assert phone.errors == [] and phone.blocked_requests == []


@on_every_backend
def test_a_kept_place_survives_a_reload_and_a_lost_answer_and_is_stored_once(
    phone, lisbon_store: PlaceStore
):
    lost: list[str] = []

    def answer_lost(route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        route.fetch()  # the place reaches the service and is stored...
        lost.append(route.request.url)
        route.abort("connectionreset")  # ...but its answer never reaches the phone

    phone.route("**/api/places", answer_lost)
    phone.goto(phone.base + "/contribute")
    phone.wait_for_selector("#map.leaflet-container")
    tap_map(phone)
    fill_story(phone, "Lost answer tavern")
    phone.click("#submit-place")
    phone.wait_for_selector("#waiting:not([hidden])")
    assert len(lost) == 1 and len(_titled(lisbon_store, "Lost answer tavern")) == 1

    phone.goto(phone.base + "/contribute")  # a reload: the kept place is still waiting
    phone.wait_for_selector("#waiting:not([hidden])")
    assert "Lost answer tavern" in phone.text_content("#waiting-list")
    phone.unroute("**/api/places", answer_lost)
    phone.click("#retry-now")
    phone.wait_for_selector("#done:not([hidden])", timeout=30_000)
    assert "Lost answer tavern" in phone.text_content("#done .sent-title")
    assert re.search(r"/contribute/edit/pl_", phone.input_value("#edit-link"))
    # sent three times (the lost answer, the reload, the button); stored once
    assert len(phone.keys) >= 2 and len(set(phone.keys)) == 1
    assert len(_titled(lisbon_store, "Lost answer tavern")) == 1
    assert phone.evaluate(KEPT) == 0
