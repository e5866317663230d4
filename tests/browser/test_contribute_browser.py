"""The contribution form in Debian's Chromium at a phone's size, with nothing but the
service reachable: tap the map, submit, see the edit link; Arabic right to left; errors
next to their fields; drawing a route; the form without JavaScript."""

from __future__ import annotations

import re

import pytest

from geodata.store.base import PlaceStore
from tests.browser.conftest import on_every_backend

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(page, live_server):
    page.set_viewport_size(PHONE)
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.base = live_server.url  # type: ignore[attr-defined]
    return page


def tap_map(page, dx: int = 0, dy: int = 0) -> None:
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)


def fill_story(page, title: str = "Tasca do Chico") -> None:
    page.fill("#field-title", title)
    page.fill("#field-narrative", "Fado vadio every Monday night since 1993.")
    page.fill("#field-narrative_language", "en")
    page.select_option("#field-category", "tradition")
    page.check("#field-consent_publish")


@on_every_backend
def test_fill_tap_submit_and_see_the_edit_link(phone, lisbon_store: PlaceStore):
    before = lisbon_store.count()
    phone.goto(phone.base + "/contribute")
    assert phone.evaluate("document.documentElement.classList.contains('js')")
    phone.wait_for_selector("#map.leaflet-container")
    tap_map(phone)
    assert phone.input_value("#field-latitude") and phone.input_value("#field-longitude")
    fill_story(phone)
    phone.click("#submit-place")
    phone.wait_for_selector("#done:not([hidden])")
    link = phone.input_value("#edit-link")
    assert re.search(r"/contribute/edit/pl_[\w-]+\?token=[\w-]{40,}$", link)
    assert phone.locator("#copy-link").is_visible()
    phone.click("#copy-link")
    # The clipboard answers asynchronously.
    phone.wait_for_function("() => document.getElementById('copy-status').textContent === 'Copied'")
    assert lisbon_store.count() == before + 1
    place_id = re.search(r"/edit/(pl_[\w-]+)", link).group(1)
    place = lisbon_store.get(place_id)
    assert place.title == "Tasca do Chico" and place.neighbourhood_id is not None
    assert phone.blocked_requests == [] and phone.console_errors == []
    # The edit link opens the private page, with the map showing the point.
    phone.goto(link)
    assert phone.text_content("#place-status").strip() == "Waiting for a moderator"
    phone.wait_for_selector("#map .leaflet-interactive")


def test_the_form_fits_a_phone_without_sideways_scrolling(phone):
    phone.goto(phone.base + "/contribute")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    assert phone.locator("#submit-place").bounding_box()["width"] > PHONE["width"] * 0.7


def test_the_arabic_interface_is_right_to_left(phone):
    phone.goto(phone.base + "/contribute?lang=ar")
    assert phone.evaluate("document.documentElement.dir") == "rtl"
    assert phone.evaluate("getComputedStyle(document.querySelector('form')).direction") == "rtl"
    assert phone.text_content("#submit-place").strip() == "أرسل مكاني"
    # Labels sit at the right edge in a right-to-left layout.
    label = phone.locator("label[for=field-title]").bounding_box()
    field = phone.locator("#field-title").bounding_box()
    assert label["x"] + label["width"] == pytest.approx(field["x"] + field["width"], abs=4)
    assert phone.blocked_requests == []


def test_an_error_appears_next_to_its_field(phone, lisbon_store: PlaceStore):
    before = lisbon_store.count()
    phone.goto(phone.base + "/contribute")
    phone.wait_for_selector("#map.leaflet-container")
    tap_map(phone)
    fill_story(phone, title="")
    phone.click("#submit-place")
    phone.wait_for_selector("#error-title:not([hidden])")
    assert "title is empty" in phone.text_content("#error-title")
    assert phone.get_attribute("#field-title", "aria-invalid") == "true"
    error = phone.locator("#error-title").bounding_box()
    field = phone.locator("#field-title").bounding_box()
    assert 0 <= field["y"] - (error["y"] + error["height"]) < 40  # right above the field
    assert phone.locator("#error-summary").is_visible()
    assert lisbon_store.count() == before


def test_errors_come_in_the_interface_language(phone):
    phone.goto(phone.base + "/contribute?lang=pt")
    phone.wait_for_selector("#map.leaflet-container")
    fill_story(phone)
    phone.uncheck("#field-consent_publish")
    phone.click("#submit-place")
    phone.wait_for_selector("#error-consent_publish:not([hidden])")
    assert "caixa" in phone.text_content("#error-consent_publish")
    assert "Coloque o lugar no mapa" in phone.text_content("#error-location")


@on_every_backend
def test_drawing_a_route_with_taps(phone, lisbon_store: PlaceStore):
    phone.goto(phone.base + "/contribute")
    phone.wait_for_selector("#map.leaflet-container")
    phone.click("button.mode[data-mode=route]")
    for dx, dy in ((-60, 0), (0, 30), (60, 10)):
        tap_map(phone, dx, dy)
    phone.click("#finish-shape")
    assert "finished" in phone.text_content("#draw-status").lower()
    fill_story(phone, title="Tram 28 ride")
    phone.click("#submit-place")
    phone.wait_for_selector("#done:not([hidden])")
    place_id = re.search(r"/edit/(pl_[\w-]+)", phone.input_value("#edit-link")).group(1)
    geometry = lisbon_store.get(place_id).geometry
    assert geometry.geom_type == "LineString" and len(geometry.coords) == 3


def test_without_javascript_the_latitude_and_longitude_fields_do_the_job(
    browser, live_server, lisbon_store
):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    blocked: list[str] = []

    def guard(route, request) -> None:
        if request.url.startswith(live_server.url):
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/contribute")
        assert not page.locator("#map").is_visible()
        page.fill("#field-latitude", "38.7101")
        page.fill("#field-longitude", "-9.1402")
        fill_story(page, title="Without JavaScript")
        page.click("#submit-place")
        page.wait_for_selector("#edit-link")
        assert "/contribute/edit/pl_" in page.input_value("#edit-link")
        assert any(p.title == "Without JavaScript" for p in lisbon_store.list())
        assert blocked == []
    finally:
        context.close()
