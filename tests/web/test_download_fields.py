"""Every download and the OGC API items carry the same fields with the same types.

Each download is fetched over HTTP and read back the way a planner's tools read it:
GeoJSON, GeoPackage, CSV (with its .csvt sidecar) and FlatGeobuf through GDAL (pyogrio),
GeoParquet through pyarrow, OGC API items as JSON. Each field's type is reduced to one of
the kinds of :mod:`geodata.io.fields` and compared with the one list; a list (or the
narratives) is a list where the format has lists and text where it has none.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest

from geodata.io.fields import BOOLEAN, DATETIME, FIELDS, INTEGER, JSON, LIST, NAMES, STRING
from geodata.store.base import PlaceStore

# GDAL guesses a GeoJSON field's type from its values, and JSON has no null type: the
# downloads fixture gives every field a value somewhere.
TEXT = "text"  # a list or the narratives as text: JSON, or ";"-separated in CSV


def expected(has_lists: bool) -> dict[str, str]:
    """The kind each field must read as, in a format with or without list types."""
    if has_lists:
        return dict(FIELDS)
    return {name: TEXT if kind in (LIST, JSON) else kind for name, kind in FIELDS}


def gdal_kinds(path: Path, layer: str | None = None) -> dict[str, str]:
    """Field name -> kind, as GDAL reads the file."""
    info = pyogrio.read_info(path, layer=layer)
    out = {}
    for name, ogr, sub in zip(info["fields"], info["ogr_types"], info["ogr_subtypes"],
                              strict=True):  # fmt: skip
        if ogr in ("OFTInteger", "OFTInteger64"):
            out[name] = BOOLEAN if sub == "OFSTBoolean" else INTEGER
        elif ogr == "OFTDateTime":
            out[name] = DATETIME
        elif ogr == "OFTStringList":
            out[name] = LIST
        elif ogr == "OFTString":
            out[name] = JSON if sub == "OFSTJSON" else STRING
        else:
            out[name] = ogr
    return out


def as_geojson(kinds: dict[str, str]) -> dict[str, str]:
    """GDAL reads a GeoJSON array of strings as a string list, or as JSON text when some
    features have an empty one; either way the file holds a JSON array (the OGC test reads
    the JSON itself)."""
    lists = {name for name, kind in FIELDS if kind == LIST}
    return {n: LIST if n in lists and k == JSON else k for n, k in kinds.items()}


def as_text_format(kinds: dict[str, str]) -> dict[str, str]:
    """In a format without lists, a list or JSON field is text (JSON subtype or not)."""
    list_like = {name for name, kind in FIELDS if kind in (LIST, JSON)}
    return {n: TEXT if n in list_like and k in (STRING, JSON) else k for n, k in kinds.items()}


def arrow_kind(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return STRING
    if pa.types.is_integer(t):
        return INTEGER
    if pa.types.is_boolean(t):
        return BOOLEAN
    if pa.types.is_timestamp(t) and t.tz == "UTC":
        return DATETIME
    if pa.types.is_list(t) and pa.types.is_string(t.value_type):
        return LIST
    if pa.types.is_list(t) and pa.types.is_struct(t.value_type):
        return JSON
    return str(t)


def json_kind(value: Any) -> str:
    """The kind of one JSON value (a date-time is RFC 3339 text)."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return LIST
        return JSON if all(isinstance(v, dict) for v in value) else "mixed list"
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return STRING
        return DATETIME if "T" in value else STRING
    return type(value).__name__


def json_kinds(features: list[dict]) -> dict[str, str]:
    """Field name -> kind over every feature (null says nothing; an empty list is a list
    of anything), each field one kind or the set of kinds it shows."""
    seen: dict[str, set[str]] = {"id": {json_kind(f["id"]) for f in features}}
    for f in features:
        for name, value in f["properties"].items():
            kinds = seen.setdefault(name, set())
            if value is not None and value != []:
                kinds.add(json_kind(value))
    return {name: kinds.pop() if len(kinds) == 1 else str(sorted(kinds)) for name, kinds in
            seen.items()}  # fmt: skip


def save(client, url: str, path: Path) -> Path:
    r = client.get(url, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200, (url, r.text[:300])
    path.write_bytes(r.content)
    return path


@pytest.fixture
def downloads(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> dict[str, Any]:
    from datetime import UTC, timedelta

    from geodata.models import Workshop

    now = datetime.now(UTC)
    lisbon_store.add_workshop(Workshop("HX7R4M", "Market memories", now, now + timedelta(hours=2)))
    area = lisbon_store.get(open_data_cases["area"])
    area.workshop = "HX7R4M"
    lisbon_store.update(area)
    return {
        "geojson": save(client, "/api/export/places.geojson", tmp_path / "p.geojson"),
        "gpkg": save(client, "/api/export/places.gpkg", tmp_path / "p.gpkg"),
        "csv": save(client, "/api/export/places.csv", tmp_path / "p.csv"),
        "csvt": save(client, "/api/export/places.csvt", tmp_path / "p.csvt"),
        "parquet": client.get("/api/export/places.parquet").content,
        "fgb": save(client, "/api/export/places.fgb", tmp_path / "p.fgb"),
        "ogc": client.get("/ogc/collections/places/items?limit=1000").json()["features"],
    }


def test_geojson_fields_and_types_as_gdal_reads_them(downloads: dict[str, Any]) -> None:
    kinds = as_geojson(gdal_kinds(downloads["geojson"]))
    assert set(kinds) == set(NAMES)
    assert kinds == expected(has_lists=True)


def test_ogc_items_carry_the_same_fields_with_the_same_json_types(
    downloads: dict[str, Any],
) -> None:
    assert len(downloads["ogc"]) == 557 + 3
    assert json_kinds(downloads["ogc"]) == expected(has_lists=True)


def test_geopackage_fields_and_types(downloads: dict[str, Any]) -> None:
    kinds = gdal_kinds(downloads["gpkg"], layer="places")
    assert list(kinds) == list(NAMES)
    assert as_text_format(kinds) == expected(has_lists=False)


def test_csv_fields_and_types_with_its_csvt(downloads: dict[str, Any]) -> None:
    kinds = gdal_kinds(downloads["csv"])
    assert list(kinds) == ["id", "longitude", "latitude", "wkt", *NAMES[1:]]
    assert kinds.pop("longitude") == kinds.pop("latitude") == "OFTReal"
    assert kinds.pop("wkt") == STRING  # also read as the layer's geometry
    assert as_text_format(kinds) == expected(has_lists=False)
    assert pyogrio.read_info(downloads["csv"])["geometry_type"] == "Unknown"


def test_geoparquet_fields_and_types(downloads: dict[str, Any]) -> None:
    schema = pq.read_schema(io.BytesIO(downloads["parquet"]))
    kinds = {f.name: arrow_kind(f.type) for f in schema if f.name not in ("geometry", "bbox")}
    assert list(kinds) == list(NAMES)
    assert kinds == expected(has_lists=True)


def test_flatgeobuf_fields_and_types(downloads: dict[str, Any]) -> None:
    kinds = gdal_kinds(downloads["fgb"])
    assert list(kinds) == list(NAMES)
    assert as_text_format(kinds) == expected(has_lists=False)


def test_the_kinds_say_the_same_thing_in_every_format(
    downloads: dict[str, Any], lisbon_store: PlaceStore
) -> None:
    """One table: every field, one kind per format; the scalar kinds never differ."""
    table = {
        "geojson": as_geojson(gdal_kinds(downloads["geojson"])),
        "ogc": json_kinds(downloads["ogc"]),
        "gpkg": as_text_format(gdal_kinds(downloads["gpkg"], layer="places")),
        "csv": as_text_format(gdal_kinds(downloads["csv"])),
        "fgb": as_text_format(gdal_kinds(downloads["fgb"])),
        "parquet": {
            f.name: arrow_kind(f.type) for f in pq.read_schema(io.BytesIO(downloads["parquet"]))
        },
    }
    for name, kind in FIELDS:
        row = {fmt: kinds.get(name) for fmt, kinds in table.items()}
        if kind in (LIST, JSON):
            assert set(row.values()) <= {kind, TEXT}, (name, row)
        else:
            assert set(row.values()) == {kind}, (name, row)
