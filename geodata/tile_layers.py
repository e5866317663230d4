"""The layers of a vector tile, built in Python from columns: places and neighbourhoods
(PostGIS builds both in SQL instead, with the same properties).

Nothing here decides what the public may see: callers hand in places already narrowed by
:mod:`geodata.privacy` (see :mod:`geodata.tiles`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from geodata.models import Neighbourhood
from geodata.mvt import encode_layer
from geodata.tilematrix import Tile

# A place's properties in a tile, in order: the public fields of the open-data downloads.
PLACE_PROPERTIES = (
    "id",
    "title",
    "category",
    "neighbourhood",
    "year_from",
    "year_to",
    "location_generalised",
)


@dataclass(frozen=True)
class TilePlaces:
    """Places for a tile as columns: ``geometries`` in lon/lat (shapely), and per property
    of :data:`PLACE_PROPERTIES` a list (None where a place has no value)."""

    geometries: np.ndarray
    properties: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.geometries)

    @classmethod
    def empty(cls) -> TilePlaces:
        return cls(np.array([], dtype=object), {name: [] for name in PLACE_PROPERTIES})

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]], generalised: bool = False) -> TilePlaces:
        """From (id, WKB, title, category, neighbourhood name, year_from, year_to) rows."""
        if not rows:
            return cls.empty()
        ids, wkbs, titles, categories, hoods, year_from, year_to = map(
            list, zip(*rows, strict=True)
        )
        return cls(
            shapely.from_wkb(wkbs),
            {
                "id": ids,
                "title": titles,
                "category": categories,
                "neighbourhood": hoods,
                "year_from": year_from,
                "year_to": year_to,
                "location_generalised": [generalised] * len(ids),
            },
        )

    def concat(self, other: TilePlaces) -> TilePlaces:
        if not len(other):
            return self
        if not len(self):
            return other
        return TilePlaces(
            np.concatenate([self.geometries, other.geometries]),
            {k: v + other.properties[k] for k, v in self.properties.items()},
        )

    def select(self, keep: np.ndarray) -> TilePlaces:
        index = np.flatnonzero(keep).tolist()
        return TilePlaces(
            self.geometries[index],
            {k: [v[i] for i in index] for k, v in self.properties.items()},
        )


def _take(column: list[Any], index: np.ndarray) -> list[Any]:
    return [column[i] for i in index.tolist()]


def features_layer(
    name: str, tile: Tile, geometries: np.ndarray, properties: dict[str, list[Any]]
) -> bytes:
    """An MVT layer of lon/lat geometries with properties: points encoded as arrays, lines
    and polygons clipped and snapped (:meth:`Tile.shapes`)."""
    kinds = shapely.get_type_id(geometries)
    points = np.flatnonzero(kinds == 0)
    others = np.flatnonzero(kinds > 0)
    xy = tile.points(shapely.get_coordinates(geometries[points]))
    if not len(others):  # the common case: points only, the columns as they are
        return encode_layer(name, points=xy, point_properties=properties)
    shapes = tile.shapes(geometries[others])
    drawn = np.array([s is not None for s in shapes], dtype=bool)
    others, shapes = others[drawn], shapes[drawn]
    return encode_layer(
        name,
        points=xy,
        point_properties={k: _take(v, points) for k, v in properties.items()},
        shapes=list(shapes),
        shape_properties={k: _take(v, others) for k, v in properties.items()},
    )


def places_layer(name: str, tile: Tile, places: TilePlaces) -> bytes:
    return features_layer(name, tile, places.geometries, places.properties)


def neighbourhoods_layer(
    name: str, tile: Tile, neighbourhoods: Sequence[Neighbourhood], counts: dict[int, int]
) -> bytes:
    """The neighbourhoods meeting the tile, with ``id``, ``name``, ``code`` and ``places``
    (how many open-data places each holds, as the OGC items say)."""
    if not neighbourhoods:
        return b""
    shapes = np.array([n.geometry for n in neighbourhoods], dtype=object)
    hits = shapely.intersects(shapely.box(*tile.bounds), shapes)
    shown = [n for n, hit in zip(neighbourhoods, hits.tolist(), strict=True) if hit]
    properties = {
        "id": [n.id for n in shown],
        "name": [n.name for n in shown],
        "code": [n.code for n in shown],
        "places": [counts.get(n.id, 0) for n in shown],
    }
    return features_layer(name, tile, shapes[hits], properties)
