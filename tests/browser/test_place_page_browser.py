"""A place's own page in a real browser (Debian's Chromium) served on 127.0.0.1 with every
other host blocked: it loads with its small map and photo and no console error, reads
right to left in Arabic, works without JavaScript, and map popups lead to it."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image
from shapely.geometry import LineString

from geodata.models import Narrative, Provenance, Sensitivity
from tests.mapping.conftest import make_place

pytestmark = pytest.mark.browser
MAP_READY = "#place-map[data-ready]"




def assert_clean(page) -> None:
    assert page.blocked_requests == []
    assert page.problems == []


@pytest.fixture
def photographed(live_server) -> dict:
    """A published place sent through the API with three versions of its story and a photo."""
    sent = httpx.post(
        live_server.url + "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1321, 38.7102]},
            "properties": {
                "title": "Chafariz d'El-Rei",
                "narratives": [
                    {"text": "Aqui a água corria para todo o bairro.", "language": "pt"},
                    {
                        "text": "Here water ran for the whole neighbourhood.",
                        "language": "en",
                        "provenance": "community_translation",
                    },
                ],
                "category": "memory",
                "consent": {"publish": True, "open_data": True},
                "contributor": {"name": "Private Person", "display_name": "Tia Zé"},
            },
        },
    )
    assert sent.status_code == 201, sent.text
    place = sent.json()
    jpeg = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 120, 200)).save(jpeg, "JPEG")
    photo = httpx.post(
        live_server.url + f"/api/places/{place['id']}/media",
        files={"file": ("p.jpg", jpeg.getvalue(), "image/jpeg")},
        data={"caption": "The fountain in 1962"},
        headers={"X-Edit-Token": place["edit_token"]},
    )
    assert photo.status_code == 201, photo.text
    return place


@pytest.fixture
def published(lisbon_store, photographed) -> str:
    from geodata import moderation
    from geodata.audit import Actor

    moderation.publish(lisbon_store, photographed["id"], Actor("mod (facilitator)", "ac_x"))
    return photographed["id"]


def test_the_page_loads_its_map_and_photo_with_nothing_leaving_the_machine(
    live_server, watched, published
):
    watched.goto(live_server.url + f"/places/{published}?lang=en")
    watched.wait_for_selector(MAP_READY, state="attached", timeout=10_000)
    assert watched.locator("h1").inner_text() == "Chafariz d'El-Rei"
    # The story in the reader's language first, the original one click away.
    assert watched.locator(".story-text").first.inner_text().startswith("Here water ran")
    watched.locator(".story-languages a").first.click()
    assert watched.evaluate("location.hash") == "#story-pt"
    # The map drew the place (one marker), the photo loaded with its caption as alt text.
    assert watched.locator("#place-map.leaflet-container").count() == 1
    assert watched.locator("#place-map path.leaflet-interactive").count() == 1
    photo = watched.locator(".photos img")
    assert photo.get_attribute("alt") == "The fountain in 1962"
    photo.scroll_into_view_if_needed()
    watched.wait_for_function("document.querySelector('.photos img').naturalWidth > 0")
    assert_clean(watched)


def test_the_page_reads_right_to_left_in_arabic(live_server, watched, published):
    watched.goto(live_server.url + f"/places/{published}?lang=ar")
    watched.wait_for_selector(MAP_READY, state="attached", timeout=10_000)
    assert watched.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert watched.locator("h2").first.inner_text() == "حكايته"
    assert_clean(watched)


def test_generalised_and_hidden_places_are_drawn_as_the_public_may_see_them(
    live_server, watched, lisbon_store
):
    rough = lisbon_store.add(make_place(sensitivity=Sensitivity.GENERALISED, neighbourhood_id=6))
    route = LineString([(-9.1450, 38.7150), (-9.1440, 38.7160)])
    secret = lisbon_store.add(make_place(route, sensitivity=Sensitivity.HIDDEN, neighbourhood_id=6))
    watched.goto(live_server.url + f"/places/{rough.id}")
    watched.wait_for_selector(MAP_READY, state="attached", timeout=10_000)
    # One circle covering the grid cell, no exact dot.
    assert watched.locator("#place-map path.leaflet-interactive").count() == 1
    radius = watched.evaluate(
        "() => { const b = document.querySelector('#place-map path').getBBox();"
        " return Math.round(b.width); }"
    )
    assert radius > 40  # metres drawn as a wide circle, not a 9-pixel marker
    watched.goto(live_server.url + f"/places/{secret.id}")
    assert watched.locator("#place-map").count() == 0
    assert "not shown" in watched.locator("main").inner_text()
    assert watched.evaluate("typeof L") == "undefined"  # no map script at all
    assert_clean(watched)


def test_the_page_works_without_javascript(browser, live_server, lisbon_store):
    place = lisbon_store.add(
        make_place(
            narratives=[
                Narrative("Uma história contada no bairro.", "pt"),
                Narrative(
                    "A story told in the neighbourhood.", "en", Provenance.MACHINE_TRANSLATION
                ),
            ],
            neighbourhood_id=6,
        )
    )
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    left: list[str] = []
    page.route(
        "**/*",
        lambda route, request: (
            route.continue_()
            if request.url.startswith(live_server.url)
            else (left.append(request.url), route.abort())
        ),
    )
    try:
        page.goto(live_server.url + f"/places/{place.id}?lang=pt")
        text = page.locator("main").inner_text()
        assert "Uma história contada no bairro." in text and "Tradução automática" in text
        assert not page.locator("#place-map").is_visible()  # the map needs JavaScript
        page.select_option("#lang-picker", "fr")
        page.click(".language button")
        assert "Traduction automatique" in page.locator("main").inner_text()
        assert left == []
    finally:
        context.close()


def test_a_map_popup_leads_to_the_place_page(live_server, watched, lisbon_store):
    place = lisbon_store.add(make_place(title="Casa da Mariquinhas", neighbourhood_id=6))
    watched.goto(live_server.url + "/maps/neighbourhoods/6?lang=pt")
    watched.wait_for_selector("html[data-atlas-ready]", state="attached", timeout=10_000)
    watched.evaluate(f"atlas.index.get('{place.id}').layer.fire('click')")
    link = watched.locator(".atlas-popup-more a")
    link.wait_for()
    assert link.inner_text() == "Abrir a página deste lugar"
    assert link.get_attribute("href") == f"/places/{place.id}"
    link.click()
    watched.wait_for_url(f"**/places/{place.id}")
    watched.wait_for_selector(MAP_READY, state="attached", timeout=10_000)
    assert watched.locator("h1").inner_text() == "Casa da Mariquinhas"
    assert_clean(watched)


def test_without_javascript_a_resident_adds_a_memory_from_the_place_page(
    browser, live_server, lisbon_store
):
    place = lisbon_store.add(make_place(title="Miradouro sem história", narratives=[]))
    context = browser.new_context(java_script_enabled=False)
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
        page.goto(f"{live_server.url}/places/{place.id}?lang=pt")
        page.click("text=Conte-a")  # "Do you know this place's story? Tell it"
        page.fill("#field-text", "Aqui vinha namorar nos anos sessenta.")
        page.fill("#field-language", "pt")
        page.fill("#field-author", "Dona Lurdes")
        page.click("#send-addition")
        assert page.locator("#error-consent").is_visible()  # next to its field, in Portuguese
        assert "Marque a caixa" in page.inner_text("#error-consent")
        assert page.input_value("#field-text") == "Aqui vinha namorar nos anos sessenta."
        page.check("input[name=consent]")
        page.click("#send-addition")
        assert "Um facilitador vai lê-lo" in page.inner_text("[data-testid=added]")
        (added,) = lisbon_store.narrative_additions(place_id=place.id)
        assert (added.author, added.status) == ("Dona Lurdes", "pending")
        assert blocked == []
    finally:
        context.close()
