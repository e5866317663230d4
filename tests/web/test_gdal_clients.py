"""Real clients against the running service: GDAL's OGC API – Features driver (Debian's
``ogrinfo`` / ``ogr2ogr``, what QGIS uses underneath) and each download read back with
pyogrio / geopandas, all checked against the store."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from geodata.privacy import public_filter
from geodata.store.base import PlaceStore
from tests.conftest import LiveServer

pytestmark = pytest.mark.skipif(
    shutil.which("ogrinfo") is None or shutil.which("ogr2ogr") is None,
    reason="GDAL's command-line tools (Debian package gdal-bin) are not installed",
)


def gdal(*args: str) -> str:
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
           "GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF"}  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def open_data_ids(store: PlaceStore) -> set[str]:
    return {p.id for p in store.list(public_filter(None, "open_data"))}


def test_ogrinfo_sees_both_collections_with_the_right_counts(
    live_server, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    out = gdal("ogrinfo", "-ro", "-so", "-al", f"OAPIF:{live_server.url}/ogc")
    counts = dict(re.findall(r"Layer name: (\w+).*?Feature Count: (\d+)", out, re.S))
    assert counts == {"places": str(len(open_data_ids(lisbon_store))), "neighbourhoods": "24",
                      "walks": "2"}  # the demo's two walks  # fmt: skip
    for field in ("title", "licence", "attribution", "consent", "protocol_labels",
                  "location_generalised", "created_at", "places_museum"):  # fmt: skip
        assert f"\n{field}: " in out, field


def test_ogr2ogr_copies_every_place_with_its_attributes(
    live_server, lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "copy.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live_server.url}/ogc",
         "places", "neighbourhoods", "-oo", "PAGE_SIZE=100")  # fmt: skip
    places = gpd.read_file(out, layer="places")
    assert len(places) == len(set(places["id"]))
    assert set(places["id"]) == open_data_ids(lisbon_store)
    area = places.set_index("id").loc[open_data_cases["area"]]
    stored = lisbon_store.get(open_data_cases["area"])
    assert area["title"] == stored.title and area["licence"] == stored.licence
    assert area.geometry.equals_exact(stored.geometry.normalize(), 1e-6) or area.geometry.equals(
        stored.geometry
    )
    assert places.set_index("id").loc[open_data_cases["hidden"]].geometry is None
    hoods = gpd.read_file(out, layer="neighbourhoods")
    assert len(hoods) == 24 and hoods["places"].sum() == sum(
        n for nid, n in lisbon_store.counts_by_neighbourhood(
            public_filter(None, "open_data")).items() if nid is not None
    )  # fmt: skip
    place = lisbon_store.get(open_data_cases["area"])
    for secret in (place.contributor_name, place.contributor_contact, place.display_name):
        assert secret.encode() not in out.read_bytes()


def test_ogrinfo_spatial_filter_goes_to_the_service(
    live_server, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    out = gdal("ogrinfo", "-ro", "-q", "-spat", "-9.2200", "38.6900", "-9.2000", "38.7000",
               f"OAPIF:{live_server.url}/ogc", "places")  # fmt: skip
    ids = set(re.findall(r"\bid \(String\) = (\S+)", out))
    expected = {
        p.id for p in lisbon_store.list(public_filter(None, "open_data"))
        if p.geometry.intersects(shapely.box(-9.22, 38.69, -9.20, 38.70))
    }  # fmt: skip
    assert ids == expected and ids


# GDAL reads OGC API – Features Part 2 (its CRS open option) from 3.7 on; Debian's ogr2ogr
# may be older, so pyogrio's own GDAL copies the layer, in a child process: in this one it
# would hold the interpreter lock the live server needs to answer it.
OAPIF_COPY = """
import json, sys, pyogrio
url, out, crs, bbox = sys.argv[1:]
frame = pyogrio.read_dataframe(url, layer="places", CRS=crs, PAGE_SIZE=100,
                               bbox=tuple(json.loads(bbox)) if bbox else None)
pyogrio.write_dataframe(frame, out, layer="places", driver="GPKG")
"""
TM06_BOX = (-90_000.0, -106_000.0, -86_000.0, -103_000.0)  # central Lisbon, in metres


@pytest.mark.skipif(pyogrio.__gdal_version__ < (3, 7, 0), reason="GDAL 3.7 reads OAPIF Part 2")
@pytest.mark.parametrize("bbox", [None, TM06_BOX], ids=["all", "bbox"])
def test_gdal_reads_places_in_portugal_tm06_where_pyproj_puts_them(
    live_server, lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path,
    bbox: tuple[float, ...] | None,
) -> None:  # fmt: skip
    out = tmp_path / "places-3763.gpkg"
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-c", OAPIF_COPY, f"OAPIF:{live_server.url}/ogc", str(out),
         "EPSG:3763", json.dumps(bbox) if bbox else ""],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    copy = gpd.read_file(out, layer="places").set_index("id")
    assert copy.crs.to_epsg() == 3763
    items = f"{live_server.url}/ogc/collections/places/items"
    served = {f["id"]: f["geometry"] for f in httpx.get(f"{items}?limit=10000").json()["features"]}
    t = Transformer.from_crs("OGC:CRS84", "EPSG:3763", always_xy=True)
    expected = {
        pid: g and shapely.transform(shape(g), lambda xy: np.column_stack(t.transform(*xy.T)))
        for pid, g in served.items()
    }  # fmt: skip
    if bbox is None:
        assert set(copy.index) == set(served) == open_data_ids(lisbon_store)
    else:  # GDAL sent the box with bbox-crs, then kept what meets it
        area = shapely.box(*bbox)
        inside = {pid for pid, g in expected.items() if g is not None and g.intersects(area)}
        assert set(copy.index) == inside and len(inside) > 20
    for pid, geometry in copy.geometry.items():
        if expected[pid] is None:
            assert geometry is None
        else:  # within a centimetre
            assert geometry.equals_exact(expected[pid], 0.01), pid
    # EPSG:4326 is latitude first on the wire (GDAL asks for CRS84 instead, so look here).
    raw = httpx.get(f"{items}/{open_data_cases['generalised']}?crs=EPSG:4326")
    lat, lon = raw.json()["geometry"]["coordinates"]
    assert raw.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    assert [lon, lat] == served[open_data_cases["generalised"]]["coordinates"]


def asked_urls(app) -> list[str]:
    """The URLs the app will be asked for, in order (a middleware records them)."""
    asked: list[str] = []

    @app.middleware("http")
    async def record(request, call_next):  # type: ignore[no-untyped-def]
        asked.append(str(request.url))
        return await call_next(request)

    return asked


# A where clause given to GDAL's OAPIF driver: it reads the filter languages and the
# queryables from /ogc/api and the field types from the collection's describedby schema,
# then sends what it can as CQL2 text. In a child process, as above.
OAPIF_WHERE = """
import json, sys, pyogrio
url, where = sys.argv[1:]
info = pyogrio.read_info(url, layer="places")
frame = pyogrio.read_dataframe(url, layer="places", where=where)
types = {name: str(kind) for name, kind in zip(info["fields"], info["dtypes"])}
print(json.dumps({"ids": sorted(frame["id"]), "types": types}))
"""


@pytest.mark.skipif(pyogrio.__gdal_version__ < (3, 7, 0), reason="GDAL 3.7 sends CQL text")
@pytest.mark.parametrize(
    ("where", "keep"),
    [
        ("year_from > 1800", lambda p: p.year_from is not None and p.year_from > 1800),
        ("category = 'museum' AND year_from >= 1900 AND title LIKE 'Museu%'",
         lambda p: p.category == "museum" and p.year_from is not None and p.year_from >= 1900
         and p.title.startswith("Museu")),
        ("title ILIKE '%museu%' OR year_to < 1600",
         lambda p: "museu" in p.title.lower() or (p.year_to is not None and p.year_to < 1600)),
    ],
)  # fmt: skip
def test_gdal_sends_its_where_clause_to_the_service_as_cql2_text(
    app, lisbon_store: PlaceStore, open_data_cases: dict[str, str], where: str, keep
) -> None:
    asked = asked_urls(app)
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "CPL_DEBUG": "OFF"}
    with LiveServer(app) as server:
        done = subprocess.run(
            [sys.executable, "-c", OAPIF_WHERE, f"OAPIF:{server.url}/ogc", where],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    filtered = [u for u in asked if "filter=" in u]
    assert filtered and all("filter-lang=cql-text" in u for u in filtered), asked
    assert got["types"]["year_from"] == got["types"]["year_to"] == "int32"
    assert got["types"]["created_at"].startswith("datetime64")
    expected = {p.id for p in lisbon_store.list(public_filter(None, "open_data")) if keep(p)}
    assert set(got["ids"]) == expected and expected


MUSEUMS_SINCE_1900 = "year_from >= 1900 AND category = 'museum'"


def museums_since_1900(store: PlaceStore) -> set[str]:
    return {
        p.id for p in store.list(public_filter(None, "open_data"))
        if p.category == "museum" and p.year_from is not None and p.year_from >= 1900
    }  # fmt: skip


def test_debian_gdal_types_the_years_and_sends_its_where_clause_as_cql(
    app, lisbon_store: PlaceStore
) -> None:
    """Debian's ogrinfo (GDAL 3.6, older than the Part 2 and 5 support of 3.7): the years
    arrive as integers (from the describedBy schema, not from the first ten features)
    and a where clause on them goes to the service as a filter."""
    asked = asked_urls(app)
    with LiveServer(app) as server:
        url = f"OAPIF:{server.url}/ogc"
        summary = gdal("ogrinfo", "-ro", "-so", url, "places")
        out = gdal("ogrinfo", "-ro", "-q", url, "places", "-where", MUSEUMS_SINCE_1900)
    assert "\nyear_from: Integer " in summary and "\nyear_to: Integer " in summary
    assert "\nlocation_generalised: Integer(Boolean) " in summary
    ids = set(re.findall(r"\bid \(String\) = (\S+)", out))
    assert ids == museums_since_1900(lisbon_store) and ids
    assert any("filter=" in u and "year_from" in u for u in asked), asked


# GDAL 3.7 and newer (pyogrio's own) in one read: the places in Portugal TM06, a where
# clause sent as a filter, typed fields. In a child process, as above.
OAPIF_TM06_WHERE = """
import json, sys, pyogrio
url, where, out = sys.argv[1:]
info = pyogrio.read_info(url, layer="places", CRS="EPSG:3763")
frame = pyogrio.read_dataframe(url, layer="places", CRS="EPSG:3763", where=where)
print(json.dumps({"types": dict(zip(info["fields"], map(str, info["dtypes"]))),
                  "crs": frame.crs.to_epsg()}))
pyogrio.write_dataframe(frame, out, layer="places", driver="GPKG")
"""


@pytest.mark.skipif(pyogrio.__gdal_version__ < (3, 7, 0), reason="GDAL 3.7 reads OAPIF Part 2")
def test_gdal_reads_places_in_tm06_with_a_cql2_filter_and_typed_fields(
    app, lisbon_store: PlaceStore, tmp_path: Path
) -> None:
    """Issue 17's "done when": one GDAL read, in EPSG:3763, filtered on the server."""
    asked = asked_urls(app)
    out = tmp_path / "museums-3763.gpkg"
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "CPL_DEBUG": "OFF"}
    with LiveServer(app) as server:
        done = subprocess.run(
            [sys.executable, "-c", OAPIF_TM06_WHERE, f"OAPIF:{server.url}/ogc",
             MUSEUMS_SINCE_1900, str(out)],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        items = httpx.get(f"{server.url}/ogc/collections/places/items?limit=10000").json()
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["crs"] == 3763
    assert got["types"]["year_from"] == got["types"]["year_to"] == "int32"
    assert got["types"]["location_generalised"] == "bool"
    copy = gpd.read_file(out, layer="places").set_index("id")
    assert set(copy.index) == museums_since_1900(lisbon_store) and len(copy) > 3
    t = Transformer.from_crs("OGC:CRS84", "EPSG:3763", always_xy=True)
    served = {f["id"]: shape(f["geometry"]) for f in items["features"]}  # in CRS84
    for pid, geometry in copy.geometry.items():
        want = shapely.transform(served[pid], lambda xy: np.column_stack(t.transform(*xy.T)))
        assert geometry.equals_exact(want, 0.01), pid  # within a centimetre
    filtered = [u for u in asked if "/items" in u and "filter=" in u]
    assert filtered and all("crs=" in u and "3763" in u for u in filtered), asked


def test_ogrinfo_reads_the_geopackage_download_without_a_warning(
    live_server, lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    r = httpx.get(f"{live_server.url}/api/export/places.gpkg", timeout=60)
    path = tmp_path / "download.gpkg"
    path.write_bytes(r.content)
    env = {**os.environ, "CPL_DEBUG": "OFF"}
    done = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True,
                          text=True, timeout=120, env=env)  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr  # no user_version warning
    out = done.stdout
    # No extra licences layer; the walks layer holds the demo's two walks.
    assert re.findall(r"Layer name: (\w+)", out) == ["places", "walks"]
    assert f"Feature Count: {len(open_data_ids(lisbon_store))}\n" in out
    fields = dict(re.findall(r"^(\w+): (\S+) \(", out.split("Geometry Column = geom\n")[1], re.M))
    assert fields["year_from"] == fields["year_to"] == "Integer"
    assert fields["version"] == fields["neighbourhood_id"] == "Integer64"
    assert fields["location_generalised"] == "Integer(Boolean)"
    assert fields["created_at"] == fields["updated_at"] == "DateTime"
    for name in ("narratives", "tags", "consent", "protocol_labels"):
        assert fields[name] == "String(JSON)", name
    assert all(kind.startswith(("String", "Integer", "DateTime")) for kind in fields.values())
    # The licences: GDAL shows the metadata record the layer references.
    item = re.search(r"^  GPKG_METADATA_ITEM_\d+=(.*)$", out, re.M)
    assert item is not None
    record = json.loads(item.group(1))
    assert record["licence"] == "CC-BY-4.0"
    assert sum(x["places"] for x in record["licences"]) == len(open_data_ids(lisbon_store))
    assert "licence=CC-BY-4.0" in out and "attribution=Heritage Atlas contributors" in out


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_each_download_reads_back_with_pyogrio(
    live_server, lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path,
    fmt: str,
) -> None:  # fmt: skip
    r = httpx.get(f"{live_server.url}/api/export/places.{fmt}", timeout=60)
    assert r.status_code == 200
    path = tmp_path / f"download.{fmt}"
    path.write_bytes(r.content)
    if fmt == "csv":
        frame = pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
    else:
        frame = pyogrio.read_dataframe(path, layer="places" if fmt == "gpkg" else None)
    assert set(frame["id"]) == open_data_ids(lisbon_store)
    by_id = frame.set_index("id")
    for pid in list(by_id.index)[:50]:
        stored = lisbon_store.get(pid)
        assert by_id.loc[pid, "title"] == stored.title
        assert by_id.loc[pid, "licence"] == stored.licence
        assert by_id.loc[pid, "category"] == stored.category
    area = by_id.loc[open_data_cases["area"]]
    assert area.geometry.geom_type == "Polygon"
    assert area.geometry.area == pytest.approx(
        lisbon_store.get(open_data_cases["area"]).geometry.area, rel=1e-3
    )
