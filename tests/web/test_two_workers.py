"""Two workers, one PostGIS database: nothing a request needs lives in a worker's memory.

Starts ``python -m web serve`` twice, on two loopback ports, against one PostGIS schema
(as two hosts behind a proxy would run), then sends each step of a conversation to the
other worker: a retry, the submissions of one client, a sign-in, a live map's polls.
Each server gets a bounded time to start and is always stopped.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from geodata.accounts import create_account
from geodata.demo import load_demo
from geodata.models import Moderation, Workshop, utcnow
from geodata.store import open_store
from tests.postgis_schema import fresh_schema_url

pytestmark = pytest.mark.postgis
ROOT = Path(__file__).resolve().parents[2]
LIMIT = 4  # submissions per client per window, for every worker together
WINDOW_S = 86_400  # fixed windows (Unix time multiples): one day, so a test stays in one
WORKSHOP = "TWOHOSTS"
PASSWORD = "two workers, one database"
START_S = 60.0  # each server's time to answer /healthz
LIVE_S = 10.0  # how long the live map may take to show a new place


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Worker:
    """One ``python -m web serve`` process on 127.0.0.1, its output kept in a file."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "web", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), *extra],
                env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_until_up(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server stopped at start:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not answer within {START_S:.0f} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start(workdir: Path, env: dict[str, str], *names: str, extra: tuple[str, ...] = ()):
    workers = [Worker(name, env, workdir, *extra) for name in names]
    try:
        deadline = time.monotonic() + START_S
        for w in workers:
            w.wait_until_up(deadline)
    except BaseException:
        for w in workers:
            w.stop()
        raise
    return workers


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A PostGIS schema holding the Lisbon demo, a live workshop and a facilitator."""
    with fresh_schema_url("workers") as url:
        store = open_store(url)
        try:
            load_demo(store)
            store.add_workshop(
                Workshop(WORKSHOP, "Two hosts, one map", utcnow() - timedelta(hours=1),
                         utcnow() + timedelta(hours=3), moderation=Moderation.POST)
            )  # fmt: skip
            create_account(store, "facilitator-two", "facilitator", password=PASSWORD)
            create_account(store, "planner-two", "planner", password=PASSWORD)
        finally:
            store.close()
        yield url


@pytest.fixture(scope="module")
def server_env(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    media = tmp_path_factory.mktemp("shared-media")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "HERITAGE_DATABASE_URL": database_url,
        "HERITAGE_TILES": "none",
        "HERITAGE_MEDIA_DIR": str(media),
        "HERITAGE_SUBMISSION_RATE_LIMIT": str(LIMIT),
        "HERITAGE_SUBMISSION_RATE_WINDOW_S": str(WINDOW_S),
        # X-Forwarded-For is believed from these addresses, as from a local nginx.
        "HERITAGE_TRUSTED_PROXIES": "127.0.0.1",
        "HERITAGE_LOGIN_LOCK_FIRST_S": "600",  # no lock runs out during a test
    }


@pytest.fixture(scope="module")
def workers(server_env, tmp_path_factory) -> Iterator[tuple[Worker, Worker]]:
    first, second = start(tmp_path_factory.mktemp("workers"), server_env, "first", "second")
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def feature(title: str, lon: float = -9.1352, lat: float = 38.7137, workshop: str | None = None):
    props = {
        "title": title,
        "narratives": [{"text": f"What {title} means to us.", "language": "pt"}],
        "category": "memory",
        "consent": {"publish": True, "open_data": True},
    }
    if workshop:
        props["workshop"] = workshop
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}  # fmt: skip


def places(worker: Worker) -> int:
    return httpx.get(worker.url + "/healthz", timeout=10).json()["places"]


def test_a_retry_sent_to_the_other_worker_gets_the_first_answer(workers):
    first, second = workers
    before = places(second)
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    body = feature("Retried on the train")
    answer = httpx.post(first.url + "/api/places", json=body, headers=key, timeout=20)
    assert answer.status_code == 201, answer.text
    retry = httpx.post(second.url + "/api/places", json=body, headers=key, timeout=20)
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == answer.json()  # same id, same edit token
    assert places(second) == places(first) == before + 1
    changed = httpx.post(second.url + "/api/places", json=feature("Another"), headers=key)
    assert changed.status_code == 422 and "already used" in changed.json()["detail"]


def test_a_rate_limit_holds_across_both_workers(workers):
    first, second = workers
    client = {"X-Forwarded-For": "203.0.113.7"}  # one resident, behind the proxy
    if (left := WINDOW_S - time.time() % WINDOW_S) < 30:
        time.sleep(left + 1)  # a new window would start in the middle of the test
    statuses = []
    for i in range(2 * LIMIT):
        worker = (first, second)[i % 2]
        r = httpx.post(worker.url + "/api/places", json=feature(f"Bakery number {i}"),
                       headers=client, timeout=20)  # fmt: skip
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) > 0
    # Counted in the database: LIMIT in all, not LIMIT per worker.
    assert statuses == [201] * LIMIT + [429] * LIMIT
    other = httpx.post(second.url + "/api/places", json=feature("Someone else's square"),
                       headers={"X-Forwarded-For": "198.51.100.9"}, timeout=20)  # fmt: skip
    assert other.status_code == 201, other.text  # the limit is per client


def test_a_place_submitted_to_one_worker_appears_on_the_live_map_of_the_other(workers):
    first, second = workers
    live = f"{second.url}/api/map/workshops/{WORKSHOP}/updates"
    cursor = httpx.get(live, timeout=10).json()["cursor"]
    answer = httpx.post(first.url + "/api/places", timeout=20,
                        json=feature("Fado at the corner", workshop=WORKSHOP))  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "published"  # the workshop moderates afterwards
    place_id, seen = answer.json()["id"], []
    deadline = time.monotonic() + LIVE_S
    while time.monotonic() < deadline:
        update = httpx.get(live, params={"since": cursor}, timeout=10).json()
        seen = [f["id"] for f in update["features"]]
        if place_id in seen:
            break
        time.sleep(0.5)
    assert place_id in seen, f"not on the other worker's live map within {LIVE_S:.0f} s"
    assert "Fado at the corner" in [p["title"] for p in update["latest"]]


def test_a_session_started_on_one_worker_works_on_the_other_and_ends_everywhere(workers):
    first, second = workers
    with httpx.Client(timeout=20) as browser:  # one cookie jar for 127.0.0.1, as a browser
        form = browser.get(second.url + "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        signed = browser.post(
            first.url + "/login",
            data={"name": "facilitator-two", "password": PASSWORD, "csrf_token": token,
                  "next": "/workshops"},
        )  # fmt: skip
        assert signed.status_code == 303, signed.text  # the form's secret is shared too
        me = browser.get(second.url + "/api/me")
        assert me.status_code == 200 and me.json()["name"] == "facilitator-two"
        page = browser.get(first.url + "/workshops")
        csrf = re.search(r'name="csrf-token" content="([^"]*)"', page.text).group(1)
        out = browser.post(second.url + "/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 303
        assert browser.get(first.url + "/api/me").status_code == 401


def test_an_account_locked_on_one_worker_is_locked_on_the_other(workers):
    first, second = workers

    def sign_in(worker: Worker, password: str, address: str) -> httpx.Response:
        with httpx.Client(timeout=20, headers={"X-Forwarded-For": address}) as browser:
            form = browser.get(worker.url + "/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            return browser.post(worker.url + "/login", data={
                "name": "planner-two", "password": password, "csrf_token": token,
                "next": "/stats"})  # fmt: skip

    wrong = [sign_in((first, second)[i % 2], "not it at all", f"198.51.100.{i}") for i in range(6)]
    assert [r.status_code for r in wrong] == [401] * 5 + [429]
    for worker in (first, second):
        right = sign_in(worker, PASSWORD, "203.0.113.99")
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


def test_serve_with_two_workers_answers_from_two_processes(server_env, tmp_path):
    (server,) = start(tmp_path, server_env, "supervisor", extra=("--workers", "2"))
    try:
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        workers = [
            pid for pid in children.read_text().split()
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        ]  # fmt: skip
        assert len(workers) == 2, server.output()
        answers = [httpx.get(server.url + "/healthz", timeout=10) for _ in range(6)]
        assert all(a.status_code == 200 for a in answers)
    finally:
        server.stop()
