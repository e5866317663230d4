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
from shapely.geometry.base import BaseGeometry

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


# The fixed layout of a two-dimensional little-endian WKB point (21 bytes).
_WKB_POINT = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def decode_locations(wkbs: Sequence[bytes]) -> tuple[np.ndarray, dict[int, BaseGeometry]]:
    """WKB geometries as an (n, 2) lon/lat array of the points, read straight from their
    bytes (NaN for the others), and the lines and polygons as shapely geometries by row."""
    n = len(wkbs)
    xy = np.full((n, 2), np.nan)
    point = np.fromiter(map(len, wkbs), dtype=np.int64, count=n) == 21
    if point.any():
        index = np.flatnonzero(point)
        records = np.frombuffer(b"".join([wkbs[i] for i in index.tolist()]), dtype=_WKB_POINT)
        plain = (records["order"] == 1) & (records["kind"] == 1)
        xy[index[plain]] = np.column_stack([records["x"], records["y"]])[plain]
        point[index[~plain]] = False  # big-endian: left to shapely
    others = np.flatnonzero(~point).tolist()
    shapes = shapely.from_wkb([wkbs[i] for i in others]) if others else []
    return xy, dict(zip(others, list(shapes), strict=True))


@dataclass(frozen=True)
class TilePlaces:
    """Places for a tile as columns: ``xy`` the lon/lat of the points (NaN for routes and
    areas), ``shapes`` the routes and areas by row, and per property of
    :data:`PLACE_PROPERTIES` a list (None where a place has no value)."""

    xy: np.ndarray
    shapes: dict[int, BaseGeometry]
    properties: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.xy)

    @property
    def geometries(self) -> np.ndarray:
        """Every place as a shapely geometry (built on demand: there may be many)."""
        out = np.empty(len(self), dtype=object)
        if len(self):
            out[:] = shapely.points(self.xy)
        for i, shape in self.shapes.items():
            out[i] = shape
        return out

    @classmethod
    def empty(cls) -> TilePlaces:
        return cls(np.zeros((0, 2)), {}, {name: [] for name in PLACE_PROPERTIES})

    @classmethod
    def of(cls, geometries: np.ndarray, properties: dict[str, list[Any]]) -> TilePlaces:
        """From shapely geometries."""
        kinds = shapely.get_type_id(geometries)
        xy = np.full((len(geometries), 2), np.nan)
        points = kinds == 0
        if points.any():
            xy[points] = shapely.get_coordinates(geometries[points])
        shapes = {int(i): geometries[i] for i in np.flatnonzero(~points)}
        return cls(xy, shapes, properties)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]], generalised: bool = False) -> TilePlaces:
        """From (id, WKB, title, category, neighbourhood name, year_from, year_to) rows."""
        if not rows:
            return cls.empty()
        xy, shapes = decode_locations([r[1] for r in rows])
        columns = ("id", None, "title", "category", "neighbourhood", "year_from", "year_to")
        properties = {name: [r[i] for r in rows] for i, name in enumerate(columns) if name}
        properties["location_generalised"] = [generalised] * len(rows)
        return cls(xy, shapes, properties)

    def concat(self, other: TilePlaces) -> TilePlaces:
        if not len(other):
            return self
        if not len(self):
            return other
        n = len(self)
        return TilePlaces(
            np.concatenate([self.xy, other.xy]),
            {**self.shapes, **{n + i: g for i, g in other.shapes.items()}},
            {k: v + other.properties[k] for k, v in self.properties.items()},
        )

    def select(self, keep: np.ndarray) -> TilePlaces:
        index = np.flatnonzero(keep)
        new = {int(old): i for i, old in enumerate(index.tolist())}
        return TilePlaces(
            self.xy[index],
            {new[i]: g for i, g in self.shapes.items() if i in new},
            {k: [v[i] for i in index.tolist()] for k, v in self.properties.items()},
        )


def _take(column: list[Any], index: np.ndarray) -> list[Any]:
    return [column[i] for i in index.tolist()]


def features_layer(name: str, tile: Tile, places: TilePlaces) -> bytes:
    """An MVT layer of places: points encoded as arrays, routes and areas clipped and
    snapped (:meth:`Tile.shapes`)."""
    properties = places.properties
    if not places.shapes:  # the common case: points only, the columns as they are
        return encode_layer(name, points=tile.points(places.xy), point_properties=properties)
    points = np.flatnonzero(~np.isnan(places.xy[:, 0]))
    others = np.array(sorted(places.shapes), dtype=np.int64)
    shapes = tile.shapes(np.array([places.shapes[i] for i in others.tolist()], dtype=object))
    drawn = np.array([s is not None for s in shapes], dtype=bool)
    others, shapes = others[drawn], shapes[drawn]
    return encode_layer(
        name,
        points=tile.points(places.xy[points]),
        point_properties={k: _take(v, points) for k, v in properties.items()},
        shapes=list(shapes),
        shape_properties={k: _take(v, others) for k, v in properties.items()},
    )


def places_layer(name: str, tile: Tile, places: TilePlaces) -> bytes:
    return features_layer(name, tile, places)


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
    return features_layer(name, tile, TilePlaces.of(shapes[hits], properties))
