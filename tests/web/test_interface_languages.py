"""Every page in the reader's language, rendered by the app itself: ``<html lang dir>``,
the language picker, how the language is chosen, plurals and error pages."""

from __future__ import annotations

import re

import pytest

from geodata.account_records import Role
from tests.web.staff_helpers import make_staff, sign_in
from web.i18n import translations
from web.language_choice import LANGUAGES

PUBLIC_PAGES = [
    "/",
    "/maps/city",
    "/maps/neighbourhoods/6",
    "/contribute",
    "/ogc",
    "/ogc/conformance?f=html",
    "/ogc/api?f=html",
    "/ogc/collections?f=html",
    "/ogc/collections/places?f=html",
    "/ogc/collections/places/items?f=html",
    "/ogc/collections/neighbourhoods/items?f=html",
    "/login",
]
STAFF_PAGES = ["/workshops", "/moderation", "/stats", "/admin"]
HTML = {"Accept": "text/html,application/xhtml+xml"}


def html_tag(page: str) -> str:
    """``<html lang=".." dir=".."`` (without the page's other attributes)."""
    match = re.search(r'<html lang="[^"]*" dir="[^"]*"', page)
    assert match, "no <html lang dir> element"
    return match.group(0)


@pytest.fixture
def staff(lisbon_store):
    return make_staff(lisbon_store)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_is_arabic_and_right_to_left(client, path):
    r = client.get(path, headers={**HTML, "Accept-Language": "ar"})
    assert r.status_code == 200, r.text[:300]
    assert html_tag(r.text) == '<html lang="ar" dir="rtl"'
    assert re.search(r'name=\\?"lang\\?"', r.text)  # the language picker (in the map's JSON)
    assert "العربية" in r.text and "Português" in r.text  # each language named in itself


def test_every_staff_page_is_arabic_and_right_to_left(client, staff):
    sign_in(client, staff[Role.ADMIN].name, next_url="/stats")
    for path in STAFF_PAGES:
        r = client.get(path, headers={**HTML, "Accept-Language": "ar"})
        assert r.status_code == 200, (path, r.text[:300])
        assert html_tag(r.text) == '<html lang="ar" dir="rtl"', path
        assert translations("ar").gettext("Sign out") in r.text, path
        assert ">Sign out<" not in r.text, path


def test_the_language_is_chosen_by_query_then_cookie_then_accept_language(client):
    assert 'lang="fr"' in html_tag(client.get("/", headers={"Accept-Language": "fr"}).text)
    # ?lang= wins over Accept-Language, and is remembered in a cookie.
    r = client.get("/?lang=pt", headers={"Accept-Language": "fr"})
    assert 'lang="pt"' in html_tag(r.text)
    assert "lang=pt" in r.headers["set-cookie"]
    # The cookie now wins over Accept-Language on any page, staff or public.
    for path in ("/maps/city", "/login", "/ogc"):
        r = client.get(path, headers={**HTML, "Accept-Language": "fr"})
        assert 'lang="pt"' in html_tag(r.text), path


def test_the_default_language_is_a_setting(tmp_path, lisbon_store):
    from fastapi.testclient import TestClient

    from web.app import create_app
    from web.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'x.db'}", default_language="fr", _env_file=None
    )
    with TestClient(create_app(settings, store=lisbon_store)) as client:
        assert 'lang="fr"' in html_tag(client.get("/").text)  # no Accept-Language at all
        assert 'lang="fr"' in html_tag(client.get("/", headers={"Accept-Language": "xx"}).text)


def test_a_missing_page_is_a_page_for_browsers_and_a_problem_for_api_clients(client):
    page = client.get("/no/such/page", headers={**HTML, "Accept-Language": "pt"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert html_tag(page.text) == '<html lang="pt" dir="ltr"'
    assert translations("pt").gettext("This page does not exist") in page.text
    api = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    # An API path stays problem+json even for a browser.
    api = client.get("/api/map/places/nope", headers=HTML)
    assert api.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/maps/neighbourhoods/999", 404), ("/maps/neighbourhoods/abc", 422),
     ("/workshops/NOPE42/live", 404), ("/ogc/collections/nope?f=html", 404)],
)  # fmt: skip
def test_every_error_a_browser_reaches_is_an_arabic_page(client, path, status):
    r = client.get(path, headers={**HTML, "Accept-Language": "ar"})
    assert r.status_code == status
    assert html_tag(r.text) == '<html lang="ar" dir="rtl"'
    assert r.headers["content-language"] == "ar"


def test_arabic_counts_use_all_six_plural_forms():
    from mapping.options import MapOptions
    from mapping.style import count_label

    options = MapOptions(language="ar", translations=translations("ar"))
    forms = {n: count_label(n, 1, options) for n in (1, 2, 5, 11, 100)}
    assert len(set(re.sub(r"[\d,]", "", f) for f in forms.values())) >= 4, forms
    english = MapOptions()
    assert count_label(1, 1, english) == "1 place" and count_label(5, 1, english) == "5 places"
    assert count_label(12345, 3, MapOptions(language="fr", translations=translations("fr"))) == (
        "12\u202f345 lieux"
    )


def test_the_map_speaks_the_readers_language(client):
    text = client.get("/maps/city?lang=pt").text
    pt = translations("pt").gettext
    for english in (
        "Places per neighbourhood",
        "Neighbourhoods",
        "Search a place or neighbourhood",
    ):
        assert pt(english) in text and english not in text, english
    text = client.get("/maps/neighbourhoods/6?lang=ar").text
    assert translations("ar").gettext("Categories") in text
    assert ">Categories<" not in text


def test_every_language_shipped_has_a_catalog():
    for code in LANGUAGES:
        if code != "en":
            assert translations(code).gettext("Sign in") != "Sign in", code
