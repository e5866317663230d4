"""Shared fixtures: real stores, a real app, a real server on 127.0.0.1, a real browser.

Backends: the ``store`` fixture runs each test against every backend available here.
SQLite always; PostGIS when ``HERITAGE_TEST_POSTGIS_URL`` names a database with the
extension (CI sets it and ``HERITAGE_REQUIRE_POSTGIS=1``, which turns a missing
database into a failure instead of a skip). Browser tests likewise skip without
Chromium and Playwright unless ``HERITAGE_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from geodata.store import open_store
from geodata.store.base import PlaceStore
from tests.demo_copies import copy_postgis, copy_sqlite, demo_postgis_schema, demo_sqlite_file
from web.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CHROMIUM = os.environ.get("HERITAGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _required(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def _unavailable(what: str, env: str) -> None:
    if _required(env):
        pytest.fail(f"{what} is required here ({env}=1) but not available")
    pytest.skip(f"{what} not available (set {env}=1 to make this a failure)")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say up front which optional suites run here and how to turn them on."""
    postgis = os.environ.get("HERITAGE_TEST_POSTGIS_URL")
    chromium = Path(CHROMIUM).exists() or shutil.which("chromium") is not None
    return [
        "PostGIS suite: "
        + ("on" if postgis else "skipped (set HERITAGE_TEST_POSTGIS_URL=postgresql://...)"),
        "browser suite: " + ("on" if chromium else "skipped (install Debian's chromium)"),
    ]


BACKENDS = ["sqlite", "postgis"]


def store_url(backend: str, tmp_path: Path) -> str:
    """The database URL of the store :func:`make_store` opens (for the command line)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'atlas.db'}"
    url = os.environ["HERITAGE_TEST_POSTGIS_URL"]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and "schema=" not in url:
        # pytest -n: each worker empties its own schema, never another worker's tables.
        url += f"{'&' if '?' in url else '?'}schema=test_{worker}"
    return url


def make_store(backend: str, tmp_path: Path) -> PlaceStore:
    if backend == "sqlite":
        url = store_url(backend, tmp_path)
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():  # a copy of an empty migrated file: 2 ms where migrating took 20
            shutil.copyfile(_migrated_sqlite(), path)
        return open_store(url)
    url = os.environ.get("HERITAGE_TEST_POSTGIS_URL")
    if not url:
        _unavailable("PostGIS (HERITAGE_TEST_POSTGIS_URL)", "HERITAGE_REQUIRE_POSTGIS")
    try:
        from geodata.store.postgis import PostGISStore  # noqa: F401
    except ImportError:
        _unavailable("the PostGIS backend", "HERITAGE_REQUIRE_POSTGIS")
    store = open_store(store_url(backend, tmp_path))
    store.reset_for_tests()  # type: ignore[attr-defined]
    if next(_POSTGIS_RESETS) % VACUUM_EVERY == 0:
        _vacuum(store)
    return store


# Every test deletes the rows the last one left in its worker's schema, and many copy the
# demo in again; on a server without autovacuum (these machines' runs with it off) the
# dead rows piled up: by the end of a run a worker's places table held 400,000 of them in
# 104 MB, and emptying and refilling it took 55-150 ms more than after a VACUUM.
VACUUM_EVERY = 20
_POSTGIS_RESETS = itertools.count(1)


def _vacuum(store: PlaceStore) -> None:
    from psycopg import sql

    with store._borrow() as conn:  # type: ignore[attr-defined] - autocommit, as VACUUM needs
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        if tables:
            names = sql.SQL(", ").join(sql.Identifier(t) for (t,) in tables)
            conn.execute(sql.SQL("VACUUM {}").format(names))


@functools.cache
def _migrated_sqlite() -> Path:
    """An empty SQLite store, migrated once per process and closed (its WAL folded in)."""
    folder = tempfile.mkdtemp(prefix="heritage-migrated-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "atlas.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgis":
        request.applymarker(pytest.mark.postgis)
    return request.param


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[PlaceStore]:
    """An empty, migrated store on each available backend."""
    s = make_store(backend, tmp_path)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[PlaceStore]:
    s = make_store("sqlite", tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Lisbon demo loaded once (per worker) into an SQLite file, to copy from."""
    return demo_sqlite_file(tmp_path_factory.mktemp("demo") / "demo.db")


@pytest.fixture(scope="session")
def demo_postgis(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Lisbon demo loaded once (per worker) into a PostGIS schema, to copy from."""
    url = store_url("postgis", tmp_path_factory.getbasetemp())
    schema = "test_" + os.environ.get("PYTEST_XDIST_WORKER", "main") + "_demo"
    base = url.split("schema=")[0].rstrip("?&")
    return demo_postgis_schema(f"{base}{'&' if '?' in base else '?'}schema={schema}")


@pytest.fixture
def lisbon_store(store: PlaceStore, backend: str, request: pytest.FixtureRequest) -> PlaceStore:
    """A store holding the bundled Lisbon demo (24 parishes, 557 places, two walks),
    copied from the one loaded first in this worker (:mod:`tests.demo_copies`)."""
    if backend == "sqlite":
        copy_sqlite(request.getfixturevalue("demo_sqlite"), store)
    else:
        copy_postgis(request.getfixturevalue("demo_postgis"), store)
    return store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", tiles="none", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def app(settings: Settings, lisbon_store: PlaceStore):
    from web.app import create_app

    return create_app(settings, store=lisbon_store)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The app served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # As ``serve``: forwarding headers are for web.client_address alone.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        _unavailable("Chromium", "HERITAGE_REQUIRE_BROWSER")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright", "HERITAGE_REQUIRE_BROWSER")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser page that may reach 127.0.0.1 only; other requests are aborted
    and recorded in ``page.blocked_requests``."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.blocked_requests = []  # type: ignore[attr-defined]

    def guard(route, request) -> None:
        host = request.url.split("/")[2] if "://" in request.url else ""
        if request.url.startswith(("data:", "blob:", "about:")) or host.startswith(
            ("127.0.0.1", "localhost", "[::1]")
        ):
            route.continue_()
        else:
            pg.blocked_requests.append(request.url)  # type: ignore[attr-defined]
            route.abort()

    pg.route("**/*", guard)
    yield pg
    context.close()


# Strings that must never leave the service in a public output (downloads, OGC API).
SECRET_NAME = "Zebulon Quaxworth-Pemberly"
SECRET_CONTACT = "zq.pemberly.7731@example.org"
SECRET_DISPLAY = "Zeb from the bakery 7731"


@pytest.fixture
def open_data_cases(lisbon_store: PlaceStore) -> dict[str, str]:
    """The Lisbon demo plus places that test the open-data rules, by role -> place id:
    ``area`` (public polygon, personal data, a protocol label), ``generalised`` (point),
    ``hidden`` (route), ``pending``, ``no_open_data`` (published without that consent),
    ``rejected``."""
    from shapely.geometry import LineString, Point, Polygon

    from geodata.models import Consent, Narrative, Place, Sensitivity, Status
    from geodata.place_attachments import ProtocolLabel

    def place(title: str, geometry, **kw) -> Place:
        kw.setdefault("status", Status.PUBLISHED)
        return Place(
            geometry=geometry, title=title, category="memory",
            narratives=[Narrative("A story told at the market", "pt"),
                        Narrative("قصة من السوق", "ar")],
            contributor_name=SECRET_NAME, contributor_contact=SECRET_CONTACT,
            display_name=SECRET_DISPLAY, period="1950s", year_from=1950, year_to=1959,
            tags=["market", "oral history"], **kw,
        )  # fmt: skip

    # Drawn clockwise on purpose: exports must turn the exterior counterclockwise.
    square = Polygon([(-9.1400, 38.7100), (-9.1400, 38.7120), (-9.1380, 38.7120),
                      (-9.1380, 38.7100)])  # fmt: skip
    cases = {
        "area": place("Old fish market square", square, licence="CC-BY-SA-4.0",
                      attribution="Mouraria residents"),
        "generalised": place("Grandmother's doorstep", Point(-9.13512, 38.71346),
                             sensitivity=Sensitivity.GENERALISED),
        "hidden": place("Secret garden path", LineString([(-9.145, 38.715), (-9.144, 38.716)]),
                        sensitivity=Sensitivity.HIDDEN),
        "pending": place("PENDING-UNIQUE-TITLE", Point(-9.14, 38.71), status=Status.PENDING),
        "no_open_data": place("NO-OPEN-DATA-UNIQUE-TITLE", Point(-9.14, 38.71),
                              consent=Consent(publish=True, open_data=False)),
        "rejected": place("REJECTED-UNIQUE-TITLE", Point(-9.14, 38.71),
                          status=Status.REJECTED),
    }  # fmt: skip
    for p in cases.values():
        lisbon_store.add(p)
    lisbon_store.set_protocol_labels(
        cases["area"].id,
        [ProtocolLabel("tk_a", "TK Attribution", "Name the Mouraria community.")],
    )
    return {role: p.id for role, p in cases.items()}
