"""GeoParquet and FlatGeobuf over HTTP and from the command line: headers, validators,
filters, privacy, streaming; and the problem for a format we do not offer."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
import pyogrio
import pytest
from typer.testing import CliRunner

from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from tests.conftest import SECRET_CONTACT, SECRET_NAME
from web.cli import app as cli

PARQUET = "/api/export/places.parquet"
FGB = "/api/export/places.fgb"


def open_data_ids(store: PlaceStore, flt: PlaceFilter | None = None) -> set[str]:
    return {p.id for p in store.list(public_filter(flt, "open_data"))}


def test_parquet_download_streams_with_names_validators_and_licence(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    r = client.get(PARQUET + "?category=memory", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apache.parquet"
    disposition = r.headers["content-disposition"]
    assert "heritage-atlas-places-memory-" in disposition and disposition.endswith('.parquet"')
    assert "content-length" not in r.headers  # streamed
    assert "content-encoding" not in r.headers  # Parquet compresses its own columns
    assert r.headers["etag"].startswith('W/"') and r.headers["last-modified"].endswith("GMT")
    link = r.headers["link"]
    assert link.endswith('>; rel="license"') and "places.licence.txt?category=memory" in link
    table = pq.read_table(io.BytesIO(r.content))
    assert set(table.column("id").to_pylist()) == {
        open_data_cases[k] for k in ("area", "generalised", "hidden")
    }
    meta = pq.read_metadata(io.BytesIO(r.content)).metadata
    assert meta[b"filters"] == b'{"category":"memory"}' and meta[b"licence"] == b"CC-BY-4.0"
    again = client.get(PARQUET + "?category=memory", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get(PARQUET + "?category=museum").headers["etag"] != r.headers["etag"]


def test_parquet_download_is_sent_in_several_chunks(
    client, lisbon_store: PlaceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geodata.io import geoparquet

    monkeypatch.setattr(geoparquet, "ROWS_PER_GROUP", 100)
    monkeypatch.setattr(geoparquet, "BATCH_SIZE", 50)
    with client.stream("GET", PARQUET) as r:
        chunks = list(r.iter_raw())
    assert len(chunks) >= 4 and chunks[0].startswith(b"PAR1")
    metadata = pq.read_metadata(io.BytesIO(b"".join(chunks)))
    assert metadata.num_row_groups == -(-metadata.num_rows // 100) > 1  # 100 rows a group


def test_fgb_download_has_its_index_and_every_located_place(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    r = client.get(FGB + "?neighbourhood=8")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.flatgeobuf"
    assert r.headers["content-disposition"].endswith('.fgb"')
    assert int(r.headers["content-length"]) == len(r.content)
    assert 'rel="license"' in r.headers["link"]
    path = tmp_path / "download.fgb"
    path.write_bytes(r.content)
    info = pyogrio.read_info(path)
    assert info["capabilities"]["fast_spatial_filter"]
    frame = pyogrio.read_dataframe(path)
    assert set(frame["id"]) == open_data_ids(lisbon_store, PlaceFilter(neighbourhood_id=8))
    assert set(frame["neighbourhood"]) == {"Belém"}
    assert client.get(FGB + "?neighbourhood=8", headers={"If-None-Match": r.headers["etag"]}
                      ).status_code == 304  # fmt: skip
    every = client.get(FGB)
    path.write_bytes(every.content)
    ids = set(pyogrio.read_dataframe(path)["id"])
    assert ids == open_data_ids(lisbon_store) - {open_data_cases["hidden"]}


@pytest.mark.parametrize("path", [PARQUET, FGB, "/api/export/places.csvt"])
@pytest.mark.parametrize(
    ("query", "field"),
    [("category=spaceport", "category"), ("year_from=soon", "year_from"), ("bbox=1,2,3", "bbox")],
)
def test_bad_filters_get_a_422_problem_naming_the_field(
    client, path: str, query: str, field: str
) -> None:
    r = client.get(f"{path}?{query}")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]


def test_no_columnar_download_holds_personal_data_or_withheld_places(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    decoded = str(pq.read_table(io.BytesIO(client.get(PARQUET).content)).to_pylist())
    fgb = client.get(FGB).content
    for secret in (SECRET_NAME, SECRET_CONTACT, "PENDING-UNIQUE", "NO-OPEN-DATA-UNIQUE"):
        assert secret not in decoded and secret.encode() not in fgb
    for role in ("pending", "no_open_data", "rejected"):
        assert open_data_cases[role] not in decoded
        assert open_data_cases[role].encode() not in fgb


@pytest.mark.parametrize("fmt", ["shp", "kml", "xlsx", "geojson.zip"])
def test_an_unknown_format_gets_a_404_problem_naming_the_format(client, fmt: str) -> None:
    r = client.get(f"/api/export/places.{fmt}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "unknown_format" and fmt in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["format"]
    assert "parquet" in problem["detail"] and "fgb" in problem["detail"]
    pt = client.get(f"/api/export/places.{fmt}", headers={"Accept-Language": "pt"})
    assert pt.headers["content-language"] == "pt" and "formato «" + fmt + "»" in pt.json()["detail"]


def test_the_openapi_document_lists_the_new_downloads_and_their_media_types(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, media in [(PARQUET, "application/vnd.apache.parquet"),
                        (FGB, "application/vnd.flatgeobuf"),
                        ("/api/export/places.csvt", "text/plain; charset=utf-8")]:  # fmt: skip
        operation = paths[path]["get"]
        assert media in operation["responses"]["200"]["content"] and operation["description"]
    assert not any("{fmt}" in p for p in paths)


def test_csv_types_sidecar_is_named_like_the_csv(client) -> None:
    csv = client.get("/api/export/places.csv?category=museum")
    types = client.get("/api/export/places.csvt?category=museum")
    assert types.status_code == 200
    name = csv.headers["content-disposition"].removesuffix('.csv"')
    assert types.headers["content-disposition"] == name + '.csvt"'
    assert types.text.count(",") == csv.text.splitlines()[0].count(",")


# -- the command line ------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lisbon_store: PlaceStore) -> PlaceStore:
    """The CLI on the test's store (SQLite file or PostGIS schema) via the settings."""
    monkeypatch.chdir(tmp_path)
    if hasattr(lisbon_store, "path"):
        url = f"sqlite:///{lisbon_store.path}"  # type: ignore[attr-defined]
    else:
        import os

        url = os.environ["HERITAGE_TEST_POSTGIS_URL"]
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker and "schema=" not in url:
            url += f"{'&' if '?' in url else '?'}schema=test_{worker}"
    monkeypatch.setenv("HERITAGE_DATABASE_URL", url)
    return lisbon_store


@pytest.mark.parametrize(("name", "args"), [("all.parquet", []), ("x.out", ["-f", "geoparquet"])])
def test_cli_exports_geoparquet(
    cli_db: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path, name: str, args: list
) -> None:
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["export", str(out), "--category", "memory", *args])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert set(table.column("id").to_pylist()) == open_data_ids(
        cli_db, PlaceFilter(category="memory")
    )
    assert f"exported {table.num_rows} places" in result.output
    assert not list(tmp_path.glob(".*partial*"))


def test_cli_exports_flatgeobuf_with_an_index(
    cli_db: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "belem.fgb"
    result = CliRunner().invoke(cli, ["export", str(out), "--neighbourhood", "Belém"])
    assert result.exit_code == 0, result.output
    assert pyogrio.read_info(out)["capabilities"]["fast_spatial_filter"]
    ids = set(pyogrio.read_dataframe(out)["id"])
    assert ids == open_data_ids(cli_db, PlaceFilter(neighbourhood_id=8)) and ids
    assert f"exported {len(ids)} places" in result.output


def test_cli_csv_gets_a_csvt_that_gdal_reads_the_types_from(
    cli_db: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "memory.csv"
    result = CliRunner().invoke(cli, ["export", str(out), "--category", "memory"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "memory.csvt").exists()
    info = pyogrio.read_info(out)
    types = dict(zip(info["fields"], zip(info["ogr_types"], info["ogr_subtypes"], strict=True),
                     strict=True))  # fmt: skip
    assert types["year_from"] == ("OFTInteger64", "OFSTNone")
    assert types["workshop"] == ("OFTString", "OFSTNone")  # empty everywhere, still text
    assert types["location_generalised"] == ("OFTInteger", "OFSTBoolean")
    assert types["created_at"] == ("OFTDateTime", "OFSTNone")
    frame = pyogrio.read_dataframe(out)
    assert {g.geom_type for g in frame.geometry if g is not None} == {"Point", "Polygon"}
