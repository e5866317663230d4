"""CQL2 filters on OGC API – Features items: requests per second on SQLite and PostGIS.

For each backend, a store holding the Lisbon demo and ``--places`` more published places
(100,000 by default: years, categories, stories in three languages, one in ten with a
generalised location) is served by uvicorn (``--workers`` processes) on 127.0.0.1 and
driven by ``--concurrency`` httpx/asyncio clients for ``--seconds`` per workload, each
request a page of 10 features with its ``numberMatched``, its parameters varied from
request to request (so no cache answers twice):

- ``items`` with no filter and ``bbox=`` (the baseline: what the items path costs);
- ``filter`` with comparisons (years, category), a LIKE with CASEI, an S_INTERSECTS
  box, an S_DWITHIN circle and a temporal T_INTERSECTS, in CQL2 text and one in JSON.

Prints requests per second, the median and 99th percentile latency, the server's CPU per
request, and each filter's rate as a ratio of the bbox baseline. PostGIS runs in a schema
of its own (``--postgis-url``, default ``HERITAGE_TEST_POSTGIS_URL``), dropped at the end.

Run: ``python bench/bench_filters.py [--seconds 5] [--places 100000] [--backends sqlite]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_backends import start_server, stop  # noqa: E402
from bench_submissions import LAT, LON, Run, drive  # noqa: E402
from shapely.geometry import Point  # noqa: E402

from geodata.demo import load_demo  # noqa: E402
from geodata.models import Consent, Narrative, Place, Sensitivity, Status  # noqa: E402
from geodata.store import open_store  # noqa: E402

ITEMS = "/ogc/collections/places/items"
CATEGORIES = ["monument", "building", "museum", "theatre", "religious", "memory"]


def places(n: int, seed: int = 5) -> list[Place]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        y0 = rng.choice([None, rng.randint(1500, 2020)])
        out.append(
            Place(
                geometry=Point(round(rng.uniform(*LON), 6), round(rng.uniform(*LAT), 6)),
                title=rng.choice(["Igreja", "Casa", "Pátio", "Museu", "Café"]) + f" {i}",
                narratives=[Narrative(f"story {i}", rng.choice(["pt", "en", "fr"]))],
                category=rng.choice(CATEGORIES),
                status=Status.PUBLISHED,
                year_from=y0,
                year_to=None if y0 is None else y0 + rng.choice([0, 9, 50]),
                sensitivity=Sensitivity.GENERALISED if i % 10 == 0 else Sensitivity.PUBLIC,
                consent=Consent(publish=True, open_data=True),
            )
        )
    return out


def _box(rng: random.Random, size: float) -> tuple[float, float, float, float]:
    x, y = rng.uniform(*LON), rng.uniform(*LAT)
    return (round(x, 5), round(y, 5), round(x + size, 5), round(y + size * 0.8, 5))


def workloads() -> dict[str, object]:
    """Name -> function of the request number giving the query parameters."""

    def params(fn):  # type: ignore[no-untyped-def]
        return lambda i: {"limit": 10, **fn(random.Random(i))}

    return {
        "bbox= (no filter)": params(lambda r: {"bbox": ",".join(map(str, _box(r, 0.01)))}),
        "year_from > Y AND category = C": params(lambda r: {
            "filter": f"year_from > {r.randint(1500, 2000)} AND "
                      f"category = '{r.choice(CATEGORIES)}'"}),
        "CASEI(title) LIKE 'x%'": params(lambda r: {
            "filter": f"CASEI(title) LIKE '{r.choice(['igreja', 'casa', 'museu'])} "
                      f"{r.randint(1, 99)}%'"}),
        "S_INTERSECTS(geometry, BBOX)": params(lambda r: {
            "filter": "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))".format(*_box(r, 0.01))}),
        "S_DWITHIN(geometry, POINT, 300 m)": params(lambda r: {
            "filter": f"S_DWITHIN(geometry, POINT({r.uniform(*LON):.5f} "
                      f"{r.uniform(*LAT):.5f}), 300)"}),
        "T_INTERSECTS(years, INTERVAL)": params(lambda r: {
            "filter": "T_INTERSECTS(INTERVAL(year_from, year_to), "
                      f"INTERVAL('{r.randint(1500, 2000)}-01-01', "
                      f"'{r.randint(2001, 2020)}-12-31'))"}),
        "cql2-json: year AND language": params(lambda r: {
            "filter-lang": "cql2-json",
            "filter": json.dumps({"op": "and", "args": [
                {"op": ">=", "args": [{"property": "year_from"}, r.randint(1500, 2000)]},
                {"op": "=", "args": [{"property": "language"}, r.choice(["pt", "en", "fr"])]}]})}),
    }  # fmt: skip


async def run_all(base: str, args: argparse.Namespace) -> dict[str, Run]:
    limits = httpx.Limits(max_connections=args.concurrency,
                          max_keepalive_connections=args.concurrency)  # fmt: skip
    results = {}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as client:
        for name, make in workloads().items():
            warm = Run("warm-up")
            await drive(client, warm, lambda i, m=make: ("GET", f"{ITEMS}?{urlencode(m(-i))}", {}),
                        args.concurrency, 1.0, 50)  # fmt: skip
            run = Run(name)
            await drive(client, run, lambda i, m=make: ("GET", f"{ITEMS}?{urlencode(m(i))}", {}),
                        args.concurrency, args.seconds, args.max_requests)  # fmt: skip
            results[name] = run
    return results


def measure(backend: str, url: str, data: list[Place], args) -> dict[str, Run]:
    store = open_store(url)
    try:
        load_demo(store)
        store.add_many(data)
        if hasattr(store, "analyze"):
            store.analyze()
    finally:
        store.close()
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(url, Path(tmp), args.workers)
        try:
            return asyncio.run(run_all(base, args))
        finally:
            stop(server)


def report(backend: str, results: dict[str, Run]) -> None:
    base = results["bbox= (no filter)"].rate()
    print(f"\n{backend}: requests/s  p50 ms  p99 ms  errors  vs bbox=")
    for name, run in results.items():
        bad = (
            run.server_errors
            + run.errors
            + sum(n for s, n in run.statuses.items() if 400 <= s < 500)
        )
        print(f"  {name:36s} {run.rate():7.1f} {run.pct(0.5):7.1f} {run.pct(0.99):7.1f} "
              f"{bad:7d}   {run.rate() / base:5.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per workload")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=20_000, help="per workload")
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgis")
    parser.add_argument("--postgis-url", default=os.environ.get("HERITAGE_TEST_POSTGIS_URL"))
    args = parser.parse_args()
    data = places(args.places)
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                report("SQLite", measure("sqlite", f"sqlite:///{tmp}/bench.db", data, args))
        elif backend == "postgis":
            if not args.postgis_url:
                print("PostGIS skipped: give --postgis-url or HERITAGE_TEST_POSTGIS_URL")
                continue
            from tests.postgis_schema import fresh_schema_url

            os.environ["HERITAGE_TEST_POSTGIS_URL"] = args.postgis_url
            with fresh_schema_url("bench_filters") as url:
                report("PostGIS", measure("postgis", url, data, args))


if __name__ == "__main__":
    main()
