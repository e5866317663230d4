"""Untrusted text in map pages: never markup, never a template evaluated on the server."""

from __future__ import annotations

import re
from datetime import timedelta

import orjson
import pytest
from shapely.geometry import box

from geodata.models import Narrative, Neighbourhood, Workshop, utcnow
from mapping.city import city_map
from mapping.elements import Legend, LegendEntry
from mapping.escaping import html_text, js_json
from mapping.neighbourhood import neighbourhood_map
from mapping.standalone import standalone_neighbourhood_html
from mapping.workshop import workshop_map
from tests.mapping.conftest import make_place
from tests.mapping.xss_payloads import HTML_PAYLOADS, PAYLOADS, TEMPLATE_MARKERS

AREA = box(-9.14, 38.70, -9.12, 38.72)


def assert_inert(page: str) -> None:
    """No payload survives as markup, and no template was evaluated."""
    for marker in TEMPLATE_MARKERS:
        assert marker not in page
    for payload in HTML_PAYLOADS:
        if "<" in payload:
            assert payload not in page, payload
    # No script element or event-handler attribute but the ones we wrote.
    assert not re.search(r"<script(?!>| src=)", page)
    assert not re.search(r"<[a-z][^<>]*\son[a-z]+\s*=", page, re.IGNORECASE)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_js_json_survives_html_parsing_and_a_second_template_pass(payload):
    from jinja2 import Template

    text = js_json({"title": payload})
    assert "<" not in text and ">" not in text
    assert Template(text).render() == text  # nothing a Jinja pass would change
    assert orjson.loads(text)["title"] == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_escapes_markup_and_template_syntax(payload):
    from jinja2 import Template

    text = html_text(payload)
    assert "<" not in text and '"' not in text and "{" not in text
    assert Template(text).render() == text


def test_city_map_with_hostile_neighbourhood_names(vocabulary, options):
    hoods = [Neighbourhood(i, p, AREA) for i, p in enumerate(PAYLOADS, start=1)]
    page = (
        city_map(hoods, {1: 5}, vocabulary, options, lambda i: f"/n/{i}", title=PAYLOADS[0])
        .get_root()
        .render()
    )
    assert_inert(page)


def test_neighbourhood_map_with_a_hostile_name(vocabulary, options):
    for payload in PAYLOADS:
        page = (
            neighbourhood_map(Neighbourhood(1, payload, AREA), 4, vocabulary, options)
            .get_root()
            .render()
        )
        assert_inert(page)


def test_workshop_projection_with_hostile_titles(vocabulary, options):
    now = utcnow()
    for payload in PAYLOADS:
        workshop = Workshop(
            code="AB12", title=payload, starts_at=now, ends_at=now + timedelta(hours=1)
        )
        summary = {
            "count": 3,
            "count_label": "3 places",
            "pending": 0,
            "pending_label": "",
            "latest": [{"id": "pl_1", "title": p} for p in PAYLOADS],
        }
        page = (
            workshop_map(
                workshop,
                None,
                [Neighbourhood(1, "A", AREA)],
                vocabulary,
                options,
                join_url="http://127.0.0.1/contribute?workshop=AB12",
                summary=summary,
                cursor="c",
                live_url="/u",
            )
            .get_root()
            .render()
        )
        assert_inert(page)


def test_a_join_link_that_is_not_http_is_not_linked(vocabulary, options):
    now = utcnow()
    workshop = Workshop(code="AB12", title="W", starts_at=now, ends_at=now + timedelta(hours=1))
    page = (
        workshop_map(
            workshop,
            None,
            [Neighbourhood(1, "A", AREA)],
            vocabulary,
            options,
            join_url="javascript:alert(1)",
            summary={"count_label": "", "latest": []},
            cursor="c",
            live_url="/u",
        )
        .get_root()
        .render()
    )
    assert 'href="javascript:' not in page


def test_legend_labels_are_escaped():
    legend = Legend(
        "<b>Title</b>", [LegendEntry("<script>x()</script>", "#fff")], note="{{ 1234 * 1000 }}"
    )
    assert "<script>x()" not in legend.html and "<b>Title" not in legend.html
    assert "1234000" not in legend.html


def test_standalone_file_with_hostile_places(sqlite_store, vocabulary, options):
    sqlite_store.replace_neighbourhoods([("Alfama", AREA, None)])
    sqlite_store.add_many(
        [
            make_place(
                (-9.13, 38.71),
                title=p,
                narratives=[Narrative(p, "en")],
                tags=[p],
                attribution=p,
                period=p,
                neighbourhood_id=1,
            )
            for p in PAYLOADS
        ]
    )
    page = standalone_neighbourhood_html(sqlite_store, 1, vocabulary, options)
    assert_inert(page)
    assert "Maria Private" not in page and "maria@example.org" not in page
