"""SQLite next to PostGIS: the same submission, export and bulk workloads on each backend.

For each backend, in one run on this machine:

1. ``store.add_many`` of ``--bulk`` published points (100,000 by default) into a store
   holding the Lisbon demo: places per second;
2. ``places_near`` (the duplicate-hint query: R*Tree box on SQLite, ``ST_DWithin`` on
   PostGIS) at ``--near`` random points among them: calls per second;
3. the real service (uvicorn, ``--workers`` processes, rate limit lifted) started on
   127.0.0.1 against that store, driven by ``--concurrency`` httpx/asyncio clients for
   ``--seconds``: first ``GET /healthz`` (the baseline: what this machine, this client
   and the workers do at all), then ``POST /api/places`` with valid GeoJSON Features
   (as bench_submissions.py sends them);
4. the open-data export ``GET /api/export/places.geojson`` of every published place,
   streamed and read to the end (one warm-up, then the median of ``--exports`` runs).

Prints the figures side by side with the PostGIS/SQLite ratio, and on PostGIS the plans
(EXPLAIN) of the map's bbox query, the export query and the duplicate-hint query.
PostGIS runs in a schema of its own (``--postgis-url``, default
``HERITAGE_TEST_POSTGIS_URL``), dropped at the end.

Run: ``python bench/bench_backends.py [--seconds 10] [--bulk 100000] [--workers 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_submissions import LAT, LON, Run, cpu_seconds, drive, submission  # noqa: E402
from shapely.geometry import Point  # noqa: E402

from geodata.demo import load_demo  # noqa: E402
from geodata.models import Consent, Narrative, Place, Status  # noqa: E402
from geodata.privacy import public_filter  # noqa: E402
from geodata.store import open_store  # noqa: E402
from geodata.store.base import PlaceFilter  # noqa: E402

MAP_VIEW = (-9.145, 38.705, -9.135, 38.715)  # about 900 m x 1.1 km of central Lisbon
EXPORT_PATH = "/api/export/places.geojson"


@dataclass
class Figures:
    backend: str
    bulk_s: float = float("nan")
    near_per_s: float = float("nan")
    runs: dict[str, Run] = field(default_factory=dict)
    export_s: list[float] = field(default_factory=list)
    export_bytes: int = 0
    exported: int = 0


def bulk_places(n: int, seed: int = 11) -> list[Place]:
    rng = random.Random(seed)
    return [
        Place(
            geometry=Point(round(rng.uniform(*LON), 6), round(rng.uniform(*LAT), 6)),
            title=f"Bulk place {i}",
            narratives=[Narrative(f"A remembered place, number {i}.", "pt")],
            category=rng.choice(["memory", "food", "tradition", "building", "other"]),
            status=Status.PUBLISHED,
            consent=Consent(publish=True, open_data=True),
        )
        for i in range(n)
    ]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, workdir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")},
           "HERITAGE_DATABASE_URL": url, "HERITAGE_TILES": "none",
           "HERITAGE_SUBMISSION_RATE_LIMIT": "0", "HERITAGE_MEDIA_DIR": str(workdir / "media"),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "web.asgi:app", "--host", "127.0.0.1", "--port",
         str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=workdir)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped at start")
        try:
            if httpx.get(base + "/healthz", timeout=2.0).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start within 60 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=5)


async def http_workloads(base: str, args: argparse.Namespace, pid: int) -> dict[str, Run]:
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=args.concurrency,
                          max_keepalive_connections=args.concurrency)  # fmt: skip
    json_headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        await drive(client, Run("warm-up"), lambda i: ("POST", "/api/places", {
            "content": submission(rng, -i - 1), "headers": json_headers}),
            args.concurrency, 1.0, 200)  # fmt: skip
        baseline = Run("GET /healthz")
        cpu = server_cpu(pid)
        await drive(client, baseline, lambda i: ("GET", "/healthz", {}), args.concurrency,
                    args.seconds, args.max_requests)  # fmt: skip
        baseline.server_cpu = server_cpu(pid) - cpu
        bodies = [submission(rng, i) for i in range(min(args.max_requests, 50_000))]
        submissions = Run("POST /api/places")
        cpu = server_cpu(pid)
        await drive(client, submissions, lambda i: ("POST", "/api/places", {
            "content": bodies[i % len(bodies)],
            "headers": {**json_headers, "idempotency-key": str(uuid.uuid4())}}),
            args.concurrency, args.seconds, args.max_requests)  # fmt: skip
        submissions.server_cpu = server_cpu(pid) - cpu
    return {"baseline": baseline, "submissions": submissions}


def server_cpu(pid: int) -> float:
    """CPU seconds of the server and its worker processes (uvicorn --workers N)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return cpu_seconds(pid) + sum(cpu_seconds(int(k)) for k in kids)


def export_once(base: str) -> tuple[float, int, bytes]:
    started, size, tail = time.perf_counter(), 0, b""
    with httpx.stream("GET", base + EXPORT_PATH, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
            tail = (tail + chunk)[-64:]
    return time.perf_counter() - started, size, tail


def measure(backend: str, url: str, places: list[Place], args, workdir: Path) -> Figures:
    figures = Figures(backend)
    store = open_store(url)
    try:
        load_demo(store)
        started = time.perf_counter()
        store.add_many(places)
        figures.bulk_s = time.perf_counter() - started
        rng = random.Random(3)
        points = [Point(rng.uniform(*LON), rng.uniform(*LAT)) for _ in range(args.near)]
        live = PlaceFilter(status=[Status.PENDING, Status.PUBLISHED])
        started = time.perf_counter()
        for p in points:
            store.places_near(p, 25.0, live)
        figures.near_per_s = len(points) / (time.perf_counter() - started)
        figures.exported = store.count(public_filter(PlaceFilter(), "open_data"))
    finally:
        store.close()
    server, base = start_server(url, workdir, args.workers)
    try:
        figures.runs = asyncio.run(http_workloads(base, args, server.pid))
        _, figures.export_bytes, tail = export_once(base)  # warm-up, and a check
        assert tail.rstrip().endswith(b"}"), tail
        figures.export_s = [export_once(base)[0] for _ in range(args.exports)]
    finally:
        stop(server)
    return figures


def explain(url: str) -> list[tuple[str, str]]:
    """PostgreSQL's plans for the map's bbox query, the export and a duplicate hint."""
    store = open_store(url)
    try:
        plans = [
            ("map view: published places in a bbox (list)",
             store.explain(public_filter(PlaceFilter(bbox=MAP_VIEW), "map"), limit=2000)),  # type: ignore[attr-defined]
            ("open-data export: every published place, streamed from a cursor",
             store.explain(public_filter(PlaceFilter(), "open_data"))),  # type: ignore[attr-defined]
            ("open-data export of a bbox",
             store.explain(public_filter(PlaceFilter(bbox=MAP_VIEW), "open_data"))),  # type: ignore[attr-defined]
        ]  # fmt: skip
        # The duplicate-hint query, as places_near sends it, explained as sent.
        sent: dict[str, object] = {}
        fetchall = store._fetchall  # type: ignore[attr-defined]

        def capture(query, params=()):
            sent.update(query=query, params=params)
            return fetchall(query, params)

        store._fetchall = capture  # type: ignore[attr-defined]
        store.places_near(Point(-9.14, 38.71), 25.0, PlaceFilter(status=["pending", "published"]))
        del store._fetchall  # type: ignore[attr-defined]
        rows = fetchall("EXPLAIN " + sent["query"], sent["params"])
        plans.append(("duplicate hint: places_near (ST_DWithin, 25 m)",
                      "\n".join(r[0] for r in rows)))  # fmt: skip
        return plans
    finally:
        store.close()


def report(results: list[Figures], args) -> None:
    sqlite, pg = results

    def ratio(a: float, b: float) -> str:
        return f"{b / a:6.2f}x" if a and a == a and b == b else "   n/a"

    def row(label: str, a: str, b: str, r: str) -> None:
        print(f"{label:<38} {a:>24} {b:>24}   {r}")

    print(
        f"\n{args.workers} uvicorn worker(s) on 127.0.0.1, {args.concurrency} concurrent "
        f"clients, {args.seconds:.0f} s per HTTP phase, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} (the machine is shared: compare within one run)"
    )
    row("workload", "SQLite", "PostGIS", "PostGIS/SQLite")
    ba, bb = args.bulk / sqlite.bulk_s, args.bulk / pg.bulk_s
    row(f"add_many {args.bulk:,} points", f"{ba:,.0f} places/s", f"{bb:,.0f} places/s",
        ratio(ba, bb))  # fmt: skip
    row("places_near 25 m (duplicate hints)", f"{sqlite.near_per_s:,.0f} calls/s",
        f"{pg.near_per_s:,.0f} calls/s", ratio(sqlite.near_per_s, pg.near_per_s))  # fmt: skip
    for key in ("baseline", "submissions"):
        a, b = sqlite.runs[key], pg.runs[key]
        row(a.name + " rate", f"{a.rate():,.1f} req/s", f"{b.rate():,.1f} req/s",
            ratio(a.rate(), b.rate()))  # fmt: skip
        for q in (0.50, 0.99):
            row(f"{a.name} p{int(q * 100)}", f"{a.pct(q):.1f} ms", f"{b.pct(q):.1f} ms",
                ratio(a.pct(q), b.pct(q)))  # fmt: skip
        row(f"{a.name} 5xx / other non-2xx / conn. errors",
            f"{a.server_errors} / {sum(n for s, n in a.statuses.items() if 300 <= s < 500)}"
            f" / {a.errors}",
            f"{b.server_errors} / {sum(n for s, n in b.statuses.items() if 300 <= s < 500)}"
            f" / {b.errors}", "")  # fmt: skip
        row(f"{a.name} server CPU per request", f"{a.cpu_ms():.2f} ms", f"{b.cpu_ms():.2f} ms",
            ratio(a.cpu_ms(), b.cpu_ms()))  # fmt: skip
    ea, eb = statistics.median(sqlite.export_s), statistics.median(pg.export_s)
    fa, fb = sqlite.exported / ea, pg.exported / eb
    row(f"GET {EXPORT_PATH}", f"{fa:,.0f} features/s", f"{fb:,.0f} features/s", ratio(fa, fb))
    row("  (features, MB, median seconds)",
        f"{sqlite.exported:,}, {sqlite.export_bytes / 1e6:.0f} MB, {ea:.2f} s",
        f"{pg.exported:,}, {pg.export_bytes / 1e6:.0f} MB, {eb:.2f} s", "")  # fmt: skip
    print("ratios: PostGIS over SQLite; for rates above 1 means PostGIS is faster, for "
          "latencies and CPU that it is slower. Server CPU is uvicorn's processes alone: "
          "SQLite's work is in them, PostgreSQL's is in its own processes.")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per HTTP phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=50_000, help="per HTTP phase")
    parser.add_argument("--bulk", type=int, default=100_000, help="points for add_many")
    parser.add_argument("--near", type=int, default=2000, help="places_near calls")
    parser.add_argument("--exports", type=int, default=3, help="timed export runs")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--postgis-url",
        default=os.environ.get(
            "HERITAGE_TEST_POSTGIS_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    import psycopg

    from geodata.store.postgis_connections import parse_url

    schema = f"bench_{secrets.token_hex(4)}"
    pg_url = f"{args.postgis_url}{'&' if '?' in args.postgis_url else '?'}schema={schema}"
    places = bulk_places(args.bulk)
    results: list[Figures] = []
    try:
        with tempfile.TemporaryDirectory(prefix="heritage-bench-backends-") as tmp:
            workdir = Path(tmp)
            for backend, url in (("SQLite", f"sqlite:///{workdir / 'bench.db'}"),
                                 ("PostGIS", pg_url)):  # fmt: skip
                print(f"measuring {backend}...", file=sys.stderr, flush=True)
                results.append(measure(backend, url, places, args, workdir))
            plans = explain(pg_url)
    finally:
        conninfo, _ = parse_url(args.postgis_url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    report(results, args)
    for title, plan in plans:
        print(f"\nEXPLAIN {title}\n{plan}")
    body = orjson.dumps({r.backend: r.exported for r in results}).decode()
    print(f"\npublished places exported per backend: {body}")


if __name__ == "__main__":
    main()
