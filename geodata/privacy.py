"""What the public may see of a place: one set of rules, used by every public output.

Maps, downloads, the public API and OGC API – Features all go through
:func:`public_filter` (which places) and :func:`public_view` (what of them), so a
rule changed here changes everywhere at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geodata.geometry_rules import M_PER_DEG_LAT, M_PER_DEG_LON
from geodata.models import Narrative, Place, Sensitivity
from geodata.place_attachments import ProtocolLabel
from geodata.place_filter import PlaceFilter

Audience = Literal["map", "open_data"]
DEFAULT_GRID_M = 250.0


@dataclass(frozen=True)
class PublicPlace:
    """A place as the public may see it: no personal data, location generalised if asked."""

    id: str
    geometry: BaseGeometry | None  # None: hidden location (counted, never drawn)
    location_generalised: bool
    title: str
    narratives: list[Narrative]
    category: str
    period: str | None
    year_from: int | None
    year_to: int | None
    tags: list[str]
    licence: str
    attribution: str | None
    neighbourhood_id: int | None
    workshop: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    # Local Contexts TK/BC labels a facilitator attached (``store.protocol_labels``):
    # popups and downloads show them with the place.
    protocol_labels: tuple[ProtocolLabel, ...] = ()
    # The name the contributor chose to show publicly (never their real name or contact).
    display_name: str | None = None


def public_filter(flt: PlaceFilter | None = None, audience: Audience = "map") -> PlaceFilter:
    """Narrow a filter to what ``audience`` may see: published, with the matching consent."""
    return dataclasses.replace(flt or PlaceFilter(), status=None, audience=audience)


def generalise(geometry: BaseGeometry, grid_m: float = DEFAULT_GRID_M) -> Point:
    """The centre of the ``grid_m`` grid cell holding the geometry's representative point."""
    p = geometry if geometry.geom_type == "Point" else geometry.representative_point()
    lon, lat = grid_centres(np.array([[p.x, p.y]]), grid_m)[0].tolist()
    return Point(lon, lat)


def grid_centres(xy: np.ndarray, grid_m: float = DEFAULT_GRID_M) -> np.ndarray:
    """For an (n, 2) lon/lat array, the centres of the ``grid_m`` cells holding each point
    (rounded to 6 decimals): :func:`generalise` for many points at once."""
    lat_step = grid_m / M_PER_DEG_LAT
    lat = (np.floor(xy[:, 1] / lat_step) + 0.5) * lat_step
    # Cells keep their width in metres: the longitude step depends on the row's latitude.
    lon_step = grid_m / (M_PER_DEG_LON * np.maximum(np.cos(np.radians(lat)), 1e-6))
    lon = (np.floor(xy[:, 0] / lon_step) + 0.5) * lon_step
    return np.round(np.column_stack([lon, lat]), 6)


def public_locations(
    sensitivities: Sequence[str], geometries: np.ndarray, grid_m: float = DEFAULT_GRID_M
) -> tuple[np.ndarray, np.ndarray]:
    """Where the public may see many places (:func:`public_view`'s rule, vectorised): their
    public geometries (None where hidden) and whether each location is generalised."""
    sensitivity = np.asarray([str(s) for s in sensitivities], dtype=object)
    hidden = sensitivity == Sensitivity.HIDDEN.value
    coarse = sensitivity == Sensitivity.GENERALISED.value
    shown = np.array(geometries, dtype=object)
    shown[hidden] = None
    if coarse.any():
        anchors = shown[coarse]
        others = shapely.get_type_id(anchors) != 0
        anchors[others] = shapely.point_on_surface(anchors[others])
        shown[coarse] = shapely.points(grid_centres(shapely.get_coordinates(anchors), grid_m))
    return shown, hidden | coarse


def shows_exact_location(sensitivity: Sensitivity | str) -> bool:
    """Whether the public sees a place with this sensitivity where it is stored (neither
    generalised nor hidden): such places may be shown from their stored record as is."""
    return sensitivity == Sensitivity.PUBLIC


def public_view(
    place: Place,
    grid_m: float = DEFAULT_GRID_M,
    protocol_labels: Sequence[ProtocolLabel] = (),
) -> PublicPlace:
    """What of ``place`` may be shown publicly (call only on places ``public_filter`` let in);
    pass its ``store.protocol_labels`` to carry them along."""
    if shows_exact_location(place.sensitivity):
        geometry, generalised = place.geometry, False
    else:
        shown, coarse = public_locations(
            [place.sensitivity], np.array([place.geometry], dtype=object), grid_m
        )
        geometry, generalised = shown[0], bool(coarse[0])
    return PublicPlace(
        id=place.id,
        geometry=geometry,
        location_generalised=generalised,
        title=place.title,
        narratives=list(place.narratives),
        category=place.category,
        period=place.period,
        year_from=place.year_from,
        year_to=place.year_to,
        tags=list(place.tags),
        licence=place.licence,
        attribution=place.attribution,
        neighbourhood_id=place.neighbourhood_id,
        workshop=place.workshop,
        created_at=place.created_at,
        updated_at=place.updated_at,
        version=place.version,
        protocol_labels=tuple(protocol_labels),
        display_name=place.display_name,
    )
