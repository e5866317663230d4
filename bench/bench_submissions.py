"""Submissions under load: how many valid places one server worker takes per second.

Starts the real service (uvicorn, one worker, the Lisbon demo in a fresh SQLite file,
rate limits lifted) on 127.0.0.1 in its own process, then drives it from this process
with ``concurrency`` httpx/asyncio clients for a bounded time:

1. a baseline: ``GET /healthz`` (the cheapest route that reaches the database), to show
   what this machine, this client and one worker can do at all;
2. the measured path: ``POST /api/places`` with valid GeoJSON Features (random points
   and titles across the city, one narrative, an Idempotency-Key each, as a phone
   sends them) - each one checked, assigned, duplicate-checked and committed durably.

Prints requests per second, p50/p95/p99 latency, the count of 5xx and other non-2xx
answers, and the ratio of submissions to the baseline. Target: >= 300 submissions/s
with p99 < 100 ms and no 5xx at 16 concurrent clients.

Run: ``python bench/bench_submissions.py [--seconds 10] [--concurrency 16]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
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
# Central Lisbon, well inside the demo parishes.
LON = (-9.185, -9.105)
LAT = (38.705, 38.760)
WORDS = (
    "Tasca",
    "Largo",
    "Miradouro",
    "Mercado",
    "Escadinhas",
    "Pátio",
    "Vila",
    "Rua",
    "Padaria",
    "Chafariz",
    "Igreja",
    "Teatro",
    "Jardim",
    "Beco",
    "Travessa",
    "Cinema",
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), to tell server work apart
    from client work and from whatever else the machine is doing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    name: str
    server_cpu: float = float("nan")
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # connection failures
    elapsed: float = 0.0

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        others = sum(n for s, n in self.statuses.items() if not 200 <= s < 300 and s < 500)
        return (
            f"{self.name:<22} {self.rate():8.1f} req/s   p50 {self.pct(0.50):6.1f} ms   "
            f"p95 {self.pct(0.95):6.1f} ms   p99 {self.pct(0.99):6.1f} ms   "
            f"ok {self.ok:6d}   5xx {self.server_errors}   other {others}   "
            f"conn.errors {self.errors}   server CPU {self.cpu_ms():.2f} ms/req"
        )

    def cpu_ms(self) -> float:
        n = self.ok + sum(n for s, n in self.statuses.items() if not 200 <= s < 300)
        return self.server_cpu / n * 1000 if n else float("nan")


def submission(rng: random.Random, i: int) -> bytes:
    lon, lat = rng.uniform(*LON), rng.uniform(*LAT)
    title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}"
    return orjson.dumps(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {
                "title": title,
                "narratives": [
                    {"text": f"A story about {title}, told by a neighbour.", "language": "pt"}
                ],
                "category": rng.choice(["memory", "food", "tradition", "building", "other"]),
                "tags": ["bench"],
                "consent": {"publish": True, "open_data": True},
            },
        }
    )


async def drive(
    client: httpx.AsyncClient,
    run: Run,
    make_request,
    concurrency: int,
    seconds: float,
    max_requests: int,
    server_pid: int = 0,
) -> None:
    deadline = time.perf_counter() + seconds
    counter = iter(range(max_requests))

    async def worker() -> None:
        while time.perf_counter() < deadline:
            i = next(counter, None)
            if i is None:
                return
            method, url, kwargs = make_request(i)
            started = time.perf_counter()
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.HTTPError:
                run.errors += 1
                continue
            run.latencies.append(time.perf_counter() - started)
            run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1

    started, cpu = time.perf_counter(), cpu_seconds(server_pid)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - started
    run.server_cpu = cpu_seconds(server_pid) - cpu


def start_server(workdir: Path, port: int) -> subprocess.Popen:
    db = workdir / "bench.db"
    env = {
        **os.environ,
        "HERITAGE_DATABASE_URL": f"sqlite:///{db}",
        "HERITAGE_TILES": "none",
        "HERITAGE_SUBMISSION_RATE_LIMIT": "0",
        "HERITAGE_MEDIA_DIR": str(workdir / "media"),
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from geodata.store import open_store; "
            "from geodata.demo import load_demo; import os; "
            "load_demo(open_store(os.environ['HERITAGE_DATABASE_URL']))",
        ],
        env=env,
        check=True,
        cwd=workdir,
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "web.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=workdir,
    )


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start")


async def measure(
    url: str, seconds: float, concurrency: int, max_requests: int, pid: int
) -> list[Run]:
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10.0) as client:
        warm = Run("warm-up")
        await drive(
            client,
            warm,
            lambda i: (
                "POST",
                "/api/places",
                {"content": submission(rng, -i), "headers": {"content-type": "application/json"}},
            ),
            concurrency,
            1.0,
            200,
        )
        baseline = Run("GET /healthz")
        await drive(
            client,
            baseline,
            lambda i: ("GET", "/healthz", {}),
            concurrency,
            seconds,
            max_requests,
            pid,
        )
        bodies = [submission(rng, i) for i in range(min(max_requests, 200_000))]
        submissions = Run("POST /api/places")
        await drive(
            client,
            submissions,
            lambda i: (
                "POST",
                "/api/places",
                {
                    "content": bodies[i % len(bodies)],
                    "headers": {
                        "content-type": "application/json",
                        "idempotency-key": str(uuid.uuid4()),
                    },
                },
            ),
            concurrency,
            seconds,
            max_requests,
            pid,
        )
    return [baseline, submissions]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=50_000, help="per phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heritage-bench-") as tmp:
        workdir = Path(tmp)
        from socket import socket

        with socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        server = start_server(workdir, port)
        try:
            wait_until_up(url)
            baseline, submissions = asyncio.run(
                measure(url, args.seconds, args.concurrency, args.max_requests, server.pid)
            )
            stored = httpx.get(url + "/healthz").json()["places"]
        finally:
            server.terminate()
            server.wait(timeout=10)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"one uvicorn worker on 127.0.0.1, {args.concurrency} concurrent clients, "
        f"{args.seconds:.0f} s per phase, CPUs: {os.cpu_count()}, load average: {load} "
        "(the client shares the machine: latency includes waiting for a CPU)"
    )
    print(baseline.line())
    print(submissions.line())
    ratio = submissions.rate() / baseline.rate() if baseline.rate() else float("nan")
    print(f"submissions / baseline: {ratio:.2f}x   places in the store after the run: {stored}")
    target = (
        submissions.rate() >= 300 and submissions.pct(0.99) < 100 and submissions.server_errors == 0
    )
    print(f"target (>= 300/s, p99 < 100 ms, no 5xx): {'met' if target else 'NOT met'}")
    print(
        f"mean submission latency {statistics.fmean(submissions.latencies) * 1000:.1f} ms"
        if submissions.latencies
        else "no submissions measured"
    )


if __name__ == "__main__":
    main()
