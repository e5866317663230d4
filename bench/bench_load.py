"""Mixed load: does the service keep answering, and keep every write, with 32 clients?

Starts ``python -m web serve`` (one worker, as an operator runs it) on 127.0.0.1 with the
Lisbon demo in a fresh SQLite file (or the database of ``--database-url``, e.g. a
PostGIS schema), then drives it from this process for ``--seconds`` (60) with
``--clients`` (32) httpx/asyncio clients. Each client loops over a weighted mix of what
the three kinds of users do:

- residents: submit places (``POST /api/places``), open a popup;
- facilitators and visitors: open map pages, pan and zoom (``/api/map/places`` views),
  search;
- planners: OGC API item pages with a bbox, GeoJSON and CSV downloads;
- and ``GET /healthz``, the baseline measured in the same run: the cheapest route that
  reaches the database, on the same machine, client and worker.

Prints, per kind of request: answers/s, p50/p90/p99/max latency, p50 as a multiple of
the baseline's, the count of 5xx and of other non-2xx answers. Then it stops the server
and checks that every place answered 201 is in the store: no lost write. Exit status 1
if there was any 5xx, connection error or lost write. A benchmark, not a test: the
numbers depend on the machine (its load average is printed too).

Run: ``python bench/bench_load.py [--seconds 60] [--clients 32] [--database-url URL]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geodata.demo import load_demo  # noqa: E402
from geodata.store import open_store  # noqa: E402

# The city's extent and a few words for titles and searches.
LON = (-9.22, -9.09)
LAT = (38.69, 38.79)
WORDS = ("Tasca", "Largo", "Miradouro", "Mercado", "Pátio", "Chafariz", "Teatro", "Jardim")
SEARCHES = ("museu", "igreja", "teatro", "Alfama", "Belém", "largo", "fado", "palácio")
CATEGORIES = ("memory", "food", "tradition", "building", "museum", "monument")
# kind -> weight in the mix
MIX = {
    "baseline GET /healthz": 6,
    "submit a place": 18,
    "popup": 8,
    "map page": 4,
    "map view (pan/zoom)": 26,
    "search": 6,
    "OGC API items": 20,
    "download GeoJSON": 4,
    "download CSV": 2,
    "neighbourhood counts": 2,
}


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Kind:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # connection failures and timeouts

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    @property
    def other(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 400 and s < 500)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class Load:
    """The requests a client may make, built from the store's own data."""

    rng: random.Random
    popup_ids: list[str]
    neighbourhoods: list[int]
    acknowledged: list[str] = field(default_factory=list)
    n: int = 0

    def view(self) -> str:
        zoom = self.rng.randint(12, 17)
        span = 0.35 / 2 ** (zoom - 11)
        lon, lat = self.rng.uniform(*LON), self.rng.uniform(*LAT)
        return f"{lon:.5f},{lat:.5f},{lon + span:.5f},{lat + span * 0.8:.5f}", zoom

    def request(self, kind: str) -> tuple[str, str, dict]:
        rng = self.rng
        if kind == "baseline GET /healthz":
            return "GET", "/healthz", {}
        if kind == "submit a place":
            self.n += 1
            title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {self.n}"
            body = {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        round(rng.uniform(-9.185, -9.105), 6),
                        round(rng.uniform(38.705, 38.760), 6),
                    ],
                },
                "properties": {
                    "title": title,
                    "narratives": [{"text": f"A story about {title}.", "language": "pt"}],
                    "category": rng.choice(CATEGORIES),
                    "consent": {"publish": True, "open_data": True},
                },
            }
            headers = {"content-type": "application/json"}
            return "POST", "/api/places", {"content": orjson.dumps(body), "headers": headers}
        if kind == "popup":
            return "GET", f"/api/map/places/{rng.choice(self.popup_ids)}", {}
        if kind == "map page":
            if rng.random() < 0.5:
                return "GET", "/maps/city", {}
            return "GET", f"/maps/neighbourhoods/{rng.choice(self.neighbourhoods)}", {}
        if kind == "map view (pan/zoom)":
            bbox, zoom = self.view()
            return "GET", "/api/map/places", {"params": {"bbox": bbox, "zoom": zoom}}
        if kind == "search":
            return "GET", "/api/map/search", {"params": {"q": rng.choice(SEARCHES)}}
        if kind == "OGC API items":
            bbox, _ = self.view()
            params = {"bbox": bbox, "limit": rng.choice([10, 50, 100]), "f": "json"}
            if rng.random() < 0.3:
                params["offset"] = rng.randint(0, 200)
            return "GET", "/ogc/collections/places/items", {"params": params}
        if kind == "download GeoJSON":
            params = {"neighbourhood": str(rng.choice(self.neighbourhoods))}
            if rng.random() < 0.2:
                params = {}  # the whole city
            return "GET", "/api/export/places.geojson", {"params": params}
        if kind == "download CSV":
            return "GET", "/api/export/places.csv", {"params": {"category": rng.choice(CATEGORIES)}}
        if kind == "neighbourhood counts":
            return "GET", "/api/export/neighbourhoods.geojson", {}
        raise ValueError(kind)


async def drive(url: str, load: Load, kinds: dict[str, Kind], clients: int, seconds: float):
    names, weights = list(MIX), list(MIX.values())
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0) as client:

        async def one_client(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                kind = rng.choices(names, weights)[0]
                method, path, kwargs = load.request(kind)
                started = time.perf_counter()
                try:
                    response = await client.request(method, path, **kwargs)
                except httpx.HTTPError:
                    kinds[kind].errors += 1
                    continue
                stats = kinds[kind]
                stats.latencies.append(time.perf_counter() - started)
                stats.statuses[response.status_code] = (
                    stats.statuses.get(response.status_code, 0) + 1
                )
                if kind == "submit a place" and response.status_code == 201:
                    load.acknowledged.append(response.json()["id"])

        await asyncio.gather(*(one_client(i) for i in range(clients)))


def start_server(url: str, workdir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "HERITAGE_DATABASE_URL": url,
        "HERITAGE_TILES": "none",
        "HERITAGE_SUBMISSION_RATE_LIMIT": "0",  # every client is 127.0.0.1 here
        "HERITAGE_MEDIA_DIR": str(workdir / "media"),
    }
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - kept open for the process
    return subprocess.Popen(
        [sys.executable, "-m", "web", "serve", "--port", str(port)],
        env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped at start")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--database-url", help="default: a fresh SQLite file with the demo")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="heritage-load-"))
    url = args.database_url or f"sqlite:///{workdir / 'load.db'}"
    store = open_store(url)
    try:
        if store.count() == 0:
            load_demo(store)
        before = store.count()
        popup_ids = [p.id for p in store.list(limit=400)]
        neighbourhoods = [n.id for n in store.neighbourhoods()]
    finally:
        store.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(url, workdir, port)
    kinds = {name: Kind(name) for name in MIX}
    load = Load(random.Random(args.seed), popup_ids, neighbourhoods)
    try:
        wait_until_up(base, server)
        cpu = cpu_seconds(server.pid)
        started = time.perf_counter()
        asyncio.run(drive(base, load, kinds, args.clients, args.seconds))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(server.pid) - cpu
    finally:
        server.terminate()
        server.wait(timeout=60)

    store = open_store(url)
    try:
        lost = 0
        for place_id in load.acknowledged:
            try:
                store.get(place_id)
            except Exception:  # NotFound, above all
                lost += 1
        after = store.count()
    finally:
        store.close()

    total = sum(k.answered for k in kinds.values())
    base_p50 = kinds["baseline GET /healthz"].pct(0.5)
    print(
        f"{args.clients} clients for {elapsed:.0f} s on 127.0.0.1, one worker, "
        f"{url.split(':')[0]}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'kind':<24}{'answers':>8}{'/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'p50/base':>10}{'5xx':>6}{'4xx':>6}{'conn.err':>9}"
    )
    for k in kinds.values():
        print(
            f"{k.name:<24}{k.answered:>8}{k.answered / elapsed:>8.1f}{k.pct(0.5):>9.1f}"
            f"{k.pct(0.9):>9.1f}{k.pct(0.99):>9.1f}{k.pct(1.0):>9.1f}"
            f"{k.pct(0.5) / base_p50:>10.1f}{k.server_errors:>6}{k.other:>6}{k.errors:>9}"
        )
    server_errors = sum(k.server_errors for k in kinds.values())
    errors = sum(k.errors for k in kinds.values())
    cpu_ms = cpu / max(total, 1) * 1000
    print(
        f"all: {total} answers, {total / elapsed:.1f}/s, server CPU {cpu_ms:.2f} ms per "
        f"request; 5xx {server_errors}; connection errors {errors}"
    )
    print(
        f"writes: {len(load.acknowledged)} places answered 201, {lost} missing afterwards "
        f"(store: {before} -> {after} places)"
    )
    return 1 if server_errors or errors or lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
