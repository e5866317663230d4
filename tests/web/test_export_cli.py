"""``heritage-atlas export``: every format, the download filters, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from geodata.demo import load_demo
from geodata.privacy import public_filter
from geodata.store import open_store
from geodata.store.base import PlaceFilter
from web.cli import app

runner = CliRunner()


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HERITAGE_DATABASE_URL", url)
    store = open_store(url)
    load_demo(store)
    store.close()
    return url


def expected_ids(url: str, flt: PlaceFilter | None = None) -> set[str]:
    store = open_store(url)
    try:
        return {p.id for p in store.list(public_filter(flt, "open_data"))}
    finally:
        store.close()


def test_export_geojson_with_filters(demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "belem-museums.geojson"
    result = runner.invoke(app, ["export", str(out), "--neighbourhood", "Belém",
                                 "--category", "museum"])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    ids = {f["id"] for f in doc["features"]}
    assert ids == expected_ids(demo_db, PlaceFilter(neighbourhood_id=8, category="museum"))
    assert ids and f"exported {len(ids)} places" in result.output
    assert doc["licence"] == "CC-BY-4.0" and {x["licence"] for x in doc["licences"]} == {"ODbL-1.0"}


def test_export_csv_writes_a_licence_sidecar(demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "places.csv"
    result = runner.invoke(app, ["export", str(out), "--format", "csv", "--category", "theatre"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["id"] for r in rows} == expected_ids(demo_db, PlaceFilter(category="theatre"))
    sidecar = (tmp_path / "places.licence.txt").read_text(encoding="utf-8")
    assert "Filters: category=theatre" in sidecar and "ODbL-1.0, Carris Metropolitana" in sidecar


def test_export_geopackage_by_extension(demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "all.gpkg"
    result = runner.invoke(app, ["export", str(out)])
    assert result.exit_code == 0, result.output
    assert set(gpd.read_file(out, layer="places")["id"]) == expected_ids(demo_db)
    assert not list(tmp_path.glob(".*partial*"))


def test_the_cli_geopackage_holds_the_same_walks_layer_as_the_download(
    backend, lisbon_store, client, tmp_path, monkeypatch
):
    from tests.conftest import store_url

    out = tmp_path / "cli.gpkg"
    monkeypatch.setenv("HERITAGE_PUBLIC_URL", "http://127.0.0.1")  # the test client's address
    url = store_url(backend, tmp_path)
    result = runner.invoke(app, ["export", str(out), "--database-url", url, "--category", "museum"])
    assert result.exit_code == 0, result.output
    assert "and 2 walks (layer 'walks')" in result.output
    web = tmp_path / "web.gpkg"
    web.write_bytes(client.get("/api/export/places.gpkg?category=museum").content)
    cli_walks = gpd.read_file(out, layer="walks")
    web_walks = gpd.read_file(web, layer="walks")
    assert len(cli_walks) == 2 and cli_walks.geom_type.eq("LineString").all()
    assert cli_walks.to_wkt().equals(web_walks.to_wkt())  # every field and route alike
    assert set(gpd.read_file(out, layer="places")["id"]) == set(
        gpd.read_file(web, layer="places")["id"]
    )
    assert all(u.startswith("http://127.0.0.1/walks/wk_") for u in cli_walks["url"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bbox", "1,2"], "bbox: give four numbers"),
        (["--year-from", "soon"], "year_from: 'soon' is not a year"),
        (["--category", "spaceport"], "unknown category 'spaceport'"),
        (["--format", "shp"], "--format must be geojson, gpkg, csv, parquet or fgb"),
    ],
)
def test_bad_options_fail_in_one_line_without_a_file(
    demo_db: str, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "never.geojson"
    result = runner.invoke(app, ["export", str(out), *args])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))
