"""``places_near``: the store's distance query behind duplicate hints, the same on every
backend (R*Tree box and a local projection on SQLite, ``ST_DWithin`` on PostGIS)."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import LineString, Point, Polygon

from geodata.models import Narrative, Place, Status
from geodata.store.base import EARTH_RADIUS_M, PlaceFilter, PlaceStore

ORIGIN = (-9.1400, 38.7100)
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180


def offset(east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    """The point ``east_m`` and ``north_m`` metres from ORIGIN (on the sphere, closely)."""
    lon, lat = ORIGIN
    return (
        lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))),
        lat + north_m / M_PER_DEG,
    )


def place(title: str, geometry, status: Status = Status.PUBLISHED) -> Place:
    return Place(geometry=geometry, title=title, narratives=[Narrative("x", "en")],
                 category="memory", status=status)  # fmt: skip


@pytest.fixture
def around(store: PlaceStore) -> PlaceStore:
    square = Polygon([offset(x, y) for x, y in [(-5, 15), (5, 15), (5, 40), (-5, 40)]])
    store.add_many(
        [
            place("east 10 m", Point(offset(east_m=10))),
            place("north 24 m", Point(offset(north_m=24))),
            place("south-west 26 m", Point(offset(-26 / math.sqrt(2), -26 / math.sqrt(2)))),
            place("west 60 m", Point(offset(east_m=-60))),
            place("rejected 5 m", Point(offset(north_m=-5)), Status.REJECTED),
            # A square whose nearest edge is 15 m north; a route passing 20 m east.
            place("square", square),
            place("route", LineString([offset(20, -50), offset(20, 50)])),
        ]
    )
    return store


def test_places_within_the_radius_come_nearest_first_with_their_distance(around):
    found = around.places_near(Point(ORIGIN), 25)
    assert [p.title for p, _ in found] == [
        "rejected 5 m", "east 10 m", "square", "route", "north 24 m"
    ]  # fmt: skip
    for (_, distance), expected in zip(found, [5, 10, 15, 20, 24], strict=True):
        assert distance == pytest.approx(expected, abs=0.2)


def test_the_filter_narrows_the_places_and_the_limit_caps_them(around):
    live = PlaceFilter(status=[Status.PENDING, Status.PUBLISHED])
    assert [p.title for p, _ in around.places_near(Point(ORIGIN), 25, live)] == [
        "east 10 m", "square", "route", "north 24 m"
    ]  # fmt: skip
    assert [p.title for p, _ in around.places_near(Point(ORIGIN), 25, limit=2)] == [
        "rejected 5 m", "east 10 m"
    ]  # fmt: skip
    wide = around.places_near(Point(ORIGIN), 100, PlaceFilter(bbox=(0, 0, 1, 1)))
    assert len(wide) == 7  # the filter's bbox is ignored: the radius decides


def test_a_geometry_inside_an_area_is_at_distance_zero(around):
    found = around.places_near(Point(offset(0, 30)), 1)
    assert [(p.title, d) for p, d in found] == [("square", 0.0)]


def test_nothing_near_gives_an_empty_list(store):
    store.add(place("far away", Point(offset(east_m=500))))
    assert store.places_near(Point(ORIGIN), 25) == []
