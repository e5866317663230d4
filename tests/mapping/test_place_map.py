"""The small map of a place's page, and the popups' link to that page (also from a
standalone file, where only an absolute address of the service can be linked)."""

from __future__ import annotations

import json

from shapely.geometry import LineString

from geodata.privacy import public_view
from mapping.options import MapOptions
from mapping.place_map import place_map_data
from mapping.standalone import standalone_neighbourhood_html
from tests.mapping.conftest import Sensitivity, make_place


def test_a_public_point_is_drawn_where_it_is(vocabulary, options):
    shown = public_view(make_place((-9.1365, 38.7105), category="theatre"))
    data = place_map_data(shown, vocabulary, options)
    assert data["geometry"] == {"type": "Point", "coordinates": [-9.1365, 38.7105]}
    assert data["colour"] == vocabulary["theatre"].colour and data["radius_m"] is None


def test_a_generalised_place_is_drawn_on_its_cell_with_a_circle_covering_it(vocabulary):
    options = MapOptions(grid_m=500.0)
    place = make_place((-9.13512, 38.71346), sensitivity=Sensitivity.GENERALISED)
    shown = public_view(place, options.grid_m)
    data = place_map_data(shown, vocabulary, options)
    assert data["geometry"]["coordinates"] == [
        round(shown.geometry.x, 6),
        round(shown.geometry.y, 6),
    ]
    assert data["radius_m"] == 354  # half the diagonal of a 500 m cell


def test_a_hidden_place_has_no_map(vocabulary, options):
    route = LineString([(-9.14, 38.71), (-9.13, 38.72)])
    shown = public_view(make_place(route, sensitivity=Sensitivity.HIDDEN))
    assert place_map_data(shown, vocabulary, options) is None


def config_of(page: str) -> dict:
    start = page.index("{", page.index("AtlasMap.start("))
    return json.JSONDecoder().raw_decode(page, start)[0]


def test_a_standalone_file_links_popups_to_the_service_only_when_its_address_is_known(
    lisbon_store, vocabulary
):
    served = standalone_neighbourhood_html(lisbon_store, 6, vocabulary, MapOptions())
    assert config_of(served)["placePageUrl"] is None  # a path means nothing in a file
    public = MapOptions(place_page_url="https://atlas.example.org/places/{id}")
    linked = standalone_neighbourhood_html(lisbon_store, 6, vocabulary, public)
    assert config_of(linked)["placePageUrl"] == "https://atlas.example.org/places/{id}"
    assert all(f["id"] for f in config_of(linked)["source"]["features"])
    details = config_of(linked)["source"]["features"][0]["properties"]["details"]
    assert details["id"] == config_of(linked)["source"]["features"][0]["id"]
