"""The local basemap over HTTP: its tiles (ETag, cache, gzip for vector tiles, 404 outside
its zooms and area) and TileJSON; every map of the service drawing it, and drawing the
orientation layer (outlines, names, water) when there is none."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import mapbox_vector_tile
import pytest
from pmtiles.tile import Compression

from geodata.account_records import Role
from geodata.basemap.coverage import tile_range
from geodata.basemap.installed import install_basemap
from geodata.models import Workshop, utcnow
from tests.geodata.basemap_archives import BAIXA, png_tile, write_mbtiles, write_pmtiles
from tests.web.staff_helpers import make_staff, sign_in

Z = 14
X, Y = next(tile_range(BAIXA, Z).tiles())


@pytest.fixture
def raster(settings, tmp_path):
    return install_basemap(write_mbtiles(tmp_path / "lisbon.mbtiles"), settings.basemap_path)


@pytest.fixture
def vector(settings, tmp_path):
    source = write_pmtiles(tmp_path / "lisbon.pmtiles", vector=True)
    return install_basemap(source, settings.basemap_path)


def test_a_raster_tile_is_served_with_its_etag_and_kept_a_week_under_its_version(client, raster):
    url = f"/tiles/basemap/{Z}/{X}/{Y}.png"
    r = client.get(url, params={"v": raster.version})
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png" and r.content == png_tile(Z)
    assert r.headers["cache-control"] == "public, max-age=604800"
    again = client.get(
        url, params={"v": raster.version}, headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert client.get(url).headers["cache-control"] == "public, max-age=300"  # no version


@pytest.mark.parametrize(
    "path",
    [
        f"/tiles/basemap/{Z}/{X}/{Y}.jpg",  # not its format
        f"/tiles/basemap/12/{X >> 2}/{Y >> 2}.png",  # above its first zoom
        f"/tiles/basemap/16/{X * 4}/{Y * 4}.png",  # past its last zoom
        f"/tiles/basemap/{Z}/0/0.png",  # outside its area
        f"/tiles/basemap/{Z}/{X}/{2**Z + 5}.png",  # outside the grid
        f"/tiles/basemap/{Z}/{X}/{Y}",  # no extension
        "/tiles/basemap/99999999/1/1.png",
    ],
)
def test_outside_its_zooms_area_or_format_a_tile_is_a_404(client, raster, path):
    r = client.get(path)
    assert r.status_code == 404, path
    assert r.headers["content-type"] == "application/problem+json"
    assert "basemap has no tile" in r.json()["detail"]


def test_a_tile_the_area_lacks_is_a_404(client, settings, tmp_path):
    source = write_mbtiles(tmp_path / "holes.mbtiles")
    import sqlite3

    con = sqlite3.connect(source)
    con.execute("DELETE FROM tiles WHERE zoom_level = ? AND tile_column = ?", (Z, X))
    con.commit()
    con.close()
    install_basemap(source, settings.basemap_path)
    assert client.get(f"/tiles/basemap/{Z}/{X}/{Y}.png").status_code == 404


def test_a_bad_tile_address_is_a_4xx_never_a_500(client, raster):
    for path in (
        "/tiles/basemap/x/1/1.png",
        "/tiles/basemap/-1/1/1.png",
        "/tiles/basemap/1/1/1.png.png",
        f"/tiles/basemap/{Z}/{X}/..%2F..%2Fapp.db",
    ):
        assert 400 <= client.get(path).status_code < 500, path


def test_without_a_basemap_tiles_and_tilejson_are_404_in_the_readers_language(client):
    r = client.get(f"/tiles/basemap/{Z}/{X}/{Y}.png", headers={"Accept-Language": "pt"})
    assert (
        r.status_code == 404 and r.json()["detail"] == "Este atlas não tem um mapa de base próprio."
    )
    assert client.get("/tiles/basemap.json").status_code == 404


def test_vector_tiles_go_out_gzipped_to_clients_that_take_it_and_plain_to_others(client, vector):
    url = f"/tiles/basemap/{Z}/{X}/{Y}.pbf"
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    # httpx undoes the encoding, as a browser does: the tile itself is a vector tile.
    layers = mapbox_vector_tile.decode(zipped.content)
    assert set(layers) == {"water", "transportation", "place"}
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert mapbox_vector_tile.decode(plain.content) == layers
    assert plain.headers["etag"] != zipped.headers["etag"]  # two representations


def test_uncompressed_vector_tiles_are_gzipped_for_clients_that_take_it(client, settings, tmp_path):
    source = write_pmtiles(tmp_path / "plain.pmtiles", vector=True, compression=Compression.NONE)
    install_basemap(source, settings.basemap_path)
    r = client.get(f"/tiles/basemap/{Z}/{X}/{Y}.pbf", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "gzip"
    assert "place" in mapbox_vector_tile.decode(r.content)


def test_tilejson_describes_the_basemap_for_other_clients(client, vector):
    doc = client.get("/tiles/basemap.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [
        f"http://127.0.0.1/tiles/basemap/{{z}}/{{x}}/{{y}}.pbf?v={vector.version}"
    ]
    assert (doc["minzoom"], doc["maxzoom"], doc["format"]) == (13, 15, "pbf")
    assert doc["bounds"] == pytest.approx(list(BAIXA))
    assert doc["attribution"] == "© Test tiles"
    assert "vector_layers" in doc


def _template(page: str) -> str | None:
    found = re.search(r"/tiles/basemap/\{z\}/\{x\}/\{y\}\.(\w+)\?v=(\w+)", unquote(page))
    return found and f"{found.group(1)}:{found.group(2)}"


@pytest.fixture
def pages(client, lisbon_store):
    """Every page with a map, as (name, URL) (a staff page once signed in)."""
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop(code="ALF1", title="Alfama", starts_at=now - timedelta(hours=1),
                 ends_at=now + timedelta(hours=2), neighbourhood_id=6)
    )  # fmt: skip
    receipt = client.post(
        "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1335, 38.7115]},
            "properties": {
                "title": "Tasca",
                "narratives": [{"text": "Fado vadio.", "language": "pt"}],
                "category": "memory",
                "consent": {"publish": True},
            },
        },
    ).json()
    assert "edit_url" in receipt, receipt
    place = next(p for p in lisbon_store.list() if p.status == "published")
    walk = lisbon_store.walks("published")[0]
    staff = make_staff(lisbon_store)
    sign_in(client, staff[Role.FACILITATOR].name)
    return {
        "city": "/maps/city",
        "neighbourhood": "/maps/neighbourhoods/6",
        "workshop projection": "/workshops/ALF1/live",
        "place page": f"/places/{place.id}",
        "walk": f"/walks/{walk.id}",
        "contribute": "/contribute",
        "edit": receipt["edit_url"].removeprefix("http://127.0.0.1"),
        "moderation": "/moderation",
        "moderation place": f"/moderation/places/{receipt['id']}",
    }


def test_every_map_draws_the_basemap_once_it_is_imported(client, settings, tmp_path, pages):
    for name, url in pages.items():
        page = client.get(url)
        assert page.status_code == 200, name
        assert _template(page.text) is None, name
        assert "/api/map/orientation" in page.text, name  # the orientation layer instead
    installed = install_basemap(write_mbtiles(tmp_path / "b.mbtiles"), settings.basemap_path)
    for name, url in pages.items():
        page = client.get(url).text
        assert _template(page) == f"png:{installed.version}", name
        assert "atlas-background.js" in page, name
    # Replaced while the service runs: the next page draws the new one.
    newer = install_basemap(
        write_pmtiles(tmp_path / "v.pmtiles", vector=True), settings.basemap_path
    )
    assert _template(client.get(pages["place page"]).text) == f"pbf:{newer.version}"
    assert client.get(f"/tiles/basemap/{Z}/{X}/{Y}.png").status_code == 404
    assert client.get(f"/tiles/basemap/{Z}/{X}/{Y}.pbf").status_code == 200


def test_the_orientation_layer_holds_every_neighbourhood_its_name_and_the_edge(client):
    r = client.get("/api/map/orientation")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    kinds = [f["properties"]["kind"] for f in r.json()["features"]]
    assert kinds.count("neighbourhood") == 24 and kinds.count("label") == 24
    assert kinds.count("edge") == 1 and "water" not in kinds
    names = {f["properties"].get("name") for f in r.json()["features"]}
    assert {"Santa Maria Maior", "Belém", "Alfama"} & names == {"Santa Maria Maior", "Belém"}
    same = client.get("/api/map/orientation", headers={"If-None-Match": r.headers["etag"]})
    assert same.status_code == 304


def test_a_water_file_adds_the_river_to_the_orientation_layer(client_with_water):
    data = client_with_water.get("/api/map/orientation").json()
    water = [f for f in data["features"] if f["properties"]["kind"] == "water"]
    assert len(water) == 1 and water[0]["geometry"]["type"] == "Polygon"
    assert data["features"][0]["properties"]["kind"] == "water"  # drawn first, underneath
    assert data["attribution"] == "Rio Tejo: test survey"


@pytest.fixture
def client_with_water(tmp_path, lisbon_store):
    from fastapi.testclient import TestClient

    from web.app import create_app
    from web.settings import Settings

    river = tmp_path / "tagus.geojson"
    river.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
        ' "geometry": {"type": "Polygon", "coordinates": [[[-9.25, 38.62], [-9.05, 38.62],'
        ' [-9.05, 38.70], [-9.25, 38.70], [-9.25, 38.62]]]}}, {"type": "Feature",'
        ' "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[10, 50],'
        " [11, 50], [11, 51], [10, 51], [10, 50]]]}}]}"
    )  # the second one, in Germany, is cut away: far from every neighbourhood
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
        tiles="none",
        water_file=str(river),
        water_attribution="Rio Tejo: test survey",
        _env_file=None,
    )  # type: ignore[call-arg]
    with TestClient(create_app(settings, store=lisbon_store), base_url="http://127.0.0.1") as c:
        yield c


def test_an_unreadable_water_file_leaves_the_outlines(tmp_path, lisbon_store, caplog):
    from fastapi.testclient import TestClient

    from web.app import create_app
    from web.settings import Settings

    bad = tmp_path / "water.geojson"
    bad.write_text("not a vector file")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'w.db'}", tiles="none", water_file=str(bad),
        _env_file=None,
    )  # type: ignore[call-arg]  # fmt: skip
    with TestClient(create_app(settings, store=lisbon_store), base_url="http://127.0.0.1") as c:
        r = c.get("/api/map/orientation")
    assert r.status_code == 200
    assert "label" in {f["properties"]["kind"] for f in r.json()["features"]}
    assert "HERITAGE_WATER_FILE left out" in caplog.text


def test_a_walk_saved_offline_keeps_the_basemaps_own_tiles(client, raster, lisbon_store):
    walk = lisbon_store.walks("published")[0]
    listed = client.get(f"/walks/{walk.id}/offline.json").json()
    assert listed["tiles"], "the walk's area has basemap tiles at zooms 13 to 15"
    assert all(
        t.startswith("/tiles/basemap/") and t.endswith(f"?v={raster.version}")
        for t in listed["tiles"]
    )
    assert {int(t.split("/")[3]) for t in listed["tiles"]} <= {13, 14, 15}
    assert "/api/map/orientation" in listed["urls"]
    for tile in listed["tiles"][:3]:
        assert client.get(tile).status_code in (200, 404)
