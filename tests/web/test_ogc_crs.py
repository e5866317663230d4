"""OGC API – Features Part 2 over HTTP: the CRS each collection offers, ``crs`` and
``bbox-crs``, the ``Content-Crs`` header, axis order, and that another CRS says nothing
more about a place than the CRS84 answer does."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from geodata.store.base import PlaceStore
from web.settings import Settings

ITEMS = "/ogc/collections/places/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
OFFERED = [CRS84, f"{EPSG}4326", f"{EPSG}3857", f"{EPSG}3763", f"{EPSG}25829"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The app of these tests also offers ETRS89 / UTM 29N (HERITAGE_EXTRA_CRS)."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}", tiles="none", extra_crs="25829",
        _env_file=None,
    )  # type: ignore[call-arg]  # fmt: skip


def q(uri: str) -> str:
    return quote(uri, safe="")


def geometries(doc: dict) -> dict[str, object]:
    return {f["id"]: f["geometry"] and shape(f["geometry"]) for f in doc["features"]}


def to(code: int):
    """CRS84 -> EPSG:code with pyproj directly (easting/longitude first), for comparison."""
    t = Transformer.from_crs("OGC:CRS84", f"EPSG:{code}", always_xy=True)
    return lambda g: shapely.transform(g, lambda xy: np.column_stack(t.transform(*xy.T)))


def test_every_collection_offers_the_crs_list_and_conformance_says_part_2(client) -> None:
    doc = client.get("/ogc/collections").json()
    assert doc["crs"] == OFFERED
    for collection in doc["collections"]:
        assert collection["crs"] == OFFERED and collection["storageCrs"] == CRS84
    one = client.get("/ogc/collections/neighbourhoods").json()
    assert one["crs"] == OFFERED and one["storageCrs"] == CRS84
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes


def test_openapi_describes_crs_and_bbox_crs_on_the_items_paths(client) -> None:
    doc = client.get("/ogc/api").json()
    for name in ("crs", "bbox-crs"):
        param = doc["components"]["parameters"][name]
        assert param["in"] == "query" and param["schema"]["enum"] == OFFERED
    for cid in ("places", "neighbourhoods"):
        items = {p["$ref"] for p in doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"]
                 if "$ref" in p}  # fmt: skip
        assert {"#/components/parameters/crs", "#/components/parameters/bbox-crs"} <= items
        one = doc["paths"][f"/collections/{cid}/items/{{featureId}}"]["get"]["parameters"]
        assert {"$ref": "#/components/parameters/crs"} in one


def test_epsg_4326_answers_latitude_first_and_every_answer_names_its_crs(
    client, open_data_cases: dict[str, str]
) -> None:
    plain = client.get(f"{ITEMS}?limit=1000")
    assert plain.headers["content-crs"] == f"<{CRS84}>"
    latlon = client.get(f"{ITEMS}?limit=1000&crs={q(EPSG + '4326')}")
    assert latlon.status_code == 200 and latlon.headers["content-crs"] == f"<{EPSG}4326>"
    swapped = 0
    for a, b in zip(plain.json()["features"], latlon.json()["features"], strict=True):
        assert a["id"] == b["id"]
        if a["geometry"] is None:
            assert b["geometry"] is None
            continue
        expected = shapely.transform(shape(a["geometry"]), lambda xy: xy[:, ::-1])
        assert shape(b["geometry"]).equals_exact(expected, 0)  # the same ring, axes swapped
        swapped += 1
    assert swapped > 300
    point = next(f for f in latlon.json()["features"] if f["geometry"]["type"] == "Point")
    lat, lon = point["geometry"]["coordinates"]
    assert 38.6 < lat < 38.8 and -9.3 < lon < -9.0  # Lisbon: latitude, then longitude


@pytest.mark.parametrize("code", [3763, 3857, 25829])
def test_projected_answers_are_the_public_crs84_ones_transformed(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str], code: int
) -> None:
    crs84 = geometries(client.get(f"{ITEMS}?limit=1000").json())
    r = client.get(f"{ITEMS}?limit=1000&crs=EPSG:{code}")
    assert r.headers["content-crs"] == f"<{EPSG}{code}>"
    projected = geometries(r.json())
    assert projected.keys() == crs84.keys()
    project = to(code)
    for pid, geometry in crs84.items():
        if geometry is None:
            assert projected[pid] is None  # hidden stays hidden
            continue
        assert projected[pid].equals_exact(project(geometry), 0.002), pid  # within 2 mm
    # A generalised place: its grid point transformed, not its stored position.
    stored = lisbon_store.get(open_data_cases["generalised"]).geometry
    moved = projected[open_data_cases["generalised"]]
    assert moved.distance(project(stored)) > 10
    area = projected[open_data_cases["area"]]
    assert area.geom_type == "Polygon" and area.exterior.is_ccw  # right-hand rule kept


def test_one_feature_and_neighbourhoods_come_in_the_crs_asked_for(
    client, open_data_cases: dict[str, str]
) -> None:
    area_id = open_data_cases["area"]
    listed = geometries(client.get(f"{ITEMS}?limit=1000&crs=EPSG:3763").json())[area_id]
    one = client.get(f"{ITEMS}/{area_id}?crs={q(EPSG + '3763')}")
    assert one.status_code == 200 and one.headers["content-crs"] == f"<{EPSG}3763>"
    assert shape(one.json()["geometry"]).equals_exact(listed, 0)
    assert client.get(f"{ITEMS}/{area_id}").headers["content-crs"] == f"<{CRS84}>"
    hoods = "/ogc/collections/neighbourhoods/items"
    plain = geometries(client.get(f"{hoods}?limit=100").json())
    mercator = client.get(f"{hoods}?limit=100&crs=EPSG:3857")
    assert mercator.headers["content-crs"] == f"<{EPSG}3857>"
    for nid, geometry in geometries(mercator.json()).items():
        assert geometry.equals_exact(to(3857)(plain[nid]), 0.002)
    belem = client.get(f"{hoods}/8?crs=EPSG:3857")
    assert belem.headers["content-crs"] == f"<{EPSG}3857>"
    assert shape(belem.json()["geometry"]).equals_exact(to(3857)(plain[8]), 0.002)


def test_bbox_crs_takes_a_box_in_any_offered_crs(client, open_data_cases: dict[str, str]) -> None:
    everything = geometries(client.get(f"{ITEMS}?limit=1000&crs=EPSG:3763").json())
    box = (-90000.0, -106000.0, -86000.0, -103000.0)  # metres, Portugal TM06: central Lisbon
    query = f"bbox={','.join(map(str, box))}&bbox-crs=EPSG:3763&crs=EPSG:3763&limit=1000"
    found = geometries(client.get(f"{ITEMS}?{query}").json())
    inside = {pid for pid, g in everything.items() if g is not None
              and g.intersects(shapely.box(*box))}  # fmt: skip
    # The box is looked up as the CRS84 box enclosing it: all of it, and a little more.
    assert inside and inside <= found.keys()
    assert all(g.distance(shapely.box(*box)) < 200 for g in found.values())
    crs84 = client.get(f"{ITEMS}?bbox=-9.16,38.70,-9.12,38.73&limit=1000").json()
    latlon = client.get(f"{ITEMS}?bbox=38.70,-9.16,38.73,-9.12&bbox-crs={q(EPSG + '4326')}"
                        "&limit=1000").json()  # fmt: skip
    assert geometries(latlon).keys() == geometries(crs84).keys() and crs84["numberMatched"] > 10


def test_next_links_keep_the_crs(client) -> None:
    doc = client.get(f"{ITEMS}?limit=100&crs=EPSG:3763").json()
    nxt = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    parts = urlsplit(nxt)
    r = client.get(f"{parts.path}?{parts.query}")
    assert r.headers["content-crs"] == f"<{EPSG}3763>"
    x, y = r.json()["features"][0]["geometry"]["coordinates"][:2]
    assert abs(x) > 1000 and abs(y) > 1000  # metres, not degrees


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("crs=EPSG:9999", "crs"),
        ("crs=http://www.opengis.net/def/crs/EPSG/0/2180", "crs"),  # known, not offered
        ("crs=urn:ogc:def:crs:EPSG::3763", "crs"),
        ("crs=", "crs"),
        ("bbox=1,2,3,4&bbox-crs=nowhere", "bbox-crs"),
        ("bbox=1,2,3&bbox-crs=EPSG:3763", "bbox"),
        ("bbox=a,b,c,d&bbox-crs=EPSG:3763", "bbox"),
        ("bbox=nan,0,1,1&bbox-crs=EPSG:3763", "bbox"),
        ("bbox=5,0,1,1&bbox-crs=EPSG:3763", "bbox"),
        ("bbox=1e30,1e30,1e31,1e31&bbox-crs=EPSG:3857", "bbox"),
        ("bbox=-200,38,-9,39&bbox-crs=EPSG:4326", "bbox"),  # latitude first: -200 is no latitude
    ],
)
def test_unknown_crs_or_unusable_bbox_gets_400_naming_the_parameter(
    client, open_data_cases: dict[str, str], query: str, parameter: str
) -> None:
    paths = [ITEMS, "/ogc/collections/neighbourhoods/items"]
    if query.startswith("crs="):
        paths += [f"{ITEMS}/{open_data_cases['area']}", "/ogc/collections/neighbourhoods/items/8"]
    for path in paths:
        r = client.get(f"{path}?{query}")
        assert r.status_code == 400, (path, query)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"].startswith(f"{parameter}: "), r.json()["detail"]
    assert client.get(f"/ogc/collections?{query}").status_code == 400  # takes no crs at all


def test_extra_crs_setting_reads_codes_and_refuses_what_is_not_a_map_crs() -> None:
    assert Settings(extra_crs="25829, EPSG:2180", _env_file=None).extra_crs == [25829, 2180]  # type: ignore[call-arg]
    for bad in ("99999", "4978", "abc"):  # unknown, geocentric, not a code
        with pytest.raises(ValueError, match="extra_crs"):
            Settings(extra_crs=bad, _env_file=None)  # type: ignore[call-arg]
