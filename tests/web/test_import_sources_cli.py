"""``heritage-atlas import-places --from ...`` end to end on SQLite: the exports of the
tools communities map with, read from real or format-faithful files
(tests/fixtures/sources/README.md), through the importer's usual checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geodata.store import open_store
from web.cli import app

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources"
AREA = FIXTURES / "purwodinatan_project_area.geojson"
runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HERITAGE_DATABASE_URL", url)
    result = run("import-neighbourhoods", AREA, "--name-field", "title")
    assert result.exit_code == 0, result.output
    return url


def places(db: str):
    store = open_store(db)
    try:
        return sorted(store.list(), key=lambda p: p.title)
    finally:
        store.close()


def test_ushahidi_geojson_refuses_the_reports_outside_then_imports_the_rest(db, tmp_path):
    export = FIXTURES / "ushahidi_rni_reports_subset.geojson"
    result = run("import-places", export, "--map", "category.RNI Activities=monument")
    assert result.exit_code == 1
    assert "rejected 5" in result.output and "outside the project area" in result.output
    assert places(db) == []  # nothing half-imported

    result = run(
        "import-places", export, "--from", "ushahidi", "--skip-invalid", "--language", "en",
        "--map", "category.RNI Activities=monument",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "imported 6" in result.output
    stored = places(db)
    assert len(stored) == 6 and {p.category for p in stored} == {"monument"}
    peta = next(p for p in stored if p.title.startswith("Peta Kota Launches"))
    story = peta.narratives[0]
    assert story.language == "en" and story.text.startswith("RNI's work in Semarang")
    assert story.source == "Ushahidi report, posted 2015-08-29"
    assert "RNI Activities" in peta.tags


def test_ushahidi_csv_with_a_default_category_and_undetermined_language(db):
    result = run(
        "import-places", FIXTURES / "ushahidi_rni_reports_subset.csv", "--category", "building"
    )
    assert result.exit_code == 0, result.output
    stored = places(db)
    assert len(stored) == 4 and {p.category for p in stored} == {"building"}
    assert {n.language for p in stored for n in p.narratives} == {"und"}


def test_an_unmapped_category_names_the_row_and_the_value(db, tmp_path):
    result = run("import-places", FIXTURES / "ushahidi_rni_reports_subset.csv")
    assert result.exit_code == 1
    assert "feature 1" in result.output and "'RNI Activities'" in result.output
    assert places(db) == []


def test_umap_layers_become_categories_through_the_map(db, tmp_path):
    mapping = tmp_path / "umap.toml"
    mapping.write_text(
        '[categories]\n"Places of worship" = "religious"\n"Murals and streets" = "monument"\n'
    )
    result = run("import-places", FIXTURES / "umap_map.umap", "--mapping", mapping)
    assert result.exit_code == 0, result.output
    stored = places(db)
    assert [(p.title, p.category) for p in stored] == [
        ("Klenteng on Gang Lombok", "religious"),
        ("Market street", "monument"),
        ("Mural of the reporting map", "monument"),
        ("Small mosque by the canal", "religious"),
    ]
    klenteng = stored[0]
    assert klenteng.narratives[0].text.startswith("Red lanterns hang over the gate")
    assert stored[3].narratives == []  # an empty description is no story


@pytest.mark.parametrize("name", ["my_maps.kml", "my_maps.kmz"])
def test_google_my_maps_folders_become_categories_and_html_is_made_safe(db, name):
    result = run(
        "import-places", FIXTURES / name, "--map", "category.Temples=religious",
        "--category", "monument", "--language", "id",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stored = {p.title: p for p in places(db)}
    assert stored["Klenteng on Gang Lombok"].category == "religious"
    assert stored["Mural of the reporting map"].category == "monument"
    text = stored["Klenteng on Gang Lombok"].narratives[0].text
    assert text == "Red lanterns & incense\nevery new year."
    assert "<" not in stored["Shophouse row"].narratives[0].text


def test_gpx_waypoints_and_tracks(db):
    result = run(
        "import-places", FIXTURES / "walk.gpx", "--map", "category.temple=religious",
        "--category", "monument",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stored = {p.title: p for p in places(db)}
    assert set(stored) == {
        "Klenteng on Gang Lombok",
        "Mural of the reporting map",
        "Market street walk",
    }
    assert stored["Market street walk"].geometry.geom_type == "LineString"
    assert stored["Mural of the reporting map"].narratives[0].text == "Painted in 2015."


def test_gpx_track_over_the_vertex_limit_is_refused_by_the_geometry_rules(db, tmp_path):
    points = "".join(
        f'<trkpt lat="{-6.9700 - i * 1e-7:.7f}" lon="{110.4280 + i * 1e-7:.7f}"/>'
        for i in range(10_001)
    )
    gpx = tmp_path / "long.gpx"
    gpx.write_text(
        f'<gpx version="1.1"><trk><name>Long</name><trkseg>{points}</trkseg></trk></gpx>'
    )
    result = run("import-places", gpx, "--category", "monument")
    assert result.exit_code == 1 and "the limit is 10,000" in result.output
    assert places(db) == []


def test_kobo_geopoints_and_select_multiple_tags(db):
    result = run(
        "import-places", FIXTURES / "kobo_export.csv", "--map", "title=site_name",
        "--map", "narrative=story", "--map", "layer=site_type", "--map", "tags=features",
        "--map", "category.temple=religious", "--map", "category.mural=monument",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stored = {p.title: p for p in places(db)}
    klenteng = stored["Klenteng on Gang Lombok"]
    assert klenteng.category == "religious" and sorted(klenteng.tags) == ["gate", "lanterns"]
    assert (klenteng.geometry.x, klenteng.geometry.y) == (110.4288, -6.9702)


def test_odk_central_split_geopoint(db):
    result = run(
        "import-places", FIXTURES / "odk_export.csv", "--map", "title=site-name",
        "--map", "tags=site-features", "--category", "religious",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (place,) = places(db)
    assert place.title == "Klenteng on Gang Lombok" and sorted(place.tags) == ["gate", "lanterns"]


def test_a_mapped_field_empty_in_a_row_names_the_row_and_the_field(db, tmp_path):
    export = tmp_path / "kobo.csv"
    text = (FIXTURES / "kobo_export.csv").read_text()
    export.write_text(text.replace("Mural of the reporting map", ""))
    result = run("import-places", export, "--map", "title=site_name", "--category", "monument")
    assert result.exit_code == 1
    assert "feature 2" in result.output and "'site_name' (--map title=site_name) is empty" in (
        result.output
    )
    assert places(db) == []


def test_a_file_of_another_tool_names_the_problem(db):
    result = run("import-places", FIXTURES / "walk.gpx", "--from", "kml")
    assert result.exit_code == 1
    assert "is not a kml export" in result.output and "--from gpx" in result.output
    result = run("import-places", FIXTURES / "umap_map.umap", "--from", "nonsense")
    assert result.exit_code == 1 and "use one of umap, ushahidi" in result.output.replace("\n", " ")
    result = run("import-places", FIXTURES / "kobo_export.csv", "--map", "title=nope")
    assert result.exit_code == 1 and "no row has a field 'nope'" in result.output


def test_dry_run_prints_counts_and_titles_writes_rejects_and_stores_nothing(db, tmp_path):
    export = tmp_path / "reports.geojson"
    shutil.copy(FIXTURES / "ushahidi_rni_reports_subset.geojson", export)
    result = run(
        "import-places", export, "--dry-run", "--skip-invalid", "--category", "monument",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "dry run (ushahidi): nothing stored; would import 6 places" in result.output
    assert "monument: 6" in result.output and "- Peta Kota Launches" in result.output
    report = tmp_path / "reports.geojson.rejects.csv"
    assert report.exists() and report.read_text().count("outside_project_area") == 5
    assert places(db) == []
