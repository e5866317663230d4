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
        # The first page shows a real map: the parishes drawn, each linking to its map.
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and 'class="home-map"' in page.text
        assert page.text.count('<a href="/maps/neighbourhoods/') == 24
        assert "Published places in Santa Maria Maior: " in page.text
        assert 'class="teaser-text" lang="pt"' in page.text  # the demo's stories
        city = httpx.get(f"http://127.0.0.1:{port}/maps/city", timeout=10)
        assert "leaflet" in city.text.lower() and "Santa Maria Maior" in city.text
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


def story_feature(key, name, text, language, lon=-9.1335, **extra):
    props = {"place_key": key, "name": name, "story": text, "language": language,
             "source": f"record {key}", "licence": "ODbL 1.0 (© OpenStreetMap contributors)",
             **extra}  # fmt: skip
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 38.7115]},
        "properties": props,
    }


STORY_ARGS = (
    "--category", "building", "--title-field", "name", "--narrative-field", "story",
    "--narrative-language-field", "language", "--narrative-source-field", "source",
    "--narrative-licence-field", "licence", "--narrative-format", "html",
    "--group-field", "place_key", "--attach-within", "150",
)  # fmt: skip


def test_import_places_reads_a_file_of_stories_end_to_end(db, tmp_path):
    run("import-neighbourhoods", demo_path(NEIGHBOURHOODS), "--name-field", "NOME")
    path = tmp_path / "stories.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    story_feature("a", "Sé", "<p>A catedral &ndash; 1147.</p>", "pt"),
                    story_feature("a", "Sé", "<p>The cathedral &ndash; 1147.</p>", "en"),
                    story_feature("b", "Casa", "Uma casa.", "klingon!", lon=-9.14),
                ],
            }
        )
    )
    refused = run("import-places", path, *STORY_ARGS)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "imported 0" in refused.output
    assert "feature 3: 'klingon!' is not a language tag" in refused.output
    assert "nothing imported because some features are invalid" in refused.output
    assert open_store(db).count() == 0

    done = run("import-places", path, *STORY_ARGS, "--skip-invalid")
    assert done.exit_code == 0, done.output
    assert "read 3  imported 1" in done.output and "rejected 1" in done.output
    assert "joined the place of an earlier feature (place_key): 1" in done.output
    (place,) = open_store(db).list()
    assert place.title == "Sé" and [(n.language, n.text) for n in place.narratives] == [
        ("pt", "A catedral – 1147."),
        ("en", "The cathedral – 1147."),
    ]
    assert {(n.source, n.licence) for n in place.narratives} == {
        ("record a", "ODbL 1.0 (© OpenStreetMap contributors)")
    }
    # The same stories again: the place is found, nothing is added twice.
    again = run("import-places", path, *STORY_ARGS, "--skip-invalid")
    assert "imported 0" in again.output
    assert "stored already: 1 (their stories added to 0 stored places)" in again.output
    assert open_store(db).count() == 1

    unknown = run("import-places", path, *STORY_ARGS[:-2], "--narrative-field", "storie")
    assert unknown.exit_code == 1 and len(unknown.output.strip().splitlines()) == 1
    assert (
        "no feature has a field 'storie'; the fields are: language, licence, name" in unknown.output
    )
