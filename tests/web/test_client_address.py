"""Who the client is behind a proxy: X-Forwarded-For and Forwarded (RFC 7239) are believed
only from HERITAGE_TRUSTED_PROXIES, walked from the right past our own proxies; a forged
header from anyone else changes nothing, and rate limits hold against it."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from web.app import create_app
from web.client_address import (
    Hop,
    TrustedProxies,
    parse_forwarded,
    parse_node,
    parse_x_forwarded_for,
    resolve,
)
from web.rate_limits import rate_key
from web.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PROXY = ("10.0.0.5", 41000)
TRUSTED = TrustedProxies(["10.0.0.0/24", "2001:db8:ffff::/48"])


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").encode(), v.encode()) for k, v in values.items()]


def feature(title: str = "Tasca do Chico") -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
        "properties": {
            "title": title,
            "narratives": [{"text": "Fado vadio every Monday.", "language": "pt"}],
            "category": "memory",
            "consent": {"publish": True},
        },
    }


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def test_forwarded_parses_quoted_ipv6_ports_and_protocols():
    hops = parse_forwarded(
        [
            'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"',
            'for="198.51.100.17:8080";PROTO=HTTPS',
        ]
    )
    assert hops == [
        Hop(ip("192.0.2.60"), 0, "http"),
        Hop(ip("2001:db8:cafe::17"), 4711, None),
        Hop(ip("198.51.100.17"), 8080, "https"),
    ]


def test_forwarded_obfuscated_and_unknown_nodes_give_no_address():
    hops = parse_forwarded(['for=_hidden, for="_SEVKISEK";proto=https, for=unknown, by=_x'])
    assert [h.address for h in hops] == [None, None, None, None]
    assert hops[1].proto == "https"
    # An obfuscated port keeps the address but not the port.
    assert parse_node("[2001:db8::1]:_abc") == (ip("2001:db8::1"), 0)


def test_forwarded_quoted_strings_may_hold_separators():
    assert parse_forwarded(['for="192.0.2.1";host="a,b;c", for=192.0.2.2']) == [
        Hop(ip("192.0.2.1")),
        Hop(ip("192.0.2.2")),
    ]


@pytest.mark.parametrize(
    "value",
    [
        'for="192.0.2.1',
        "for=192.0.2.1 for=192.0.2.2",
        "for=192.0.2.1;for=192.0.2.2",
        "for",
        "for=192.0.2.1:80",  # a port must be quoted (':' is not a token character)
    ],
)
def test_a_malformed_forwarded_header_is_not_believed_at_all(value):
    assert parse_forwarded([value]) is None


def test_x_forwarded_for_takes_ports_brackets_and_mapped_addresses():
    hops = parse_x_forwarded_for(["6.6.6.6, 192.0.2.1:5000", "[2001:db8::2]:443, ::ffff:10.0.0.9"])
    assert [(h.address, h.port) for h in hops] == [
        (ip("6.6.6.6"), 0),
        (ip("192.0.2.1"), 5000),
        (ip("2001:db8::2"), 443),
        (ip("10.0.0.9"), 0),
    ]
    assert [h.address for h in parse_x_forwarded_for(["unknown, not an address"])] == [None, None]


# ---------------------------------------------------------------------------
# Walking the chain
# ---------------------------------------------------------------------------


def test_an_untrusted_peer_is_the_client_whatever_it_says():
    assert resolve(("203.0.113.9", 1), headers(x_forwarded_for="6.6.6.6"), TRUSTED) is None
    assert resolve(("203.0.113.9", 1), headers(forwarded="for=6.6.6.6"), TRUSTED) is None
    assert resolve(("testclient", 1), headers(x_forwarded_for="6.6.6.6"), TRUSTED) is None
    assert resolve(PROXY, headers(x_forwarded_for="6.6.6.6"), TrustedProxies([])) is None


def test_the_chain_is_walked_from_the_right_past_our_own_proxies():
    # The client wrote 6.6.6.6 itself; our outer proxy saw 192.0.2.7, our inner one 10.0.0.8.
    chain = headers(x_forwarded_for="6.6.6.6, 192.0.2.7, 10.0.0.8")
    assert resolve(PROXY, chain, TRUSTED).address == ip("192.0.2.7")
    forwarded = headers(forwarded='for=6.6.6.6, for="[2001:db8::7]", for=10.0.0.8')
    assert resolve(PROXY, forwarded, TRUSTED).address == ip("2001:db8::7")
    # Only our proxies in the chain: the leftmost is the client.
    assert resolve(PROXY, headers(x_forwarded_for="10.0.0.1, 10.0.0.2"), TRUSTED).address == ip(
        "10.0.0.1"
    )


def test_an_unknown_or_hidden_hop_stops_the_walk_at_the_proxy_that_reported_it():
    for value in ("for=6.6.6.6, for=_hidden", "for=6.6.6.6, for=unknown", "for=6.6.6.6, proto=x"):
        hop = resolve(PROXY, headers(forwarded=value), TRUSTED)
        assert hop.address == ip("10.0.0.5"), value  # never 6.6.6.6, left of the hidden one
    hop = resolve(PROXY, headers(x_forwarded_for="6.6.6.6, garbage, 10.0.0.8"), TRUSTED)
    assert hop.address == ip("10.0.0.8")


def test_headers_that_name_different_clients_are_both_ignored():
    # nginx keeps X-Forwarded-For and passes a forged Forwarded through, or the reverse.
    both = headers(x_forwarded_for="192.0.2.7", forwarded="for=6.6.6.6")
    assert resolve(PROXY, both, TRUSTED) is None
    agree = headers(x_forwarded_for="6.6.6.6, 192.0.2.7", forwarded="for=192.0.2.7;proto=https")
    assert resolve(PROXY, agree, TRUSTED) == Hop(ip("192.0.2.7"), 0, "https")
    assert resolve(PROXY, headers(forwarded='for="bad'), TRUSTED) is None


def test_the_scheme_comes_from_the_hop_that_saw_the_client():
    xfp = headers(x_forwarded_for="192.0.2.7, 10.0.0.8", x_forwarded_proto="https, http")
    assert resolve(PROXY, xfp, TRUSTED).proto == "https"
    one = headers(x_forwarded_for="192.0.2.7, 10.0.0.8", x_forwarded_proto="https")
    assert resolve(PROXY, one, TRUSTED).proto == "https"  # one value: the nearest proxy's
    odd = headers(x_forwarded_for="192.0.2.7", x_forwarded_proto="gopher")
    assert resolve(PROXY, odd, TRUSTED).proto is None


def test_ipv6_clients_are_counted_by_their_slash_64():
    assert (
        rate_key("2001:db8:1:2:aaaa::1")
        == rate_key("2001:db8:1:2:bbbb::9")
        == ("2001:db8:1:2::/64")
    )
    assert rate_key("2001:db8:1:3::1") != rate_key("2001:db8:1:2::1")
    assert rate_key("192.0.2.1") == "192.0.2.1" and rate_key("::ffff:192.0.2.1") == "192.0.2.1"


# ---------------------------------------------------------------------------
# The setting
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("10.0.0.1,10.0.0.0/8", ["10.0.0.1", "10.0.0.0/8"]),
        (" 10.0.0.1 , 2001:db8::/32 ,", ["10.0.0.1", "2001:db8::/32"]),
        ('["10.0.0.1", "::1"]', ["10.0.0.1", "::1"]),
        ("", []),
    ],
)
def test_trusted_proxies_read_from_a_comma_list_or_json(monkeypatch, raw, parsed):
    monkeypatch.setenv("HERITAGE_TRUSTED_PROXIES", raw)
    assert Settings(_env_file=None).trusted_proxies == parsed  # type: ignore[call-arg]


def test_trusted_proxies_refuses_what_is_not_an_address(monkeypatch):
    monkeypatch.setenv("HERITAGE_TRUSTED_PROXIES", "10.0.0.1,nginx")
    with pytest.raises(ValidationError, match="'nginx' is not an IP address"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_no_proxy_is_trusted_by_default(monkeypatch):
    monkeypatch.delenv("HERITAGE_TRUSTED_PROXIES", raising=False)
    assert Settings(_env_file=None).trusted_proxies == []  # type: ignore[call-arg]


# ---------------------------------------------------------------------------
# Through the app
# ---------------------------------------------------------------------------


def _client(app, peer: tuple[str, int]) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", client=peer)


def test_forged_addresses_from_an_untrusted_peer_do_not_escape_the_rate_limit(
    settings, lisbon_store
):
    app = create_app(settings.model_copy(update={"submission_rate_limit": 3}), lisbon_store)
    before, statuses = lisbon_store.count(), []
    with _client(app, ("127.0.0.1", 5000)) as client:  # loopback, as uvicorn trusted it
        for i in range(200):
            forged = {"X-Forwarded-For": f"198.51.100.{i + 1}",
                      "Forwarded": f'for="[2001:db8:{i:x}::1]"'}  # fmt: skip
            r = client.post("/api/places", json=feature(f"Place {i}"), headers=forged)
            statuses.append(r.status_code)
    assert statuses == [201] * 3 + [429] * 197
    assert lisbon_store.count() == before + 3


def test_a_trusted_proxy_gives_each_forwarded_client_its_own_budget(settings, lisbon_store):
    limited = settings.model_copy(
        update={"submission_rate_limit": 2, "trusted_proxies": ["10.0.0.0/24"]}
    )
    app = create_app(limited, lisbon_store)
    with _client(app, PROXY) as proxy:

        def send(address: str) -> int:
            r = proxy.post("/api/places", json=feature(), headers={"X-Forwarded-For": address})
            return r.status_code

        assert [send("192.0.2.1") for _ in range(3)] == [201, 201, 429]
        assert [send("192.0.2.2") for _ in range(3)] == [201, 201, 429]
        r = proxy.post("/api/places", json=feature(), headers={"Forwarded": 'for="[2001:db8::1]"'})
        assert r.status_code == 201
        # A forged entry left of what our proxy appended is ignored: still 192.0.2.1.
        r = proxy.post("/api/places", json=feature(),
                       headers={"X-Forwarded-For": "203.0.113.50, 192.0.2.1"})  # fmt: skip
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_the_scheme_is_taken_from_a_trusted_proxy_only(settings, lisbon_store):
    app = create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.5"]}), lisbon_store)
    https = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https"}
    with _client(app, PROXY) as proxy:
        assert "strict-transport-security" in proxy.get("/healthz", headers=https).headers
    with _client(app, ("192.0.2.99", 1)) as direct:
        assert "strict-transport-security" not in direct.get("/healthz", headers=https).headers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_does_not_let_uvicorn_believe_x_forwarded_for_from_loopback(tmp_path):
    """uvicorn on its own trusts X-Forwarded-For from 127.0.0.1; ``serve`` turns that off."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERITAGE_", "FORWARDED"))}
    env.update(
        HERITAGE_DATABASE_URL=f"sqlite:///{tmp_path / 'atlas.db'}",
        HERITAGE_TILES="none",
        HERITAGE_SUBMISSION_RATE_LIMIT="2",
        HERITAGE_SUBMISSION_RATE_WINDOW_S="86400",
        PYTHONPATH=str(ROOT),  # this checkout, not the installed one
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the server did not start")
                time.sleep(0.2)
        if (left := 86400 - time.time() % 86400) < 30:
            time.sleep(left + 1)  # stay inside one fixed window
        statuses = [
            httpx.post(url + "/api/places", json=feature(f"Bakery {i}"), timeout=20,
                       headers={"X-Forwarded-For": f"198.51.100.{i + 1}"}).status_code
            for i in range(4)
        ]  # fmt: skip
        assert statuses == [201, 201, 429, 429]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
