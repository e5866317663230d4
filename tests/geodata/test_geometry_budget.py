"""Every pathological shape of the hostile corpus (``tests/hostile/json/geometry_*``:
stars of 50 to 10,000 points, spirals, coils, combs, retraced lines, thousands of holes,
near-duplicate points, nested bowties) is refused within a CPU budget, on the
single-feature path and the bulk path alike, with the same verdict on both.

Before the bounded checks a 100-point star cost ten seconds of ``make_valid`` and a
10,000-point one grew the process to 4.9 GB. The target is 100 ms of CPU per shape,
measured by ``bench/bench_geometry_budget.py``; here each shape gets 1 s, because the
machine running the suite is shared and its timings are noisy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from geodata.demo import NEIGHBOURHOODS, demo_path
from geodata.errors import GeometryError
from geodata.geometry import validate_place_geometries, validate_place_geometry
from geodata.geometry_rules import GeometryRules, ProjectArea
from geodata.neighbourhoods import read_neighbourhoods

SHAPES = sorted((Path(__file__).resolve().parents[1] / "hostile" / "json").glob("geometry_*"))
BUDGET_S = 1.0


@pytest.fixture(scope="module")
def rules() -> GeometryRules:
    items = read_neighbourhoods(demo_path(NEIGHBOURHOODS), "NOME").items
    return GeometryRules(area=ProjectArea.from_geometries([g for _, g, _ in items], 500))


def cpu_seconds(work: Callable[[], Any]) -> tuple[Any, float]:
    start = time.process_time()
    result = work()
    return result, time.process_time() - start


def refusal(geometry: dict, rules: GeometryRules) -> GeometryError:
    try:
        validate_place_geometry(geometry, rules)
    except GeometryError as exc:
        return exc
    raise AssertionError("accepted")


def test_the_corpus_has_the_pathological_shapes():
    names = {p.stem for p in SHAPES}
    assert len(names) >= 20
    for family in ("star_50", "star_10000", "spiral", "comb", "retracing", "holes", "bowtie"):
        assert any(family in n for n in names), family


@pytest.mark.parametrize("path", SHAPES, ids=lambda p: p.stem.removeprefix("geometry_"))
def test_a_pathological_shape_is_refused_within_the_budget_on_both_paths(rules, path: Path):
    geometry = orjson.loads(path.read_bytes())["geometry"]
    single, single_s = cpu_seconds(lambda: refusal(geometry, rules))
    assert single_s < BUDGET_S, f"single-feature check took {single_s:.2f} s of CPU"
    bulk, bulk_s = cpu_seconds(lambda: validate_place_geometries([geometry], rules))
    assert bulk_s < BUDGET_S, f"bulk check took {bulk_s:.2f} s of CPU"
    assert (bulk.codes[0], bulk.messages[0]) == (single.code, single.message)
    assert bulk.geometries[0] is None


def test_the_whole_corpus_in_one_bulk_call_keeps_each_verdict(rules):
    geometries = [orjson.loads(p.read_bytes())["geometry"] for p in SHAPES]
    bulk, seconds = cpu_seconds(lambda: validate_place_geometries(geometries, rules))
    assert seconds < BUDGET_S * len(SHAPES) / 4
    for i, geometry in enumerate(geometries):
        single = refusal(geometry, rules)
        assert (bulk.codes[i], bulk.messages[i]) == (single.code, single.message), SHAPES[i].stem
