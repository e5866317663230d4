"""The orientation layer: what a map shows under its places when it has no basemap (or
cannot reach its tiles). Drawn from the data the atlas holds: each neighbourhood's
outline and name, the edge of the whole area (along a river or a coast this is the
shore), and water from a file when the service has one (:mod:`geodata.water`).

The answer is GeoJSON; ``atlas-background.js`` draws it. Labels come largest
neighbourhood first, so where names would overlap, the larger one is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.models import Neighbourhood
from mapping.features import geometry_json, outline

NDIGITS = 5  # about a metre


def orientation_collection(
    neighbourhoods: Sequence[Neighbourhood],
    water: Sequence[BaseGeometry] = (),
    attribution: str = "",
) -> dict[str, Any]:
    """A FeatureCollection of ``water``, ``neighbourhood`` outlines, the ``edge`` of them
    all and one ``label`` point per neighbourhood (its name), in drawing order."""
    shapes = [n for n in neighbourhoods if n.geometry is not None and not n.geometry.is_empty]
    features: list[dict[str, Any]] = [
        {"type": "Feature", "properties": {"kind": "water"}, "geometry": geometry_json(g, NDIGITS)}
        for g in water
    ]
    for n in shapes:
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "neighbourhood"},
                "geometry": geometry_json(outline(n.geometry).boundary, NDIGITS),
            }
        )
    if shapes:
        whole = outline(shapely.union_all([n.geometry for n in shapes], grid_size=1e-7))
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "edge"},
                "geometry": geometry_json(whole.boundary, NDIGITS),
            }
        )
    for n in sorted(shapes, key=lambda n: -n.geometry.area):
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "label", "name": n.name},
                "geometry": geometry_json(n.geometry.representative_point(), NDIGITS),
            }
        )
    return {"type": "FeatureCollection", "attribution": attribution, "features": features}
