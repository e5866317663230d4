"""``heritage-atlas kit export``, ``kit open`` and ``sync``, run as a facilitator runs them:
the links phones use name the laptop's address on the local network (never 127.0.0.1
when it serves the room), and a bad kit or an unreachable atlas is one readable line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geodata.basemap.coverage import count_tiles, tile_range
from geodata.kit_folder import folder_for
from geodata.store import open_store
from tests.conftest import free_port
from tests.geodata.basemap_archives import LISBON, png_tile, write_mbtiles
from tests.kit_helpers import central_atlas
from tests.web.staff_helpers import sign_in
from web import lan_address, sync_client
from web.app import create_app
from web.cli import app
from web.settings import Settings

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A kit exported with the command, from a central atlas; the environment ``kit open``
    sets for its server is put back afterwards."""
    saved = dict(os.environ)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'central.db'}"
    monkeypatch.setenv("HERITAGE_DATABASE_URL", url)
    monkeypatch.setenv("HERITAGE_MEDIA_DIR", str(tmp_path / "media"))
    store = open_store(url)
    code = central_atlas(store, tmp_path / "media").code
    store.close()
    target = tmp_path / "laptop" / "mouraria.atlaskit"
    target.parent.mkdir()
    result = run("kit", "export", "--workshop", code.lower(), "-o", target)
    assert result.exit_code == 0, result.output
    assert re.search(
        r"kit written: .*559 public places, 1 memories and translations, 1 photos, "
        r"1 recordings, 2 walks",
        result.output,
    )
    assert "left out: 1 public places whose location is hidden" in result.output
    yield target, code
    os.environ.clear()
    os.environ.update(saved)


def _venue_app() -> TestClient:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # as ``serve`` reads it
    return TestClient(create_app(settings), base_url="http://127.0.0.1")


def test_kit_open_links_phones_to_the_laptops_address_on_the_local_network(kit, monkeypatch):
    path, code = kit
    monkeypatch.setattr(lan_address, "lan_address", lambda: "192.168.1.20")
    result = run("kit", "open", path, "--no-serve")
    assert result.exit_code == 0, result.output
    assert "unpacked into" in result.output
    join = f"http://192.168.1.20:8000/contribute?workshop={code}"
    assert join in result.output and "127.0.0.1" not in result.output
    assert f"projector: http://192.168.1.20:8000/workshops/{code}/live" in result.output
    password = re.search(r"as facilitator, password (\S+)", result.output).group(1)
    assert os.environ["HERITAGE_PUBLIC_URL"] == "http://192.168.1.20:8000"
    assert os.environ["HERITAGE_TILES"] == "none"
    with _venue_app() as venue:
        live = venue.get(f"/workshops/{code}/live")
        assert live.status_code == 200 and join in live.text
        # a phone on the room's Wi-Fi reaches the laptop by that address
        phone = venue.get(
            "/contribute", params={"workshop": code}, headers={"Host": "192.168.1.20:8000"}
        )
        assert phone.status_code == 200
        assert sign_in(venue, "facilitator", password).status_code in (200, 303)
        dashboard = venue.get(f"/workshops/{code}")
        assert dashboard.status_code == 200 and join in dashboard.text

    again = run("kit", "open", path, "--no-serve", "--host", "10.1.2.3", "--port", "9000")
    assert again.exit_code == 0, again.output
    assert "opening" in again.output and "again" in again.output
    assert f"http://10.1.2.3:9000/contribute?workshop={code}" in again.output
    new_password = re.search(r"as facilitator, password (\S+)", again.output).group(1)
    assert new_password != password


def test_kit_open_on_a_laptop_with_no_network_says_phones_cannot_reach_it(kit, monkeypatch):
    path, _ = kit
    monkeypatch.setattr(lan_address, "lan_address", lambda: None)
    result = run("kit", "open", path, "--no-serve")
    assert result.exit_code == 0
    assert "no local network found: phones cannot reach this laptop" in result.output


def test_a_damaged_kit_is_one_line_of_error_and_nothing_is_written(kit):
    path, _ = kit
    path.write_bytes(path.read_bytes()[:-300])
    result = run("kit", "open", path, "--no-serve")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: mouraria.atlaskit")
    assert "cut short" in lines[0]
    assert not folder_for(path).exists()
    assert sorted(p.name for p in path.parent.iterdir()) == ["mouraria.atlaskit"]


def test_sync_says_plainly_what_is_missing_and_what_cannot_be_reached(kit, monkeypatch):
    path, _ = kit
    status = run("sync", "status", path)
    assert status.exit_code == 1 and "has not been opened on this computer" in status.output
    assert run("kit", "open", path, "--no-serve", "--host", "127.0.0.1").exit_code == 0
    status = run("sync", "status", path)
    assert status.exit_code == 0 and "0 changes wait to be pushed" in status.output
    monkeypatch.setattr(sync_client, "RETRIES", 0)
    closed = f"http://127.0.0.1:{free_port()}"
    pushed = run("sync", "push", path, "--to", closed, "--token", "hat_x")
    assert pushed.exit_code == 0  # nothing waits: nothing to send, nothing refused
    monkeypatch.setenv("HERITAGE_SYNC_TOKEN", "hat_x")
    pulled = run("sync", "pull", path, "--from", closed)
    assert pulled.exit_code == 1
    assert f"cannot reach {closed}" in pulled.output and "run the same command again" in (
        pulled.output
    )


def test_a_kit_brings_the_central_basemap_of_its_area_and_the_venue_maps_draw_it(
    kit, tmp_path, monkeypatch
):
    path, code = kit
    # The central atlas has a basemap of the city; the venue laptop gets its workshop's
    # area of it, installed where its maps look for it.
    city = write_mbtiles(tmp_path / "lisbon.mbtiles", LISBON, range(11, 14),
                         attribution="© City tiles")  # fmt: skip
    assert run("basemap", "import", city).exit_code == 0
    with_map = path.with_name("with-map.atlaskit")
    result = run("kit", "export", "--workshop", code, "-o", with_map)
    assert result.exit_code == 0, result.output
    tiles = int(re.search(r"a basemap of (\d+) tiles", result.output).group(1))
    assert 0 < tiles <= count_tiles(LISBON, range(11, 14))
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    monkeypatch.setattr(lan_address, "lan_address", lambda: "192.168.1.20")
    opened = run("kit", "open", with_map, "--no-serve")
    assert opened.exit_code == 0, opened.output
    assert "basemap: installed in" in opened.output
    with _venue_app() as venue:
        described = venue.get("/tiles/basemap.json")
        assert described.status_code == 200 and described.json()["attribution"] == "© City tiles"
        # The tile under the Mouraria, where the workshop is, as the city's archive has it.
        mouraria = tile_range((-9.1331, 38.7129, -9.1330, 38.7130), 13)
        tile = venue.get(f"/tiles/basemap/13/{mouraria.xmin}/{mouraria.ymin}.png")
        assert tile.status_code == 200 and tile.content == png_tile(13)
        projector = venue.get(f"/workshops/{code}/live")
        assert projector.status_code == 200 and "atlas-background.js" in projector.text
        assert "/tiles/basemap/" in projector.text

    plain = path.with_name("plain.atlaskit")
    result = run("kit", "export", "--workshop", code, "-o", plain, "--no-basemap")
    assert result.exit_code == 0 and "basemap" not in result.output
    refused = run("kit", "export", "--workshop", code, "-o", path.with_name("x.atlaskit"),
                  "--basemap", tmp_path / "central.db")  # fmt: skip
    assert refused.exit_code == 1 and "not an MBTiles archive" in refused.output
    assert not path.with_name("x.atlaskit").exists()
    both = run("kit", "export", "--workshop", code, "-o", path.with_name("y.atlaskit"),
               "--no-basemap", "--basemap", city)  # fmt: skip
    assert both.exit_code == 1 and "--no-basemap carries no basemap" in both.output
