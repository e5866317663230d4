"""The home page in a real browser (Debian's Chromium) served on 127.0.0.1 with every other
host blocked: it loads with no console error and no request leaving the machine, reads
right to left in Arabic, and does all it does without JavaScript."""

from __future__ import annotations

import pytest

from geodata.models import Narrative
from tests.mapping.conftest import make_place

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "direction"),
    [("en", "ltr"), ("pt", "ltr"), ("ar", "rtl"), ("zh-Hans", "ltr"), ("bn", "ltr")],
)
def test_home_page_loads_offline_and_clean(live_server, watched, lisbon_store, lang, direction):
    told = lisbon_store.add(
        make_place(title="مقهى الحي", narratives=[Narrative("كنا نلتقي هنا كل مساء.", "ar")])
    )
    watched.goto(f"{live_server.url}/?lang={lang}")
    watched.wait_for_load_state("networkidle")
    assert watched.evaluate("document.documentElement.dir") == direction
    assert watched.evaluate("getComputedStyle(document.body).direction") == direction
    assert watched.locator(".home-map a").count() == 24  # a link per neighbourhood
    story = watched.locator(f'.teasers a[href="/places/{told.id}"]')
    assert story.inner_text() == "مقهى الحي"
    assert watched.locator(".teasers .teaser-text").first.get_attribute("lang") == "ar"
    # The stylesheet applied (a served file, not blocked by the content policy).
    assert watched.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"
    assert watched.blocked_requests == []
    assert watched.problems == []


def test_everything_works_without_javascript(browser, live_server, lisbon_store):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/?lang=pt")
        # The language switcher is a plain form.
        page.select_option("#lang-picker", "ar")
        page.click(".language button")
        page.wait_for_url("**/?lang=ar")
        assert page.locator("script").count() == 0
        assert page.locator("html").get_attribute("dir") == "rtl"
        # The workshop code box sends residents to the form with their code.
        page.fill("#workshop-code", "ALF1")
        page.click(".workshop-code button")
        page.wait_for_url("**/contribute?workshop=ALF1")
        # A neighbourhood on the small map opens its map.
        page.goto(live_server.url + "/")
        page.locator(".home-map a").first.click()
        page.wait_for_url("**/maps/neighbourhoods/*")
    finally:
        context.close()


def test_the_picker_switches_to_simplified_chinese_by_its_own_tag(browser, live_server):
    context = browser.new_context(java_script_enabled=False, locale="zh-TW")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        # Traditional Chinese is not shipped: the reader is not given simplified instead.
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#lang-picker option", has_text="简体中文").count() == 1
        page.select_option("#lang-picker", "zh-Hans")
        page.click(".language button")
        page.wait_for_url("**/?lang=zh-Hans")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        assert page.locator("h1").first.inner_text()
        assert "添加地点" in page.content()
        # On the form the choice is remembered (a cookie): it comes back in it.
        page.goto(live_server.url + "/contribute?lang=zh-Hans")
        page.goto(live_server.url + "/contribute")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        assert page.locator("#field-narrative_language").get_attribute("value") == "zh-Hans"
    finally:
        context.close()
