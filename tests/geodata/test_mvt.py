"""The numpy MVT encoder against the reference decoder (mapbox_vector_tile) and encoder."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape

from geodata.mvt import encode_layer, varint, varint_lengths, zigzag
from geodata.tilematrix import Tile


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def test_varints_and_zigzag_match_protobuf() -> None:
    for value in (0, 1, 127, 128, 300, 2**14, 2**21 - 1, 2**35, 2**63):
        assert len(varint(value)) == varint_lengths(np.array([value], dtype=np.uint64))[0]
    assert varint(300) == b"\xac\x02"
    assert zigzag(np.array([0, -1, 1, -2, 2, -4096])).tolist() == [0, 1, 2, 3, 4, 8191]


def test_points_and_properties_decode_as_given() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    xy = rng.integers(-64, 4160, (n, 2))
    props = {
        "id": [f"pl_{i:05d}" for i in range(n)],
        "title": [
            ["Café «Nicola»", "مقهى", "Tasca 🍷", "Rua ''x''"][i % 4] + str(i) for i in range(n)
        ],
        "category": [["monument", "food", None][i % 3] for i in range(n)],
        "year_from": [None if i % 2 else 1900 - i for i in range(n)],
        "year_to": [-(i * 1000) if i % 5 == 0 else None for i in range(n)],
        "big": [2**40 + i for i in range(n)],
        "flag": [bool(i % 2) for i in range(n)],
    }
    features = decode(encode_layer("places", points=xy, point_properties=props))["places"][
        "features"
    ]
    assert len(features) == n
    for i in (0, 1, 2, 3, 4, 5, 999, n - 1):
        f = features[i]
        assert f["geometry"] == {"type": "Point", "coordinates": xy[i].tolist()}
        assert f["properties"] == {k: v[i] for k, v in props.items() if v[i] is not None}


def test_same_decoding_as_the_reference_encoder() -> None:
    xy = np.array([[0, 0], [4095, 4095], [100, 2000], [-10, 4100]])
    props = {"name": ["a", "b", None, "a"], "n": [1, -2, 3, None], "ok": [True, False, True, False]}
    ours = decode(encode_layer("l", points=xy, point_properties=props))["l"]["features"]
    theirs_features = [
        {
            "geometry": Point(*map(int, xy[i])).wkt,
            "properties": {k: v[i] for k, v in props.items() if v[i] is not None},
        }
        for i in range(len(xy))
    ]
    theirs = decode(
        mapbox_vector_tile.encode(
            [{"name": "l", "features": theirs_features}],
            default_options={"y_coord_down": True, "quantize_bounds": None},
        )
    )["l"]["features"]
    strip = lambda fs: [(f["geometry"], f["properties"]) for f in fs]  # noqa: E731
    assert strip(ours) == strip(theirs)


def test_lines_and_polygons_with_holes_keep_their_shape_and_winding() -> None:
    tile = Tile.checked(14, 6278, 7776)
    w, s, e, n = tile.bounds
    dx, dy = (e - w) / 10, (n - s) / 10
    outer = [(w + dx, s + dy), (w + 5 * dx, s + dy), (w + 5 * dx, s + 5 * dy), (w + dx, s + 5 * dy)]
    hole = [(w + 2 * dx, s + 2 * dy), (w + 2 * dx, s + 3 * dy), (w + 3 * dx, s + 3 * dy),
            (w + 3 * dx, s + 2 * dy)]  # fmt: skip
    area = shapely.orient_polygons(Polygon(outer, [hole]))  # RFC 7946: exterior anticlockwise
    two = MultiPolygon([area, Polygon([(w + 6 * dx, s + 6 * dy), (w + 8 * dx, s + 6 * dy),
                                       (w + 8 * dx, s + 8 * dy)])])  # fmt: skip
    route = LineString([(w - dx, s + dy), (w + 3 * dx, s + 9 * dy)])
    shapes = tile.shapes(np.array([area, two, route], dtype=object))
    data = encode_layer("l", shapes=list(shapes), shape_properties={"i": [0, 1, 2]})
    features = decode(data)["l"]["features"]
    got = [shape(f["geometry"]) for f in features]
    assert got[0].geom_type == "Polygon" and len(got[0].interiors) == 1
    assert got[1].geom_type == "MultiPolygon" and len(got[1].geoms) == 2
    assert got[2].geom_type == "LineString" and got[2].coords[0][0] == -64  # clipped
    assert got[0].area == pytest.approx(16 * 4096**2 / 100 - 4096**2 / 100, rel=0.01)


def test_empty_layer_is_nothing() -> None:
    assert encode_layer("l", points=np.zeros((0, 2)), point_properties={"a": []}) == b""
    tile = Tile.checked(14, 6278, 7776)
    tiny = Polygon([(-9.13, 38.71), (-9.1299999, 38.71), (-9.1299999, 38.7100001)])
    assert tile.shapes(np.array([tiny], dtype=object))[0] is None  # collapsed when snapped
