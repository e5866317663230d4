"""``heritage-atlas basemap``: import (a readable refusal, nothing half-written), info and
remove; ``fetch`` against a tile server on 127.0.0.1 (never the internet): the user
agent, the rate limit, the refusal above a tile count, the server's faults, and a run
killed half-way that the next run finishes without asking for a tile twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geodata.basemap.coverage import count_tiles, tile_range
from geodata.basemap.installed import installed_basemap
from geodata.basemap.opening import open_archive
from tests.conftest import ROOT
from tests.geodata.basemap_archives import BAIXA, png_tile, write_mbtiles
from tests.web.tile_server import TileServer
from web.basemap_fetch import RateLimit
from web.cli import app

runner = CliRunner()
BBOX = ",".join(map(str, BAIXA))


@pytest.fixture
def atlas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder whose settings name a database there (the basemap goes beside)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HERITAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'atlas.db'}")
    monkeypatch.setenv("HERITAGE_TILES", "none")
    return tmp_path / "atlas-basemap"


@pytest.fixture
def tiles():
    with TileServer() as server:
        yield server


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def stored(path: Path) -> set[tuple[int, int, int]]:
    con = sqlite3.connect(path)
    rows = con.execute("SELECT zoom_level, tile_column, tile_row FROM tiles").fetchall()
    con.close()
    return {(z, x, 2**z - 1 - row) for z, x, row in rows}


def every_tile(zooms: range) -> set[tuple[int, int, int]]:
    return {(z, x, y) for z in zooms for x, y in tile_range(BAIXA, z).tiles()}


def test_import_installs_the_archive_and_info_and_remove_follow(atlas, tmp_path):
    source = write_mbtiles(tmp_path / "lisbon.mbtiles")
    result = run("basemap", "import", source)
    assert result.exit_code == 0, result.output
    assert (
        "installed lisbon.mbtiles as the basemap: PNG images (mbtiles), zooms 13-15"
        in result.output
    )
    assert installed_basemap(atlas) is not None
    info = run("basemap", "info")
    assert "lisbon.mbtiles, imported" in info.output and "credit: © Test tiles" in info.output
    assert run("basemap", "remove").output.startswith("removed the basemap lisbon.mbtiles")
    assert "no basemap in" in run("basemap", "info").output


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"type": "FeatureCollection", "features": []}', "neither an MBTiles nor a PMTiles"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "tile index is damaged"),
    ],
)
def test_import_refuses_a_file_in_one_line_and_writes_nothing(atlas, tmp_path, content, reason):
    bad = tmp_path / "venue.mbtiles"
    bad.write_bytes(content)
    result = run("basemap", "import", bad)
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and reason in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not atlas.exists() or list(atlas.iterdir()) == []


def test_fetch_downloads_an_area_politely_and_its_file_imports(atlas, tmp_path, tiles):
    out = tmp_path / "venue.mbtiles"
    result = run(
        "basemap", "fetch", "--bbox", BBOX, "--zooms", "13-16", "--url", tiles.template,
        "--attribution", "© Test tile server", "-o", out, "--rate", "50",
        "--contact", "facilitator@example.org",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "26 tiles fetched, 0 already in the file, 0 not on the server, of 26" in result.output
    assert stored(out) == every_tile(range(13, 17))
    assert sorted(tiles.tile_requests()) == sorted(every_tile(range(13, 17)))  # once each
    for _, headers in tiles.requests:
        assert headers["User-Agent"].startswith("heritage-atlas/")
        assert "facilitator@example.org" in headers["User-Agent"]
    info = open_archive(out).info
    assert (info.format, info.minzoom, info.maxzoom) == ("png", 13, 16)
    assert info.attribution == "© Test tile server"
    assert info.bounds == pytest.approx(BAIXA, abs=1e-6)
    assert run("basemap", "import", out).exit_code == 0
    assert installed_basemap(atlas).info.attribution == "© Test tile server"


def test_fetch_refuses_above_the_tile_limit_showing_the_count(atlas, tmp_path, tiles, monkeypatch):
    monkeypatch.setenv("HERITAGE_BASEMAP_MAX_TILES", "25")
    out = tmp_path / "venue.mbtiles"
    args = ["--bbox", BBOX, "--url", tiles.template, "--attribution", "x", "-o", out]
    result = run("basemap", "fetch", "--zooms", "13-16", *args)
    assert result.exit_code == 1
    assert "this would fetch 26 tiles, more than the limit of 25" in result.output
    assert tiles.requests == [] and not out.exists()
    more = run("basemap", "fetch", "--zooms", "13-16", "--max-tiles", "26", "--rate", "50", *args)
    assert more.exit_code == 0, more.output


def test_tiles_the_server_lacks_are_not_asked_for_again(atlas, tmp_path, tiles):
    missing = sorted(every_tile(range(13, 15)))[:2]
    tiles.behaviour.absent = set(missing)
    args = ["--bbox", BBOX, "--zooms", "13-14", "--url", tiles.template, "--attribution", "x"]
    out = tmp_path / "venue.mbtiles"
    first = run("basemap", "fetch", *args, "-o", out, "--rate", "50")
    assert "2 not on the server" in first.output
    asked = len(tiles.requests)
    again = run("basemap", "fetch", *args, "-o", out, "--rate", "50")
    total = len(every_tile(range(13, 15)))
    assert f"0 tiles fetched, {total} already in the file, 0 not on the server" in again.output
    assert len(tiles.requests) == asked  # nothing asked a second time


def test_a_busy_server_is_asked_again_after_its_retry_after(atlas, tmp_path, tiles):
    first = sorted(every_tile(range(13, 14)))[0]
    tiles.behaviour.busy = {first: 2}
    out = tmp_path / "venue.mbtiles"
    result = run(
        "basemap", "fetch", "--bbox", BBOX, "--zooms", "13", "--url", tiles.template,
        "--attribution", "x", "-o", out, "--rate", "50",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert tiles.tile_requests().count(first) == 3
    assert stored(out) == every_tile(range(13, 14))


def test_a_refusing_server_stops_the_fetch_at_once(atlas, tmp_path, tiles):
    tiles.behaviour.refuse = True
    out = tmp_path / "venue.mbtiles"
    result = run(
        "basemap", "fetch", "--bbox", BBOX, "--zooms", "13-16", "--url", tiles.template,
        "--attribution", "x", "-o", out, "--rate", "50",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "the tile server refused" in result.output and "HTTP 403" in result.output
    assert len(tiles.requests) == 1


def test_a_page_that_is_not_a_tile_is_refused(atlas, tmp_path, tiles):
    tiles.behaviour.html = True
    result = run(
        "basemap", "fetch", "--bbox", BBOX, "--zooms", "13", "--url", tiles.template,
        "--attribution", "x", "-o", tmp_path / "v.mbtiles",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "not a PNG, JPEG or WebP image (text/html)" in result.output


def test_a_file_of_another_server_is_not_mixed_with(atlas, tmp_path, tiles):
    out = tmp_path / "venue.mbtiles"
    base = ["basemap", "fetch", "--bbox", BBOX, "--zooms", "13", "--attribution", "x", "-o", out]
    assert run(*base, "--url", tiles.template, "--rate", "50").exit_code == 0
    other = run(*base, "--url", tiles.url + "/other/{z}/{x}/{y}.png")
    assert other.exit_code == 1 and "holds tiles from another server" in other.output


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--url", "ftp://x/{z}/{x}/{y}.png"], "must start with http"),
        (["--url", "https://x/{z}/{x}.png"], "lacks {y}"),
        (["--url", "https://x/{z}/{x}/{y}.png", "--zooms", "16-10"], "zooms go from 0"),
        (["--url", "https://x/{z}/{x}/{y}.png", "--bbox", "10,10,0,0"], "empty or reversed"),
    ],
)
def test_fetch_names_a_bad_option(atlas, args, reason):
    base = {"--bbox": BBOX, "--attribution": "x"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    result = run("basemap", "fetch", *[p for kv in base.items() for p in kv])
    assert result.exit_code == 1 and reason in result.output


def test_the_rate_limit_spaces_requests_evenly():
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limit = RateLimit(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        limit.wait()
    assert now[0] == pytest.approx(104.5)  # ten requests at two a second: 4.5 s
    assert slept == pytest.approx([0.5] * 9)
    now[0] += 10  # a pause does not earn a burst afterwards
    limit.wait()
    limit.wait()
    assert slept[-1] == pytest.approx(0.5)


def _fetch_process(tmp_path: Path, template: str, out: Path) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "HERITAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'atlas.db'}",
        "HOME": str(tmp_path),
    }
    command = [
        sys.executable, "-m", "web", "basemap", "fetch", "--bbox", BBOX, "--zooms", "13-17",
        "--url", template, "--attribution", "© Test tile server", "-o", str(out), "--rate", "20",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT])
def test_a_fetch_stopped_half_way_is_finished_by_the_next_run_asking_each_tile_once(
    atlas, tmp_path, tiles, stop
):
    out = tmp_path / "venue.mbtiles"
    everything = every_tile(range(13, 18))
    assert len(everything) == count_tiles(BAIXA, range(13, 18)) == 82
    tiles.behaviour.notify_after = 40
    process = _fetch_process(tmp_path, tiles.template, out)
    try:
        assert tiles.behaviour.served.wait(120), "the fetch never got going"
        process.send_signal(stop)
        output = process.communicate(timeout=60)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
    if stop == signal.SIGINT:  # Ctrl+C: told what is kept, and how to go on
        assert process.returncode == 130, output
        assert "interrupted: the tiles fetched so far are kept" in output
    else:
        assert process.returncode == -signal.SIGKILL
    kept = stored(out)
    assert 0 < len(kept) < len(everything)
    assert all(open_archive_tile(out, t) == png_tile(t[0]) for t in kept)  # each one whole
    before = len(tiles.requests)
    result = run(
        "basemap", "fetch", "--bbox", BBOX, "--zooms", "13-17", "--url", tiles.template,
        "--attribution", "© Test tile server", "-o", out, "--rate", "50",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rerun = tiles.tile_requests()[before:]
    assert sorted(rerun) == sorted(everything - kept)  # exactly the missing ones, once each
    assert f"{len(kept)} already in the file" in result.output
    assert stored(out) == everything
    assert run("basemap", "import", out).exit_code == 0


def open_archive_tile(path: Path, tile: tuple[int, int, int]) -> bytes | None:
    archive = open_archive(path)
    try:
        return archive.tile(*tile)
    finally:
        archive.close()
