"""Neighbourhood outlines as SVG paths: a small static map drawn on the server, no tiles,
no script (the home page's map).

The projection is equirectangular, longitudes scaled by the cosine of the middle
latitude so that a city keeps its shape; outlines are simplified to about a pixel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.models import Neighbourhood


@dataclass(frozen=True)
class Outline:
    """One neighbourhood's shape on the drawing."""

    id: int
    name: str
    path: str  # the ``d`` attribute of an SVG <path> (rings closed, even-odd holes)


@dataclass(frozen=True)
class OutlineMap:
    """Every neighbourhood on a ``width`` × ``height`` drawing."""

    width: int
    height: int
    outlines: tuple[Outline, ...]


def _rings(geometry: BaseGeometry) -> list[list[tuple[float, float]]]:
    polygons = getattr(geometry, "geoms", [geometry])
    rings = []
    for polygon in polygons:
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        rings.append(list(polygon.exterior.coords))
        rings += [list(ring.coords) for ring in polygon.interiors]
    return rings


def outline_map(neighbourhoods: Sequence[Neighbourhood], width: int = 640) -> OutlineMap:
    """The neighbourhoods projected onto a drawing ``width`` pixels wide.

    >>> from shapely.geometry import box
    >>> m = outline_map([Neighbourhood(1, "A", box(0, 0, 1, 1))], width=100)
    >>> (m.width, m.height, m.outlines[0].path)
    (100, 100, 'M100 100L100 0L0 0L0 100Z')
    """
    shapes = [n for n in neighbourhoods if n.geometry is not None and not n.geometry.is_empty]
    if not shapes:
        return OutlineMap(width, 0, ())
    minx, miny, maxx, maxy = shapely.total_bounds([n.geometry for n in shapes]).tolist()
    squeeze = math.cos(math.radians((miny + maxy) / 2))
    span_x = max((maxx - minx) * squeeze, 1e-9)
    span_y = max(maxy - miny, 1e-9)
    scale = width / span_x
    height = max(1, round(span_y * scale))
    tolerance = 0.75 / scale  # in degrees: about three quarters of a pixel

    def point(x: float, y: float) -> str:
        px = round((x - minx) * squeeze * scale, 1)
        py = round((maxy - y) * scale, 1)
        return f"{px:g} {py:g}"

    outlines = []
    for n in shapes:
        simple = shapely.simplify(n.geometry, tolerance, preserve_topology=True)
        parts = []
        for ring in _rings(simple):
            head, *rest = ring[:-1] if ring[0] == ring[-1] else ring
            parts.append("M" + point(*head[:2]) + "".join("L" + point(*c[:2]) for c in rest) + "Z")
        if parts:
            outlines.append(Outline(n.id, n.name, "".join(parts)))
    return OutlineMap(width, height, tuple(outlines))
