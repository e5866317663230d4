"""The heritage-atlas command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from geodata.demo import NEIGHBOURHOODS, PLACES, demo_path
from geodata.store import open_store
from web.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HERITAGE_DATABASE_URL", url)
    return url


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_init_creates_the_database(db, tmp_path):
    result = run("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli.db").exists()


def test_import_neighbourhoods_then_places_prints_counts(db, tmp_path):
    result = run("import-neighbourhoods", demo_path(NEIGHBOURHOODS), "--name-field", "NOME")
    assert result.exit_code == 0, result.output
    assert "imported 24 neighbourhoods" in result.output

    aml = demo_path(PLACES[0][0])
    result = run("import-places", aml)
    assert result.exit_code == 1
    assert "imported 0" in result.output and "rejected 170" in result.output
    report = tmp_path / (aml.name + ".rejects.csv")
    assert report.exists() and "outside the project area" in report.read_text()
    assert open_store(db).count() == 0

    result = run("import-places", aml, "--skip-invalid", "--language", "pt")
    assert result.exit_code == 0, result.output
    assert "imported 278" in result.output
    assert open_store(db).count() == 278


def test_an_unreadable_file_gives_one_line_and_a_non_zero_exit(db, tmp_path):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"\x00\x01 definitely not a GeoPackage")
    for path in (junk, tmp_path / "missing.geojson"):
        result = run("import-places", path)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert result.output.strip().startswith("error:")


def test_a_bad_language_option_is_refused_in_one_line(db, tmp_path):
    result = run("import-places", demo_path(PLACES[1][0]), "--language", "xx-notalang-!")
    assert result.exit_code == 1
    assert "not a language tag" in result.output


def test_serve_demo_shows_the_lisbon_map(tmp_path):
    """The README's first command: a real server with the demo, answering on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "HERITAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "HERITAGE_TILES": "none",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    out = proc.stdout.read().decode() if proc.poll() is not None else ""
                    pytest.fail(f"server did not start: {out}")
                time.sleep(0.2)
        health = r.json()
        assert health["neighbourhoods"] == 24 and health["places"] > 300
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200
        assert "leaflet" in page.text.lower() and "Santa Maria Maior" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_export_writes_rfc7946_geojson_of_published_places(db, tmp_path):
    run("import-neighbourhoods", demo_path(NEIGHBOURHOODS), "--name-field", "NOME")
    run("import-places", demo_path(PLACES[1][0]), "--category", "museum", "--language", "pt")
    out = tmp_path / "places.geojson"
    result = run("export", out)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert len(doc["features"]) == 99
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert -9.3 < lon < -9.0 and 38.6 < lat < 38.9
