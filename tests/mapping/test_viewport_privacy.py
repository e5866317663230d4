"""What a map view receives: places or clusters, and never more than the public may see."""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from shapely.geometry import Point

from geodata.models import Consent, Sensitivity, Status
from geodata.privacy import generalise
from geodata.store.base import PlaceFilter
from mapping.viewport import cell_size_deg, grid_margin, places_in_view
from tests.mapping.conftest import make_place

LISBON = (-9.25, 38.68, -9.08, 38.80)


def test_a_view_with_few_places_gets_the_places_themselves(store, options):
    store.add_many([make_place((-9.14 + i * 0.001, 38.71)) for i in range(5)])
    view = places_in_view(store, PlaceFilter(), LISBON, 13, options)
    assert view.mode == "places"
    assert view.total == 5
    features = view.geojson(options.k)["features"]
    assert len(features) == 5
    assert {f["properties"]["title"] for f in features} == {"Casa do Fado"}


def test_a_view_with_more_places_than_the_limit_gets_clusters_that_add_up(store, options):
    # 120 places in three tight groups; the limit in ``options`` is 50.
    groups = [(-9.20, 38.70), (-9.14, 38.71), (-9.10, 38.78)]
    store.add_many([make_place((x + i * 1e-5, y)) for x, y in groups for i in range(40)])
    store.add(make_place((-9.16, 38.75)))  # a lone place: its cluster says "fewer than 3"
    view = places_in_view(store, PlaceFilter(), LISBON, 12, options)
    assert view.mode == "clusters"
    assert sum(c.count for c in view.clusters) == view.total == 121
    features = view.geojson(options.k)["features"]
    assert all(f["properties"]["cluster"] for f in features)
    lone = [f for f in features if f["properties"]["title"] == "fewer than 3"]
    assert len(lone) == 1
    assert lone[0]["properties"]["count"] is None  # the exact small count is never sent
    assert lone[0]["properties"]["label"] == "<3"
    assert sorted(f["properties"]["count"] for f in features if f["properties"]["count"]) == [
        40,
        40,
        40,
    ]


def test_only_published_places_with_consent_to_publish_are_drawn(store, options):
    store.add_many(
        [
            make_place(title="published"),
            make_place(title="pending", status=Status.PENDING),
            make_place(title="rejected", status=Status.REJECTED),
            make_place(title="withdrawn", status=Status.WITHDRAWN),
            make_place(title="no consent", consent=Consent(publish=False)),
        ]
    )
    view = places_in_view(store, PlaceFilter(), LISBON, 15, options)
    assert [p.title for p in view.places] == ["published"]


def test_no_personal_data_reaches_the_map(store, options):
    store.add(make_place())
    body = orjson.dumps(places_in_view(store, PlaceFilter(), LISBON, 15, options).geojson(3))
    assert b"Maria Private" not in body
    assert b"maria@example.org" not in body


def test_hidden_places_are_never_drawn(store, options):
    store.add(make_place(title="secret spring", sensitivity=Sensitivity.HIDDEN))
    view = places_in_view(store, PlaceFilter(), LISBON, 15, options)
    assert view.places == [] and view.total == 0


def test_a_generalised_place_is_drawn_on_its_grid_never_at_its_true_point(store, options):
    true = Point(-9.13617, 38.71143)
    store.add(make_place(true, sensitivity=Sensitivity.GENERALISED))
    view = places_in_view(store, PlaceFilter(), LISBON, 17, options)
    (shown,) = view.places
    assert shown.geometry.equals(generalise(true, options.grid_m))
    assert not shown.geometry.equals(true)
    assert shown.location_generalised


def test_view_edges_select_generalised_places_by_their_shown_point(store, options):
    """Moving the view's edge across the true point must change nothing: otherwise a few
    requests would find where the place really is."""
    true = Point(-9.13617, 38.71143)
    store.add(make_place(true, sensitivity=Sensitivity.GENERALISED))
    shown = generalise(true, options.grid_m)
    assert abs(shown.x - true.x) > 1e-4  # the test needs the two points apart
    between = (min(shown.x, true.x) + max(shown.x, true.x)) / 2
    # A thin view around the shown point only (the true point is outside): drawn.
    if shown.x < true.x:
        around_shown, around_true = (
            (shown.x - 1e-4, 38.70, between, 38.72),
            (between, 38.70, true.x + 1e-4, 38.72),
        )
    else:
        around_shown, around_true = (
            (between, 38.70, shown.x + 1e-4, 38.72),
            (true.x - 1e-4, 38.70, between, 38.72),
        )
    for zoom in (17, 12):  # places mode and clusters mode alike
        tight = dataclasses.replace(options, max_features=0 if zoom == 12 else 50)
        assert places_in_view(store, PlaceFilter(), around_shown, zoom, tight).total == 1
        assert places_in_view(store, PlaceFilter(), around_true, zoom, tight).total == 0


def test_clusters_of_generalised_places_sit_on_their_shown_points(store, options):
    true = Point(-9.13617, 38.71143)
    store.add_many([make_place(true, sensitivity=Sensitivity.GENERALISED) for _ in range(4)])
    tight = dataclasses.replace(options, max_features=0)
    (cluster,) = places_in_view(store, PlaceFilter(), LISBON, 12, tight).clusters
    shown = generalise(true, options.grid_m)
    assert cluster.count == 4
    assert (cluster.lon, cluster.lat) == (pytest.approx(shown.x), pytest.approx(shown.y))


def test_category_and_scope_filters_apply(store, options):
    store.add_many([make_place(category="food", workshop="AB12"), make_place(category="museum")])
    food = places_in_view(store, PlaceFilter(category=["food"]), LISBON, 15, options)
    assert [p.category for p in food.places] == ["food"]
    workshop = places_in_view(store, PlaceFilter(workshop="AB12"), LISBON, 15, options)
    assert [p.workshop for p in workshop.places] == ["AB12"]


def test_cluster_cells_nest_from_one_zoom_level_to_the_next():
    assert cell_size_deg(11) == 2 * cell_size_deg(12)


def test_grid_margin_grows_a_view_by_one_generalisation_cell():
    grown = grid_margin((-9.2, 38.7, -9.1, 38.8), 250.0)
    assert grown[0] < -9.2 and grown[2] > -9.1
    assert abs((38.7 - grown[1]) * 110_574 - 250) < 1
