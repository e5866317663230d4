"""CRS URIs, cached transformers and vectorised reprojection (geodata.crs)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import shapely

from geodata import crs
from geodata.features import geometry_members

LISBON = np.array([[-9.1393366, 38.7222524], [-9.2159, 38.6916]])


def test_crs84_is_left_alone_and_epsg_4326_swaps_the_axes_exactly() -> None:
    assert crs.projection(crs.CRS84) is None
    swapped = crs.projection(crs.epsg_uri(4326))(LISBON)
    assert swapped.tolist() == np.round(LISBON, 6)[:, ::-1].tolist()


def test_projected_output_is_the_rounded_crs84_output_transformed() -> None:
    out = crs.projection(crs.epsg_uri(3763))(LISBON)
    t = crs.transformer(crs.CRS84, crs.epsg_uri(3763))
    expected = np.column_stack(t.transform(*np.round(LISBON, 6).T))
    assert np.abs(out - expected).max() <= 0.0005  # millimetres
    assert -90_000 < out[0, 0] < -85_000 and -106_000 < out[0, 1] < -100_000


def test_transformers_and_projections_are_made_once() -> None:
    uri = crs.epsg_uri(3857)
    assert crs.transformer(crs.CRS84, uri) is crs.transformer(crs.CRS84, uri)
    assert crs.projection(uri) is crs.projection(uri)


def test_positions_a_crs_cannot_express_are_refused() -> None:
    antipode = np.array([[-170.0, -52.0]])  # of the LAEA Europe projection centre
    with pytest.raises(crs.OutsideCRS, match="LAEA Europe"):
        crs.projection(crs.epsg_uri(3035))(antipode)


def test_rings_keep_their_orientation_on_the_ground_in_latitude_first_output() -> None:
    ring = shapely.Polygon([(-9.14, 38.71), (-9.14, 38.712), (-9.138, 38.712), (-9.138, 38.71)])
    (plain,) = geometry_members(np.array([ring]))
    (latlon,) = geometry_members(np.array([ring]), crs.projection(crs.epsg_uri(4326)))
    plain_ring = shapely.from_geojson(orjson.dumps(plain)).exterior
    latlon_ring = shapely.from_geojson(orjson.dumps(latlon)).exterior
    assert plain_ring.is_ccw and not latlon_ring.is_ccw  # counterclockwise in lon/lat
    assert np.array_equal(
        shapely.get_coordinates(latlon_ring), shapely.get_coordinates(plain_ring)[:, ::-1]
    )


def test_a_box_in_another_crs_becomes_the_crs84_box_enclosing_it() -> None:
    latlon = crs.bbox_to_crs84((38.70, -9.16, 38.73, -9.12), crs.epsg_uri(4326))
    assert latlon == pytest.approx((-9.16, 38.70, -9.12, 38.73))
    box = (-90_000.0, -106_000.0, -86_000.0, -103_000.0)
    minx, miny, maxx, maxy = crs.bbox_to_crs84(box, crs.epsg_uri(3763))
    back = crs.transformer(crs.epsg_uri(3763), crs.CRS84)
    # Every point of the box's outline, densely, lies in the CRS84 box.
    outline = shapely.get_coordinates(shapely.segmentize(shapely.box(*box).exterior, 50.0))
    lon, lat = back.transform(outline[:, 0], outline[:, 1])
    assert minx <= lon.min() and lon.max() <= maxx and miny <= lat.min() and lat.max() <= maxy
    with pytest.raises(crs.OutsideCRS):
        crs.bbox_to_crs84((1e40, 1e40, 2e40, 2e40), crs.epsg_uri(3035))


def test_supported_list_starts_with_crs84_and_names_each_crs_once() -> None:
    uris = crs.supported_crs([3763, 25829])
    assert uris[0] == crs.CRS84 and uris.count(crs.epsg_uri(3763)) == 1
    assert uris[-1] == "http://www.opengis.net/def/crs/EPSG/0/25829"
    with pytest.raises(ValueError):
        crs.crs_for("urn:ogc:def:crs:EPSG::3763")
