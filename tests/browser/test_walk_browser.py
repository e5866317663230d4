"""A demo walk in a real browser (Debian's Chromium) on 127.0.0.1 with every other host
blocked: stepped through by keyboard and buttons in English and Arabic (where the arrow
keys mirror), the map following each stop, and readable without JavaScript."""

from __future__ import annotations

import pytest

from web.i18n import translations

pytestmark = pytest.mark.browser
READY = ".walk[data-ready]"


@pytest.fixture
def belem(lisbon_store):
    walk = next(w for w in lisbon_store.walks("published") if w.titles[0].text.startswith("Belém"))
    return walk


def current(page) -> tuple[int, int, str]:
    """(the stop the text shows, the stop the map follows, the focused stop's id)."""
    return tuple(
        page.evaluate(
            """() => [Number(document.querySelector('.walk').dataset.current),
                  Number(document.getElementById('walk-map').dataset.following),
                  document.activeElement.id]"""
        )
    )


def marker_at_centre(page) -> bool:
    """Whether the current stop's marker sits in the middle of the map."""
    return page.evaluate(
        """() => { const m = document.querySelector('.walk-marker-current').getBoundingClientRect();
                   const b = document.getElementById('walk-map').getBoundingClientRect();
                   return Math.abs(m.x + m.width / 2 - (b.x + b.width / 2)) < 3
                       && Math.abs(m.y + m.height / 2 - (b.y + b.height / 2)) < 3; }"""
    )


@pytest.mark.parametrize(
    ("lang", "forward", "back"),
    [("en", "ArrowRight", "ArrowLeft"), ("ar", "ArrowLeft", "ArrowRight")],
)
def test_stepping_through_a_walk_by_keyboard_moves_text_and_map_together(
    live_server, watched, belem, lang, forward, back
):
    watched.goto(f"{live_server.url}/walks/{belem.id}?lang={lang}")
    watched.wait_for_selector(READY, state="attached", timeout=10_000)
    assert watched.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert watched.locator(".walk-static").is_hidden() and watched.locator("#walk-map").is_visible()
    count = len(belem.stops)
    assert watched.locator(".walk-marker").count() == count
    assert current(watched)[:2] == (1, 1)
    for n in range(2, count + 1):
        watched.keyboard.press(forward)
        assert current(watched) == (n, n, f"stop-{n}")
        assert marker_at_centre(watched)
        assert watched.locator(f"#stop-{n}").get_attribute("aria-current") == "step"
    watched.keyboard.press(forward)  # past the last stop: stays there
    assert current(watched)[0] == count
    watched.keyboard.press(back)
    assert current(watched) == (count - 1, count - 1, f"stop-{count - 1}")
    watched.keyboard.press("Home")
    assert current(watched) == (1, 1, "stop-1")
    watched.keyboard.press("ArrowDown")
    assert current(watched)[0] == 2
    watched.keyboard.press("End")
    assert current(watched) == (count, count, f"stop-{count}")
    where = watched.locator(".walk-where").inner_text()
    assert str(count) in where and ("المحطة" in where if lang == "ar" else "Stop" in where)
    assert watched.blocked_requests == [] and watched.problems == []


def test_the_buttons_step_and_scrolling_moves_the_map_along(live_server, watched, belem):
    watched.goto(f"{live_server.url}/walks/{belem.id}?lang=en")
    watched.wait_for_selector(READY, state="attached", timeout=10_000)
    # Scrolling a stop into the middle of the window makes the map follow it.
    watched.locator("#stop-4").evaluate("el => el.scrollIntoView({block: 'center'})")
    watched.wait_for_selector("#walk-map[data-following='4']", state="attached", timeout=5_000)
    assert current(watched)[0] == 4
    watched.locator(".walk-next").click()
    assert current(watched)[:2] == (5, 5)
    watched.locator(".walk-prev").click()
    watched.locator(".walk-prev").click()
    assert current(watched)[:2] == (3, 3)
    watched.keyboard.press("Home")
    assert watched.locator(".walk-prev").is_disabled()
    assert watched.problems == []


def test_without_javascript_the_walk_is_an_ordered_list_with_a_static_map(
    live_server, browser, belem
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/walks/{belem.id}?lang=ar")
        assert page.locator("ol.walk-stops > li").count() == len(belem.stops)
        assert page.locator(".walk-static svg").is_visible()
        assert page.locator("#walk-map").is_hidden() and page.locator(".walk-controls").is_hidden()
        # The list of stops beside the map, as served: every stop's page, in order.
        links = page.locator("#atlas-places-list [data-place-id]")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
            f"/places/{s.place_id}" for s in belem.stops
        ]
        assert page.inner_text("#atlas-places-heading") == "الأماكن الظاهرة على الخريطة"
        page.locator(".atlas-skip").wait_for(state="attached")
    finally:
        context.close()


def test_walk_with_me_opens_the_stop_within_30_m_and_sends_the_position_nowhere(
    live_server, browser, lisbon_store, belem
):
    stop = lisbon_store.get(belem.stops[2].place_id).geometry.centroid
    context = browser.new_context(
        geolocation={"latitude": stop.y + 0.0001, "longitude": stop.x},  # about 11 m away
        permissions=["geolocation"],
        viewport={"width": 390, "height": 800},
    )
    page = context.new_page()
    sent: list[str] = []
    try:
        page.goto(f"{live_server.url}/walks/{belem.id}?lang=en")
        page.wait_for_selector(READY, state="attached", timeout=10_000)
        page.on("request", lambda r: sent.append(r.url + (r.post_data or "")))
        page.locator(".walk-follow").click()
        page.wait_for_selector(".walk[data-nearest='3']", state="attached", timeout=5_000)
        assert current(page)[:2] == (3, 3)
        assert "Nearest stop: 3, about 11 m away" in page.locator(".walk-nearest").inner_text()
        latitude = f"{stop.y + 0.0001:.4f}"
        assert not [u for u in sent if latitude in u]
        page.locator(".walk-follow").click()  # off again
        assert page.locator(".walk-follow").inner_text() == "Walk with me"
    finally:
        context.close()


def test_a_walk_saved_for_offline_opens_with_no_signal(live_server, browser, belem):
    context = browser.new_context(service_workers="allow")
    page = context.new_page()
    try:
        url = f"{live_server.url}/walks/{belem.id}?lang=en"
        page.goto(url)
        page.wait_for_selector(READY, state="attached", timeout=10_000)
        page.locator(".walk-save").click()
        page.wait_for_selector(".walk[data-saved='1']", state="attached", timeout=20_000)
        context.set_offline(True)
        page.goto(url)
        page.wait_for_selector(READY, state="attached", timeout=10_000)
        assert page.locator("ol.walk-stops > li").count() == len(belem.stops)
        assert page.locator(".walk-marker").count() == len(belem.stops)  # Leaflet, from cache
        stop = belem.stops[0].place_id
        page.goto(f"{live_server.url}/places/{stop}")  # each stop's own page too
        assert page.locator("h1").count() == 1
    finally:
        context.close()


# -- the list of stops in view beside the map, as on every map -------------------------
LIST_ENTRY = "#atlas-places-list [data-place-id]"


def focused_id(page) -> str | None:
    return page.evaluate("document.activeElement.getAttribute('data-place-id')")


def list_in_view(page) -> tuple[list[str], str]:
    """The ids listed beside the map and its count, once the map has settled: the list
    follows the map, which follows the story (its first stop, once that is in view)."""
    page.wait_for_function(
        """() => {
            const ids = [...document.querySelectorAll('#atlas-places-list [data-place-id]')]
                .map(e => e.getAttribute('data-place-id')).join(' ');
            const now = ids + '|' + document.querySelector('#atlas-places-count').innerText;
            const same = window.__listSeen === now;
            window.__listSeen = now;
            return same;
        }""",
        polling=300,
        timeout=10_000,
    )
    ids, count = page.evaluate("window.__listSeen").split("|")
    return ids.split(), count


def test_the_walk_map_has_the_keyboard_list_of_stops_in_view(
    live_server, watched, lisbon_store, belem
):
    watched.goto(f"{live_server.url}/walks/{belem.id}?lang=en")
    watched.wait_for_selector(READY, state="attached", timeout=10_000)
    ids = [s.place_id for s in belem.stops]
    list_in_view(watched)  # the map follows the story's first stop once it is in view
    # Tab from the page's start reaches the skip link before the map; Enter skips to the list.
    watched.keyboard.press("Tab")
    for _ in range(30):
        if watched.evaluate("document.activeElement.className") == "atlas-skip":
            break
        watched.keyboard.press("Tab")
    else:
        pytest.fail("Tab never reached the link that skips the map")
    watched.keyboard.press("Enter")
    watched.keyboard.press("Tab")
    first = watched.locator(LIST_ENTRY).nth(0).get_attribute("data-place-id")
    assert focused_id(watched) == first
    listed, shown_count = list_in_view(watched)
    assert listed == [i for i in ids if i in listed]  # in the walk's order
    n = len(listed)
    assert shown_count == ("1 place in view" if n == 1 else f"{n} places in view")

    # Enter opens the stop's popup on the map, with the focus in it; Escape comes back.
    number = ids.index(first) + 1
    watched.keyboard.press("Enter")
    popup = watched.locator(".leaflet-popup .walk-popup")
    popup.locator("h3").wait_for()
    assert popup.locator("h3").inner_text() == lisbon_store.get(first).title
    assert watched.evaluate("document.activeElement.classList.contains('walk-popup')")
    assert "/places/" not in watched.url
    watched.keyboard.press("Escape")
    watched.wait_for_selector(".leaflet-popup", state="detached")
    assert focused_id(watched) == first

    # Again; Tab to "Stop n of N" and follow it: the story goes to that stop.
    watched.keyboard.press("Enter")
    popup.locator("a").first.wait_for()
    watched.keyboard.press("Tab")
    assert watched.evaluate("document.activeElement.textContent") == (
        f"Stop {number} of {len(ids)}"
    )
    watched.keyboard.press("Enter")
    assert current(watched) == (number, number, f"stop-{number}")
    assert watched.blocked_requests == [] and watched.problems == []


def test_the_walk_list_follows_the_map_and_counts_in_arabic(live_server, watched, belem):
    watched.goto(f"{live_server.url}/walks/{belem.id}?lang=ar")
    watched.wait_for_selector(READY, state="attached", timeout=10_000)
    assert watched.inner_text("#atlas-places-heading") == "الأماكن الظاهرة على الخريطة"
    # The map starts close on the first stop, then steps to the last: the list follows it.
    first = [e.get_attribute("data-place-id") for e in watched.locator(LIST_ENTRY).all()]
    assert belem.stops[0].place_id in first and belem.stops[-1].place_id not in first
    everything = len(belem.stops)
    watched.keyboard.press("End")
    watched.wait_for_selector(f"#walk-map[data-following='{everything}']", state="attached")
    ids = [e.get_attribute("data-place-id") for e in watched.locator(LIST_ENTRY).all()]
    assert belem.stops[-1].place_id in ids and len(ids) < everything
    arabic = translations("ar").ngettext("{n} place in view", "{n} places in view", len(ids))
    assert watched.inner_text("#atlas-places-count") == arabic.format(n=len(ids))
    assert belem.stops[0].place_id not in ids
    assert watched.problems == []
