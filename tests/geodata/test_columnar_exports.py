"""GeoParquet and FlatGeobuf downloads written by geodata.io, read back with pyarrow,
geopandas and GDAL (pyogrio), and checked against the GeoJSON download and the one
privacy function (public_filter / public_view), on both backends."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import geopandas as gpd
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import shape

from geodata.io.export import DatasetInfo, public_batches
from geodata.io.fields import NAMES
from geodata.io.flatgeobuf import write_places_fgb
from geodata.io.geojson import write_places_geojson
from geodata.io.geoparquet import ROWS_PER_GROUP, parquet_chunks, write_places_parquet
from geodata.privacy import public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore
from tests.conftest import SECRET_CONTACT, SECRET_DISPLAY, SECRET_NAME

LEFT_OUT = ("pending", "no_open_data", "rejected")
SECRETS = (SECRET_NAME, SECRET_CONTACT, SECRET_DISPLAY, "PENDING-UNIQUE", "NO-OPEN-DATA-UNIQUE",
           "REJECTED-UNIQUE")  # fmt: skip


def parquet_bytes(store: PlaceStore, flt: PlaceFilter | None = None, **kw: Any) -> bytes:
    buf = io.BytesIO()
    write_places_parquet(store, flt, buf, **kw)
    return buf.getvalue()


def geojson_features(store: PlaceStore, flt: PlaceFilter | None = None) -> dict[str, dict]:
    buf = io.BytesIO()
    write_places_geojson(store, flt, buf)
    return {f["id"]: f for f in orjson.loads(buf.getvalue())["features"]}


def open_data_ids(store: PlaceStore, flt: PlaceFilter | None = None) -> set[str]:
    return {p.id for p in store.list(public_filter(flt, "open_data"))}


def test_parquet_reads_back_with_pyarrow_and_geopandas_as_every_open_data_place(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "places.parquet"
    path.write_bytes(parquet_bytes(lisbon_store))
    table = pq.read_table(path)
    assert table.column_names == [*NAMES, "geometry", "bbox"]
    assert set(table.column("id").to_pylist()) == open_data_ids(lisbon_store)
    assert table.num_rows == 557 + 3
    frame = gpd.read_parquet(path)
    assert frame.crs == pyproj.CRS("OGC:CRS84") and frame.crs.equals("EPSG:4326", True)
    assert frame.geometry.name == "geometry" and len(frame) == table.num_rows
    places = frame.set_index("id")
    for role in LEFT_OUT:
        assert open_data_cases[role] not in places.index
    area = places.loc[open_data_cases["area"]]
    assert area.geometry.geom_type == "Polygon" and area["licence"] == "CC-BY-SA-4.0"
    assert list(area["protocol_labels"]) == ["tk_a"] and list(area["languages"]) == ["pt", "ar"]
    assert list(area["consent"]) == ["publish", "open_data"]
    assert places.loc[open_data_cases["hidden"]].geometry is None


def test_parquet_geo_metadata_is_geoparquet_1_1(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "places.parquet"
    path.write_bytes(parquet_bytes(lisbon_store))
    meta = pq.read_metadata(path).metadata
    geo = orjson.loads(meta[b"geo"])
    # Required by the 1.1.0 schema: version, primary_column, columns; per column encoding
    # and geometry_types.
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert column["geometry_types"] == ["Point", "Polygon"]  # the only route is hidden
    assert geo["primary_column"] in geo["columns"] and column["edges"] == "planar"
    assert pyproj.CRS.from_json_dict(column["crs"]) == pyproj.CRS("OGC:CRS84")
    table = pq.read_table(path)
    shapes = shapely.from_wkb(table.column("geometry").to_pylist())
    assert column["bbox"] == list(shapely.total_bounds(shapes))
    # The covering bbox column: a struct of doubles, each place's bounds, null if hidden.
    covering = column["covering"]["bbox"]
    assert covering == {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}
    assert table.schema.field("bbox").type == pa.struct(
        [(k, pa.float64()) for k in ("xmin", "ymin", "xmax", "ymax")]
    )
    for box, shape_ in zip(table.column("bbox").to_pylist(), shapes, strict=True):
        if shape_ is None:
            assert box is None
        else:
            assert tuple(box.values()) == shape_.bounds
    # Readers use the covering column to read only what lies in a box.
    box = (-9.15, 38.70, -9.13, 38.72)
    every = gpd.read_parquet(path)
    inside = set(every[every.intersects(shapely.box(*box))]["id"])
    assert set(gpd.read_parquet(path, bbox=box)["id"]) == inside and 0 < len(inside) < len(every)
    assert meta[b"licence"] == b"CC-BY-4.0" and meta[b"attribution"]
    licences = orjson.loads(meta[b"licences"])
    assert {"licence": "CC-BY-SA-4.0", "attribution": "Mouraria residents", "places": 1} in (
        licences
    )
    assert sum(x["places"] for x in licences) == table.num_rows


def test_parquet_values_are_the_geojson_values_typed(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    table = pq.read_table(io.BytesIO(parquet_bytes(lisbon_store)))
    features = geojson_features(lisbon_store)
    for row, wkb in zip(
        table.drop_columns(["geometry", "bbox"]).to_pylist(),
        table.column("geometry").to_pylist(),
        strict=True,
    ):
        feature = features[row["id"]]
        props = feature["properties"]
        for name in NAMES[1:]:
            value = row[name]
            if name in ("created_at", "updated_at"):
                assert value.isoformat().replace("+00:00", "Z") == props[name]
            elif name == "narratives":  # a struct has every member: null where JSON has none
                stories = [{k: v for k, v in n.items() if v is not None} for n in value]
                assert stories == props[name], name
            else:
                assert value == props[name], name
        assert isinstance(row["year_from"], int | None) and isinstance(row["version"], int)
        if wkb is None:
            assert feature["geometry"] is None
        else:  # GeoJSON is rounded to 6 decimals and turned counterclockwise
            got, want = shapely.from_wkb(wkb), shape(feature["geometry"])
            assert shapely.equals_exact(shapely.normalize(got), shapely.normalize(want), 1e-6)


def test_parquet_locations_are_exactly_what_public_view_shows(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    table = pq.read_table(io.BytesIO(parquet_bytes(lisbon_store)))
    rows = dict(zip(table.column("id").to_pylist(), table.column("geometry").to_pylist(),
                    strict=True))  # fmt: skip
    flags = dict(zip(table.column("id").to_pylist(),
                     table.column("location_generalised").to_pylist(), strict=True))  # fmt: skip
    for place_id, wkb in rows.items():
        view = public_view(lisbon_store.get(place_id))
        assert flags[place_id] == view.location_generalised
        if view.geometry is None:
            assert wkb is None
        else:
            assert shapely.from_wkb(wkb).equals(view.geometry)
    generalised = shapely.from_wkb(rows[open_data_cases["generalised"]])
    assert (generalised.x, generalised.y) != (-9.13512, 38.71346)  # not the true point


def test_no_personal_data_or_withheld_place_in_parquet_or_fgb(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    write_places_fgb(lisbon_store, None, tmp_path / "p.fgb")
    # Parquet is compressed: look at what it holds, decoded, as well as at its bytes.
    data = parquet_bytes(lisbon_store)
    decoded = orjson.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), default=str)
    fgb = (tmp_path / "p.fgb").read_bytes()
    for content in (data, decoded, fgb):
        for secret in SECRETS:
            assert secret.encode() not in content
        for role in LEFT_OUT:
            assert open_data_cases[role].encode() not in content
    assert b"Grandmother" in decoded and b"Grandmother" in fgb  # sensitive places are there


def test_parquet_is_streamed_a_row_group_at_a_time(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    read = 0

    def counting() -> Any:
        nonlocal read
        for batch in public_batches(lisbon_store, None, batch_size=50):
            read += len(batch)
            yield batch

    chunks = parquet_chunks(counting(), DatasetInfo(), rows_per_group=100)
    first = next(chunks)
    assert first.startswith(b"PAR1") and read < 560  # sent before every place was read
    rest = list(chunks)
    assert len(rest) >= 4 and read == 560
    parquet = pq.ParquetFile(io.BytesIO(first + b"".join(rest)))
    assert parquet.metadata.num_row_groups == 6 and parquet.metadata.num_rows == 560
    assert ROWS_PER_GROUP >= 10_000  # a real download: few, large row groups


@pytest.mark.parametrize(
    "flt",
    [
        PlaceFilter(category="museum"),
        PlaceFilter(neighbourhood_id=8),
        PlaceFilter(language="ar"),
        PlaceFilter(year_from=1955, year_to=2000),
        PlaceFilter(bbox=(-9.15, 38.70, -9.13, 38.72)),
    ],
    ids=["category", "neighbourhood", "language", "years", "bbox"],
)
def test_filters_pick_the_places_the_geojson_download_picks(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], flt: PlaceFilter, tmp_path: Path
) -> None:
    expected = set(geojson_features(lisbon_store, flt))
    assert expected
    table = pq.read_table(io.BytesIO(parquet_bytes(lisbon_store, flt)))
    assert set(table.column("id").to_pylist()) == expected
    assert write_places_fgb(lisbon_store, flt, tmp_path / "f.fgb") == len(
        expected - {open_data_cases["hidden"]}
    )
    fgb = pyogrio.read_dataframe(tmp_path / "f.fgb")
    assert set(fgb["id"]) == expected - {open_data_cases["hidden"]}


def test_flatgeobuf_has_a_spatial_index_and_typed_fields(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "places.fgb"
    n = write_places_fgb(lisbon_store, None, path)
    info = pyogrio.read_info(path)
    assert info["capabilities"]["fast_spatial_filter"]  # the packed Hilbert R-tree
    assert info["features"] == n == 557 + 2  # the hidden route has no place in an index
    assert list(info["fields"]) == list(NAMES) and info["crs"] == "EPSG:4326"
    assert "CC-BY-4.0" in info["layer_metadata"]["DESCRIPTION"]
    frame = pyogrio.read_dataframe(path).set_index("id")
    assert open_data_cases["hidden"] not in frame.index
    area = frame.loc[open_data_cases["area"]]
    assert orjson.loads(area["languages"]) == ["pt", "ar"] and area["year_to"] == 1959
    assert bool(area["location_generalised"]) is False
    # Without the index GDAL says so: the check above can fail.
    pyogrio.write_dataframe(frame.reset_index(), tmp_path / "plain.fgb", SPATIAL_INDEX="NO")
    assert not pyogrio.read_info(tmp_path / "plain.fgb")["capabilities"]["fast_spatial_filter"]


def test_flatgeobuf_bbox_filter_finds_the_public_locations_in_the_box(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "places.fgb"
    write_places_fgb(lisbon_store, None, path)
    box = (-9.15, 38.70, -9.13, 38.72)
    found = pyogrio.read_dataframe(path, bbox=box)
    every = pyogrio.read_dataframe(path)
    inside = every[every.intersects(shapely.box(*box))]
    assert set(found["id"]) == set(inside["id"]) and 0 < len(found) < len(every)
    generalised = every.set_index("id").loc[open_data_cases["generalised"]].geometry
    tiny = (-9.13513, 38.71345, -9.13511, 38.71347)  # around its true point
    assert open_data_cases["generalised"] not in set(pyogrio.read_dataframe(path, bbox=tiny)["id"])
    around = (generalised.x - 1e-4, generalised.y - 1e-4, generalised.x + 1e-4,
              generalised.y + 1e-4)  # fmt: skip
    assert open_data_cases["generalised"] in set(pyogrio.read_dataframe(path, bbox=around)["id"])


def test_empty_selections_still_write_valid_files(lisbon_store: PlaceStore, tmp_path: Path) -> None:
    nothing = PlaceFilter(category="food")
    table = pq.read_table(io.BytesIO(parquet_bytes(lisbon_store, nothing)))
    assert table.num_rows == 0 and table.column_names == [*NAMES, "geometry", "bbox"]
    geo = orjson.loads(pq.read_schema(io.BytesIO(parquet_bytes(lisbon_store, nothing)))
                       .metadata[b"geo"])  # fmt: skip
    assert geo["columns"]["geometry"]["geometry_types"] == []
    assert "bbox" not in geo["columns"]["geometry"]
    assert write_places_fgb(lisbon_store, nothing, tmp_path / "e.fgb") == 0
    empty = pyogrio.read_dataframe(tmp_path / "e.fgb")
    assert len(empty) == 0 and list(empty.columns) == [*NAMES, "geometry"]
