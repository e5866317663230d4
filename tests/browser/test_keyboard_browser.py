"""Using the maps and the contribution form with a keyboard only, in Debian's Chromium:
the list of places in view beside every map (Tab to an entry, Enter opens its popup,
Escape brings focus back, the page link opens the place), the list as served without
JavaScript, and setting a place's location by typed coordinates or by a search."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from geodata.models import Status, Workshop, utcnow
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from tests.browser.test_contribute_browser import fill_story
from tests.mapping.conftest import make_place

pytestmark = pytest.mark.browser
READY = "html[data-atlas-ready]"
ENTRY = "#atlas-places-list [data-place-id]"


def focused(page, attribute: str = "data-place-id") -> str | None:
    return page.evaluate(f"document.activeElement.getAttribute({attribute!r})")


def open_map(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(READY, state="attached", timeout=10_000)


def test_tab_through_the_list_of_places_and_open_one_with_enter(live_server, watched):
    open_map(watched, live_server.url + "/maps/neighbourhoods/6")
    entries = watched.locator(ENTRY)
    count = entries.count()
    assert count > 5
    assert watched.inner_text("#atlas-places-count") == f"{count} places in view"
    assert watched.inner_text("#atlas-places-heading") == "Places in view"

    # The first Tab reaches the skip link; Enter jumps over the map to the list.
    watched.keyboard.press("Tab")
    assert focused(watched, "class") == "atlas-skip"
    watched.keyboard.press("Enter")
    watched.keyboard.press("Tab")
    first = entries.nth(0).get_attribute("data-place-id")
    assert focused(watched) == first
    watched.keyboard.press("Tab")
    second_id = entries.nth(1).get_attribute("data-place-id")
    second_title = entries.nth(1).inner_text()
    assert focused(watched) == second_id

    # Enter opens the place's popup on the map, with the focus in it.
    watched.keyboard.press("Enter")
    popup = watched.locator(".leaflet-popup .atlas-popup")
    popup.locator("h3").wait_for()
    assert popup.locator("h3").inner_text() == second_title
    assert focused(watched, "class") == "atlas-popup"
    assert "/places/" not in watched.url  # the map, not the place's page

    # Escape closes it and puts the focus back on the entry.
    watched.keyboard.press("Escape")
    watched.wait_for_selector(".leaflet-popup", state="detached")
    assert focused(watched) == second_id

    # Again, then Tab to the popup's link to the place's page and follow it.
    watched.keyboard.press("Enter")
    popup.locator(".atlas-popup-more a").wait_for()
    for _ in range(10):
        watched.keyboard.press("Tab")
        if watched.evaluate("document.activeElement.closest('.atlas-popup-more') !== null"):
            break
    else:
        pytest.fail("Tab never reached the link to the place's page")
    watched.keyboard.press("Enter")
    watched.wait_for_url(f"{live_server.url}/places/{second_id}")
    assert watched.locator("h1").inner_text() == second_title
    assert watched.problems == [] and watched.blocked_requests == []


def test_the_list_follows_the_map_and_announces_its_count(live_server, watched, lisbon_store):
    open_map(watched, live_server.url + "/maps/neighbourhoods/6")
    assert watched.get_attribute("#atlas-places-count", "role") == "status"
    label = watched.evaluate("atlas.map.getContainer().getAttribute('aria-label')")
    assert label == "Map of the places"
    place = next(iter(lisbon_store.list(PlaceFilter(neighbourhood_id=6), limit=1)))
    before = watched.locator(ENTRY).count()
    # Zoomed in on one place: only the places around it stay listed, it among them.
    watched.evaluate(
        f"atlas.map.setView([{place.geometry.y}, {place.geometry.x}], 19, {{animate: false}})"
    )
    watched.wait_for_function(
        f"() => document.querySelectorAll({ENTRY!r}).length < {before}", timeout=10_000
    )
    ids = [e.get_attribute("data-place-id") for e in watched.locator(ENTRY).all()]
    assert place.id in ids
    n = len(ids)
    expected = "1 place in view" if n == 1 else f"{n} places in view"
    assert watched.inner_text("#atlas-places-count") == expected
    bounds = watched.evaluate("atlas.map.getBounds().toBBoxString()").split(",")
    west, south, east, north = map(float, bounds)
    for place_id in ids:
        p = lisbon_store.get(place_id)
        assert west <= p.geometry.x <= east and south <= p.geometry.y <= north
    assert watched.problems == []


def test_the_list_is_served_without_javascript_in_the_readers_language(
    browser, live_server, lisbon_store: PlaceStore
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/maps/neighbourhoods/6?lang=ar")
        drawn = public_filter(
            PlaceFilter(neighbourhood_id=6, sensitivity=["public", "generalised"]), "map"
        )
        n = lisbon_store.count(drawn)
        links = page.locator(ENTRY)
        assert links.count() == n
        hrefs = {links.nth(i).get_attribute("href") for i in range(n)}
        assert hrefs == {f"/places/{p.id}" for p in lisbon_store.list(drawn)}
        assert page.inner_text("#atlas-places-heading") == "الأماكن الظاهرة على الخريطة"
        # Arabic has six plural forms; 11 to 99 take this one.
        assert 11 <= n % 100 <= 99
        assert page.inner_text("#atlas-places-count") == f"{n} مكانًا ظاهرًا"
        page.locator(".atlas-skip").wait_for(state="attached")
    finally:
        context.close()


def test_the_projection_lists_places_as_they_are_published(live_server, watched, lisbon_store):
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop("KEY1", "Alfama", now - timedelta(hours=1), now + timedelta(hours=2),
                 neighbourhood_id=6)
    )  # fmt: skip
    open_map(watched, live_server.url + "/workshops/KEY1/live")
    assert watched.inner_text("#atlas-places-count") == "0 places in view"
    place = lisbon_store.add(make_place(title="Tasca do Chico", workshop="KEY1"))
    watched.wait_for_function(
        "() => document.getElementById('atlas-places-count').textContent === '1 place in view'",
        timeout=15_000,
    )
    assert watched.locator(ENTRY).get_attribute("data-place-id") == place.id
    assert watched.problems == []


# -- the contribution form ---------------------------------------------------------------


def send_with_the_keyboard(page, store: PlaceStore):
    page.focus("#submit-place")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done:not([hidden])")
    link = page.input_value("#edit-link")
    return store.get(re.search(r"/edit/(pl_[\w-]+)", link).group(1))


def test_set_the_location_by_typing_coordinates(live_server, watched, lisbon_store):
    watched.goto(live_server.url + "/contribute")
    watched.wait_for_selector("#map.leaflet-container")
    watched.focus("#field-latitude")
    watched.keyboard.type("38.71153")
    watched.keyboard.press("Tab")
    watched.keyboard.type("-9.13352")
    watched.keyboard.press("Tab")  # leaving the field moves the marker
    status = watched.locator("#draw-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.inner_text() == "Point placed at latitude 38.71153, longitude -9.13352."
    centre = watched.evaluate(
        "(() => { const c = document.querySelector('#map');"
        " return c.querySelectorAll('.leaflet-interactive').length; })()"
    )
    assert centre == 1  # the marker is drawn
    fill_story(watched, "Football in the square")
    place = send_with_the_keyboard(watched, lisbon_store)
    assert (place.geometry.x, place.geometry.y) == (-9.13352, 38.71153)
    assert place.status == Status.PENDING
    assert watched.problems == [] and watched.blocked_requests == []


def test_set_the_location_by_searching_a_place_or_a_parish(live_server, watched, lisbon_store):
    target = next(iter(lisbon_store.list(PlaceFilter(neighbourhood_id=6), limit=1)))
    watched.goto(live_server.url + "/contribute?lang=pt")
    watched.wait_for_selector("#map.leaflet-container")

    # A parish: the point goes to the middle of it, and the choice is announced.
    watched.focus("#location-search")
    watched.keyboard.type("santa maria")
    watched.keyboard.press("Enter")  # searches; the form is not sent
    hit = watched.locator("#location-results button", has_text="Bairro").filter(
        has_text="Santa Maria Maior"
    )
    hit.wait_for()
    assert watched.locator("#done").is_hidden()
    hit.focus()
    watched.keyboard.press("Enter")
    minx, miny, maxx, maxy = lisbon_store.neighbourhood(6).geometry.bounds
    lat = float(watched.input_value("#field-latitude"))
    lon = float(watched.input_value("#field-longitude"))
    assert abs(lat - (miny + maxy) / 2) < 1e-5 and abs(lon - (minx + maxx) / 2) < 1e-5
    assert watched.inner_text("#draw-status").startswith("Ponto colocado em Santa Maria Maior")

    # A place, by words of its title: the point goes where it is.
    watched.fill("#location-search", "")
    watched.focus("#location-search")
    watched.keyboard.type(target.title[:20])
    watched.keyboard.press("Enter")
    hit = watched.locator("#location-results button", has_text=target.title)
    hit.first.wait_for()
    hit.first.focus()
    watched.keyboard.press("Enter")
    assert watched.inner_text("#draw-status").startswith(f"Ponto colocado em {target.title}")
    fill_story(watched, "Next to the castle")
    place = send_with_the_keyboard(watched, lisbon_store)
    assert (place.geometry.x, place.geometry.y) == (target.geometry.x, target.geometry.y)
    assert watched.problems == [] and watched.blocked_requests == []


def test_the_map_counts_in_arabic_with_the_catalogs_plural_rule(live_server, watched):
    open_map(watched, live_server.url + "/maps/neighbourhoods/6?lang=ar")
    n = watched.locator(ENTRY).count()
    assert 11 <= n % 100 <= 99
    assert watched.inner_text("#atlas-places-count") == f"{n} مكانًا ظاهرًا"
    said = watched.evaluate("[0, 1, 2, 105, 101].map(n => atlas.plural('in_view', n))")
    assert said == ["لا أماكن ظاهرة", "مكان واحد ظاهر", "مكانان ظاهران", "105 أماكن ظاهرة",
                    "101 مكان ظاهر"]  # fmt: skip
    assert watched.inner_text(".atlas-skip") == "تخطَّ الخريطة إلى قائمة الأماكن"
    assert watched.problems == []


def test_a_search_while_drawing_a_route_moves_the_map_and_keeps_the_corners(
    live_server, watched, lisbon_store
):
    target = next(iter(lisbon_store.list(PlaceFilter(neighbourhood_id=6), limit=1)))
    watched.goto(live_server.url + "/contribute")
    watched.wait_for_selector("#map.leaflet-container")
    watched.focus(".draw-tools [data-mode=route]")
    watched.keyboard.press("Enter")
    watched.focus("#place-centre")
    watched.keyboard.press("Enter")  # a first corner, where the map was
    watched.focus("#location-search")
    watched.keyboard.type(target.title[:20])
    watched.keyboard.press("Enter")
    hit = watched.locator("#location-results button", has_text=target.title).first
    hit.wait_for()
    hit.focus()
    watched.keyboard.press("Enter")
    assert watched.inner_text("#draw-status").startswith(f"The map shows {target.title}")
    watched.focus("#place-centre")
    watched.keyboard.press("Enter")  # the second corner, at the place
    assert watched.inner_text("#draw-status").startswith("Route: 2 points")
    lon, lat = json.loads(watched.input_value("#field-geometry"))["coordinates"][-1]
    assert abs(lon - target.geometry.x) < 1e-6 and abs(lat - target.geometry.y) < 1e-6
    assert watched.problems == []
