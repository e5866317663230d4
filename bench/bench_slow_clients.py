"""Slow clients: is an honest request still answered while 1,100 connections trickle?

Starts ``python -m web serve`` (one worker, the default settings: 10 s header timeout,
5 s keep-alive, 256 connections per client address, 1,000 requests in progress) on
127.0.0.1 with the Lisbon demo in a fresh SQLite file. An honest client at 127.0.0.1
then sends ``GET /healthz`` over a new connection each time (as a new visitor would),
one after the other, for ``--seconds`` (20) in each of three phases of one run:

1. baseline: nobody else;
2. ``--slow`` (1,100) slow clients spread over ``--addresses`` loopback addresses
   (127.0.0.2 and up; by default as many as keep each under the cap, so only the
   header timeout frees their connections);
3. the same number from one address, 127.0.0.2 (the cap refuses all but 256).

Each slow client opens a connection, sends ``GET / HTTP/1.1`` and one header line, then
one more byte every ``--interval`` seconds (±50 %), and never finishes its head; when
the server closes it, it waits ``--reconnect`` seconds (1) and opens a new one. They run
in a process of their own (asyncio), started before each phase's measurement and
stopped after it.

Prints, per phase: the honest client's requests, p50/p99/max latency, errors (non-200
or no answer within 10 s) and p50 as a multiple of the baseline's; and what the slow
clients saw: connections opened, closed by the server (408s among them), still open at
the end. ``--code DIR`` serves another checkout (e.g. an older revision, for a before
and after). A benchmark, not a test: the numbers depend on the machine (the client
shares it with the server; its load average is printed too).

Run: ``python bench/bench_slow_clients.py [--slow 1100] [--seconds 20] [--code DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HEAD = b"GET / HTTP/1.1\r\nHost: atlas\r\nUser-Agent: slow\r\n"
DEFAULT_CAP = 256  # HERITAGE_MAX_CONNECTIONS_PER_CLIENT's default
HONEST_TIMEOUT_S = 10.0
TARGET_S = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# The slow clients (a process of their own)
# ---------------------------------------------------------------------------


async def slow_client(
    port: int, source: str, interval: float, reconnect: float, stats: dict, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source, 0)
            )
        except OSError:
            stats["connect errors"] += 1
            await asyncio.sleep(reconnect)
            continue
        stats["opened"] += 1
        stats["open now"] += 1
        try:
            writer.write(HEAD)
            while not stop.is_set():
                try:
                    data = await asyncio.wait_for(
                        reader.read(4096), interval * random.uniform(0.5, 1.5)
                    )
                except TimeoutError:
                    writer.write(b"X")
                    continue
                if data.startswith(b"HTTP/1.1 408"):
                    stats["408s"] += 1
                if not data:
                    stats["closed by the server"] += 1
                    break
        except ConnectionError:
            stats["closed by the server"] += 1
        finally:
            stats["open now"] -= 1
            writer.close()
        await asyncio.sleep(reconnect)


def run_slow_clients(
    port: int,
    sources: list[str],
    count: int,
    interval: float,
    reconnect: float,
    ready: mp.Event,  # type: ignore[valid-type]
    done: mp.Event,  # type: ignore[valid-type]
    results: mp.Queue,  # type: ignore[valid-type]
) -> None:
    async def main() -> None:
        stats = dict.fromkeys(
            ("opened", "open now", "closed by the server", "408s", "connect errors"), 0
        )
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(
                slow_client(port, sources[i % len(sources)], interval, reconnect, stats, stop)
            )
            for i in range(count)
        ]
        while stats["opened"] + stats["connect errors"] < count:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the server has seen them all
        ready.set()
        while not done.is_set():
            await asyncio.sleep(0.1)
        still_open = stats.pop("open now")
        results.put({**stats, "still open": still_open})
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main())


# ---------------------------------------------------------------------------
# The honest client and the phases
# ---------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    slow: dict[str, int] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if ordered else 0


def honest_client(url: str, seconds: float) -> Phase:
    phase = Phase("")
    limits = httpx.Limits(max_keepalive_connections=0)  # a new connection each time
    with httpx.Client(timeout=HONEST_TIMEOUT_S, limits=limits) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                response = client.get(url + "/healthz")
                outcome = None if response.status_code == 200 else str(response.status_code)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            phase.latencies.append(time.monotonic() - started)
            if outcome:
                phase.errors[outcome] = phase.errors.get(outcome, 0) + 1
            time.sleep(0.05)
    return phase


def under_attack(
    url: str, port: int, sources: list[str], args: argparse.Namespace, name: str
) -> Phase:
    ctx = mp.get_context("fork")
    ready, done, results = ctx.Event(), ctx.Event(), ctx.Queue()
    attacker = ctx.Process(
        target=run_slow_clients,
        args=(port, sources, args.slow, args.interval, args.reconnect, ready, done, results),
    )
    attacker.start()
    try:
        if not ready.wait(120):
            raise SystemExit("the slow clients could not connect within 120 s")
        phase = honest_client(url, args.seconds)
        done.set()
        phase.slow = results.get(timeout=60)
    finally:
        done.set()
        attacker.join(timeout=30)
        if attacker.is_alive():
            attacker.kill()
    phase.name = name
    return phase


def report(phases: list[Phase]) -> None:
    base = phases[0].pct(0.5) or float("nan")
    print(
        f"\n{'honest GET /healthz, new connection each':<58}"
        f"{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}{'p50/base':>9}"
    )
    for p in phases:
        errors = sum(p.errors.values())
        print(
            f"{p.name:<58}{len(p.latencies):>9}{p.pct(0.5) * 1000:>9.1f}"
            f"{p.pct(0.99) * 1000:>9.1f}{max(p.latencies) * 1000:>9.1f}{errors:>8}"
            f"{p.pct(0.5) / base:>9.2f}"
        )
        if p.errors:
            print(f"    errors: {p.errors}")
        if p.slow:
            print("    slow clients: " + ", ".join(f"{k} {v:,}" for k, v in p.slow.items()))
    worst = max(max(p.latencies) for p in phases)
    failed = sum(sum(p.errors.values()) for p in phases)
    verdict = "met" if worst < TARGET_S and not failed else "NOT met"
    print(f"\ntarget (every honest request answered 200 within {TARGET_S:g} s): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow", type=int, default=1100, help="slow clients (1100)")
    parser.add_argument("--seconds", type=float, default=20, help="honest client per phase")
    parser.add_argument("--addresses", type=int, default=0, help="spread over (auto)")
    parser.add_argument("--interval", type=float, default=1.0, help="s between bytes (1)")
    parser.add_argument("--reconnect", type=float, default=1.0, help="s before reconnecting")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout to serve")
    args = parser.parse_args()
    addresses = args.addresses or math.ceil(args.slow / (DEFAULT_CAP - 1))
    spread = [f"127.0.0.{2 + i}" for i in range(addresses)]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(f"open-file limit (ulimit -n): soft {soft}, hard {hard}; CPUs {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
        env.pop("FORWARDED_ALLOW_IPS", None)
        env |= {
            "PYTHONPATH": str(args.code.resolve()),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HERITAGE_DATABASE_URL": f"sqlite:///{tmp}/slow.db",
            "HERITAGE_TILES": "none",
        }
        log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115 - open while it serves
        server = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--demo", "--port", str(port)],
            env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit((Path(tmp) / "serve.log").read_text()[-3000:])
                time.sleep(0.2)
            print(f"serving {args.code.resolve()} on {url}; {args.slow:,} slow clients")
            base = honest_client(url, args.seconds)
            base.name = "baseline: no slow clients"
            phases = [
                base,
                under_attack(url, port, spread, args, f"{args.slow:,} slow clients from "
                             f"{addresses} addresses"),
                under_attack(url, port, spread[:1], args, f"{args.slow:,} slow clients from "
                             "1 address"),
            ]  # fmt: skip
        finally:
            server.terminate()
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
        server_log = (Path(tmp) / "serve.log").read_text(errors="replace")
    report(phases)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    warnings = [line for line in server_log.splitlines() if "WARNING" in line]
    print(f"server warnings: {len(warnings)}" + (f", last: {warnings[-1]}" if warnings else ""))


if __name__ == "__main__":
    main()
