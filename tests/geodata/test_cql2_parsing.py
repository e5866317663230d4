"""Reading CQL2: text and JSON give the same tree, what pygeofilter 0.4 misreads is read
right, and no input costs more than its (capped) length: nesting and size are refused
while the tree is built, without recursion."""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from geodata.cql2 import cql2_json, text
from geodata.cql2.ast import MAX_DEPTH, MAX_LENGTH, MAX_NODES, FilterError, Property
from geodata.filters import compile_filter

PAIRS = [
    ("year_from > 1800", {"op": ">", "args": [{"property": "year_from"}, 1800]}),
    ("title = 'D''Ouro'", {"op": "=", "args": [{"property": "title"}, "D'Ouro"]}),
    ("title = 'D\\'Ouro'", {"op": "=", "args": [{"property": "title"}, "D'Ouro"]}),
    ("NOT (a = 1 OR b = 2) AND c <> 'x'",
     {"op": "and", "args": [
         {"op": "not", "args": [{"op": "or", "args": [
             {"op": "=", "args": [{"property": "a"}, 1]},
             {"op": "=", "args": [{"property": "b"}, 2]}]}]},
         {"op": "<>", "args": [{"property": "c"}, "x"]}]}),
    ("x BETWEEN 1 AND 2", {"op": "between", "args": [{"property": "x"}, 1, 2]}),
    ("x IN ('a', 'b')", {"op": "in", "args": [{"property": "x"}, ["a", "b"]]}),
    ("x IS NULL", {"op": "isNull", "args": [{"property": "x"}]}),
    ("CASEI(x) LIKE CASEI('a%')",
     {"op": "like", "args": [{"op": "casei", "args": [{"property": "x"}]},
                             {"op": "casei", "args": ["a%"]}]}),
    ("S_INTERSECTS(geometry, BBOX(-9.2, 38.7, -9.1, 38.8))",
     {"op": "s_intersects",
      "args": [{"property": "geometry"}, {"bbox": [-9.2, 38.7, -9.1, 38.8]}]}),
    ("S_WITHIN(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))",
     {"op": "s_within",
      "args": [{"property": "geometry"},
               {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}]}),
    ("T_INTERSECTS(INTERVAL(year_from, year_to), INTERVAL('1900-01-01', '..'))",
     {"op": "t_intersects", "args": [
         {"interval": [{"property": "year_from"}, {"property": "year_to"}]},
         {"interval": ["1900-01-01", ".."]}]}),
    ("T_AFTER(created_at, TIMESTAMP('2024-01-01T00:00:00Z'))",
     {"op": "t_after",
      "args": [{"property": "created_at"}, {"timestamp": "2024-01-01T00:00:00Z"}]}),
    ("T_BEFORE(created_at, DATE('2024-01-01'))",
     {"op": "t_before", "args": [{"property": "created_at"}, {"date": "2024-01-01"}]}),
]  # fmt: skip


@pytest.mark.parametrize(("cql_text", "cql_json"), PAIRS)
def test_text_and_json_read_into_the_same_tree(cql_text: str, cql_json: dict) -> None:
    assert text.parse(cql_text) == cql2_json.parse(json.dumps(cql_json))


@pytest.mark.parametrize(
    "cql_text",
    [
        "title = 'D''Ouro'",  # a quote inside a text (pygeofilter 0.4: error)
        "x = 1",  # a one-letter name (pygeofilter 0.4: error)
        "T_INTERSECTS(INTERVAL(year_from, year_to), INTERVAL('1900-01-01', '1950-12-31'))",
        "S_DWITHIN(geometry, POINT(-9.1 38.7), 100, meters)",
        "ACCENTI(title) = ACCENTI('Sé')",
        "ORDER = 1 AND ANDREW = 2 OR NOTE = 3",  # names that start with keywords
        "not (x = 1) and y = 2",  # keywords in any case
    ],
)
def test_what_pygeofilter_misreads_is_read(cql_text: str) -> None:
    assert text.parse(cql_text) is not None


def test_t_intersects_is_not_t_overlaps_and_like_wildcards_are_cql2s() -> None:
    assert text.parse("T_INTERSECTS(created_at, DATE('2024-01-01'))").name == "t_intersects"
    like = text.parse("title LIKE 'Casa_do%'")
    assert like.name == "like" and like.args == (Property("title"), "Casa_do%")


def test_a_malformed_filter_says_where_it_breaks() -> None:
    with pytest.raises(FilterError) as caught:
        text.parse("year_from > 1800 AND AND title = 'x'")
    assert caught.value.code == "unreadable_filter"
    assert "character 22" in caught.value.message
    for bad in ("title = 'open", "(year_from > 1", "", "year_from >", "'x' 'y'"):
        with pytest.raises(FilterError):
            text.parse(bad)
    for bad in ("{", "[1, 2", '{"op": "=", "args": 3}', '{"foo": 1}', "null", '{"op": 1}'):
        with pytest.raises(FilterError):
            cql2_json.parse(bad)


@pytest.mark.parametrize(
    ("cql_text", "code"),
    [
        ("NOT " * 1900 + "x = 1", "filter_too_deep"),
        ("(" * 5000 + "x = 1" + ")" * 5000, "filter_too_large"),
        ("(" * 1000 + "x = 1" + ")" * 1000, "filter_too_deep"),
        (" OR ".join(f"x = {i}" for i in range(MAX_NODES)), "filter_too_large"),
        ("x = 1 AND " * 1500 + "x = 1", "filter_too_large"),
        ("CASEI(" * 40 + "x" + ")" * 40 + " = 'a'", "filter_too_deep"),
        ("x = '" + "a" * MAX_LENGTH + "'", "filter_too_large"),
        ("x IN (" + ", ".join(["1"] * 500) + ")", "filter_too_large"),
        ("x = " + "9" * 60, "invalid_filter"),
        ("x = 1e400", "invalid_filter"),
        ("T_AFTER(x, TIMESTAMP('9999-12-31T23:59:59-01:00'))", "invalid_filter"),
        ("T_AFTER(x, TIMESTAMP('0001-01-01T00:00:00+01:00'))", "invalid_filter"),
        ("T_AFTER(x, DATE('2024-02-30'))", "invalid_filter"),
        ("S_INTERSECTS(geometry, LINESTRING(" + ", ".join(["1 2"] * 1200) + "))", "invalid_filter"),
    ],
)
def test_too_deep_or_too_large_is_refused_while_reading(cql_text: str, code: str) -> None:
    with pytest.raises(FilterError) as caught:
        text.parse(cql_text)
    assert caught.value.code == code


def test_deep_or_large_json_is_refused_before_it_is_walked() -> None:
    deep = {"op": "=", "args": [{"property": "x"}, 1]}
    for _ in range(MAX_DEPTH + 5):
        deep = {"op": "not", "args": [deep]}
    many = {"op": "or", "args": [{"op": "=", "args": [{"property": "x"}, i]}
                                 for i in range(MAX_NODES)]}  # fmt: skip
    cases = [
        json.dumps(deep),
        "[" * 100_000 + "]" * 100_000,  # beyond what the JSON reader nests
        json.dumps(many),
        json.dumps({"op": "in", "args": [{"property": "x"}, list(range(5000))]}),
        " " * (MAX_LENGTH + 1),
    ]
    for doc in cases:
        with pytest.raises(FilterError):
            cql2_json.parse(doc)


def test_the_worst_inputs_cost_little_time() -> None:
    """A budget (generous: the machine is shared): the largest inputs each allowed shape
    can take are read, or refused, in well under a second."""
    worst = [
        "NOT " * (MAX_LENGTH // 4 - 2) + "x=1",
        "(" * (MAX_LENGTH // 2) + ")" * (MAX_LENGTH // 2),
        " OR ".join(f"x = {i}" for i in range(MAX_NODES // 3 - 1)),
        "S_INTERSECTS(geometry, MULTIPOINT(" + ",".join(["1 2"] * 999) + "))",
        "x IN (" + ",".join(["'ab'"] * 198) + ")",
        "x = '" + "''" * (MAX_LENGTH // 2 - 4) + "'",
    ]
    for cql_text in worst:
        assert len(cql_text) <= MAX_LENGTH
        started = time.perf_counter()
        with contextlib.suppress(FilterError):
            text.parse(cql_text)
        assert time.perf_counter() - started < 1.0, cql_text[:40]


def test_compile_refuses_what_is_not_public_or_not_typed() -> None:
    def check(cql_text: str) -> str:
        with pytest.raises(FilterError) as caught:
            compile_filter(text.parse(cql_text), grid_m=250)
        return caught.value.code

    for private in ("contributor_name", "contributor_contact", "status", "sensitivity",
                    "workshop", "geom", "display_name", "email"):  # fmt: skip
        assert check(f"{private} = 'x'") == "private_property", private
    assert check("nobody = 1") == "unknown_property"
    assert check("title > 5") == "type_mismatch"
    assert check("year_from = 'x'") == "type_mismatch"
    assert check("geometry = 1") == "invalid_filter"
    assert check("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))") == "invalid_filter"
    assert check("S_INTERSECTS(title, POINT(0 0))") == "invalid_filter"
    assert check("S_DWITHIN(geometry, POINT(0 0), 10, feet)") == "invalid_filter"
    assert check("T_AFTER(year_from, DATE('2000-01-01'))") == "invalid_filter"
    assert check("upper(title) = 'X'") == "unsupported_function"
    assert check("S_INTERSECTS(geometry, POINT(200 10))") == "invalid_filter"
    # Work per place, each a callback or a scan of the stories: four at most.
    costly = [
        " OR ".join(f"CASEI(ACCENTI(title)) LIKE '%{c}%'" for c in "abc"),
        " AND ".join(f"S_DISJOINT(geometry, POINT({i} 0))" for i in range(5)),
        "language = 'pt' OR language = 'en' OR CASEI(title) = 'x' OR CASEI(period) = 'y' "
        "OR S_INTERSECTS(geometry, POINT(0 0))",
    ]
    for cql in costly:
        assert check(cql) == "filter_too_costly", cql
    compile_filter(
        text.parse(
            "language IN ('pt', 'en', 'fr') AND CASEI(ACCENTI(title)) "
            "LIKE '%se%' AND S_INTERSECTS(geometry, POINT(0 0))"
        ),
        grid_m=250,
    )
