"""Importing neighbourhoods and places from real files, and assigning places to neighbourhoods."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from geodata.demo import NEIGHBOURHOODS, PLACES, demo_path, load_demo
from geodata.errors import SourceError
from geodata.importer import ImportOptions, import_places, write_rejects_report
from geodata.models import Neighbourhood
from geodata.neighbourhoods import assign_neighbourhoods, read_neighbourhoods
from geodata.store.base import PlaceFilter

FREGUESIAS = demo_path(NEIGHBOURHOODS)
AML = demo_path(PLACES[0][0])


@pytest.fixture
def lisbon_neighbourhoods(store):
    store.replace_neighbourhoods(read_neighbourhoods(FREGUESIAS, "NOME").items)
    return store


def write_geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def feature(geometry, **props) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": props}


# -- neighbourhoods ---------------------------------------------------------------------


def test_lisbon_parishes_import_with_their_names():
    result = read_neighbourhoods(FREGUESIAS, "NOME", "COD_SIG")
    assert len(result.items) == 24 and not result.rejected
    names = {name for name, _, _ in result.items}
    assert {"Santa Maria Maior", "Belém", "Alvalade"} <= names
    assert all(code for _, _, code in result.items)


def test_a_file_in_another_crs_is_reprojected_to_wgs84(tmp_path):
    src = gpd.read_file(FREGUESIAS).to_crs(3763)  # PT-TM06/ETRS89, metres
    path = tmp_path / "freguesias_pttm06.gpkg"
    src.to_file(path, driver="GPKG")
    result = read_neighbourhoods(path, "NOME")
    assert "3763" in (result.source_crs or "")
    original = dict((n, g) for n, g, _ in read_neighbourhoods(FREGUESIAS, "NOME").items)
    for name, geom, _ in result.items:
        assert geom.bounds[0] > -10 and geom.bounds[1] > 38  # degrees again
        assert shapely.hausdorff_distance(geom, original[name]) < 1e-6


def test_a_zipped_shapefile_imports(tmp_path):
    src = gpd.read_file(FREGUESIAS)[["NOME", "geometry"]]
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    src.to_file(shp_dir / "freguesias.shp")
    archive = tmp_path / "freguesias.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    assert len(read_neighbourhoods(archive, "NOME").items) == 24


def test_invalid_polygons_are_repaired_or_refused_with_the_reason(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    line = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    path = write_geojson(
        tmp_path / "n.geojson",
        [
            feature(bowtie, name="Bow"),
            feature(line, name="Line"),
            feature(None, name="Nothing"),
            feature(
                {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, name=""
            ),
        ],
    )
    result = read_neighbourhoods(path)
    assert [n for n, _, _ in result.items] == ["Bow"]
    assert result.items[0][1].is_valid and "Self-intersection" in result.repaired[0]
    codes = sorted(r.code for r in result.rejected)
    assert codes == ["empty", "no_name", "not_polygon"]


def test_an_unknown_name_field_names_the_fields_there_are():
    with pytest.raises(SourceError, match=r"has no field 'nom'.*NOME"):
        read_neighbourhoods(FREGUESIAS, "nom")


def test_a_file_that_is_not_vector_data_is_refused(tmp_path):
    junk = tmp_path / "notes.geojson"
    junk.write_text("this is not GeoJSON at all")
    with pytest.raises(SourceError, match="cannot be read as vector data"):
        read_neighbourhoods(junk)
    with pytest.raises(SourceError, match="no such file"):
        read_neighbourhoods(tmp_path / "missing.gpkg")


# -- assignment -----------------------------------------------------------------------


def test_points_are_assigned_to_the_parish_that_contains_them():
    """Ground truth: the AML facilities file names each Lisbon point's parish."""
    items = read_neighbourhoods(FREGUESIAS, "NOME").items
    nbs = [Neighbourhood(i, n, g) for i, (n, g, _) in enumerate(items, 1)]
    gdf = gpd.read_file(AML)
    lisbon = gdf[gdf["municipality_name"] == "Lisboa"]
    assert len(lisbon) == 278
    ids = assign_neighbourhoods(lisbon.geometry.values, nbs)
    names = {n.id: n.name for n in nbs}
    assert [names.get(i) for i in ids] == list(lisbon["parish_name"])


def test_routes_and_areas_go_to_the_neighbourhood_they_overlap_most():
    west = Neighbourhood(1, "West", Polygon([(0, 0), (1, 0), (1, 1), (0, 1)]))
    east = Neighbourhood(2, "East", Polygon([(1, 0), (2, 0), (2, 1), (1, 1)]))
    geoms = [
        LineString([(0.9, 0.5), (1.5, 0.5)]),  # 0.1 west, 0.5 east
        Polygon([(0.2, 0.2), (1.1, 0.2), (1.1, 0.4), (0.2, 0.4)]),  # mostly west
        Point(1.0, 0.5),  # on the shared border: lowest id
        Point(5, 5),  # outside both
    ]
    assert assign_neighbourhoods(geoms, [west, east]) == [2, 1, 1, None]


# -- places ---------------------------------------------------------------------------


def test_a_good_file_imports_every_feature_with_its_neighbourhood(lisbon_neighbourhoods, tmp_path):
    store = lisbon_neighbourhoods
    path = write_geojson(
        tmp_path / "good.geojson",
        [
            feature(
                {"type": "Point", "coordinates": [-9.1335, 38.7115]},
                title="Castelo",
                category="monument",
                description="Muralhas mouras.",
                language="pt",
            ),
            feature(
                {"type": "LineString", "coordinates": [[-9.136, 38.711], [-9.131, 38.713]]},
                name="Route of the 28 tram",
                category="public_space",
                tags="tram, eléctrico",
            ),
        ],
    )
    result = import_places(store, path, ImportOptions(language="en"))
    assert (result.read, result.imported, result.rejected) == (2, 2, [])
    places = list(store.list())
    assert {p.title for p in places} == {"Castelo", "Route of the 28 tram"}
    castelo = next(p for p in places if p.title == "Castelo")
    assert castelo.narratives[0].language == "pt"
    assert store.neighbourhood(castelo.neighbourhood_id).name == "Santa Maria Maior"
    tram = next(p for p in places if p.title != "Castelo")
    assert tram.tags == ["tram", "eléctrico"]


def test_a_file_with_bad_features_imports_nothing_and_names_each_reason(
    lisbon_neighbourhoods, tmp_path
):
    store = lisbon_neighbourhoods
    path = write_geojson(
        tmp_path / "mixed.geojson",
        [
            feature(
                {"type": "Point", "coordinates": [-9.14, 38.71]}, title="Good", category="museum"
            ),
            feature(
                {"type": "Point", "coordinates": [38.71, -9.14]}, title="Swapped", category="museum"
            ),
            feature({"type": "Point", "coordinates": [-9.14, 38.71]}, title="", category="museum"),
            feature(
                {"type": "Point", "coordinates": [-9.14, 38.71]}, title="What", category="spaceport"
            ),
            feature(
                {"type": "Point", "coordinates": [-9.14, 38.71]},
                title="Tag",
                category="museum",
                description="texto",
                language="not a tag",
            ),
            feature(
                {"type": "Point", "coordinates": [-9.14, 38.71]},
                title="Tags",
                category="museum",
                tags=5,
            ),
        ],
    )
    result = import_places(store, path)
    assert result.imported == 0 and store.count() == 0
    assert [(r.index, r.code) for r in result.rejected] == [
        (1, "swapped_coordinates"),
        (2, "empty_title"),
        (3, "invalid_input"),
        (4, "bad_language"),
        (5, "invalid_input"),
    ]
    report = tmp_path / "rejects.csv"
    write_rejects_report(result, report)
    lines = report.read_text().splitlines()
    assert lines[0] == "feature,id,code,reason" and len(lines) == 6
    assert "spaceport" in report.read_text()

    result = import_places(store, path, ImportOptions(skip_invalid=True))
    assert result.imported == 1 and store.count() == 1


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_feature_refused_after_batches_were_written_still_leaves_nothing(
    lisbon_neighbourhoods, tmp_path, skip_invalid
):
    """Batches go to the store while later features are still being checked; a bad
    property at the very end must roll back the thousands already written (and with
    --skip-invalid, those are kept and only the bad ones left out)."""
    store = lisbon_neighbourhoods
    good = [
        feature({"type": "Point", "coordinates": [-9.14 + i * 1e-6, 38.71]}, title=f"n{i}",
                category="building")
        for i in range(12_000)
    ]  # fmt: skip
    bad = [
        feature({"type": "Point", "coordinates": [-9.14, 38.71]}, title="x", category="ufo"),
        feature({"type": "Point", "coordinates": [-9.14, 38.71]}, title="", category="museum"),
    ]
    path = write_geojson(tmp_path / "late.geojson", good[:6000] + bad[:1] + good[6000:] + bad[1:])
    result = import_places(store, path, ImportOptions(skip_invalid=skip_invalid))
    assert [(r.index, r.code) for r in result.rejected] == [
        (6000, "invalid_input"),
        (12_001, "empty_title"),
    ]
    assert result.imported == store.count() == (12_000 if skip_invalid else 0)
    assert store.count(PlaceFilter(bbox=(-9.15, 38.70, -9.12, 38.72))) == store.count()


def test_repairs_are_counted(lisbon_neighbourhoods, tmp_path):
    cw = [[-9.15, 38.71], [-9.15, 38.715], [-9.145, 38.715], [-9.145, 38.71], [-9.15, 38.71]]
    path = write_geojson(
        tmp_path / "cw.geojson",
        [
            feature(
                {"type": "Polygon", "coordinates": [cw]}, title="Jardim", category="public_space"
            )
        ],
    )
    result = import_places(lisbon_neighbourhoods, path)
    assert (result.imported, result.repaired) == (1, 1)


def test_csv_with_lon_lat_columns(lisbon_neighbourhoods, tmp_path):
    path = tmp_path / "places.csv"
    path.write_text(
        "name,category,lon,lat\nMiradouro,public_space,-9.1301,38.7126\n"
        "Broken,public_space,west,38.7\n",
        encoding="utf-8",
    )
    result = import_places(lisbon_neighbourhoods, path, ImportOptions(skip_invalid=True))
    assert result.imported == 1
    assert result.rejected[0].code == "coordinates_not_numbers"


def test_geopackage_in_another_crs(lisbon_neighbourhoods, tmp_path):
    gdf = gpd.read_file(AML)
    gdf = gdf[gdf["municipality_name"] == "Lisboa"][["name", "category", "geometry"]]
    gdf = gdf[gdf["name"] != ""].to_crs(3763)
    path = tmp_path / "aml.gpkg"
    gdf.to_file(path, driver="GPKG")
    result = import_places(lisbon_neighbourhoods, path)
    assert result.imported == len(gdf) and not result.rejected


def test_the_demo_loads_once(store):
    results = load_demo(store)
    assert results is not None
    assert store.count() == sum(r.imported for r in results) > 300
    assert len(store.neighbourhoods()) == 24
    assert load_demo(store) is None
    # Every place keeps its source's licence and credit: UNESCO's site, from the stories
    # file, is the one place that is not OpenStreetMap's or Carris Metropolitana's.
    licences = {(p.licence, p.attribution) for p in store.list()}
    assert licences == {
        ("ODbL-1.0", "Carris Metropolitana"),
        ("ODbL-1.0", "© OpenStreetMap contributors"),
        ("CC-BY-SA-3.0-IGO", "© UNESCO World Heritage Centre"),
    }
