"""The maps in a real browser (Debian's Chromium), served on 127.0.0.1 with every other
host blocked: they draw, they stay offline, hostile text never runs, the projection
fills live without leaking."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from geodata.models import Moderation, Narrative, Status, Workshop, utcnow
from geodata.vocabulary import Vocabulary
from mapping.options import MapOptions
from mapping.standalone import standalone_neighbourhood_html
from tests.browser.conftest import on_every_backend
from tests.mapping.conftest import make_place
from tests.mapping.xss_payloads import PAYLOADS

pytestmark = pytest.mark.browser
READY = "html[data-atlas-ready]"


@pytest.fixture
def workshop(lisbon_store) -> Workshop:
    now = utcnow()
    return lisbon_store.add_workshop(
        Workshop(
            code="ALF1",
            title="Memórias de Alfama",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            neighbourhood_id=6,
        )
    )


def open_map(page, url: str) -> dict:
    page.goto(url)
    page.wait_for_selector(READY, state="attached", timeout=10_000)
    # The background's orientation layer is drawn once, when it has loaded.
    page.wait_for_selector(".leaflet-container[data-orientation]", state="attached")
    return page.evaluate("atlas.stats()")


def assert_clean(page) -> None:
    assert page.blocked_requests == []
    assert page.problems == []
    assert page.evaluate("window.__pwned") is None


@pytest.mark.parametrize("path", ["/maps/city", "/maps/neighbourhoods/6", "/workshops/ALF1/live"])
def test_every_map_page_works_with_no_request_leaving_the_machine(
    live_server, watched, workshop, path
):
    open_map(watched, live_server.url + path)
    watched.wait_for_timeout(300)  # fonts and icons load after the first frame
    assert watched.evaluate("document.fonts.check('16px \"Font Awesome 6 Free\"')")
    assert_clean(watched)


def test_city_map_draws_every_place_the_choropleth_and_its_legend(live_server, watched):
    stats = open_map(watched, live_server.url + "/maps/city")
    assert stats["mode"] == "places" and stats["features"] == 557
    assert watched.locator("canvas.leaflet-zoom-animated").count() == 1
    legend = watched.locator(".atlas-legend").inner_text()
    assert "Places per neighbourhood" in legend and "fewer than 3" in legend
    overlays = watched.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert len(overlays) == 11 and "Museum" in " ".join(overlays)  # 10 categories + areas
    assert_clean(watched)


def test_crowded_views_show_server_clusters_that_zoom_in(app, live_server, watched):
    app.state.settings = app.state.settings.model_copy(update={"map_max_features": 40})
    stats = open_map(watched, live_server.url + "/maps/city")
    assert stats["mode"] == "clusters" and stats["features"] == 0
    bubbles = watched.locator(".atlas-cluster")
    assert bubbles.count() > 3
    zoom = watched.evaluate("atlas.map.getZoom()")
    bubbles.first.click()
    watched.wait_for_function(f"() => atlas.map.getZoom() > {zoom}")
    assert_clean(watched)


def test_switching_a_category_off_reloads_without_it(live_server, watched):
    open_map(watched, live_server.url + "/maps/neighbourhoods/6")
    watched.locator(".leaflet-control-layers").hover()
    watched.locator(".leaflet-control-layers-overlays label", has_text="Museum").click()
    watched.wait_for_function("() => ![...atlas.index.values()].some(k => k.category === 'museum')")
    assert watched.evaluate("atlas.index.size") > 0
    assert_clean(watched)


def test_popup_shows_the_story_licence_and_attribution(live_server, watched, lisbon_store):
    place = lisbon_store.add(
        make_place(
            title="Casa da Mariquinhas",
            licence="CC-BY-4.0",
            attribution="Junta de Freguesia",
            neighbourhood_id=6,
        )
    )
    open_map(watched, live_server.url + "/maps/neighbourhoods/6")
    watched.evaluate(f"atlas.index.get('{place.id}').layer.fire('click')")
    popup = watched.locator(".atlas-popup")
    popup.locator(".atlas-popup-licence").wait_for()
    text = popup.inner_text()
    assert "Casa da Mariquinhas" in text and "Uma história contada no bairro." in text
    assert "Written in Portuguese" in text and "Junta de Freguesia" in text
    assert "Maria Private" not in text
    assert_clean(watched)


def test_popup_credits_an_imported_story_and_asks_for_one_where_there_is_none(
    live_server, watched, lisbon_store
):
    title = "Monastery of the Hieronymites and Tower of Belém in Lisbon"
    (belem,) = [p for p in lisbon_store.list() if p.title == title]
    hood = belem.neighbourhood_id
    untold = lisbon_store.add(
        make_place(belem.geometry.buffer(0.002).exterior.coords[0], title="Chafariz",
                   narratives=[], neighbourhood_id=hood)
    )  # fmt: skip
    open_map(watched, live_server.url + f"/maps/neighbourhoods/{hood}?lang=pt")
    watched.evaluate(f"atlas.index.get('{belem.id}').layer.fire('click')")
    popup = watched.locator(".atlas-popup")
    popup.locator(".atlas-popup-credit").wait_for()
    text = popup.inner_text()
    # No Portuguese text: the original (English) is shown, credited right below it.
    assert "Standing at the entrance to Lisbon harbour" in text and "Bel&eacute;m" not in text
    assert "História: CC BY-SA 3.0 IGO (© UNESCO World Heritage Centre)" in text
    assert "short_description_en" not in text  # one tap away
    popup.locator(".atlas-popup-source summary", has_text="Fonte").click()
    assert "short_description_en" in popup.locator(".atlas-popup-source").inner_text()
    watched.evaluate(f"atlas.index.get('{untold.id}').layer.fire('click')")
    invite = watched.locator(".atlas-popup-invite")
    invite.wait_for()
    assert invite.inner_text() == "Conhece a história deste lugar? Conte-a"
    assert invite.locator("a").get_attribute("href") == "/contribute"
    assert_clean(watched)


def test_search_box_finds_a_neighbourhood_and_links_to_its_map(live_server, watched):
    open_map(watched, live_server.url + "/maps/city")
    watched.locator(".atlas-search input").fill("santa maria")
    link = watched.locator(".atlas-search-link")
    link.wait_for()
    assert link.get_attribute("href") == "/maps/neighbourhoods/6"
    watched.locator(".atlas-search-hit").first.click()
    watched.wait_for_function("() => atlas.map.getZoom() >= 14")
    assert_clean(watched)


def test_hostile_text_never_runs_anywhere_on_the_maps(live_server, watched, lisbon_store):
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop(
            code="XSS1",
            title=PAYLOADS[0] + PAYLOADS[2],
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            neighbourhood_id=6,
        )
    )
    places = [
        lisbon_store.add(
            make_place(
                (-9.135 + i * 0.0003, 38.711),
                title=p,
                narratives=[Narrative(p, "en")],
                tags=[p],
                period=p,
                attribution=p,
                neighbourhood_id=6,
                workshop="XSS1",
            )
        )
        for i, p in enumerate(PAYLOADS)
    ]
    for path in ("/maps/neighbourhoods/6", "/workshops/XSS1/live", "/maps/city"):
        open_map(watched, live_server.url + path)
        for place in places:
            # Open each popup and tooltip: that is where untrusted text is put in the page.
            watched.evaluate(f"""() => {{ const k = atlas.index.get('{place.id}');
                if (k) {{ k.layer.openTooltip(); k.layer.fire('click'); }} }}""")
            watched.wait_for_timeout(40)
        watched.locator(".atlas-popup-licence").last.wait_for()
        if path != "/workshops/XSS1/live":  # the projection has no search box
            watched.locator(".atlas-search input").fill("script")
            watched.locator(".atlas-search-results li").first.wait_for()
        watched.wait_for_timeout(300)
        assert_clean(watched)


@on_every_backend
def test_a_place_published_in_the_workshop_appears_live_within_5_seconds(
    live_server, watched, lisbon_store, workshop
):
    open_map(watched, live_server.url + "/workshops/ALF1/live")
    place = lisbon_store.add(make_place(title="Tasca do Chico", workshop="ALF1"))
    started = time.monotonic()
    watched.wait_for_function(f"() => atlas.index.has('{place.id}')", timeout=5_000)
    assert time.monotonic() - started < 5
    assert watched.locator(".atlas-pulse").count() == 1  # a short highlight on arrival
    assert watched.locator("#atlas-count").inner_text() == "1 place"
    assert watched.locator("#atlas-latest li").first.inner_text() == "Tasca do Chico"
    assert_clean(watched)


@on_every_backend
def test_a_place_submitted_through_the_api_to_an_unmoderated_workshop_appears_live(
    live_server, watched, lisbon_store
):
    import httpx

    now = utcnow()
    lisbon_store.add_workshop(
        Workshop(
            code="OPEN1",
            title="Open mapping evening",
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=2),
            neighbourhood_id=6,
            moderation=Moderation.POST,
        )
    )
    open_map(watched, live_server.url + "/workshops/OPEN1/live")
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-9.1340, 38.7120]},
        "properties": {
            "title": "Tasca do Chico",
            "category": "memory",
            "narratives": [{"text": "Fado vadio às segundas.", "language": "pt"}],
            "consent": {"publish": True},
            "workshop": "OPEN1",
        },
    }
    started = time.monotonic()
    answer = httpx.post(live_server.url + "/api/places", json=body)
    assert answer.status_code == 201, answer.text
    place_id = answer.json()["id"]
    watched.wait_for_function(f"() => atlas.index.has('{place_id}')", timeout=5_000)
    assert time.monotonic() - started < 5
    assert watched.locator("#atlas-latest li").first.inner_text() == "Tasca do Chico"
    assert_clean(watched)


def test_the_projection_does_not_accumulate_layers_or_nodes(
    live_server, watched, lisbon_store, workshop
):
    """Places come and go for hours: what the page holds follows what is shown."""
    before = open_map(watched, live_server.url + "/workshops/ALF1/live")
    added = [
        lisbon_store.add(
            make_place((-9.135 + i * 0.0004, 38.711), title=f"Place {i}", workshop="ALF1")
        )
        for i in range(25)
    ]
    watched.wait_for_function("() => atlas.index.size === 25", timeout=8_000)
    for place in added:  # withdrawn: every one leaves the map
        place.status = Status.WITHDRAWN
        lisbon_store.update(place)
    watched.wait_for_function("() => atlas.index.size === 0", timeout=8_000)
    watched.wait_for_function("() => atlas.stats().timers === 0", timeout=10_000)  # highlights
    after = watched.evaluate("atlas.stats()")
    assert after["mapLayers"] == before["mapLayers"]
    assert after["domNodes"] <= before["domNodes"] + 2
    assert after["polls"] >= 2
    assert_clean(watched)


def test_standalone_file_works_with_no_server_at_all(watched, lisbon_store):
    lisbon_store.add(
        make_place(title=PAYLOADS[0], narratives=[Narrative(PAYLOADS[2], "en")], neighbourhood_id=6)
    )
    html = standalone_neighbourhood_html(lisbon_store, 6, Vocabulary(), MapOptions())
    watched.set_content(html)
    watched.wait_for_selector(READY, state="attached", timeout=10_000)
    assert watched.evaluate("atlas.stats().features") == 119
    # Every popup opened in turn, in one call (a round trip per popup took 50 s); the
    # pause after each lets whatever it loads run, or fail, before the next replaces it.
    opened = watched.evaluate(OPEN_EVERY_POPUP)
    assert opened == 119
    assert_clean(watched)


OPEN_EVERY_POPUP = """async () => {
  let opened = 0;
  for (const entry of atlas.index.values()) {
    entry.layer.fire("click");
    await new Promise((done) => setTimeout(done, 30));
    if (document.querySelector(".leaflet-popup-content")) opened += 1;
  }
  return opened;
}"""


def test_search_box_finds_places_without_accents_and_in_chinese(live_server, watched, lisbon_store):
    lisbon_store.add(make_place(title="圣乔治城堡", neighbourhood_id=6))
    open_map(watched, live_server.url + "/maps/city")
    box = watched.locator(".atlas-search input")
    box.fill("castelo de sao jorge")
    hit = watched.locator(".atlas-search-hit", has_text="Castelo de São Jorge e restos")
    hit.wait_for()
    box.fill("城堡")
    watched.locator(".atlas-search-hit", has_text="圣乔治城堡").wait_for()
    assert_clean(watched)


def test_standalone_file_searches_its_own_places_without_accents(watched, lisbon_store):
    html = standalone_neighbourhood_html(lisbon_store, 6, Vocabulary(), MapOptions())
    watched.set_content(html)
    watched.wait_for_selector(READY, state="attached", timeout=10_000)
    watched.locator(".atlas-search input").fill("CASTELO sao")
    watched.locator(".atlas-search-hit", has_text="Castelo de São Jorge e restos").wait_for()
    titles = watched.locator(".atlas-search-hit").all_inner_texts()
    assert titles and all("Castelo de São Jorge" in t for t in titles)
    assert_clean(watched)
