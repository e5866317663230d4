"""Crash safety: a 201 means the place survives the server being killed, whole.

Several clients submit places to ``python -m web serve`` (a real process on 127.0.0.1);
the server is killed with SIGKILL while requests are in flight, then started again on
the same database. Every place that had been answered 201 must be there with its title,
stories and geometry as sent (and its edit token still working); a request cut short
either stored its place whole or not at all; the database passes its integrity checks.
A bulk import (``heritage-atlas import-places``) killed half-way through its writes
stores nothing; run again, it stores everything. On SQLite and on PostGIS (a schema of
its own per test, skipped without ``HERITAGE_TEST_POSTGIS_URL``). Each wait is bounded.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from shapely.geometry import shape

from geodata.demo import load_demo
from geodata.store import open_store
from tests.conftest import free_port
from tests.postgis_schema import fresh_schema_url

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
ACKNOWLEDGED_BEFORE_KILL = 150  # kill once this many submissions were answered 201
START_S = 60.0
IMPORT_FEATURES = 60_000


@pytest.fixture(params=["sqlite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database holding the Lisbon demo (its parishes make the project area)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.db'}"
        _prepare(url)
        yield url
        return
    request.applymarker(pytest.mark.postgis)
    with fresh_schema_url("crash") as url:
        _prepare(url)
        yield url


def _prepare(url: str) -> None:
    store = open_store(url)
    try:
        load_demo(store)
    finally:
        store.close()


def server_env(url: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "HERITAGE_DATABASE_URL": url,
        "HERITAGE_TILES": "none",
        "HERITAGE_MEDIA_DIR": str(workdir / "media"),
        "HERITAGE_SUBMISSION_RATE_LIMIT": "0",
    }


class Server:
    """``python -m web serve`` (or another command given its ``--port``) on a free
    loopback port, its output in a file."""

    def __init__(
        self, env: dict[str, str], workdir: Path, name: str, command: tuple[str, ...] = ("serve",)
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "web", *command, "--port", str(self.port)],
                env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server stopped at start:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"the server did not answer within {START_S:.0f} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)


# ---------------------------------------------------------------------------
# Submissions under a kill
# ---------------------------------------------------------------------------


def submission(client: int, n: int, rng: random.Random) -> dict[str, Any]:
    """A place unlike the others: its own title, one to three stories, a point, a route
    or an area somewhere in Lisbon."""
    lon, lat = -9.20 + rng.random() * 0.08, 38.71 + rng.random() * 0.06
    d = 0.0005 + rng.random() * 0.001
    geometry = rng.choice(
        [
            {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            {"type": "LineString", "coordinates": [[lon, lat], [lon + d, lat + d / 2]]},
            {
                "type": "Polygon",
                "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat]]],
            },
        ]
    )
    stories = [
        {"text": f"História {client}-{n}: o fado da tasca, contado pela avó.", "language": "pt"},
        {"text": f"Story {client}-{n} as grandmother told it.", "language": "en",
         "provenance": "community_translation"},
        {"text": f"قصة {client}-{n} من السوق", "language": "ar",
         "provenance": "community_translation"},
    ][: rng.randint(1, 3)]  # fmt: skip
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "title": f"Crash test place {client}-{n} ({rng.getrandbits(32):08x})",
            "narratives": stories,
            "category": rng.choice(["memory", "food", "tradition", "building"]),
            "tags": [f"client-{client}"],
            "consent": {"publish": True, "open_data": rng.random() < 0.5},
        },
    }


@dataclass
class Outcomes:
    """What the clients saw: places answered 201, and requests the kill cut short."""

    acknowledged: list[tuple[dict, dict]] = field(default_factory=list)  # (sent, receipt)
    cut_short: list[dict] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def submit_until_stopped(url: str, client: int, out: Outcomes, stop: threading.Event) -> None:
    rng = random.Random(client)
    n = 0
    with httpx.Client(base_url=url, timeout=30.0) as http:
        while not stop.is_set():
            body = submission(client, n, rng)
            n += 1
            try:
                response = http.post("/api/places", json=body)
            except httpx.HTTPError:
                with out.lock:
                    out.cut_short.append(body)
                return  # the server is gone
            with out.lock:
                if response.status_code == 201:
                    out.acknowledged.append((body, response.json()))
                else:
                    out.refused.append((response.status_code, response.text[:200]))


def same_geometry(sent: dict, stored: dict) -> bool:
    return shape(sent).normalize().equals_exact(shape(stored).normalize(), 1e-9)


def stories(feature: dict) -> list[tuple[str, str, str]]:
    return [
        (n["text"], n["language"], n.get("provenance", "original"))
        for n in feature["properties"]["narratives"]
    ]


def test_every_acknowledged_submission_survives_sigkill_whole(database_url: str, tmp_path: Path):
    env = server_env(database_url, tmp_path)
    server = Server(env, tmp_path, "before-kill")
    out, stop = Outcomes(), threading.Event()
    clients = [
        threading.Thread(target=submit_until_stopped, args=(server.url, c, out, stop))
        for c in range(CLIENTS)
    ]
    try:
        for t in clients:
            t.start()
        deadline = time.monotonic() + 120
        while len(out.acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(f"the server died on its own:\n{server.output()}")
            time.sleep(0.01)
        server.kill()  # in the middle of the clients' next requests
    finally:
        stop.set()
        server.kill()
        for t in clients:
            t.join(timeout=60)
    assert not out.refused, out.refused[:3]
    assert len(out.acknowledged) >= ACKNOWLEDGED_BEFORE_KILL, server.output()

    again = Server(env, tmp_path, "after-restart")
    try:
        with httpx.Client(base_url=again.url, timeout=30.0) as http:
            for sent, receipt in out.acknowledged:
                response = http.get(
                    f"/api/places/{receipt['id']}",
                    headers={"X-Edit-Token": receipt["edit_token"]},
                )
                assert response.status_code == 200, (receipt["id"], response.text)
                stored = response.json()
                assert stored["properties"]["title"] == sent["properties"]["title"]
                assert stories(stored) == stories(sent)
                assert stored["properties"]["category"] == sent["properties"]["category"]
                assert same_geometry(sent["geometry"], stored["geometry"])
            # The service takes new places after the crash.
            fresh = http.post("/api/places", json=submission(99, 0, random.Random(99)))
            assert fresh.status_code == 201, fresh.text
    finally:
        again.kill()

    titles = {sent["properties"]["title"] for sent in out.cut_short}
    stored_cut_short = check_whole_and_consistent(database_url, titles)
    print(
        f"\n{database_url.split(':')[0]}: {len(out.acknowledged)} acknowledged and found whole; "
        f"{len(out.cut_short)} cut short by the kill, {stored_cut_short} of them stored whole"
    )


def check_whole_and_consistent(url: str, cut_short_titles: set[str]) -> int:
    """Integrity checks of the database after the crash; every place a cut-short request
    stored has its edit token and its audit record (whole, not half). Returns how many
    cut-short requests were stored."""
    found = []
    if cut_short_titles:
        store = open_store(url)
        try:
            found = [p for p in store.list() if p.title in cut_short_titles]
        finally:
            store.close()
    for place in found:
        assert place.narratives and place.geometry.is_valid
    if url.startswith("sqlite:///"):
        check_sqlite(Path(url.removeprefix("sqlite:///")), [p.id for p in found])
    else:
        check_postgis(url, [p.id for p in found])
    return len(found)


def check_sqlite(path: Path, ids: list[str]) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("SELECT rtreecheck('places_rtree')").fetchone()[0] == "ok"
        indexed = db.execute("SELECT count(*) FROM places_rtree").fetchone()[0]
        assert indexed == db.execute("SELECT count(*) FROM places").fetchone()[0]
        for place_id in ids:
            assert (
                db.execute(
                    "SELECT count(*) FROM place_edit_tokens WHERE place_id = ?", (place_id,)
                ).fetchone()[0]
                == 1
            )
            assert (
                db.execute(
                    "SELECT count(*) FROM audit_log WHERE place_id = ?", (place_id,)
                ).fetchone()[0]
                >= 1
            )


def check_postgis(url: str, ids: list[str]) -> None:
    import psycopg

    from geodata.store.postgis_connections import parse_url

    conninfo, ours = parse_url(url)
    with psycopg.connect(conninfo, autocommit=True) as db:
        db.execute(f'SET search_path TO "{ours["schema"]}", public')
        assert (
            db.execute("SELECT count(*) FROM places WHERE NOT ST_IsValid(geom)").fetchone()[0] == 0
        )
        orphans = db.execute(
            "SELECT (SELECT count(*) FROM place_edit_tokens t WHERE NOT EXISTS "
            "  (SELECT 1 FROM places p WHERE p.id = t.place_id)) + "
            "(SELECT count(*) FROM media m WHERE NOT EXISTS "
            "  (SELECT 1 FROM places p WHERE p.id = m.place_id))"
        ).fetchone()[0]
        assert orphans == 0
        total = db.execute("SELECT count(*) FROM places").fetchone()[0]
        with db.transaction():
            db.execute("SET LOCAL enable_seqscan = off")
            by_index = db.execute(
                "SELECT count(*) FROM places "
                "WHERE geom && ST_MakeEnvelope(-180, -90, 180, 90, 4326)"
            ).fetchone()[0]
        assert by_index == total, "the spatial index and the table disagree"
        try:
            db.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
            db.execute("SELECT bt_index_check('places_pkey'::regclass, true)")
        except psycopg.Error:
            pass  # amcheck is a contrib module; without it the checks above stand
        for place_id in ids:
            assert (
                db.execute(
                    "SELECT count(*) FROM place_edit_tokens WHERE place_id = %s", (place_id,)
                ).fetchone()[0]
                == 1
            )
            assert (
                db.execute(
                    "SELECT count(*) FROM audit_log WHERE place_id = %s", (place_id,)
                ).fetchone()[0]
                >= 1
            )


# ---------------------------------------------------------------------------
# A bulk import under a kill: all or nothing
# ---------------------------------------------------------------------------


def write_import_file(path: Path, n: int) -> None:
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"type":"FeatureCollection","features":[')
        for i in range(n):
            lon, lat = -9.20 + rng.random() * 0.08, 38.71 + rng.random() * 0.06
            feature = {
                "type": "Feature",
                "id": f"bulk-{i}",
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {
                    "title": f"Bulk place {i}",
                    "narrative": f"Story {i}, recorded at the parish archive",
                    "category": "memory",
                },
            }
            fh.write(("," if i else "") + json.dumps(feature))
        fh.write("]}")


def writing_started(url: str, application: str) -> bool:
    """Whether the import is now writing places (and has not committed)."""
    if url.startswith("sqlite:///"):
        wal = Path(url.removeprefix("sqlite:///") + "-wal")
        return wal.exists() and wal.stat().st_size > 1_000_000
    import psycopg

    from geodata.store.postgis_connections import parse_url

    conninfo, _ = parse_url(url)
    with psycopg.connect(conninfo, autocommit=True) as db:
        row = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND state = 'active' AND query ILIKE 'COPY%%'",
            (application,),
        ).fetchone()
    return row[0] > 0


def place_count(url: str) -> int:
    store = open_store(url)
    try:
        return store.count()
    finally:
        store.close()


def test_a_bulk_import_killed_half_way_stores_nothing_then_everything(
    database_url: str, tmp_path: Path
):
    data = tmp_path / "bulk.geojson"
    write_import_file(data, IMPORT_FEATURES)
    before = place_count(database_url)
    application = f"crash-import-{os.getpid()}-{random.getrandbits(32):x}"
    url = database_url
    if not url.startswith("sqlite:///"):
        url += f"&application_name={application}"  # to find its COPY in pg_stat_activity
    env = server_env(url, tmp_path)
    command = [sys.executable, "-m", "web", "import-places", str(data)]
    log = tmp_path / "import.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while not writing_started(url, application):
            assert process.poll() is None, (
                "the import ended before it could be killed half-way; make the file larger\n"
                + log.read_text(errors="replace")
            )
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)
    assert process.returncode == -signal.SIGKILL

    assert place_count(database_url) == before, "a killed import left some of its places"
    check_whole_and_consistent(database_url, set())

    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert place_count(database_url) == before + IMPORT_FEATURES
    check_whole_and_consistent(database_url, set())
