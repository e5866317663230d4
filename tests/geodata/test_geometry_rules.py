"""Geometry validation: a corpus of valid, repairable and invalid geometries, run through
the single-feature path and the array path, which must agree on every verdict."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import shapely

from geodata.demo import NEIGHBOURHOODS, demo_path
from geodata.errors import GeometryError
from geodata.geometry import (
    GeometryRules,
    ProjectArea,
    validate_place_geometries,
    validate_place_geometry,
)
from geodata.neighbourhoods import read_neighbourhoods

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def rules() -> GeometryRules:
    items = read_neighbourhoods(demo_path(NEIGHBOURHOODS), "NOME").items
    return GeometryRules(area=ProjectArea.from_geometries([g for _, g, _ in items], 500))


def square(x: float, y: float, d: float, clockwise: bool = False) -> list[list[float]]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return ring[::-1] if clockwise else ring


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
