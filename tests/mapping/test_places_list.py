"""The list of places beside every map, as served: what it lists, in what order, how it
counts in each language, and that titles in it stay text."""

from __future__ import annotations

import dataclasses
import re

import pytest
from shapely.geometry import box

from geodata.models import Neighbourhood, Sensitivity
from mapping.city import city_map
from mapping.elements import AtlasClient
from mapping.neighbourhood import neighbourhood_map
from mapping.places_list import LIST_MAX, Listing, listing, places_list_html, store_listing
from mapping.plurals import plural, plural_rule
from tests.mapping.conftest import make_place
from tests.mapping.xss_payloads import HTML_PAYLOADS, PAYLOADS

AREA = box(-9.14, 38.70, -9.12, 38.72)
# Arabic's six forms, in the order of the catalog's rule (as web/locale/ar has it).
ARABIC = (
    "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=0 && n%100<=2 ? 4 : 5)"
)
FORMS = ["zero", "one", "two", "{n} few", "{n} hundreds", "{n} many"]


def test_the_listing_is_by_title_without_hidden_places_and_bounded():
    places = [
        make_place(title="zebra crossing"),
        make_place(title="Árvore velha"),
        make_place(title="Secret garden", sensitivity=Sensitivity.HIDDEN),
        make_place(title="approximate", sensitivity=Sensitivity.GENERALISED),
    ]
    shown = listing(places, total=3)
    assert [title for _, title in shown.places] == ["approximate", "Árvore velha", "zebra crossing"]
    many = listing([make_place(title=f"p{i:04}") for i in range(LIST_MAX + 20)], LIST_MAX + 20)
    assert len(many.places) == LIST_MAX and many.total == LIST_MAX + 20


def test_the_store_listing_counts_drawn_places_only(sqlite_store):
    for i in range(4):
        sqlite_store.add(make_place(title=f"Place {i}"))
    sqlite_store.add(make_place(title="Hidden", sensitivity=Sensitivity.HIDDEN))
    from geodata.privacy import public_filter

    shown = store_listing(sqlite_store, public_filter(None, "map"))
    assert shown.total == 4 and [t for _, t in shown.places] == [f"Place {i}" for i in range(4)]


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "zero"), (1, "one"), (2, "two"), (7, "7 few"), (101, "101 hundreds"), (12, "12 many")],
)
def test_counts_take_the_languages_plural_forms(options, n, expected):
    arabic = dataclasses.replace(options, plural_rule=ARABIC, plurals={"in_view": FORMS})
    assert plural(arabic, "in_view", n) == expected


def test_english_counts_by_default(options):
    assert plural(options, "in_view", 1) == "1 place in view"
    assert plural(options, "in_view", 12) == "12 places in view"


@pytest.mark.parametrize("rule", ["n; alert(1)", "n / 2", "window.x", "n != 1 || fetch()"])
def test_only_a_plural_rule_is_written_into_the_page(rule):
    with pytest.raises(ValueError):
        plural_rule(rule)
    with pytest.raises(ValueError):
        AtlasClient({"pluralRule": rule}, {})


def test_hostile_titles_stay_text_in_the_list(options):
    page = places_list_html(
        Listing([(f"pl_{i}", p) for i, p in enumerate(PAYLOADS)], len(PAYLOADS)), options
    )
    for payload in HTML_PAYLOADS:
        if "<" in payload:
            assert payload not in page
    assert "<script" not in page
    assert not re.search(r"<[a-z][^<>]*\son[a-z]+\s*=", page, re.IGNORECASE)
    assert page.count('href="/places/pl_') == len(PAYLOADS)


def test_every_map_page_starts_with_the_skip_link_and_carries_the_list(vocabulary, options):
    hood = Neighbourhood(1, "Alfama", AREA)
    shown = Listing([("pl_1", "Casa do Fado")], 1)
    for m in (
        city_map([hood], {1: 1}, vocabulary, options, lambda i: f"/n/{i}", listed=shown),
        neighbourhood_map(hood, 1, vocabulary, options, listed=shown),
    ):
        page = m.get_root().render()
        body = page[page.index("<body") :]
        assert re.match(r'<body[^>]*>\s*<a class="atlas-skip" href="#atlas-places">', body)
        assert 'id="atlas-places"' in body and "1 place in view" in body
        assert '<a href="/places/pl_1" data-place-id="pl_1">Casa do Fado</a>' in body
        assert "function (n) { return Number(n != 1); }" in page


def test_a_list_cut_at_its_limit_says_so(options):
    cut = places_list_html(Listing([("pl_1", "A")], LIST_MAX + 1), options)
    assert f"The list shows the first {LIST_MAX} of them." in cut
    assert 'id="atlas-places-note" hidden' not in cut
    whole = places_list_html(Listing([("pl_1", "A")], 1), options)
    assert 'id="atlas-places-note" hidden' in whole
