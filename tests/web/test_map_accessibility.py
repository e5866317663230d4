"""What the web layer gives the accessible maps and pages: each catalog's plural rule and
forms for the list's count, and a 404 page for browsers (problem details for programs)."""

from __future__ import annotations

import pytest

from mapping.plurals import plural, plural_rule
from web.language_choice import LANGUAGES
from web.routes.maps import map_options, map_plurals
from web.settings import Settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_gives_the_map_its_rule_and_every_form(language):
    rule, plurals = map_plurals(language)
    choose = plural_rule(rule)  # a rule the map may write into its page
    forms = plurals["in_view"]
    assert all(forms) and max(choose(n) for n in range(200)) == len(forms) - 1


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("en", 1, "1 place in view"),
        ("en", 0, "0 places in view"),
        ("pt", 5, "5 lugares à vista"),
        ("fr", 0, "0 lieu visible"),
        ("fr", 2, "2 lieux visibles"),
        ("ar", 2, "مكانان ظاهران"),
        ("ar", 5, "5 أماكن ظاهرة"),
    ],
)
def test_the_count_reads_right_in_each_language(language, n, expected):
    options = map_options(Settings(_env_file=None), language)  # type: ignore[call-arg]
    assert plural(options, "in_view", n) == expected


def test_a_browser_asking_for_a_missing_page_gets_a_page_in_its_language(client):
    r = client.get("/no-such-page", headers={**BROWSER, "Accept-Language": "ar"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="ar" dir="rtl">' in r.text
    assert "هذه الصفحة غير موجودة" in r.text and '<a href="/">' in r.text


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/no-such-page", {}), ("/no-such-page", {"Accept": "application/json"}),
     ("/api/no-such-thing", BROWSER), ("/ogc/no-such-thing?f=json", BROWSER)],
)  # fmt: skip
def test_programs_still_get_problem_details(client, path, headers):
    r = client.get(path, headers=headers)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
