"""Hostile filters: the CQL2 corpus in ``tests/hostile/cql2/`` (rebuilt by its
``build_corpus.py``), sent to the places of OGC API – Features on each backend. Each is
refused with a 400 problem naming ``filter``, quickly, or (``harmless_*``: SQL-looking
text inside a string, pathological wildcards) read as the text it is, selecting nothing
that is not open data and saying nothing private."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from geodata.privacy import public_filter
from geodata.store.base import PlaceStore
from geodata.store.migrate import table_counts
from tests.conftest import SECRET_CONTACT, SECRET_DISPLAY, SECRET_NAME

HOSTILE = Path(__file__).resolve().parents[1] / "hostile" / "cql2"
CASES = sorted(HOSTILE.iterdir())
ITEMS = "/ogc/collections/places/items"


def test_the_corpus_is_there() -> None:
    names = {p.name for p in CASES}
    assert len(names) >= 40 and any(n.endswith(".json") for n in names)
    assert sum(n.startswith("harmless_") for n in names) >= 5


# One app per backend for the whole corpus, each case a subtest reported by its name: a
# fresh app with the demo per case cost more than the case itself. No case stores
# anything, and the counts are compared after every one.
def test_each_hostile_filter_is_refused_or_read_as_plain_text(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str], subtests
) -> None:
    before = table_counts(lisbon_store)
    open_data = {p.id for p in lisbon_store.list(public_filter(None, "open_data"))}
    for path in CASES:
        with subtests.test(case=path.name):
            language = "cql2-json" if path.suffix == ".json" else "cql2-text"
            started = time.perf_counter()
            r = client.get(
                ITEMS,
                params={
                    "filter": path.read_bytes().decode(),
                    "filter-lang": language,
                    "limit": 10_000,
                },
            )
            elapsed = time.perf_counter() - started
            for secret in (SECRET_NAME, SECRET_CONTACT, SECRET_DISPLAY):
                assert secret not in r.text
            if path.name.startswith("harmless_"):
                assert r.status_code == 200, r.text
                assert {f["id"] for f in r.json()["features"]} <= open_data
            else:
                assert r.status_code == 400, r.text[:300]
                assert r.headers["content-type"] == "application/problem+json"
                problem = r.json()
                assert problem["errors"][0]["field"] == "filter"
                assert problem["detail"].startswith("filter")
            assert table_counts(lisbon_store) == before
            assert elapsed < 10, f"{path.name} took {elapsed:.1f} s"  # generous: shared machine


@pytest.mark.parametrize(
    "query",
    [
        "filter=title%20%3D%20%27%ED%A0%80%27",  # a UTF-16 surrogate, UTF-8 encoded
        "filter=title%20%3D%20%27%FF%FE%27",  # not UTF-8 at all
        "filter=title%20%3D%20%27%C0%AF%27",  # an overlong slash
        "filter=%22title%00%22%20%3D%201",  # NUL in a quoted name
    ],
)
def test_broken_bytes_in_a_filter_get_a_400(client, query: str) -> None:
    r = client.get(f"{ITEMS}?{query}")
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "filter"


@pytest.mark.parametrize("name", ["title", "period", "licence", "language", "id"])
def test_a_nul_in_a_queryable_parameter_gets_a_400(client, name: str) -> None:
    r = client.get(f"{ITEMS}?{name}=a%00b")
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == name
