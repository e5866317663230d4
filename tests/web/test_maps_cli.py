"""``heritage-atlas render-map``: a map file for a laptop with no server, and its picture."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geodata.demo import load_demo
from geodata.models import Sensitivity, Status
from geodata.store import open_store
from tests.conftest import CHROMIUM, _unavailable
from tests.mapping.conftest import make_place
from web.cli import app

runner = CliRunner()


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    monkeypatch.setenv("HERITAGE_DATABASE_URL", url)
    monkeypatch.setenv("HERITAGE_TILES", "none")
    store = open_store(url)
    load_demo(store)
    store.add_many(
        [
            make_place(title="Pending one", status=Status.PENDING, neighbourhood_id=6),
            make_place(title="Hidden spring", sensitivity=Sensitivity.HIDDEN, neighbourhood_id=6),
        ]
    )
    store.close()
    return url


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_render_map_writes_one_self_contained_file(demo_db, tmp_path):
    out = tmp_path / "maps" / "santa-maria-maior.html"
    result = run("render-map", "--neighbourhood", "6", "--out", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    # Nothing to fetch: no linked script, stylesheet, icon or image.
    assert not re.search(r"<script[^>]*\ssrc=", page)
    assert not re.search(r'<(?:link|img)[^>]*\s(?:href|src)="(?!data:)', page)
    assert "/static/" not in page
    assert "Santa Maria Maior" in page and "119 places" in page  # the hidden one counts
    assert "Pending one" not in page and "Hidden spring" not in page
    assert "Maria Private" not in page and "maria@example.org" not in page
    assert not list(out.parent.glob(".*.tmp"))  # written whole, nothing left behind


def test_render_map_links_popups_to_place_pages_only_with_a_public_address(
    demo_db, tmp_path, monkeypatch
):
    out = tmp_path / "map.html"
    assert run("render-map", "--neighbourhood", "6", "--out", out).exit_code == 0
    assert '"placePageUrl":null' in out.read_text(encoding="utf-8")
    monkeypatch.setenv("HERITAGE_PUBLIC_URL", "https://atlas.example.org/")
    assert run("render-map", "--neighbourhood", "6", "--out", out).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert '"placePageUrl":"https://atlas.example.org/places/{id}"' in page


def test_render_map_refuses_an_unknown_neighbourhood_in_one_line(demo_db, tmp_path):
    result = runner.invoke(
        app, ["render-map", "--neighbourhood", "999", "--out", str(tmp_path / "x.html")]
    )
    assert result.exit_code == 1
    assert result.output.strip() == "error: there is no neighbourhood 999"
    assert not (tmp_path / "x.html").exists()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.browser
def test_render_map_takes_a_picture_with_headless_chromium(demo_db, tmp_path):
    if not Path(CHROMIUM).exists():
        _unavailable("Chromium", "HERITAGE_REQUIRE_BROWSER")
    out, png = tmp_path / "map.html", tmp_path / "map.png"
    # Its own process, as a user runs it (and apart from the tests' own Playwright).
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "web",
            "render-map",
            "--neighbourhood",
            "6",
            "--out",
            str(out),
            "--png",
            str(png),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert png_size(png.read_bytes()) == (1600, 1100)
    from PIL import Image

    colours = Image.open(png).convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # a drawn map, not a blank page
