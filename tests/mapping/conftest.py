"""Helpers for the map tests: places built the way contributions arrive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geodata.models import Consent, Narrative, Place, Sensitivity, Status
from geodata.vocabulary import Vocabulary
from mapping.options import MapOptions

# Inside Lisbon's Santa Maria Maior parish (neighbourhood 6 of the demo).
BAIXA = (-9.1365, 38.7105)


def make_place(geometry: BaseGeometry | tuple[float, float] = BAIXA, **fields: Any) -> Place:
    if isinstance(geometry, tuple):
        geometry = Point(geometry)
    defaults: dict[str, Any] = {
        "title": "Casa do Fado",
        "narratives": [Narrative("Uma história contada no bairro.", "pt")],
        "category": "tradition",
        "status": Status.PUBLISHED,
        "contributor_name": "Maria Private",
        "contributor_contact": "maria@example.org",
    }
    defaults.update(fields)
    return Place(geometry=geometry, **defaults)


@pytest.fixture
def place_factory() -> Callable[..., Place]:
    return make_place


@pytest.fixture
def vocabulary() -> Vocabulary:
    return Vocabulary()


@pytest.fixture
def options() -> MapOptions:
    return MapOptions(k=3, grid_m=250.0, max_features=50)


__all__ = ["BAIXA", "Consent", "Sensitivity", "make_place"]
