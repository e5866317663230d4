"""Hostile clients: does one honest resident still get quick answers while the service is
attacked from every side at once?

Starts a default ``python -m web serve`` (one worker, the Lisbon demo in a fresh SQLite
file, nothing relaxed but the tile background) on 127.0.0.1, then runs, concurrently for
``--seconds``, every attack of issue 15, each from its own loopback source address
(so an address-based limit hits the attacker and not the honest client):

- geometry bombs: self-crossing star polygons of 100 to 10,000 vertices, the client
  hanging up after 3 s;
- image bombs: 40-megapixel single-colour PNGs (about 120 kB each), three at a time,
  through the API and through the form with another error;
- slow clients: ``--slow-clients`` connections that trickle header bytes and reconnect
  when dropped;
- forged ``X-Forwarded-For``: anonymous submissions, each from a different forged
  address;
- a password guesser with forged addresses, then the right password; join-code guessing;
- formula injection: published titles that a spreadsheet would run, read back from
  ``places.csv``; forged ``Host`` headers, read back from every link the answers carry.

Meanwhile the honest client (127.0.0.9) submits places and reads maps, popups and OGC
items, paced as a person on a phone. The baseline is the same honest client alone,
measured in the same run before the attacks start. Prints the honest client's p50/p99,
its errors, each attack's outcome, and the server's peak RSS. Targets (issue 15): honest
p99 under 500 ms, no honest error, peak RSS under 1 GB, and every attack refused.

Run: ``python bench/bench_hostile.py [--seconds 60] [--slow-clients 1100]``
(``tests/web/test_hostile_load.py`` runs a short, bounded version in the suite).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geodata.accounts import create_account, issue_token  # noqa: E402
from geodata.demo import load_demo  # noqa: E402
from geodata.store import open_store  # noqa: E402

STAFF_NAME = "hostile-bench-admin"
STAFF_PASSWORD = "correct horse battery staple 42"
FORMULAS = (
    '=HYPERLINK("http://attacker.example/","click")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
FORGED_HOST = "evil.example"
# The honest client has an address of its own: attackers that forge X-Forwarded-For
# connect from 127.0.0.1, the address a reverse proxy on the same machine would have.
HONEST_ADDRESS = "127.0.0.9"
GEOMETRY_CLIENTS = 12  # as in the issue: twelve bombs in flight at once
SUBMISSION_EVERY_S = 3.0  # a person adds a place now and then, well inside the rate limit
FORGED_HOST_PAGES = (
    "/ogc",
    "/ogc/collections/places/items?limit=2",
    "/api/export/places.geojson",
    "/api/export/places.csv",
    "/contribute",
    "/",
)
SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------------------
# What an attack and the honest client record
# ---------------------------------------------------------------------------


@dataclass
class Attack:
    """One attack's requests: how they were answered and how many got through."""

    name: str
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    dropped: int = 0  # connection closed or timed out by either side
    got_through: int = 0  # answers that mean the attack worked
    note: str = ""

    def answered(self, status: int) -> None:
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self) -> str:
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return f"{self.sent} sent ({codes or 'no answer'}; dropped {self.dropped})"


@dataclass
class Honest:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000


@dataclass
class Report:
    baseline: Honest
    under_attack: Honest
    attacks: dict[str, Attack]
    rss_start_mb: float
    rss_peak_mb: float
    server_alive: bool

    @property
    def attacks_got_through(self) -> dict[str, int]:
        return {a.name: a.got_through for a in self.attacks.values() if a.got_through}


# ---------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------


def point_feature(title: str, rng: random.Random) -> dict:
    return {
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
            "narratives": [{"text": f"A story about {title}.", "language": "en"}],
            "category": "memory",
            "consent": {"publish": True, "open_data": True},
        },
    }


def star_feature(vertices: int) -> dict:
    """A closed ring whose edges all cross each other: vertex i at i*k/n of a turn."""
    step = vertices // 2 - 1
    while math.gcd(step, vertices) != 1:
        step -= 1
    lon, lat, r = -9.14, 38.72, 0.004
    ring = [
        [
            round(lon + r * math.cos(2 * math.pi * i * step / vertices), 7),
            round(lat + r * math.sin(2 * math.pi * i * step / vertices), 7),
        ]
        for i in range(vertices)
    ]
    ring.append(ring[0])
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "title": f"Star of {vertices}",
            "narratives": [{"text": "A shape.", "language": "en"}],
            "category": "memory",
            "consent": {"publish": True},
        },
    }


def single_colour_png(width: int, height: int) -> bytes:
    """A valid PNG of one colour, built row by row: 40 MP in ~120 kB, never in memory."""
    row = b"\x00" + b"\x80\x80\x80" * width
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str) -> str:
    """The demo in ``url``, and a staff account the bench publishes with; its API token."""
    store = open_store(url)
    try:
        if store.count() == 0:
            load_demo(store)
        account = store.account_by_name(STAFF_NAME)
        if account is None:
            _, token = create_account(store, STAFF_NAME, "admin", password=STAFF_PASSWORD)
            return token
        token, _ = issue_token(store, account, label="hostile bench")
        return token
    finally:
        store.close()


def start_server(url: str, workdir: Path, port: int, env_extra: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "HERITAGE_DATABASE_URL": url,
        "HERITAGE_TILES": "none",
        "HERITAGE_MEDIA_DIR": str(workdir / "media"),
    } | env_extra
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - kept open for the process
    return subprocess.Popen(
        [sys.executable, "-m", "web", "serve", "--port", str(port)],
        env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_until_up(base: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped at start")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# ---------------------------------------------------------------------------
# The honest client
# ---------------------------------------------------------------------------


async def honest_client(base: str, seconds: float, pause: float, seed: int) -> Honest:
    """A resident on a phone: look at the map, open popups and items, add a place now and
    then. Every answer must be what an honest request gets: 2xx (or a redirect)."""
    rng = random.Random(seed)
    out = Honest()
    transport = httpx.AsyncHTTPTransport(local_address=HONEST_ADDRESS, retries=0)
    deadline = time.perf_counter() + seconds
    popups: list[str] = []
    n = 0
    last_submission = -SUBMISSION_EVERY_S
    async with httpx.AsyncClient(base_url=base, transport=transport, timeout=10.0) as client:
        while time.perf_counter() < deadline:
            n += 1
            kind = n % 6
            if kind == 0 and time.perf_counter() - last_submission < SUBMISSION_EVERY_S:
                kind = 1
            if kind == 0:
                last_submission = time.perf_counter()
                request = client.build_request(
                    "POST",
                    "/api/places",
                    content=orjson.dumps(point_feature(f"Honest place {seed}-{n}", rng)),
                    headers={"content-type": "application/json"},
                )
            elif kind == 1:
                request = client.build_request("GET", "/healthz")
            elif kind == 2:
                request = client.build_request(
                    "GET", "/api/map/places", params={"bbox": "-9.16,38.70,-9.12,38.73", "zoom": 15}
                )
            elif kind == 3 and popups:
                request = client.build_request("GET", f"/api/map/places/{rng.choice(popups)}")
            elif kind == 4:
                request = client.build_request(
                    "GET",
                    "/ogc/collections/places/items",
                    params={"limit": 20, "bbox": "-9.16,38.70,-9.12,38.73", "f": "json"},
                )
            else:
                request = client.build_request("GET", "/api/map/search", params={"q": "museu"})
            started = time.perf_counter()
            try:
                response = await client.send(request)
            except httpx.HTTPError as exc:
                out.errors.append(f"{request.method} {request.url.path}: {exc!r}")
                continue
            out.latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                out.errors.append(
                    f"{request.method} {request.url.path}: {response.status_code} "
                    f"{response.text[:200]}"
                )
            elif kind == 2:
                features = response.json().get("features", [])
                popups = [f["id"] for f in features if f.get("id")][:50] or popups
            await asyncio.sleep(pause)
    return out


# ---------------------------------------------------------------------------
# The attacks, each from its own source address
# ---------------------------------------------------------------------------


def attacker(base: str, address: str, timeout: float = 10.0) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address, retries=0)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=timeout)


async def geometry_bombs(base: str, deadline: float, sizes: tuple[int, ...], out: Attack) -> None:
    """Twelve clients at once posting self-crossing stars, each hanging up after 3 s."""
    bodies = [orjson.dumps(star_feature(n)) for n in sizes]
    async with attacker(base, "127.0.0.2", timeout=3.0) as client:

        async def one(i: int) -> None:
            while time.perf_counter() < deadline:
                body = bodies[i % len(bodies)]
                i += 1
                try:
                    response = await client.post(
                        "/api/places", content=body, headers={"content-type": "application/json"}
                    )
                except httpx.HTTPError:
                    out.dropped += 1
                    continue
                out.answered(response.status_code)
                if response.status_code < 300:
                    out.got_through += 1

        await asyncio.gather(*(one(i) for i in range(GEOMETRY_CLIENTS)))


async def image_bombs(base: str, deadline: float, png: bytes, out: Attack) -> None:
    """Three uploads at a time of a 40 MP PNG to a place of the attacker's own, and the
    same through the form with an empty title."""
    async with attacker(base, "127.0.0.3", timeout=30.0) as client:
        response = await client.post(
            "/api/places",
            content=orjson.dumps(point_feature("A place for photos", random.Random(3))),
            headers={"content-type": "application/json"},
        )
        if response.status_code != 201:
            out.note = f"could not make a place to attach photos to ({response.status_code})"
            return
        receipt = response.json()
        form_page = await client.get("/contribute")
        token = _hidden_value(form_page.text, "csrf_token")

        async def upload_api() -> httpx.Response:
            return await client.post(
                f"/api/places/{receipt['id']}/media",
                files={"file": ("bomb.png", png, "image/png")},
                headers={"Authorization": f"Bearer {receipt['edit_token']}"},
            )

        async def upload_form() -> httpx.Response:
            data = {"csrf_token": token or "", "title": "", "narrative": "x", "latitude": "38.72"}
            data |= {"longitude": "-9.14", "narrative_language": "en", "category": "memory"}
            return await client.post(
                "/contribute", data=data, files={"photo": ("bomb.png", png, "image/png")}
            )

        while time.perf_counter() < deadline:
            jobs = [upload_api(), upload_api(), upload_form()]
            for result in await asyncio.gather(*jobs, return_exceptions=True):
                if isinstance(result, BaseException):
                    out.dropped += 1
                    continue
                out.answered(result.status_code)
                if result.status_code < 300:
                    out.got_through += 1


def _hidden_value(html: str, name: str) -> str | None:
    marker = f'name="{name}" value="'
    start = html.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return html[start : html.find('"', start)]


async def slow_clients(port: int, deadline: float, count: int, addresses: int, out: Attack) -> None:
    """``count`` connections that send a header byte every 2 s, reconnecting when
    dropped; spread over ``addresses`` source addresses from 127.0.1.1 on."""
    held = 0
    most = 0

    async def one(i: int) -> None:
        nonlocal held, most
        source = f"127.0.1.{1 + i % max(1, addresses)}"
        while time.perf_counter() < deadline:
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(source, 0)
                )
            except OSError:
                out.dropped += 1
                await asyncio.sleep(1.0)
                continue
            out.sent += 1
            held += 1
            most = max(most, held)
            try:
                writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                await writer.drain()
                while time.perf_counter() < deadline:
                    await asyncio.sleep(2.0)
                    if reader.at_eof():
                        break
                    writer.write(b"a")
                    await writer.drain()
                else:
                    out.got_through += 0  # held to the end: measured by the honest client
            except OSError:
                pass
            finally:
                held -= 1
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            if time.perf_counter() < deadline:  # dropped by the server: come back soon
                out.dropped += 1
                await asyncio.sleep(1.0)

    await asyncio.gather(*(one(i) for i in range(count)))
    out.note = f"at most {most} connections held at once"


def windows_touched(started: float, window_s: int) -> int:
    """How many of the server's fixed rate-limit windows (aligned on the epoch) the time
    from ``started`` (``time.time()``) to now falls in: each has its own budget."""
    return int(time.time() // window_s) - int(started // window_s) + 1


async def forged_forwarded_for(
    base: str, deadline: float, limit: int, window_s: int, out: Attack
) -> None:
    """Anonymous submissions, each claiming another client address."""
    rng = random.Random(4)
    started = time.time()
    accepted = 0
    async with attacker(base, "127.0.0.1") as client:  # loopback: a proxy's address
        i = 0
        # Past the deadline too, until the limit was exceeded: on a slow machine the run
        # may end before one address's budget is spent, and then the attack proves nothing
        # (bounded: a minute more at most).
        while i < limit + 80 and (
            time.perf_counter() < deadline
            or (i <= limit + 5 and time.perf_counter() < deadline + 60)
        ):
            i += 1
            forged = f"203.0.113.{i % 250 + 1}, 198.51.100.{i % 200 + 1}"
            try:
                response = await client.post(
                    "/api/places",
                    content=orjson.dumps(point_feature(f"Forged {i}", rng)),
                    headers={"content-type": "application/json", "X-Forwarded-For": forged,
                             "Forwarded": f"for=192.0.2.{i % 250 + 1}"},
                )  # fmt: skip
            except httpx.HTTPError:
                out.dropped += 1
                continue
            out.answered(response.status_code)
            accepted += response.status_code == 201
            await asyncio.sleep(0.01)
    allowed = limit * windows_touched(started, window_s)
    out.got_through = max(0, accepted - allowed)
    out.note = (
        f"{accepted} accepted where the per-address limit allows {allowed} ({limit} in each "
        f"of the {windows_touched(started, window_s)} rate-limit windows the attack touched)"
    )


async def password_guessing(base: str, deadline: float, out: Attack) -> None:
    """Forty wrong passwords from forty forged addresses, then the right one."""
    async with attacker(base, "127.0.0.1") as client:
        for i in range(40):
            if time.perf_counter() > deadline:
                break
            page = await client.get("/login")
            token = _hidden_value(page.text, "csrf_token") or ""
            try:
                response = await client.post(
                    "/login",
                    data={"name": STAFF_NAME, "password": f"guess {i}", "csrf_token": token},
                    headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
                )
            except httpx.HTTPError:
                out.dropped += 1
                continue
            out.answered(response.status_code)
        page = await client.get("/login")
        token = _hidden_value(page.text, "csrf_token") or ""
        response = await client.post(
            "/login",
            data={"name": STAFF_NAME, "password": STAFF_PASSWORD, "csrf_token": token},
            headers={"X-Forwarded-For": "203.0.113.250"},
        )
        out.answered(response.status_code)
        if response.status_code == 303:
            out.got_through += 1
            out.note = "the right password signed in straight after 40 wrong ones"


async def join_code_guessing(
    base: str, deadline: float, guesses: int, limit: int, window_s: int, out: Attack
) -> None:
    """Random six-character codes on the contribute page, from one address: past the
    server's budget of codes that did not work, every guess must be refused."""
    rng = random.Random(5)
    started = time.time()
    alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
    async with attacker(base, "127.0.0.6") as client:
        for _ in range(guesses):
            if time.perf_counter() > deadline:
                break
            code = "".join(rng.choice(alphabet) for _ in range(6))
            try:
                response = await client.get("/contribute", params={"workshop": code})
            except httpx.HTTPError:
                out.dropped += 1
                continue
            out.answered(response.status_code)
    answered = sum(n for s, n in out.statuses.items() if s != 429)
    allowed = limit * windows_touched(started, window_s)
    out.got_through = max(0, answered - allowed)
    out.note = (
        f"{answered} guesses answered (the budget allows {allowed}), "
        f"{out.statuses.get(429, 0)} refused with 429"
    )


async def formulas_and_hosts(base: str, token: str, out_csv: Attack, out_host: Attack) -> None:
    """Titles a spreadsheet would run, published, then read back from places.csv; and a
    forged Host on every answer that carries links."""
    rng = random.Random(6)
    staff = {"Authorization": f"Bearer {token}"}
    async with attacker(base, "127.0.0.7") as client:
        for title in FORMULAS:
            response = await client.post(
                "/api/places",
                content=orjson.dumps(point_feature(title, rng)),
                headers={"content-type": "application/json"},
            )
            out_csv.answered(response.status_code)
            if response.status_code != 201:
                continue
            place_id = response.json()["id"]
            published = await client.post(
                f"/api/moderation/places/{place_id}/publish", headers=staff
            )
            out_csv.answered(published.status_code)
        forged = [
            ("POST", "/api/places", orjson.dumps(point_feature("Forged host", rng))),
            *(("GET", path, None) for path in FORGED_HOST_PAGES),
        ]
        for method, path, body in forged:
            headers = {"Host": FORGED_HOST, "content-type": "application/json"}
            response = await client.request(method, path, content=body, headers=headers)
            out_host.answered(response.status_code)
            # A refusal may name the host it refuses; an answer must carry no link to it.
            if response.status_code < 400:
                leaked = FORGED_HOST in response.text or any(
                    FORGED_HOST in v for v in response.headers.values()
                )
                out_host.got_through += leaked
        response = await client.get("/api/export/places.csv")
        out_csv.answered(response.status_code)
        for row in csv.reader(io.StringIO(response.text)):
            for cell in row:
                if cell.startswith(SPREADSHEET_TRIGGERS) and not _is_number(cell):
                    out_csv.got_through += 1
                    out_csv.note = f"live formula in places.csv: {cell[:40]!r}"


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


async def under_attack(base: str, port: int, token: str, args: argparse.Namespace) -> tuple:
    attacks = {
        name: Attack(name)
        for name in (
            "geometry bombs",
            "image bombs",
            "slow clients",
            "forged X-Forwarded-For",
            "password guessing",
            "join-code guessing",
            "formula injection",
            "forged Host",
        )
    }
    deadline = time.perf_counter() + args.seconds
    png = single_colour_png(8000, 5000)  # 40 MP
    jobs = [
        geometry_bombs(base, deadline, tuple(args.star_sizes), attacks["geometry bombs"]),
        image_bombs(base, deadline, png, attacks["image bombs"]),
        slow_clients(port, deadline, args.slow_clients, args.slow_addresses,
                     attacks["slow clients"]),
        forged_forwarded_for(base, deadline, args.rate_limit, args.rate_window,
                             attacks["forged X-Forwarded-For"]),
        password_guessing(base, deadline, attacks["password guessing"]),
        join_code_guessing(base, deadline, args.join_guesses, args.join_limit, args.rate_window,
                           attacks["join-code guessing"]),
        formulas_and_hosts(base, token, attacks["formula injection"], attacks["forged Host"]),
    ]  # fmt: skip
    await asyncio.sleep(1.0)  # the slow clients settle in before the honest client starts
    honest_job = honest_process(base, args.seconds - 2.0, args.pause, seed=2)
    *_, honest = await asyncio.gather(*jobs, honest_job)
    return honest, attacks


async def honest_process(base: str, seconds: float, pause: float, seed: int) -> Honest:
    """The honest client in a process of its own, so that its latencies are the server's,
    not the wait for this process's event loop, busy with a thousand attackers."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--honest", base, "--seconds", str(seconds),
        "--pause", str(pause), "--seed", str(seed), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the honest client failed ({child.returncode})")
    return Honest(**orjson.loads(output))


def run(args: argparse.Namespace) -> Report:
    workdir = Path(tempfile.mkdtemp(prefix="heritage-hostile-"))
    url = args.database_url or f"sqlite:///{workdir / 'hostile.db'}"
    token = prepare_database(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(url, workdir, port, dict(args.env or {}))
    peak = 0.0
    try:
        wait_until_up(base, server)
        rss_start = rss_mb(server.pid)
        baseline = asyncio.run(honest_process(base, args.baseline_seconds, args.pause, seed=1))

        async def sampled() -> tuple:
            nonlocal peak
            task = asyncio.ensure_future(under_attack(base, port, token, args))
            while not task.done():
                peak = max(peak, rss_mb(server.pid))
                await asyncio.sleep(0.1)
            return task.result()

        honest, attacks = asyncio.run(sampled())
        peak = max(peak, rss_mb(server.pid, "VmHWM"))
        alive = server.poll() is None
        if alive:
            with contextlib.suppress(httpx.HTTPError):
                alive = httpx.get(base + "/healthz", timeout=5.0).status_code == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return Report(baseline, honest, attacks, rss_start, peak, alive)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="how long the attacks last")
    p.add_argument("--baseline-seconds", type=float, default=10.0)
    p.add_argument("--slow-clients", type=int, default=1100)
    p.add_argument("--slow-addresses", type=int, default=1, help="source addresses they use")
    p.add_argument("--star-sizes", type=int, nargs="+", default=[100, 150, 1000, 10000])
    p.add_argument("--join-guesses", type=int, default=300)
    p.add_argument("--rate-limit", type=int, default=120, help="the server's per-address limit")
    p.add_argument("--join-limit", type=int, default=30, help="the server's budget of codes")
    p.add_argument("--rate-window", type=int, default=600, help="the server's window, in s")
    p.add_argument("--honest", metavar="BASE", help=argparse.SUPPRESS)  # the honest process
    p.add_argument("--pause", type=float, default=0.05, help="the honest client's think time")
    p.add_argument("--database-url", help="default: a fresh SQLite file with the demo")
    p.add_argument("--seed", type=int, default=2, help=argparse.SUPPRESS)
    p.set_defaults(env={})
    return p


def print_report(report: Report, args: argparse.Namespace) -> None:
    base, honest = report.baseline, report.under_attack
    print(
        f"one worker on 127.0.0.1, {args.seconds:.0f} s of attacks, {args.slow_clients} slow "
        f"clients; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'honest client':<22}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
    )
    for name, h in (("alone (baseline)", base), ("under attack", honest)):
        print(
            f"{name:<22}{len(h.latencies):>9}{h.pct(0.5):>9.1f}{h.pct(0.99):>9.1f}"
            f"{h.pct(1.0):>9.1f}{len(h.errors):>8}"
        )
    print(f"p99 under attack / alone: {honest.pct(0.99) / base.pct(0.99):.1f}x (target: < 500 ms)")
    for error in honest.errors[:10]:
        print(f"  honest error: {error}")
    print("attacks:")
    for a in report.attacks.values():
        verdict = "GOT THROUGH" if a.got_through else "refused"
        print(f"  {a.name:<24} {verdict:<12} {a.summary()}{'; ' + a.note if a.note else ''}")
    print(
        f"server RSS: {report.rss_start_mb:.0f} MB at start, peak {report.rss_peak_mb:.0f} MB "
        f"(target: < 1024 MB); answering /healthz afterwards: {report.server_alive}"
    )


def main() -> int:
    args = parser().parse_args()
    if args.honest:  # the honest client's own process: its figures as JSON on stdout
        honest = asyncio.run(honest_client(args.honest, args.seconds, args.pause, args.seed))
        sys.stdout.buffer.write(orjson.dumps(honest.__dict__))
        return 0
    report = run(args)
    print_report(report, args)
    failed = (
        report.attacks_got_through
        or report.under_attack.errors
        or report.rss_peak_mb >= 1024
        or not report.server_alive
        or report.under_attack.pct(0.99) >= 500
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
