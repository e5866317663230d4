"""The walk pages and files: /walks, /walks/{id} without JavaScript, GPX read back by
GDAL with its waypoints in order, GeoJSON, and 404 for every walk that is not public."""

from __future__ import annotations

import re
from dataclasses import replace

import pyogrio
import pytest
import shapely
from pyproj import Transformer

from geodata.models import Status
from tests.web.test_gdal_clients import gdal


@pytest.fixture
def demo_walks(lisbon_store):
    walks = lisbon_store.walks("published")
    assert len(walks) == 2
    return {w.titles[0].text.split(":")[0]: w for w in walks}


def test_the_demo_walks_are_built_only_from_real_places_and_their_sourced_stories(
    lisbon_store, demo_walks
):
    for walk in demo_walks.values():
        assert walk.editorial  # the title and introduction are the atlas's, and say so
        for stop in walk.stops:
            place = lisbon_store.get(stop.place_id)
            assert place.status == Status.PUBLISHED
            assert sorted(stop.chapters, key=repr) == sorted(place.narratives, key=repr)
            assert all(c.source and c.licence for c in stop.chapters)
    assert len(demo_walks["Belém"].stops) >= 5


def test_the_list_shows_each_walk_with_its_length_neighbourhoods_and_languages(client, demo_walks):
    page = client.get("/walks", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    for walk in demo_walks.values():
        assert f'href="/walks/{walk.id}"' in page.text
    assert "Belém" in page.text and "km" in page.text and "Portuguese" in page.text


def test_a_walk_page_without_javascript_is_an_ordered_list_beside_a_static_map(
    client, lisbon_store, demo_walks
):
    walk = demo_walks["Belém"]
    page = client.get(f"/walks/{walk.id}")
    assert page.status_code == 200
    assert '<ol class="walk-stops"' in page.text and "<svg" in page.text
    numbers = re.findall(r'<li class="walk-stop" id="stop-(\d+)"', page.text)
    assert numbers == [str(i) for i in range(1, len(walk.stops) + 1)]
    links = re.findall(r'<a href="/places/([^"]+)" dir="auto">', page.text)
    assert links == [s.place_id for s in walk.stops]
    assert "the atlas&#39;s own factual description" in page.text
    assert "ODbL 1.0" in page.text  # each chapter carries its story's licence


@pytest.mark.parametrize("language", ["zh-Hans", "bn", "uk"])
def test_every_walk_page_answers_in_every_language(client, demo_walks, language):
    walk = demo_walks["Belém"]
    for path in (f"/walks/{walk.id}", f"/walks/{walk.id}/print"):
        page = client.get(path, headers={"Accept-Language": language})
        assert page.status_code == 200, (path, page.text[:300])
        assert f'<html lang="{language}"' in page.text
        assert 'name="lang"' in page.text  # the language picker, the leaflet's too


def test_a_walk_page_speaks_arabic_right_to_left(client, demo_walks):
    page = client.get(f"/walks/{demo_walks['Belém'].id}", headers={"Accept-Language": "ar"})
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "المحطة التالية" in page.text  # "Next stop"


@pytest.mark.parametrize("language", ["zh-Hans", "uk", "bn", "ne"])
def test_every_walk_page_answers_in_every_language_with_its_own_numbers(
    client, demo_walks, language
):
    walk = demo_walks["Belém"]
    headers = {"Accept-Language": language}
    for url in ("/walks", f"/walks/{walk.id}", f"/walks/{walk.id}/print"):
        page = client.get(url, headers=headers)
        assert page.status_code == 200, (url, page.status_code)  # zh-Hans once failed: a 500
        assert f'<html lang="{language}"' in page.text and 'name="lang"' in page.text
    story = client.get(f"/walks/{walk.id}", headers=headers).text
    assert 'src="/static/leaflet-words.js"' in story  # Leaflet's zoom buttons in the language


def test_the_gpx_opens_in_gdal_with_its_waypoints_in_walking_order(
    client, lisbon_store, demo_walks, tmp_path
):
    walk = demo_walks["Santa Maria Maior"]
    answer = client.get(f"/walks/{walk.id}.gpx")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/gpx+xml")
    path = tmp_path / "walk.gpx"
    path.write_bytes(answer.content)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"waypoints", "tracks"} <= layers
    points = pyogrio.read_dataframe(path, layer="waypoints")
    titles = [lisbon_store.get(s.place_id).title for s in walk.stops]
    assert list(points["name"]) == [f"{i}. {t}" for i, t in enumerate(titles, 1)]
    track = pyogrio.read_dataframe(path, layer="tracks")
    assert len(track) == 1 and track.geometry[0].geom_type == "MultiLineString"


def test_the_geojson_holds_the_route_then_the_numbered_stops(client, demo_walks):
    walk = demo_walks["Belém"]
    answer = client.get(f"/walks/{walk.id}.geojson")
    assert answer.headers["content-type"].startswith("application/geo+json")
    features = answer.json()["features"]
    assert features[0]["geometry"]["type"] == "LineString"
    assert features[0]["properties"]["length_m"] > 1000
    assert [f["properties"]["number"] for f in features[1:]] == list(range(1, len(walk.stops) + 1))
    assert '"contributor"' not in answer.text and '"contact"' not in answer.text


def test_a_walk_that_is_not_public_is_a_404_everywhere(client, lisbon_store, demo_walks):
    walk = demo_walks["Belém"]
    lisbon_store.update_walk(replace(walk, status=Status.PENDING))
    for path in (f"/walks/{walk.id}", f"/walks/{walk.id}.gpx", f"/walks/{walk.id}.geojson",
                 "/walks/wk_unknown.gpx", "/walks/not-an-id.geojson"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    assert f"/walks/{walk.id}" not in client.get("/walks").text


def test_a_stop_that_stops_being_public_leaves_the_page_and_the_files(
    client, lisbon_store, demo_walks
):
    walk = demo_walks["Belém"]
    gone = lisbon_store.get(walk.stops[1].place_id)
    lisbon_store.update(replace(gone, status=Status.REJECTED))
    page = client.get(f"/walks/{walk.id}").text
    assert gone.id not in page
    features = client.get(f"/walks/{walk.id}.geojson").json()["features"]
    assert gone.id not in str(features)
    at = [gone.geometry.x, gone.geometry.y]
    assert at not in features[0]["geometry"]["coordinates"]  # the route skips it too


def test_walks_are_a_collection_of_the_ogc_api_that_gdal_reads(client, live_server, demo_walks):
    listed = client.get("/ogc/collections?f=json").json()["collections"]
    assert "walks" in [c["id"] for c in listed]
    items = client.get("/ogc/collections/walks/items?f=json").json()
    assert {f["id"] for f in items["features"]} == {w.id for w in demo_walks.values()}
    assert items["numberMatched"] == 2
    belem = demo_walks["Belém"]
    one = client.get(f"/ogc/collections/walks/items/{belem.id}?f=json").json()
    assert one["properties"]["stops"] == len(belem.stops)
    assert one["properties"]["stop_place_ids"].split() == [s.place_id for s in belem.stops]
    assert client.get("/ogc/collections/walks/items/wk_nope?f=json").status_code == 404
    assert client.get("/ogc/collections/walks/schema").status_code == 200
    # GDAL's OGC API driver, in its own process (the server runs in this one).
    out = gdal("ogrinfo", "-ro", "-al", "-geom=SUMMARY", f"OAPIF:{live_server.url}/ogc", "walks")
    assert "Feature Count: 2" in out and out.count("LINESTRING") == 2
    for walk in demo_walks.values():
        assert f"title (String) = {walk.titles[0].text}" in out


def test_the_walks_collection_takes_bbox_and_datetime_as_every_ogc_items_resource_must(
    client, live_server, demo_walks
):
    belem = demo_walks["Belém"]
    west, south, east, north = shapely.LineString(
        [
            (s.geometry.x, s.geometry.y)
            for s in map(client.app.state.store.get, (x.place_id for x in belem.stops))
        ]
    ).bounds
    around = f"{west},{south},{east},{north}"
    items = client.get(f"/ogc/collections/walks/items?bbox={around}").json()
    assert [f["id"] for f in items["features"]] == [belem.id] and items["numberMatched"] == 1
    far = client.get("/ogc/collections/walks/items?bbox=-8.7,41.1,-8.6,41.2").json()  # Porto
    assert far["features"] == [] and far["numberMatched"] == 0
    tm06 = "http://www.opengis.net/def/crs/EPSG/0/3763"
    x0, y0 = Transformer.from_crs(4326, 3763, always_xy=True).transform(west, south)
    x1, y1 = Transformer.from_crs(4326, 3763, always_xy=True).transform(east, north)
    projected = client.get(
        "/ogc/collections/walks/items", params={"bbox": f"{x0},{y0},{x1},{y1}", "bbox-crs": tm06}
    ).json()
    assert [f["id"] for f in projected["features"]] == [belem.id]
    before = client.get("/ogc/collections/walks/items?datetime=../2000-01-01T00:00:00Z").json()
    since = client.get("/ogc/collections/walks/items?datetime=2000-01-01T00:00:00Z/..").json()
    assert before["numberMatched"] == 0 and since["numberMatched"] == 2
    assert client.get("/ogc/collections/walks/items?bbox=1,2").status_code == 400
    assert client.get("/ogc/collections/walks/items?datetime=soon").status_code == 400
    # GDAL's spatial filter reaches the service as a bbox.
    out = gdal("ogrinfo", "-ro", "-al", "-so", "-spat", *map(str, (west, south, east, north)),
               f"OAPIF:{live_server.url}/ogc", "walks")  # fmt: skip
    assert "Feature Count: 1" in out


def test_the_admins_backup_holds_every_walk_with_its_proposers_details(client, lisbon_store):
    from geodata.account_records import Role
    from tests.web.staff_helpers import make_staff
    from tests.web.test_walks_api import body, public_ids

    staff = make_staff(lisbon_store)
    proposed = client.post("/api/walks", json=body(public_ids(lisbon_store, 2))).json()["id"]
    backup = client.get("/api/admin/backup", headers=staff[Role.ADMIN].headers).json()
    walks = {w["id"]: w for w in backup["walks"]}
    assert len(walks) == lisbon_store.count_walks() == 3
    assert walks[proposed]["status"] == "pending"
    assert walks[proposed]["contributor"]["contact"] == "rui@example.org"


def test_the_geopackage_download_has_a_walks_layer(client, demo_walks, tmp_path):
    answer = client.get("/api/export/places.gpkg")
    assert answer.status_code == 200
    path = tmp_path / "atlas.gpkg"
    path.write_bytes(answer.content)
    layers = dict(pyogrio.list_layers(path))
    assert "places" in layers and layers["walks"] == "LineString"
    walks = pyogrio.read_dataframe(path, layer="walks")
    assert set(walks["walk_id"]) == {w.id for w in demo_walks.values()}
    belem = walks[walks["walk_id"] == demo_walks["Belém"].id].iloc[0]
    assert belem["stop_place_ids"].split() == [s.place_id for s in demo_walks["Belém"].stops]
    assert belem["length_m"] > 1000


def test_the_print_view_is_an_a4_leaflet_with_a_qr_code_per_stop(client, demo_walks):
    import segno

    walk = demo_walks["Belém"]
    page = client.get(f"/walks/{walk.id}/print?lang=ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert page.text.count('class="qr"') == len(walk.stops)
    assert page.text.count("<svg") == len(walk.stops) + 1  # the overview map and the codes
    for stop in walk.stops:  # each code is its place page's address
        code = segno.make(f"http://127.0.0.1/places/{stop.place_id}", error="m")
        assert code.svg_inline(scale=3, omitsize=True) in page.text
    assert "size: A4" in client.get("/static/walk-print.css").text
    assert client.get("/walks/wk_nope/print").status_code == 404


def test_the_offline_list_names_the_page_its_stops_and_a_bounded_set_of_tiles(
    client, lisbon_store, demo_walks
):
    from geodata.walk_views import public_walk, shown_places
    from web.routes.walk_offline import MAX_TILES, tile_urls

    walk = demo_walks["Belém"]
    listed = client.get(f"/walks/{walk.id}/offline.json").json()
    assert listed["cache"] == f"walk-{walk.id}" and listed["tiles"] == []  # no tile server
    assert {f"/places/{s.place_id}" for s in walk.stops} <= set(listed["urls"])
    assert client.get("/walks/wk_nope/offline.json").status_code == 404
    view = public_walk(walk, shown_places(lisbon_store, [s.place_id for s in walk.stops]))
    tiles = tile_urls(view, "https://tile.example.org/{z}/{x}/{y}.png")
    assert 0 < len(tiles) <= MAX_TILES and len(set(tiles)) == len(tiles)
    assert any("/13/" in t for t in tiles) and any("/16/" in t for t in tiles)
    sw = client.get("/walks/sw.js")
    assert sw.headers["service-worker-allowed"] == "/" and "caches" in sw.text
