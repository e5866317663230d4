"""The background of the maps in a real browser (Debian's Chromium), every host but
127.0.0.1 blocked: a local raster basemap's tiles come from /tiles/basemap and are drawn,
a vector basemap is painted on canvases, and with no basemap and no tiles at all the
maps draw the orientation layer (outlines, names) instead of a blank page."""

from __future__ import annotations

import pytest

from geodata.basemap.installed import install_basemap
from tests.geodata.basemap_archives import write_mbtiles, write_pmtiles

pytestmark = pytest.mark.browser
TILE_LOADED = "img.leaflet-tile-loaded[src*='/tiles/basemap/']"


def assert_clean(page) -> None:
    assert page.blocked_requests == []
    assert page.problems == []


def loaded_basemap_tiles(page) -> list[dict]:
    return page.eval_on_selector_all(
        TILE_LOADED,
        "els => els.map(e => ({src: e.getAttribute('src'), width: e.naturalWidth}))",
    )


@pytest.fixture
def raster(settings, tmp_path):
    return install_basemap(write_mbtiles(tmp_path / "baixa.mbtiles"), settings.basemap_path)


@pytest.mark.parametrize("path", ["/maps/city", "/maps/neighbourhoods/6", "/contribute"])
def test_the_maps_draw_the_local_raster_basemap(live_server, watched, raster, path):
    watched.goto(live_server.url + path)
    watched.wait_for_selector(TILE_LOADED, state="attached", timeout=15_000)
    tiles = loaded_basemap_tiles(watched)
    assert tiles and all(t["width"] == 256 for t in tiles)
    assert all(
        t["src"].startswith("/tiles/basemap/") and f"v={raster.version}" in t["src"] for t in tiles
    )
    assert watched.get_attribute(".leaflet-container", "data-basemap") == "raster"
    assert "© Test tiles" in watched.inner_text(".leaflet-control-attribution")
    # Around the basemap's small area, the orientation layer still shows the city.
    watched.wait_for_selector(".leaflet-container[data-orientation='24']", state="attached")
    assert_clean(watched)


def test_a_place_page_draws_the_basemap_under_its_small_map(
    live_server, watched, raster, lisbon_store
):
    place = next(
        p for p in lisbon_store.list()
        if p.status == "published" and p.sensitivity == "public"
        and -9.145 < p.geometry.x < -9.125 and 38.705 < p.geometry.y < 38.718
    )  # fmt: skip
    watched.goto(f"{live_server.url}/places/{place.id}")
    watched.wait_for_selector(TILE_LOADED, state="attached", timeout=15_000)
    assert loaded_basemap_tiles(watched)
    assert_clean(watched)


def test_a_vector_basemap_is_painted_on_canvases(live_server, watched, settings, tmp_path):
    install_basemap(write_pmtiles(tmp_path / "v.pmtiles", vector=True), settings.basemap_path)
    watched.goto(live_server.url + "/maps/neighbourhoods/6")
    watched.wait_for_selector(
        ".leaflet-container[data-vector-tiles]", state="attached", timeout=15_000
    )
    assert watched.get_attribute(".leaflet-container", "data-basemap") == "vector"
    # The test tiles hold water over their west half: blue pixels on a drawn canvas.
    blue = watched.evaluate(
        """() => Array.from(document.querySelectorAll('.leaflet-tile-container canvas'))
              .some(c => {
                const d = c.getContext('2d').getImageData(4, c.height / 4, 1, 1).data;
                return d[3] === 255 && d[2] > 200 && d[0] < 190;
              })"""
    )
    assert blue
    assert_clean(watched)


@pytest.mark.parametrize("path", ["/maps/city", "/maps/neighbourhoods/6", "/contribute"])
def test_without_any_tiles_the_maps_draw_the_orientation_layer(live_server, watched, path):
    watched.goto(live_server.url + path)
    watched.wait_for_selector(
        ".leaflet-container[data-orientation='24']", state="attached", timeout=15_000
    )
    assert watched.locator(".leaflet-atlas-orientation-pane path").count() >= 25  # 24 and the edge
    names = watched.locator(".atlas-orientation-label").all_text_contents()
    assert "Santa Maria Maior" in names and len(names) == 24
    background = watched.evaluate(
        "getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor"
    )
    assert background == "rgb(242, 239, 233)"  # land, not Leaflet's blank grey
    assert watched.locator("img.leaflet-tile").count() == 0
    assert_clean(watched)


def test_a_place_page_without_tiles_shows_the_neighbourhood_around_it(
    live_server, watched, lisbon_store
):
    place = next(
        p for p in lisbon_store.list() if p.status == "published" and p.sensitivity == "public"
    )
    watched.goto(f"{live_server.url}/places/{place.id}")
    watched.wait_for_selector("#place-map[data-orientation='24']", state="attached", timeout=15_000)
    assert watched.locator("#place-map .leaflet-atlas-orientation-pane path").count() >= 25
    assert_clean(watched)
