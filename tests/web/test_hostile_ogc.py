"""Hostile OGC API requests: the corpus in ``tests/hostile/ogc/`` (rebuilt by its
``build_corpus.py``), sent on each backend. Every one gets the 400 or 404 its file says,
as problem+json naming the parameter (issue 17's bad input: an unknown crs or bbox-crs,
a malformed or too-deep filter, an unknown queryable, a tile outside the matrix set, a
format not offered), quickly, saying nothing private and changing nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

from geodata.store.base import PlaceStore
from geodata.store.migrate import table_counts
from tests.conftest import SECRET_CONTACT, SECRET_DISPLAY, SECRET_NAME

HOSTILE = Path(__file__).resolve().parents[1] / "hostile" / "ogc"
CASES = sorted(HOSTILE.glob("*.json"))


def hostile_requests() -> list[tuple[str, dict]]:
    """(name, {path, query, status, parameter}) for each file of the corpus."""
    return [(p.stem, json.loads(p.read_text(encoding="utf-8"))) for p in CASES]


def test_the_corpus_covers_every_kind_of_bad_input() -> None:
    named = {case["parameter"] for _, case in hostile_requests()}
    assert {"crs", "bbox-crs", "filter-crs", "filter", "tileMatrix", "tileRow", "tileCol",
            "f", "format", "collectionId"} <= named  # fmt: skip


def refusal_problems(status: int, media_type: str, text: str, case: dict) -> list[str]:
    """What is wrong with an answer to a hostile request (nothing: an empty list)."""
    if status != case["status"]:
        return [f"status {status}: {text[:200]}"]
    if media_type != "application/problem+json":
        return [f"content type {media_type}"]
    problem = json.loads(text)
    wrong = [] if problem["detail"] else ["no detail"]
    if case["parameter"] not in [e["field"] for e in problem.get("errors", [])]:
        wrong.append(f"the problem does not name {case['parameter']}: {problem}")
    return wrong + [
        "a secret in the answer"
        for secret in (SECRET_NAME, SECRET_CONTACT, SECRET_DISPLAY)
        if secret in text
    ]


def test_each_hostile_request_is_a_problem_naming_its_parameter(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    before = table_counts(lisbon_store)
    failed = {}
    for name, case in hostile_requests():
        started = time.perf_counter()
        r = client.get(case["path"], params=case["query"])
        elapsed = time.perf_counter() - started
        wrong = refusal_problems(r.status_code, r.headers["content-type"], r.text, case)
        if elapsed > 10:  # generous: the machine is shared
            wrong.append(f"took {elapsed:.1f} s")
        if wrong:
            failed[name] = wrong
    assert failed == {}
    assert table_counts(lisbon_store) == before
