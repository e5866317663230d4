"""Absolute links (edit links, join links and QR codes, OGC API links, the downloads'
``Link`` header) never follow a forged ``Host``: such a request gets a 400 problem, and
with ``HERITAGE_PUBLIC_URL`` set every link uses it whatever the ``Host`` says."""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Callable, Iterator

import httpx
import pytest
import segno
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geodata.account_records import Role
from geodata.privacy import public_filter
from geodata.store.base import PlaceStore
from tests.conftest import LiveServer
from tests.web.staff_helpers import make_staff
from web.app import create_app
from web.public_url import HostRules, exposure_warning, host_of
from web.settings import Settings

FOREIGN = "evil.example"
PUBLIC = "https://atlas.example.org/heritage"
PROBLEM = "application/problem+json"


def feature(title: str = "Tasca do Chico", workshop: str | None = None) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
        "properties": {
            "title": title,
            "narratives": [{"text": "Fado vadio every Monday.", "language": "pt"}],
            "category": "memory",
            "consent": {"publish": True, "open_data": True},
            "workshop": workshop,
        },
    }


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


@pytest.fixture
def make_client(
    settings: Settings, lisbon_store: PlaceStore
) -> Iterator[Callable[..., TestClient]]:
    """``make_client(base_url, **settings)``: a client of the app with those settings."""
    clients: list[TestClient] = []

    def make(base_url: str = "http://127.0.0.1", **changes: object) -> TestClient:
        app = create_app(settings.model_copy(update=changes), store=lisbon_store)
        client = TestClient(app, base_url=base_url)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def setup(lisbon_store: PlaceStore, make_client) -> dict[str, str]:
    """A facilitator's token, a workshop, and a resident's place with its edit token,
    made through the API at the loopback address."""
    staff = make_staff(lisbon_store)
    token = staff[Role.FACILITATOR].token
    client = make_client()
    auth = {"Authorization": f"Bearer {token}"}
    code = client.post("/api/workshops", json={"title": "Mouraria", "neighbourhood_id": 1},
                       headers=auth).json()["code"]  # fmt: skip
    receipt = client.post("/api/places", json=feature(workshop=code)).json()
    published = next(lisbon_store.list(public_filter(None, "open_data"), limit=1)).id
    return {
        "code": code,
        "token": token,
        "place": receipt["id"],
        "edit_token": receipt["edit_token"],
        "published": published,
    }


def link_requests(client: TestClient, s: dict[str, str], host: str) -> list[httpx.Response]:
    """Every request whose answer carries an absolute link, sent with ``Host: host``."""
    h = {"Host": host}
    staff = {**h, "Authorization": f"Bearer {s['token']}"}
    html = {**h, "Accept": "text/html"}
    code, ogc = s["code"], "/ogc/collections/places"
    # The form's CSRF cookie and token come from a page fetched at the real address.
    form = client.get("/contribute").text
    fields = {
        "csrf_token": hidden(form, "csrf_token"),
        "submission_id": hidden(form, "submission_id"),
        "title": "Padaria",
        "narrative": "O pão.",
        "narrative_language": "pt",
        "category": "food",
        "latitude": "38.7101",
        "longitude": "-9.1402",
        "consent_publish": "yes",
        "licence": "CC-BY-4.0",
        "sensitivity": "public",
    }
    edit = {"token": s["edit_token"]}
    return [
        client.post("/api/places", json=feature("Forged host"), headers=h),
        client.post("/contribute", data=fields, headers=h),
        client.get(f"/contribute/edit/{s['place']}", params=edit, headers=h),
        client.get(f"/api/workshops/{code}", headers=staff),
        client.get(f"/workshops/{code}", headers=staff),
        client.get(f"/workshops/{code}/qr.svg", headers=staff),
        client.get(f"/workshops/{code}/live", headers=h),
        client.get("/ogc", headers=h),
        client.get("/ogc", headers=html),
        client.get("/ogc/api", headers=h),
        client.get("/ogc/collections", headers=h),
        client.get(ogc, headers=h),
        client.get(f"{ogc}/items?limit=2&offset=2", headers=h),
        client.get(f"{ogc}/items?limit=2&offset=2", headers=html),
        client.get(f"{ogc}/items/{s['published']}", headers=h),
        client.get("/api/export/places.csv?category=memory", headers=h),
        client.get("/", headers=html),
        client.get("/maps/neighbourhoods/1", headers=html),
        client.get("/contribute", headers=html),
        client.get(f"/places/{s['published']}", headers=html),
    ]


def everything(response: httpx.Response) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return headers + "\n" + response.content.decode("utf-8", "replace")


def test_a_forged_host_gets_a_400_problem_and_no_link_to_it(make_client, setup) -> None:
    client = make_client()
    for r in link_requests(client, setup, FOREIGN):
        where = f"{r.request.method} {r.request.url.path}"
        assert r.status_code == 400, where
        assert "//" + FOREIGN not in everything(r), where
        if r.headers["content-type"].startswith(PROBLEM):
            body = r.json()
            assert body["code"] == "untrusted_host" and "HERITAGE_ALLOWED_HOSTS" in body["detail"]
        else:  # a browser asked: a short page in its language
            assert r.headers["content-type"].startswith("text/html"), where
            assert "HERITAGE_PUBLIC_URL" in r.text
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"  # security headers still on
    # Nothing was stored by the refused submissions.
    titles = {p.title for p in client.app.state.store.list(None)}
    assert "Padaria" not in titles and "Forged host" not in titles


@pytest.mark.parametrize(
    "host", ["evil.example:80", "127.0.0.1.evil.example", "127.0.0.1@evil.example", "[::2]"]
)
def test_lookalike_hosts_are_refused(make_client, host) -> None:
    r = make_client().get("/ogc", headers={"Host": host})
    assert r.status_code == 400 and r.json()["code"] == "untrusted_host"


def test_the_refusal_speaks_the_readers_language(make_client) -> None:
    r = make_client().get(
        "/", headers={"Host": FOREIGN, "Accept": "text/html", "Accept-Language": "pt"}
    )
    assert r.status_code == 400 and r.headers["content-language"] == "pt"
    assert 'lang="pt"' in r.text and "não responde ao endereço evil.example" in r.text
    problem = make_client().get("/ogc", headers={"Host": "<b>", "Accept-Language": "ar"})
    assert problem.status_code == 400 and problem.headers["content-type"] == PROBLEM
    assert "ليست اسم مضيف" in problem.json()["detail"]
    page = make_client().get("/", headers={"Host": "<b>x", "Accept": "text/html"})
    assert page.status_code == 400 and "<b>" not in page.text


def test_public_url_makes_every_link_whatever_the_host(make_client, setup) -> None:
    """Even an operator who lets every Host in gets links only to HERITAGE_PUBLIC_URL."""
    client = make_client(public_url=PUBLIC + "/", allowed_hosts=["*"])
    answers = link_requests(client, setup, FOREIGN)
    for r in answers:
        where = f"{r.request.method} {r.request.url.path}"
        assert r.status_code in (200, 201), (where, r.text[:300])
        assert FOREIGN not in everything(r), where
    submitted, done, edit, workshop, dashboard, qr, live, landing = answers[:8]
    items, csv_download = answers[12], answers[15]
    assert submitted.json()["edit_url"].startswith(PUBLIC + "/contribute/edit/pl_")
    assert PUBLIC + "/contribute/edit/pl_" in done.text
    assert PUBLIC + "/contribute/edit/" + setup["place"] in edit.text
    join = f"{PUBLIC}/contribute?workshop={setup['code']}"
    assert workshop.json()["contribute_url"] == join and join in dashboard.text
    assert join in live.text
    expected = io.BytesIO()
    segno.make(join, error="m").save(
        expected, kind="svg", scale=10, border=4, title=f"Join workshop {setup['code']}"
    )
    assert qr.content == expected.getvalue()
    assert {link["href"].split("?")[0] for link in landing.json()["links"]} >= {
        PUBLIC + "/ogc", PUBLIC + "/ogc/api", PUBLIC + "/ogc/conformance",
        PUBLIC + "/ogc/collections",
    }  # fmt: skip
    rels = {link["rel"]: link["href"] for link in items.json()["links"]}
    assert rels["next"].startswith(PUBLIC + "/ogc/collections/places/items?")
    assert rels["prev"].startswith(PUBLIC + "/ogc/collections/places/items?")
    assert csv_download.headers["link"] == (
        f'<{PUBLIC}/api/export/places.licence.txt?category=memory>; rel="license"'
    )
    place_page = answers[-1].text
    assert f'<meta property="og:url" content="{PUBLIC}/places/{setup["published"]}">' in place_page
    assert f'"@id":"{PUBLIC}/places/{setup["published"]}"' in place_page


def test_an_allowed_host_is_used_for_links(make_client, setup) -> None:
    client = make_client()
    answers = link_requests(client, setup, "localhost:8000")
    assert all(r.status_code in (200, 201) for r in answers)
    assert answers[0].json()["edit_url"].startswith("http://localhost:8000/contribute/edit/")
    assert answers[15].headers["link"].startswith("<http://localhost:8000/api/export/")
    assert 'content="http://localhost:8000/places/' in answers[-1].text  # og:url
    wildcard = make_client(allowed_hosts=["*.example.org"])
    ok = wildcard.get("/ogc", headers={"Host": "maps.example.org"})
    assert ok.status_code == 200 and ok.json()["links"][0]["href"].startswith(
        "http://maps.example.org/ogc"
    )
    for host in ("example.org.evil.example", "evilexample.org", "localhost"):
        assert wildcard.get("/ogc", headers={"Host": host}).status_code == 400, host


def test_the_address_the_connection_arrived_at_is_trusted(make_client, setup) -> None:
    """A phone on the workshop's Wi-Fi that opened http://192.168.1.20:8000/ gets links
    to that address; a Host naming any other address is refused."""
    client = make_client("http://192.168.1.20:8000")
    r = client.post("/api/places", json=feature())
    assert r.status_code == 201
    assert r.json()["edit_url"].startswith("http://192.168.1.20:8000/contribute/edit/")
    other = client.get("/ogc", headers={"Host": "192.168.1.99:8000"})
    assert other.status_code == 400


def test_a_request_without_host_gets_links_to_the_connections_address(app) -> None:
    """HTTP/1.0 without Host (old health checks): links use the listening address."""
    with LiveServer(app) as server, socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(10)
        s.sendall(b"GET /ogc?f=json HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert f"http://127.0.0.1:{server.port}/ogc".encode() in answer


def test_ipv6_loopback_host_is_allowed(make_client) -> None:
    r = make_client().get("/ogc", headers={"Host": "[::1]:8000"})
    assert r.status_code == 200
    assert r.json()["links"][0]["href"].startswith("http://[::1]:8000/ogc")


def test_host_header_parsing() -> None:
    assert host_of("Example.ORG.:8000") == "example.org"
    assert host_of("[::1]:8000") == "::1" and host_of("[0:0::1]") == "::1"
    for bad in ("", "a b", "a:b", "[::1", "[::1]x", "[nope]", "x@y", "::1", "a/b"):
        assert host_of(bad) is None, bad
    rules = HostRules.from_settings(
        Settings(public_url="https://Atlas.Example.org/", _env_file=None)  # type: ignore[call-arg]
    )
    assert rules.allows("atlas.example.org") and rules.allows("localhost")
    assert not rules.allows("example.org") and rules.allows("10.0.0.5", server="10.0.0.5")


def test_allowed_hosts_setting_takes_a_comma_list_or_json(monkeypatch) -> None:
    monkeypatch.setenv("HERITAGE_ALLOWED_HOSTS", "atlas.example.org, *.Example.org,[::1]")
    assert Settings(_env_file=None).allowed_hosts == [  # type: ignore[call-arg]
        "atlas.example.org", "*.example.org", "::1"
    ]  # fmt: skip
    monkeypatch.setenv("HERITAGE_ALLOWED_HOSTS", '["a.example.org"]')
    assert Settings(_env_file=None).allowed_hosts == ["a.example.org"]  # type: ignore[call-arg]
    monkeypatch.setenv("HERITAGE_ALLOWED_HOSTS", "a*.example.org")
    with pytest.raises(ValueError, match="wildcard"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_serve_warns_when_listening_beyond_loopback_unconfigured(monkeypatch, tmp_path) -> None:
    base = {"database_url": f"sqlite:///{tmp_path / 'a.db'}", "_env_file": None}
    plain = Settings(**base)  # type: ignore[arg-type]
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert exposure_warning(host, 8000, plain) is None, host
    warning = exposure_warning("0.0.0.0", 8000, plain)
    assert warning and "HERITAGE_PUBLIC_URL" in warning and "HERITAGE_ALLOWED_HOSTS" in warning
    assert "192.168.1.20" in exposure_warning("192.168.1.20", 8000, plain)
    assert "http://[fd00::5]:8000" in exposure_warning("fd00::5", 8000, plain)
    assert exposure_warning("0.0.0.0", 8000, Settings(**base, public_url=PUBLIC)) is None
    monkeypatch.setenv("HERITAGE_ALLOWED_HOSTS", "atlas.local")
    assert exposure_warning("0.0.0.0", 8000, Settings(**base)) is None  # type: ignore[arg-type]

    # The serve command prints it (uvicorn.run is replaced: nothing listens).
    import uvicorn

    from web.cli import app as cli

    monkeypatch.delenv("HERITAGE_ALLOWED_HOSTS")
    monkeypatch.setenv("HERITAGE_DATABASE_URL", base["database_url"])
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw["host"]))
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 0 and calls == ["0.0.0.0"]
    assert "warning:" in result.output and "HERITAGE_PUBLIC_URL" in result.output
    quiet = CliRunner().invoke(cli, ["serve"])
    assert quiet.exit_code == 0 and "warning:" not in quiet.output
