"""Every script, style, font and icon of a map comes from an installed package, never a CDN."""

from __future__ import annotations

import json
import re

import folium
import pytest
from folium.plugins import Draw, MarkerCluster
from shapely.geometry import box

from geodata.models import Neighbourhood
from mapping.assets import (
    CLUSTER_ASSETS,
    PAGE_ASSETS,
    MissingAsset,
    asset_file,
    inline_assets,
    localise,
    use_local_assets,
    vendor_dir,
)
from mapping.city import city_map
from mapping.neighbourhood import neighbourhood_map
from mapping.style import category_styles

HOOD = Neighbourhood(1, "Alfama", box(-9.14, 38.70, -9.12, 38.72))
EXTERNAL = re.compile(r'(?:src|href)="(?:https?:)?//')


def test_every_asset_a_page_uses_is_an_installed_file():
    for asset in PAGE_ASSETS + CLUSTER_ASSETS:
        assert asset.file().stat().st_size > 0
        assert asset.url().startswith("/static/")


def test_map_pages_link_only_local_files(vocabulary, options):
    for m in (
        city_map([HOOD], {1: 4}, vocabulary, options, lambda i: f"/n/{i}"),
        neighbourhood_map(HOOD, 4, vocabulary, options),
    ):
        page = m.get_root().render()
        assert not EXTERNAL.search(page)
        assert "bootstrap" not in page and "awesome-markers" not in page
        assert 'src="/static/vendor/leaflet/leaflet.js"' in page
        assert 'href="/static/vendor/font-awesome/css/solid.min.css"' in page


def test_localise_points_folium_plugins_at_local_copies():
    m = folium.Map(tiles=None)
    use_local_assets(m)
    MarkerCluster().add_to(m)
    used = localise(m)
    assert {a.package for a in used} == {"leaflet-markercluster"}
    assert not EXTERNAL.search(m.get_root().render())


def test_localise_refuses_a_library_we_do_not_carry():
    m = folium.Map(tiles=None)
    Draw().add_to(m)
    with pytest.raises(MissingAsset, match="leaflet_draw"):
        localise(m)


def test_folium_defaults_are_not_changed_for_other_maps():
    use_local_assets(folium.Map(tiles=None))
    assert any("cdn" in url for _, url in folium.Map(tiles=None).default_js)


@pytest.mark.parametrize(
    "path", ["../leaflet/leaflet.js", "/etc/passwd", "", "images/../../x", "images", "nope.js"]
)
def test_asset_file_refuses_anything_outside_a_package(path):
    with pytest.raises(MissingAsset):
        asset_file("leaflet", path)


def test_inline_assets_leaves_no_link_to_the_server(vocabulary, options):
    m = neighbourhood_map(HOOD, 4, vocabulary, options)
    use_local_assets(m, PAGE_ASSETS + CLUSTER_ASSETS)
    page = inline_assets(m.get_root().render())
    assert "/static/" not in page
    assert "data:font/woff2;base64," in page  # Font Awesome's solid font, embedded
    assert "fa-solid-900.ttf" not in page  # the unused fallback is left out
    assert "L.markerClusterGroup" in page or "MarkerClusterGroup" in page


def test_category_icons_exist_in_the_installed_font_awesome(vocabulary):
    icons = json.loads((vendor_dir("font-awesome") / "metadata" / "icons.json").read_text())
    for style in category_styles(vocabulary):
        assert "solid" in icons[style.icon]["free"], style.icon
