"""Security headers on every answer, the CSP nonce on pages with inline code, a timeout
on request bodies that stop arriving, and the server's own limits (``heritage-atlas
serve``): oversized headers refused, idle connections closed."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.conftest import LiveServer, free_port
from web.errors import install_error_handlers
from web.security import SecurityHeaders

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    "/",
    "/maps/city",
    "/maps/neighbourhoods/1",
    "/contribute",
    "/login",
    "/ogc",
    "/ogc/collections/places/items?f=html&limit=5",
]
OTHER = [
    "/healthz",
    "/api/map/places?bbox=-9.2,38.7,-9.1,38.8&zoom=13",
    "/api/export/neighbourhoods.geojson",
    "/static/vendor/leaflet/leaflet.js",
    "/no/such/page",
    "/api/places/nope",
    "/places/pl_nothing",
]


def assert_security_headers(response: httpx.Response) -> str:
    h = response.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert h["x-frame-options"] in ("SAMEORIGIN", "DENY")
    assert "camera=()" in h["permissions-policy"]
    policy = h["content-security-policy"]
    assert "unsafe-eval" not in policy and "unsafe-inline" not in policy.split("style-src-attr")[0]
    assert "frame-ancestors" in policy or "default-src 'none'" in policy
    return policy


@pytest.mark.parametrize("path", PAGES + OTHER)
def test_every_answer_carries_the_security_headers(client, path: str):
    assert_security_headers(client.get(path))


def test_https_answers_tell_browsers_to_stay_on_https(client):
    plain = client.get("/healthz")
    assert "strict-transport-security" not in plain.headers
    secure = client.get("https://127.0.0.1/healthz")
    assert secure.headers["strict-transport-security"].startswith("max-age=")
    assert secure.headers["cross-origin-opener-policy"] == "same-origin"


def test_a_refused_body_carries_them_too(client):
    response = client.post(
        "/api/places", content=b"{}", headers={"Content-Length": str(50 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert_security_headers(response)


@pytest.mark.parametrize("path", PAGES)
def test_inline_scripts_and_styles_carry_this_answers_nonce(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.text[:200]
    policy = assert_security_headers(response)
    nonces = set(re.findall(r"'nonce-([^']+)'", policy))
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", response.text):
        if "src=" in tag or 'type="application/json"' in tag:
            continue  # a file of ours ('self'), or data that never runs
        found = re.search(r'nonce="([^"]+)"', tag)
        assert found and found.group(1) in nonces, (path, tag)


def test_each_answer_gets_a_fresh_nonce(client):
    first = client.get("/maps/city").headers["content-security-policy"]
    second = client.get("/maps/city").headers["content-security-policy"]
    assert re.search(r"'nonce-([^']+)'", first).group(1) != re.search(
        r"'nonce-([^']+)'", second
    ).group(1)


def test_staff_pages_may_not_be_framed_at_all(client):
    from geodata.accounts import create_account

    _, token = create_account(client.app.state.store, "headers-admin", "admin")
    response = client.get("/admin", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_a_body_that_stops_arriving_gets_a_408():
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    app = FastAPI(routes=[Route("/", echo, methods=["POST"])])
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders, body_timeout_s=0.5)
    with LiveServer(app) as server, socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(10)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part")
        started = time.monotonic()
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"stopped arriving" in answer
        assert time.monotonic() - started < 5


def test_a_slow_but_steady_body_is_not_cut_off():
    """13 bytes a second, above the minimum rate of 10: the body may take its time."""

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    app = FastAPI(routes=[Route("/", echo, methods=["POST"])])
    app.add_middleware(SecurityHeaders, body_timeout_s=0.5, body_min_rate=10)
    with LiveServer(app) as server, socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(10)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(6):  # 1.8 s in all, never 0.5 s without a byte
            s.sendall(b"4\r\nabcd\r\n")
            time.sleep(0.3)
        s.sendall(b"0\r\n\r\n")
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"24"), answer


def test_a_body_that_trickles_too_slowly_gets_a_408_in_the_clients_language():
    """A byte every 0.25 s never leaves a 1 s gap, but 4 bytes a second is under the
    minimum rate of 20: cut off soon after the first second, not when the body ends."""

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    app = FastAPI(routes=[Route("/", echo, methods=["POST"])])
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders, body_timeout_s=1.0, body_min_rate=20)
    with LiveServer(app) as server, socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(0.25)
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nAccept-Language: fr\r\nContent-Length: 1000\r\n\r\n"
        )
        started, answer = time.monotonic(), b""
        while b"\r\n\r\n" not in answer and time.monotonic() - started < 30:
            try:
                answer += s.recv(4096)
            except TimeoutError:
                s.sendall(b"x")
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"content-language: fr" in answer.lower()
        while not answer.endswith(b"}"):
            answer += s.recv(4096)
        assert "trop lentement (moins de 20 octets par seconde)" in answer.decode()
        assert time.monotonic() - started < 15  # the whole body would have taken 250 s


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """``python -m web serve`` as an operator starts it (idle connections close in 2 s)."""
    workdir = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "HERITAGE_DATABASE_URL": f"sqlite:///{workdir / 'atlas.db'}",
        "HERITAGE_TILES": "none",
    }
    command = [sys.executable, "-m", "web", "serve", "--port", str(port)]
    with open(workdir / "serve.log", "wb") as log:
        process = subprocess.Popen(
            [*command, "--timeout-keep-alive", "2"], env=env, cwd=workdir, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (
                workdir / "serve.log"
            ).read_text()
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_server_refuses_a_megabyte_of_headers(served):
    with socket.create_connection(("127.0.0.1", served), timeout=10) as s:
        s.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n"
        )
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 4"), answer


def test_the_server_closes_idle_connections(served):
    with socket.create_connection(("127.0.0.1", served), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b'"status"' not in answer:
            answer += s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert s.recv(4096) == b""  # closed by the server, not by our timeout
        assert time.monotonic() - started < 8
