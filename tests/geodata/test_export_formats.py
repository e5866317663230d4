"""Downloads written by geodata.io: GeoJSON, CSV and GeoPackage, read back and checked
against the store and against the one privacy function (public_filter / public_view)."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import orjson
import pyogrio
import pytest
import shapely
from shapely.geometry import shape

from geodata.features import PROPERTIES
from geodata.io.csv_export import licence_text, write_places_csv
from geodata.io.export import DatasetInfo, count_public, public_batches
from geodata.io.geojson import write_places_geojson
from geodata.io.gpkg import write_places_gpkg
from geodata.privacy import public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore

LEFT_OUT = ("pending", "no_open_data", "rejected")


def personal_data(store: PlaceStore, cases: dict[str, str]) -> tuple[str, ...]:
    """The contributor's name, contact and display name the open_data_cases carry."""
    place = store.get(cases["area"])
    values = (place.contributor_name, place.contributor_contact, place.display_name)
    assert all(values)
    return values  # type: ignore[return-value]


def geojson_doc(store: PlaceStore, flt: PlaceFilter | None = None) -> dict:
    buf = io.BytesIO()
    write_places_geojson(store, flt, buf)
    return orjson.loads(buf.getvalue())


def open_data_ids(store: PlaceStore) -> set[str]:
    return {p.id for p in store.list(public_filter(None, "open_data"))}


def test_geojson_holds_exactly_the_open_data_places_with_their_stable_ids(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    doc = geojson_doc(lisbon_store)
    ids = [f["id"] for f in doc["features"]]
    assert len(ids) == len(set(ids)) == doc["numberReturned"]
    assert set(ids) == open_data_ids(lisbon_store)
    assert len(ids) == 557 + 3  # the demo plus area, generalised, hidden
    for role in LEFT_OUT:
        assert open_data_cases[role] not in ids


def test_geojson_is_rfc7946_lon_lat_six_decimals_right_hand_rule_no_crs(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    doc = geojson_doc(lisbon_store)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    for f in doc["features"]:
        assert f["type"] == "Feature" and set(f) == {"type", "id", "geometry", "properties"}
        if f["geometry"] is None:
            continue
        coords = shapely.get_coordinates(shape(f["geometry"]))
        # Lisbon: longitude about -9.1, latitude about 38.7 (longitude comes first).
        assert ((coords[:, 0] > -9.3) & (coords[:, 0] < -9.0)).all()
        assert ((coords[:, 1] > 38.6) & (coords[:, 1] < 38.9)).all()
    text = orjson.dumps(doc).decode()
    assert not re.search(r"\d\.\d{7,}", text.split('"features"')[1].split('"properties"')[0])
    area = next(f for f in doc["features"] if f["id"] == open_data_cases["area"])
    assert shapely.Polygon(area["geometry"]["coordinates"][0]).exterior.is_ccw


def test_every_feature_carries_licence_consent_and_protocol_labels(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    doc = geojson_doc(lisbon_store)
    assert doc["licence"] == "CC-BY-4.0" and doc["attribution"]
    licences = {(x["licence"], x["attribution"]): x["places"] for x in doc["licences"]}
    assert licences[("CC-BY-SA-4.0", "Mouraria residents")] == 1
    assert sum(licences.values()) == len(doc["features"])
    for f in doc["features"]:
        props = f["properties"]
        assert tuple(props) == PROPERTIES  # every feature, the same members in one order
        assert props["licence"] and "open_data" in props["consent"]
        assert isinstance(props["protocol_labels"], list)
    area = next(f for f in doc["features"] if f["id"] == open_data_cases["area"])
    assert area["properties"]["protocol_labels"] == ["tk_a"]
    assert area["properties"]["narratives"][1] == {
        "text": "قصة من السوق",
        "language": "ar",
        "provenance": "original",
    }


def test_locations_are_exactly_what_public_view_shows(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    doc = geojson_doc(lisbon_store)
    for f in doc["features"]:
        view = public_view(lisbon_store.get(f["id"]))
        assert f["properties"]["location_generalised"] == view.location_generalised
        if view.geometry is None:
            assert f["geometry"] is None
        else:
            got = shape(f["geometry"])
            assert shapely.equals_exact(got, shapely.normalize(view.geometry), 1e-6) or (
                shapely.equals_exact(shapely.normalize(got), shapely.normalize(view.geometry),
                                     1e-6)
            )  # fmt: skip
    generalised = next(f for f in doc["features"] if f["id"] == open_data_cases["generalised"])
    assert generalised["geometry"]["coordinates"] != [-9.13512, 38.71346]


def test_personal_data_and_withheld_places_appear_in_no_format(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    buf = io.BytesIO()
    write_places_geojson(lisbon_store, None, buf)
    csv_buf = io.BytesIO()
    write_places_csv(lisbon_store, None, csv_buf)
    write_places_gpkg(lisbon_store, None, tmp_path / "p.gpkg")
    outputs = [buf.getvalue(), csv_buf.getvalue(), (tmp_path / "p.gpkg").read_bytes()]
    for data in outputs:
        for secret in (
            *personal_data(lisbon_store, open_data_cases),
            "PENDING-UNIQUE",
            "NO-OPEN-DATA-UNIQUE",
            "REJECTED-UNIQUE",
        ):
            assert secret.encode() not in data
        for role in LEFT_OUT:
            assert open_data_cases[role].encode() not in data
        assert b"Grandmother" in data  # the sensitive places themselves are there


def test_bbox_matches_public_locations_never_true_ones(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    hidden, generalised = open_data_cases["hidden"], open_data_cases["generalised"]
    # A tiny box around the true point of the generalised place and one over the hidden
    # route: neither may give the place away.
    for bbox in ((-9.13513, 38.71345, -9.13511, 38.71347), (-9.146, 38.714, -9.143, 38.717)):
        ids = {f["id"] for f in geojson_doc(lisbon_store, PlaceFilter(bbox=bbox))["features"]}
        assert generalised not in ids and hidden not in ids
    shown = next(f for f in geojson_doc(lisbon_store)["features"] if f["id"] == generalised)[
        "geometry"
    ]["coordinates"]
    around = (shown[0] - 1e-4, shown[1] - 1e-4, shown[0] + 1e-4, shown[1] + 1e-4)
    found = geojson_doc(lisbon_store, PlaceFilter(bbox=around))
    assert generalised in {f["id"] for f in found["features"]}
    assert count_public(lisbon_store, PlaceFilter(bbox=around)) == len(found["features"])


def test_bbox_paging_counts_real_matches_across_public_and_generalised_places(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    bbox = PlaceFilter(bbox=(-9.16, 38.70, -9.12, 38.73))
    every = [i for b in public_batches(lisbon_store, bbox) for i in b.ids]
    assert len(every) == count_public(lisbon_store, bbox) > 40
    assert open_data_cases["generalised"] in every and open_data_cases["area"] in every
    pages = [
        [i for b in public_batches(lisbon_store, bbox, limit=7, offset=o) for i in b.ids]
        for o in range(0, len(every) + 7, 7)
    ]
    assert [i for page in pages for i in page] == every
    assert all(len(p) == 7 for p in pages[: len(every) // 7])


def test_export_rows_with_bbox_test_routes_and_areas_exactly(lisbon_store: PlaceStore) -> None:
    from geodata.models import Narrative, Place, Status

    # An L-shaped route whose bounding box covers the query box but which misses it.
    route = Place(
        geometry=shapely.LineString([(-9.20, 38.70), (-9.20, 38.76), (-9.14, 38.76)]),
        title="around the box", narratives=[Narrative("x", "en")], category="memory",
        status=Status.PUBLISHED,
    )  # fmt: skip
    lisbon_store.add(route)
    flt = PlaceFilter(bbox=(-9.19, 38.71, -9.15, 38.75))
    rows = [r[0] for b in lisbon_store.export_rows(flt) for r in b]
    assert route.id not in rows
    assert rows == [p.id for p in lisbon_store.list(flt)]
    assert [r[0] for b in lisbon_store.export_rows(flt, limit=5, offset=3) for r in b] == rows[3:8]


@pytest.mark.parametrize(
    "flt",
    [
        PlaceFilter(category="museum"),
        PlaceFilter(category=["theatre", "monument"]),
        PlaceFilter(neighbourhood_id=8),
        PlaceFilter(language="ar"),
        PlaceFilter(year_from=1955, year_to=2000),
        PlaceFilter(bbox=(-9.15, 38.70, -9.13, 38.72)),
    ],
    ids=["category", "categories", "neighbourhood", "language", "years", "bbox"],
)
def test_filters_select_what_the_store_selects(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], flt: PlaceFilter
) -> None:
    ids = {f["id"] for f in geojson_doc(lisbon_store, flt)["features"]}
    expected = {p.id for p in lisbon_store.list(public_filter(flt, "open_data"))}
    if flt.bbox is not None:  # sensitive places are matched on their public location
        area = shapely.box(*flt.bbox)
        expected = {i for i in expected if lisbon_store.get(i).sensitivity == "public"}
        generalised = public_filter(PlaceFilter(sensitivity="generalised"), "open_data")
        expected |= {
            p.id for p in lisbon_store.list(generalised) if area.intersects(public_view(p).geometry)
        }
        assert open_data_cases["hidden"] not in ids
    assert ids == expected and ids


def test_csv_has_lon_lat_for_points_wkt_for_all_and_a_licence_sidecar(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    buf = io.BytesIO()
    licences = write_places_csv(lisbon_store, None, buf)
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(buf.getvalue().decode("utf-8")))}
    assert set(rows) == open_data_ids(lisbon_store)
    area = rows[open_data_cases["area"]]
    assert area["longitude"] == area["latitude"] == ""
    assert shapely.from_wkt(area["wkt"]).geom_type == "Polygon"
    assert area["protocol_labels"] == "tk_a" and area["languages"] == "pt;ar"
    assert rows[open_data_cases["hidden"]]["wkt"] == ""
    point = next(r for r in rows.values() if r["wkt"].startswith("POINT"))
    assert shapely.from_wkt(point["wkt"]).equals(
        shapely.Point(float(point["longitude"]), float(point["latitude"]))
    )
    sidecar = licence_text(DatasetInfo(), licences, {"category": "memory"})
    assert "Licence: CC-BY-4.0" in sidecar and "CC-BY-SA-4.0, Mouraria residents, 1" in sidecar
    assert "ODbL-1.0, Carris Metropolitana, 269" in sidecar
    assert "Filters: category=memory" in sidecar


def test_geopackage_reads_back_with_the_licences_in_its_metadata(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "places.gpkg"
    n = write_places_gpkg(lisbon_store, None, path, filters={"category": None})
    places = gpd.read_file(path, layer="places")
    assert n == len(places) and set(places["id"]) == open_data_ids(lisbon_store)
    assert places.crs.to_epsg() == 4326
    area = places.set_index("id").loc[open_data_cases["area"]]
    assert area.geometry.geom_type == "Polygon" and area["licence"] == "CC-BY-SA-4.0"
    # JSON fields carry GDAL's JSON subtype: readers get lists, not text.
    assert area["consent"] == ["publish", "open_data"] and area["protocol_labels"] == ["tk_a"]
    assert area["tags"] == ["market", "oral history"] and area["year_from"] == 1950
    assert {n["language"] for n in area["narratives"]} == {"pt", "ar"}
    assert places.set_index("id").loc[open_data_cases["hidden"]].geometry is None
    assert [name for name, _ in pyogrio.list_layers(path)] == ["places"]
    meta = pyogrio.read_info(path, layer="places")
    assert meta["layer_metadata"]["licence"] == "CC-BY-4.0"
    assert meta["dataset_metadata"]["attribution"] == "Heritage Atlas contributors"
    with closing(sqlite3.connect(path)) as db:
        (record,) = db.execute(
            "SELECT m.metadata FROM gpkg_metadata m JOIN gpkg_metadata_reference r "
            "ON r.md_file_id = m.id WHERE m.mime_type = 'application/json' "
            "AND r.reference_scope = 'table' AND r.table_name = 'places'"
        ).fetchone()
        assert db.execute("PRAGMA user_version").fetchone() == (10300,)
        assert db.execute("PRAGMA application_id").fetchone() == (0x47504B47,)
    licences = orjson.loads(record)
    assert licences["licence"] == "CC-BY-4.0"
    assert sum(x["places"] for x in licences["licences"]) == n
    assert {"licence": "CC-BY-SA-4.0", "attribution": "Mouraria residents", "places": 1} in (
        licences["licences"]
    )


def test_empty_selection_still_writes_valid_files(lisbon_store: PlaceStore, tmp_path: Path) -> None:
    nothing = PlaceFilter(category="food")
    assert geojson_doc(lisbon_store, nothing)["features"] == []
    assert write_places_gpkg(lisbon_store, nothing, tmp_path / "e.gpkg") == 0
    assert len(gpd.read_file(tmp_path / "e.gpkg", layer="places")) == 0
    buf = io.BytesIO()
    write_places_csv(lisbon_store, nothing, buf)
    assert buf.getvalue().decode().startswith("id,longitude,latitude,wkt,")
