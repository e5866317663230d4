"""Geometry validation: a corpus of valid, repairable and invalid geometries, run through
the single-feature path and the array path, which must agree on every verdict."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import shapely

from geodata.demo import NEIGHBOURHOODS, demo_path
from geodata.errors import GeometryError
from geodata.geometry import validate_place_geometries, validate_place_geometry
from geodata.geometry_rules import GeometryRules, ProjectArea
from geodata.neighbourhoods import read_neighbourhoods

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def rules() -> GeometryRules:
    items = read_neighbourhoods(demo_path(NEIGHBOURHOODS), "NOME").items
    return GeometryRules(area=ProjectArea.from_geometries([g for _, g, _ in items], 500))


def square(x: float, y: float, d: float, clockwise: bool = False) -> list[list[float]]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return ring[::-1] if clockwise else ring


def around(n: int, r: float = 0.003, step: int = 1, turns: float = 1.0) -> list[list[float]]:
    """n points on a circle round Baixa, joined every ``step``-th: a star {n/step} for
    ``step`` > 1 (it crosses itself n*(step-1) times)."""
    return [
        [
            -9.14 + r * math.cos(2 * math.pi * turns * (i * step % n) / n),
            38.71 + r * math.sin(2 * math.pi * turns * (i * step % n) / n),
        ]
        for i in range(n)
    ]


def area(*rings: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": [[*r, r[0]] for r in rings]}


def route(points: list[list[float]]) -> dict:
    return {"type": "LineString", "coordinates": points}


def pinched(n: int, touches: int) -> list[list[float]]:
    """A round outline that, in ``touches`` places, goes in to a point, around a small
    loop and back to that point: it touches itself there (an "inverted hole")."""
    points = []
    for k, (x, y) in enumerate(around(n)):
        points.append([x, y])
        if k % (n // touches) == 0 and k // (n // touches) < touches:
            a = 2 * math.pi * k / n
            q = [-9.14 + 0.0024 * math.cos(a), 38.71 + 0.0024 * math.sin(a)]
            points += [
                q,
                [-9.14 + 0.0015 * math.cos(a - 0.02), 38.71 + 0.0015 * math.sin(a - 0.02)],
                [-9.14 + 0.0015 * math.cos(a + 0.02), 38.71 + 0.0015 * math.sin(a + 0.02)],
                q,
            ]
    return points


def petals(count: int) -> list[list[float]]:
    """Petals that all touch at the centre."""
    points = []
    for p in around(2 * count):
        points += [[-9.14, 38.71], p]
    return [q for i, q in enumerate(points) if i % 4 != 3]  # centre, tip, tip, centre...


def little_squares(count: int) -> list[list[list[float]]]:
    """``count`` holes of 10 m, clockwise, on a grid across the centre."""
    side = math.ceil(math.sqrt(count))
    return [
        [[x, y], [x, y + 1e-4], [x + 1e-4, y + 1e-4], [x + 1e-4, y]]
        for k in range(count)
        for x, y in [(-9.1415 + 3e-4 * (k % side), 38.7085 + 3e-4 * (k // side))]
    ]


def slanted_comb(n: int) -> list[list[float]]:
    """A simple line zigzagging between two slanted lines: every edge's box overlaps."""
    return [[-9.141 + 0.002 * (i / n - i % 2), 38.709 + 0.002 * (i / n + i % 2)] for i in range(n)]


def out_and_back(n: int) -> list[list[float]]:
    there = [[-9.142 + 0.00002 * i, 38.71 + 0.00001 * math.sin(i / 5)] for i in range(n)]
    return there + there[::-1][1:]


def million_vertex_polygon() -> dict:
    n = 1_000_000
    ring = [
        [
            -9.14 + 0.001 * math.cos(2 * math.pi * i / n),
            38.71 + 0.001 * math.sin(2 * math.pi * i / n),
        ]
        for i in range(n)
    ]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


# (name, geometry, expected error code or None, expected number of warnings)
CORPUS = [
    ("point", {"type": "Point", "coordinates": [-9.1402, 38.7101]}, None, 0),
    ("integer point", {"type": "Point", "coordinates": [-9, 38.75]}, "outside_project_area", 0),
    ("route", {"type": "LineString", "coordinates": [[-9.14, 38.71], [-9.13, 38.72]]}, None, 0),
    ("area", {"type": "Polygon", "coordinates": [square(-9.15, 38.71, 0.005)]}, None, 0),
    (
        "area with hole",
        {
            "type": "Polygon",
            "coordinates": [
                square(-9.15, 38.71, 0.01),
                square(-9.146, 38.714, 0.002, clockwise=True),
            ],
        },
        None,
        0,
    ),
    # repairable
    (
        "clockwise area",
        {"type": "Polygon", "coordinates": [square(-9.15, 38.71, 0.005, clockwise=True)]},
        None,
        1,
    ),
    (
        "repeated vertex route",
        {"type": "LineString", "coordinates": [[-9.14, 38.71], [-9.14, 38.71], [-9.13, 38.72]]},
        None,
        1,
    ),
    (
        "repeated vertex area",
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [-9.15, 38.71],
                    [-9.145, 38.71],
                    [-9.145, 38.71],
                    [-9.145, 38.715],
                    [-9.15, 38.715],
                    [-9.15, 38.71],
                ]
            ],
        },
        None,
        1,
    ),
    # The outline passes twice through one vertex, enclosing an "inverted hole".
    (
        "ring touching itself",
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [-9.15, 38.71],
                    [-9.14, 38.71],
                    [-9.14, 38.72],
                    [-9.145, 38.72],
                    [-9.143, 38.715],
                    [-9.147, 38.715],
                    [-9.145, 38.72],
                    [-9.15, 38.72],
                    [-9.15, 38.71],
                ]
            ],
        },
        None,
        1,
    ),
    # invalid
    (
        "bow-tie",
        {
            "type": "Polygon",
            "coordinates": [
                [[-9.15, 38.71], [-9.14, 38.72], [-9.14, 38.71], [-9.15, 38.72], [-9.15, 38.71]]
            ],
        },
        "self_intersection",
        0,
    ),
    (
        "unclosed ring",
        {"type": "Polygon", "coordinates": [square(-9.15, 38.71, 0.005)[:-1]]},
        "unclosed_ring",
        0,
    ),
    (
        "one-point route",
        {"type": "LineString", "coordinates": [[-9.14, 38.71]]},
        "too_few_points",
        0,
    ),
    (
        "route on one spot",
        {"type": "LineString", "coordinates": [[-9.14, 38.71], [-9.14, 38.71]]},
        "too_few_points",
        0,
    ),
    (
        "two-corner area",
        {"type": "Polygon", "coordinates": [[[-9.15, 38.71], [-9.14, 38.71], [-9.15, 38.71]]]},
        "too_few_points",
        0,
    ),
    ("NaN", {"type": "Point", "coordinates": [float("nan"), 38.71]}, "non_finite", 0),
    ("infinity", {"type": "Point", "coordinates": [-9.14, float("inf")]}, "non_finite", 0),
    ("out of range", {"type": "Point", "coordinates": [-190.0, 38.71]}, "out_of_range", 0),
    ("latitude over 90", {"type": "Point", "coordinates": [120.0, 95.0]}, "out_of_range", 0),
    (
        "swapped, off the globe",
        {"type": "Point", "coordinates": [38.71, -120.0]},
        "swapped_coordinates",
        0,
    ),
    (
        "swapped lat/lon",
        {"type": "Point", "coordinates": [38.7101, -9.1402]},
        "swapped_coordinates",
        0,
    ),
    (
        "swapped route",
        {"type": "LineString", "coordinates": [[38.71, -9.14], [38.72, -9.13]]},
        "swapped_coordinates",
        0,
    ),
    ("3-D", {"type": "Point", "coordinates": [-9.14, 38.71, 12.0]}, "not_2d", 0),
    ("empty point", {"type": "Point", "coordinates": []}, "empty", 0),
    ("empty area", {"type": "Polygon", "coordinates": []}, "empty", 0),
    ("nested empty area", {"type": "Polygon", "coordinates": [[]]}, "empty", 0),
    ("no coordinates", {"type": "Point"}, "empty", 0),
    ("unknown type", {"type": "Circle", "coordinates": [-9.14, 38.71]}, "unknown_type", 0),
    ("multi type", {"type": "MultiPoint", "coordinates": [[-9.14, 38.71]]}, "unsupported_type", 0),
    ("not an object", [-9.14, 38.71], "not_a_geometry", 0),
    (
        "coordinates as strings",
        {"type": "Point", "coordinates": ["-9.14", "38.71"]},
        "coordinates_not_numbers",
        0,
    ),
    (
        "boolean coordinate",
        {"type": "Point", "coordinates": [True, 38.71]},
        "coordinates_not_numbers",
        0,
    ),
    (
        "outside the project area",
        {"type": "Point", "coordinates": [2.3522, 48.8566]},
        "outside_project_area",
        0,
    ),
    ("too large", {"type": "Polygon", "coordinates": [square(-9.18, 38.72, 0.06)]}, "too_large", 0),
    ("million vertices", million_vertex_polygon(), "too_many_vertices", 0),
    # limits per type: points and holes
    ("area at the point limit", area(around(4999)), None, 0),
    ("area over the point limit", area(around(5000)), "too_many_vertices", 0),
    ("route at the point limit", route(around(10_000, turns=0.9)), None, 0),
    ("route over the point limit", route(around(10_001, turns=0.9)), "too_many_vertices", 0),
    ("area with 100 holes", area(around(8), *little_squares(100)), None, 0),
    ("area with 101 holes", area(around(8), *([around(4, 0.0001)] * 101)), "too_many_holes", 0),
    # positions in a route or ring: read at once when well formed (over 32 of them),
    # else one by one; the same verdicts either way
    *(
        (f"{name}, {n} points", route([*around(n - 1, turns=0.5), bad]), code, 0)
        for n in (3, 40)
        for name, bad, code in [
            ("route with text", ["-9.13", 38.72], "coordinates_not_numbers"),
            ("route with a boolean", [True, 38.72], "coordinates_not_numbers"),
            ("route with 10**400", [10**400, 38.72], "non_finite"),
            ("route with NaN", [float("nan"), 38.72], "non_finite"),
            ("route off the map", [200.0, 38.72], "out_of_range"),
            ("route with a 3-D point", [-9.13, 38.72, 5.0], "not_2d"),
            ("route with a nested point", [[-9.13, 38.72]], "bad_coordinates"),
            ("route with an empty position", [], "bad_coordinates"),
            ("route with integers", [-9, 38], "outside_project_area"),
        ]
    ),
    ("route all 3-D", route([[x, y, 1.0] for x, y in around(40, turns=0.5)]), "not_2d", 0),
    # tangles: bounded cost, whatever the shape (geodata/validity.py)
    ("pentagram", area(around(5, step=2)), "self_intersection", 0),
    ("star of 100 points crossing 4,800 times", area(around(100, step=49)), "self_intersection", 0),
    ("star of 50 points crossing 100 times", area(around(50, step=3)), "self_intersection", 0),
    ("star route", route(around(200, step=99)), "tangled_route", 0),
    ("route retracing itself", route([[-9.14, 38.71], [-9.141, 38.711]] * 600), "tangled_route", 0),
    ("route out and back along a street", route(out_and_back(300)), None, 0),
    (
        "figure-eight route",
        route([[-9.14, 38.71], [-9.139, 38.711], [-9.139, 38.71], [-9.14, 38.711], [-9.14, 38.71]]),
        None,
        0,
    ),
    ("slanted comb route", route(slanted_comb(1000)), "too_intricate", 0),
    ("slanted comb area", area(slanted_comb(1000)), "too_intricate", 0),
    ("ring touching itself in 8 places", area(pinched(1000, 8)), None, 1),
    ("ring touching itself in 9 places", area(pinched(1000, 9)), "self_intersection", 0),
    ("petals touching at the centre", area(petals(60)), "self_intersection", 0),
]


@pytest.mark.parametrize(
    ("name", "geometry", "code", "n_warnings"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_single_path_gives_the_expected_verdict(rules, name, geometry, code, n_warnings):
    if code is None:
        result = validate_place_geometry(geometry, rules)
        assert result.geometry.is_valid
        assert len(result.warnings) == n_warnings, result.warnings
    else:
        with pytest.raises(GeometryError) as err:
            validate_place_geometry(geometry, rules)
        assert err.value.code == code, err.value.message
        assert "[" not in err.value.message.split(":")[0]  # no raw GEOS output up front


def test_bulk_path_gives_exactly_the_single_path_verdicts(rules):
    geometries = [c[1] for c in CORPUS]
    bulk = validate_place_geometries(geometries, rules)
    assert len(bulk) == len(CORPUS)
    for i, (name, geometry, _, _) in enumerate(CORPUS):
        try:
            single = validate_place_geometry(geometry, rules)
        except GeometryError as exc:
            assert (bulk.codes[i], bulk.messages[i]) == (exc.code, exc.message), name
            assert bulk.geometries[i] is None
        else:
            assert bulk.codes[i] is None, (name, bulk.messages[i])
            assert bulk.warnings[i] == single.warnings, name
            assert shapely.equals_exact(bulk.geometries[i], single.geometry, 0), name


def test_bulk_path_agrees_on_real_messy_data(rules):
    """Every feature of the real Portugal museums file: polygons, lines, invalid ones."""
    import orjson

    path = SHARED_DATA / "osm_museums_portugal/portugal_museums_osm_2023-12-05.geojson"
    if not path.exists():
        pytest.skip("shared/data is not next to the checkout")
    raw = orjson.loads(path.read_bytes())
    geometries = [f["geometry"] for f in raw["features"]]
    wide = GeometryRules(area=None, max_area_m2=1e12, max_length_m=1e9)
    bulk = validate_place_geometries(geometries, wide)
    for i, g in enumerate(geometries):
        try:
            single = validate_place_geometry(g, wide)
        except GeometryError as exc:
            assert (bulk.codes[i], bulk.messages[i]) == (exc.code, exc.message)
        else:
            assert bulk.codes[i] is None and bulk.warnings[i] == single.warnings
    assert bulk.ok.sum() > 400  # the points and single polygons pass
    assert "unsupported_type" in bulk.codes  # MultiPolygons are not one place


def test_self_intersection_message_names_the_place_in_latitude_longitude_order(rules):
    bowtie = CORPUS[[c[0] for c in CORPUS].index("bow-tie")][1]
    with pytest.raises(GeometryError) as err:
        validate_place_geometry(bowtie, rules)
    assert err.value.message.startswith("the area's outline crosses itself near 38.7150, -9.1450")


def test_many_crossings_are_counted_in_the_message(rules):
    with pytest.raises(GeometryError) as err:
        validate_place_geometry(area(around(50, step=3)), rules)
    assert err.value.message.startswith(
        "the area's outline crosses or touches itself 100 times, first near 38.71"
    )
    with pytest.raises(GeometryError) as err:
        validate_place_geometry(area(around(100, step=49)), rules)
    assert "crosses or touches itself more than 1,000 times, first near" in err.value.message
    with pytest.raises(GeometryError) as err:
        validate_place_geometry(route(around(200, step=99)), rules)
    assert err.value.message.startswith(
        "the route crosses or runs back over itself more than 1,000 times, first near 38.7"
    )


def test_a_few_crossings_keep_the_message_that_names_where(rules):
    with pytest.raises(GeometryError) as err:
        validate_place_geometry(area(around(5, step=2)), rules)
    assert err.value.message.startswith("the area's outline crosses itself near 38.71")


def test_the_limits_are_rules_a_project_may_change(rules):
    strict = GeometryRules(area=rules.area, max_route_vertices=100, max_holes=0)
    with pytest.raises(GeometryError) as err:
        validate_place_geometry(route(around(101, turns=0.5)), strict)
    assert err.value.code == "too_many_vertices" and "the limit is 100" in err.value.message
    holed = area(around(8), around(4, 0.0001)[::-1])
    assert validate_place_geometry(holed, rules).geometry.interiors
    with pytest.raises(GeometryError) as err:
        validate_place_geometry(holed, strict)
    assert err.value.code == "too_many_holes"


def test_swapped_coordinates_are_named_as_such(rules):
    with pytest.raises(GeometryError) as err:
        validate_place_geometry({"type": "Point", "coordinates": [38.7101, -9.1402]}, rules)
    assert "latitude and longitude look swapped" in err.value.message


def test_repairs_are_reported_and_result_follows_the_right_hand_rule(rules):
    cw = {"type": "Polygon", "coordinates": [square(-9.15, 38.71, 0.005, clockwise=True)]}
    result = validate_place_geometry(cw, rules)
    assert shapely.is_ccw(result.geometry.exterior)
    assert "anticlockwise" in result.warnings[0]


def test_without_project_area_any_place_on_earth_is_accepted():
    result = validate_place_geometry({"type": "Point", "coordinates": [139.69, 35.68]})
    assert result.geometry.x == 139.69
