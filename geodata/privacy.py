"""What the public may see of a place: one set of rules, used by every public output.

Maps, downloads, the public API and OGC API – Features all go through
:func:`public_filter` (which places) and :func:`public_view` (what of them), so a
rule changed here changes everywhere at once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geodata.geometry import M_PER_DEG_LAT, M_PER_DEG_LON
from geodata.models import Narrative, Place, ProtocolLabel, Sensitivity
from geodata.store.base import PlaceFilter

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
    lat_step = grid_m / M_PER_DEG_LAT
    row = math.floor(p.y / lat_step)
    lat = (row + 0.5) * lat_step
    # Cells keep their width in metres: the longitude step depends on the row's latitude.
    lon_step = grid_m / (M_PER_DEG_LON * max(math.cos(math.radians(lat)), 1e-6))
    lon = (math.floor(p.x / lon_step) + 0.5) * lon_step
    return Point(round(lon, 6), round(lat, 6))


def public_view(
    place: Place,
    grid_m: float = DEFAULT_GRID_M,
    protocol_labels: Sequence[ProtocolLabel] = (),
) -> PublicPlace:
    """What of ``place`` may be shown publicly (call only on places ``public_filter`` let in);
    pass its ``store.protocol_labels`` to carry them along."""
    if place.sensitivity == Sensitivity.HIDDEN:
        geometry, generalised = None, True
    elif place.sensitivity == Sensitivity.GENERALISED:
        geometry, generalised = generalise(place.geometry, grid_m), True
    else:
        geometry, generalised = place.geometry, False
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
