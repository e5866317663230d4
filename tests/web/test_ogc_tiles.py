"""OGC API – Tiles over HTTP: metadata, TileJSON, tiles, validators, gzip, errors, GDAL."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import mapbox_vector_tile
import numpy as np
import pytest
from shapely.geometry import Point, box, shape

from geodata.models import Consent, Narrative, Place, Status
from geodata.privacy import grid_centres
from geodata.store.base import PlaceStore
from geodata.tilematrix import Tile

BAIXA = Tile.checked(14, 6278, 7776)
TILES = "/ogc/collections/places/tiles/WebMercatorQuad"
BAIXA_URL = f"{TILES}/{BAIXA.z}/{BAIXA.y}/{BAIXA.x}"
WALK_TILES = "/ogc/collections/walks/tiles/WebMercatorQuad"
WALKS_BAIXA_URL = f"{WALK_TILES}/{BAIXA.z}/{BAIXA.y}/{BAIXA.x}"
MVT = "application/vnd.mapbox-vector-tile"


def local(href: str) -> str:
    parts = urlsplit(href)
    assert parts.netloc == "127.0.0.1"
    return parts.path + ("?" + parts.query if parts.query else "")


def features(data: bytes, layer: str = "places") -> list[dict]:
    decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    return decoded[layer]["features"] if layer in decoded else []


def test_landing_page_conformance_and_collections_lead_to_tiles(client) -> None:
    links = client.get("/ogc").json()["links"]
    schemes = [x for x in links if x["rel"].endswith("/tiling-schemes")]
    assert len(schemes) == 1
    tms = client.get(local(schemes[0]["href"])).json()
    assert [t["id"] for t in tms["tileMatrixSets"]] == ["WebMercatorQuad"]
    definition = client.get(local(tms["tileMatrixSets"][0]["links"][0]["href"])).json()
    assert definition["id"] == "WebMercatorQuad"
    assert definition["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert definition["tileMatrices"][14]["matrixWidth"] == 2**14
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}" in conforms
    collections = client.get("/ogc/collections").json()["collections"]
    assert {c["id"] for c in collections} == {"places", "neighbourhoods", "walks"}
    for collection in collections:
        tile_links = [x for x in collection["links"] if x["rel"].endswith("/tilesets-vector")]
        assert len(tile_links) == 1, collection["id"]
        tilesets = client.get(local(tile_links[0]["href"])).json()["tilesets"]
        assert [t["dataType"] for t in tilesets] == ["vector"]
    paths = client.get("/ogc/api").json()["paths"]
    for cid in ("places", "neighbourhoods", "walks"):
        assert (
            f"/collections/{cid}/tiles/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
            in paths
        )


def test_tileset_item_template_gives_the_tile(client) -> None:
    tileset = client.get(TILES).json()
    assert tileset["dataType"] == "vector" and tileset["layers"][0]["id"] == "places"
    limits = {m["tileMatrix"]: m for m in tileset["tileMatrixSetLimits"]}
    assert limits["14"]["maxTileRow"] == 2**14 - 1 and "23" not in limits
    (item,) = [x for x in tileset["links"] if x["rel"] == "item"]
    assert item["type"] == MVT and item["templated"] is True
    href = item["href"].format(tileMatrix=BAIXA.z, tileRow=BAIXA.y, tileCol=BAIXA.x)
    r = client.get(local(href))
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    titles = {f["properties"].get("title") for f in features(r.content)}
    assert "Arco da Rua Augusta" in titles or len(titles) > 20


def test_tilejson_is_valid_and_its_template_works(client) -> None:
    r = client.get(f"{TILES}/tilejson.json")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    doc = r.json()
    assert doc["tilejson"] == "3.0.0"
    assert isinstance(doc["tiles"], list) and len(doc["tiles"]) == 1
    assert all(p in doc["tiles"][0] for p in ("{z}", "{x}", "{y}"))
    assert 0 <= doc["minzoom"] <= doc["maxzoom"] <= 30
    w, s, e, n = doc["bounds"]
    assert -180 <= w < e <= 180 and -90 <= s < n <= 90
    lon, lat, zoom = doc["center"]
    assert w <= lon <= e and s <= lat <= n and doc["minzoom"] <= zoom <= doc["maxzoom"]
    (layer,) = doc["vector_layers"]
    assert layer["id"] == "places" and layer["fields"]["title"] == "String"
    url = doc["tiles"][0].format(z=BAIXA.z, x=BAIXA.x, y=BAIXA.y)
    assert local(url) == BAIXA_URL
    assert features(client.get(local(url)).content)
    hoods = client.get("/ogc/collections/neighbourhoods/tiles/WebMercatorQuad/tilejson.json")
    assert hoods.json()["vector_layers"][0]["id"] == "neighbourhoods"


def test_tilejson_attribution_is_escaped_html(client, app) -> None:
    app.state.settings.open_data_attribution = '<img src=x onerror="alert(1)">'
    doc = client.get(f"{TILES}/tilejson.json").json()
    assert "<img" not in doc["attribution"] and "&lt;img" in doc["attribution"]


def test_etag_gives_304_until_a_place_changes(client, lisbon_store: PlaceStore) -> None:
    first = client.get(BAIXA_URL)
    etag = first.headers["etag"]
    assert "no-cache" in first.headers["cache-control"]
    again = client.get(BAIXA_URL, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    lisbon_store.add(
        Place(geometry=Point(-9.1366, 38.7106), title="Brand new kiosk", category="memory",
              narratives=[Narrative("Novo", "pt")], status=Status.PUBLISHED)
    )  # fmt: skip
    changed = client.get(BAIXA_URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "Brand new kiosk" in {f["properties"].get("title") for f in features(changed.content)}


def test_gzip_when_accepted_plain_otherwise(client) -> None:
    with client.stream("GET", BAIXA_URL, headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Accept-Encoding"
    plain = client.get(BAIXA_URL, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(raw) == plain.content
    assert len(raw) < len(plain.content)
    # A tile of a few hundred bytes (a walk) goes plain: gzip would make it larger.
    small = client.get(WALKS_BAIXA_URL, headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and 0 < len(small.content) < 512
    assert "content-encoding" not in small.headers and small.headers["vary"] == "Accept-Encoding"
    assert len(gzip.compress(small.content, mtime=0)) >= len(small.content)


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        (f"{TILES}/23/0/0", 404, "tileMatrix"),
        (f"{TILES}/-1/0/0", 404, "tileMatrix"),
        (f"{TILES}/2/4/0", 404, "tileRow"),
        (f"{TILES}/2/0/4", 404, "tileCol"),
        (f"{TILES}/2/0/99999999999999999999", 400, "tileCol"),
        (f"{TILES}/a/0/0", 400, "tileMatrix"),
        (f"{TILES}/2/1.5/0", 400, "tileRow"),
        ("/ogc/collections/places/tiles/WorldCRS84Quad/0/0/0", 404, "tileMatrixSetId"),
        ("/ogc/collections/places/tiles/WorldCRS84Quad", 404, "tileMatrixSetId"),
        ("/ogc/tileMatrixSets/WorldCRS84Quad", 404, "tileMatrixSetId"),
        ("/ogc/collections/streets/tiles", 404, "collectionId"),
        ("/ogc/collections/streets/tiles/WebMercatorQuad/0/0/0", 404, "collectionId"),
        ("/ogc/collections/walks/tiles/WebMercatorQuad/23/0/0", 404, "tileMatrix"),
        ("/ogc/collections/walks/tiles/WebMercatorQuad/2/x/0", 400, "tileRow"),
        ("/ogc/collections/walks/tiles/WebMercatorQuad/0/0/0?f=png", 400, "f"),
        ("/ogc/collections/walks/tiles/WebMercatorQuad?f=xml", 400, "f"),
        ("/ogc/tileMatrixSets?f=html", 400, "f"),
    ],
)
def test_bad_tiles_are_problems_naming_the_parameter(client, path, status, field) -> None:
    r = client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == field


def test_unknown_parameters_are_refused(client) -> None:
    assert client.get(BAIXA_URL, params={"foo": "1"}).status_code == 400
    assert client.get(BAIXA_URL, params={"f": "json"}).status_code == 400
    assert client.get(BAIXA_URL, params={"f": "mvt"}).status_code == 200


def test_open_data_rules_hold_in_tiles(client, open_data_cases: dict[str, str]) -> None:
    found = {f["properties"]["id"]: f for f in features(client.get(BAIXA_URL).content)}
    assert open_data_cases["area"] in found
    for absent in ("hidden", "pending", "no_open_data", "rejected"):
        assert open_data_cases[absent] not in found, absent
    lon, lat = grid_centres(np.array([[-9.13512, 38.71346]]), 250.0)[0]
    generalised = found[open_data_cases["generalised"]]
    assert generalised["properties"]["location_generalised"] is True
    point = generalised["geometry"]["coordinates"]
    assert point == BAIXA.points(np.array([[lon, lat]]))[0].tolist()
    raw = client.get(BAIXA_URL, headers={"Accept-Encoding": "identity"}).content
    for secret in (b"Zebulon", b"zq.pemberly", b"Zeb from the bakery"):
        assert secret not in raw


def test_a_tile_holds_what_the_items_hold_for_its_bbox(client, open_data_cases) -> None:
    """One privacy path: the same places, at the same public points, as OGC items."""
    bbox = ",".join(repr(v) for v in BAIXA.bounds)
    items = client.get("/ogc/collections/places/items", params={"bbox": bbox, "limit": 10000})
    by_id = {f["id"]: f for f in items.json()["features"]}
    tiled = {f["properties"]["id"]: f for f in features(client.get(BAIXA_URL).content)}
    assert tiled.keys() == by_id.keys() and len(tiled) > 50
    for pid, f in tiled.items():
        item = by_id[pid]
        assert f["properties"]["title"] == item["properties"]["title"]
        assert f["properties"].get("neighbourhood") == item["properties"]["neighbourhood"]
        assert f["properties"]["location_generalised"] == item["properties"]["location_generalised"]
        if item["geometry"]["type"] == "Point":
            want = BAIXA.points(np.array([item["geometry"]["coordinates"]]))[0]
            assert np.abs(np.array(f["geometry"]["coordinates"]) - want).max() <= 1, pid


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")
@pytest.mark.parametrize(("url", "layer"), [(BAIXA_URL, "places"), (WALKS_BAIXA_URL, "walks")])
def test_gdal_reads_a_tile(client, tmp_path: Path, url: str, layer: str) -> None:
    formats = subprocess.run(["ogrinfo", "--formats"], capture_output=True, text=True).stdout
    if "MVT" not in formats:
        pytest.skip("GDAL has no MVT driver here")
    # GDAL georeferences a tile from a .../{z}/{x}/{y}.pbf path.
    path = tmp_path / str(BAIXA.z) / str(BAIXA.x) / f"{BAIXA.y}.pbf"
    path.parent.mkdir(parents=True)
    path.write_bytes(client.get(url, headers={"Accept-Encoding": "identity"}).content)
    out = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-so", f"MVT:{path}"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert f"Layer name: {layer}" in out.stdout
    count = int(out.stdout.split("Feature Count:")[1].split()[0])
    assert count == len(features(path.read_bytes(), layer)) > 0
    assert "title: String" in out.stdout
    extent = out.stdout.split("Extent:")[1].splitlines()[0]
    x0, y0, x1, y1 = (float(v) for v in re.findall(r"-?\d+\.\d+", extent))
    minx, miny, maxx, maxy = BAIXA.xy_bounds  # GDAL places the tile in EPSG:3857
    assert minx - 1 <= x0 <= x1 <= maxx + 1 and miny - 1 <= y0 <= y1 <= maxy + 1


def public_walks(client) -> dict[str, dict]:
    """The walks' OGC items (their public routes and fields), by id."""
    items = client.get("/ogc/collections/walks/items", params={"limit": 1000}).json()
    return {f["id"]: f for f in items["features"]}


def walks_in(client, url: str = WALKS_BAIXA_URL) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in features(client.get(url).content, "walks")}


def test_walks_tileset_and_tilejson_lead_to_tiles_of_the_public_routes(client) -> None:
    tileset = client.get(WALK_TILES).json()
    (layer,) = tileset["layers"]
    assert layer["id"] == "walks"
    assert layer["propertiesSchema"]["properties"]["length_m"] == {"type": "integer"}
    extent = box(*tileset["boundingBox"]["lowerLeft"], *tileset["boundingBox"]["upperRight"])
    routes = [shape(f["geometry"]) for f in public_walks(client).values()]
    assert routes and all(extent.contains(r) for r in routes)
    doc = client.get(f"{WALK_TILES}/tilejson.json").json()
    assert doc["vector_layers"][0]["id"] == "walks"
    assert doc["vector_layers"][0]["fields"]["stops"] == "Number"
    (item,) = [x for x in tileset["links"] if x["rel"] == "item"]
    href = item["href"].format(tileMatrix=BAIXA.z, tileRow=BAIXA.y, tileCol=BAIXA.x)
    url = doc["tiles"][0].format(z=BAIXA.z, x=BAIXA.x, y=BAIXA.y)
    assert local(href) == local(url) == WALKS_BAIXA_URL
    assert walks_in(client)


def test_a_walks_tile_holds_the_routes_and_fields_of_the_walks_items(client) -> None:
    """The walks meeting the tile, each at the pixels of its OGC item's route."""
    items = public_walks(client)
    meeting = {
        wid for wid, f in items.items() if shape(f["geometry"]).intersects(box(*BAIXA.bounds))
    }
    tiled = walks_in(client)
    assert tiled.keys() == meeting and len(items) > len(meeting) > 0
    for wid, f in tiled.items():
        item = items[wid]["properties"]
        for name in ("title", "title_language", "stops", "length_m", "walking_minutes",
                     "languages", "editorial", "licence"):  # fmt: skip
            assert f["properties"][name] == item[name], name
        assert f["geometry"]["type"] == "LineString"
        want = BAIXA.points(np.array(items[wid]["geometry"]["coordinates"]))
        got = np.array(f["geometry"]["coordinates"])
        assert got.shape == want.shape and np.abs(got - want).max() <= 1, wid


def test_walks_tiles_show_only_published_open_data_walks_and_public_stops(
    client, lisbon_store: PlaceStore
) -> None:
    (wid,) = walks_in(client)
    walk = lisbon_store.get_walk(wid)
    first = client.get(WALKS_BAIXA_URL)
    etag = first.headers["etag"]
    assert "no-cache" in first.headers["cache-control"]
    assert client.get(WALKS_BAIXA_URL, headers={"If-None-Match": etag}).status_code == 304
    # A stop that stops being public: the route no longer passes by it.
    gone = lisbon_store.get(walk.stops[2].place_id)
    lisbon_store.update(replace(gone, status=Status.REJECTED))
    changed = client.get(WALKS_BAIXA_URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    (f,) = features(changed.content, "walks")
    assert f["properties"]["stops"] == len(walk.stops) - 1
    at = BAIXA.points(np.array([[gone.geometry.x, gone.geometry.y]]))[0].tolist()
    assert at not in f["geometry"]["coordinates"]
    assert len(f["geometry"]["coordinates"]) == len(walk.stops) - 1
    # Without consent to open data, then unpublished: gone from the tile.
    walk = lisbon_store.update_walk(replace(walk, consent=Consent(publish=True, open_data=False)))
    assert walks_in(client) == {}
    lisbon_store.update_walk(replace(walk, consent=Consent(), status=Status.PENDING))
    assert walks_in(client) == {}
    raw = client.get(WALKS_BAIXA_URL, headers={"Accept-Encoding": "identity"}).content
    assert wid.encode() not in raw


def test_past_the_cap_a_walks_tile_holds_where_walks_start_as_clusters(client, app) -> None:
    items = public_walks(client)
    lisbon = Tile.checked(8, 98, 121)  # both demo walks, and one cell of the z8 cluster grid
    url = f"{WALK_TILES}/{lisbon.z}/{lisbon.y}/{lisbon.x}"
    assert walks_in(client, url).keys() == items.keys() and len(items) == 2
    app.state.settings.tile_max_features = 1
    app.state.settings.privacy_k = 1
    (cluster,) = features(client.get(url).content, "walks")
    assert cluster["properties"] == {"cluster": True, "count": 2, "label": "2"}
    starts = np.array([f["geometry"]["coordinates"][0] for f in items.values()])
    want = lisbon.points(starts.mean(axis=0, keepdims=True))[0]
    assert np.abs(np.array(cluster["geometry"]["coordinates"]) - want).max() <= 1
