"""The project's neighbourhoods prepared for many submissions: the project area the
geometry rules need, and a spatial index for assigning neighbourhoods."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.geometry_rules import GeometryRules, ProjectArea
from geodata.models import Neighbourhood
from geodata.neighbourhoods import assign_neighbourhoods
from geodata.store.base import PlaceStore


class ProjectIndex:
    """The project area (for geometry rules) and a spatial index of neighbourhoods."""

    def __init__(self, neighbourhoods: Sequence[Neighbourhood], margin_m: float) -> None:
        self.neighbourhoods = list(neighbourhoods)
        geoms = [n.geometry for n in self.neighbourhoods]
        self.rules = GeometryRules(area=ProjectArea.from_geometries(geoms, margin_m))
        self._ids = np.array([n.id for n in self.neighbourhoods], dtype=np.int64)
        self._tree = shapely.STRtree(geoms) if geoms else None

    def assign(self, geometry: BaseGeometry) -> int | None:
        """The geometry's neighbourhood, by the rule of ``assign_neighbourhoods``.

        Points (most submissions) take an indexed lookup with the same rule: the
        containing neighbourhood, lowest id on a shared boundary. Routes and areas go
        through the spatial join itself.
        """
        if self._tree is None:
            return None
        if geometry.geom_type != "Point":
            return assign_neighbourhoods([geometry], self.neighbourhoods)[0]
        hits = self._tree.query(geometry, predicate="intersects")
        return int(self._ids[hits].min()) if hits.size else None


# Derived data only, keyed by the store's neighbourhoods version: replaced
# neighbourhoods give a new key, so every worker sees the change on its next request.
# (Building the project area takes tens of milliseconds; a submission must take a few.)
_INDEXES: dict[tuple[str, float], ProjectIndex] = {}


def project_index(store: PlaceStore, margin_m: float) -> ProjectIndex:
    """The prepared neighbourhoods of ``store``, rebuilt only when they change."""
    key = (store.neighbourhoods_version(), margin_m)
    index = _INDEXES.get(key)
    if index is None:
        index = ProjectIndex(store.neighbourhoods(), margin_m)
        if len(_INDEXES) >= 8:
            _INDEXES.clear()
        _INDEXES[key] = index
    return index
