"""Walks: an ordered list of public places told as one story, stop by stop.

A walk has a title, an introduction and a chapter per stop, each in one or more
languages (narratives, with the same provenance rules as a place's stories), and an
optional route line; without one the walk is drawn stop to stop. Checking a proposal is
:mod:`geodata.walk_checks`, its lifecycle :mod:`geodata.walk_lifecycle`, and what the
public sees of it :mod:`geodata.walk_views`.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pyproj import Geod
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geodata.models import DEFAULT_LICENCE, Consent, Narrative, Status, utcnow

WALKING_M_PER_MIN = 75.0  # 4.5 km/h, the pace walking-tour guides plan with
_GEOD = Geod(ellps="WGS84")


def new_walk_id() -> str:
    """A stable, opaque, URL-safe identifier, told apart from a place's by its prefix."""
    return "wk_" + secrets.token_urlsafe(9)


@dataclass
class WalkStop:
    """One stop: a place and the walk's chapter about it, in one or more languages."""

    place_id: str
    chapters: list[Narrative]


@dataclass
class Walk:
    """A walk as stored; personal data (the proposer's name and contact) included."""

    titles: list[Narrative]
    introductions: list[Narrative]
    stops: list[WalkStop]
    route: BaseGeometry | None = None  # a LineString; None: drawn stop to stop
    id: str = field(default_factory=new_walk_id)
    status: Status = Status.PENDING
    # True: the title and introduction are the atlas's own factual wording (the demo's),
    # not a resident's; pages say so.
    editorial: bool = False
    licence: str = DEFAULT_LICENCE
    consent: Consent = field(default_factory=Consent)
    contributor_name: str | None = None  # personal data
    contributor_contact: str | None = None  # personal data
    display_name: str | None = None  # the name the proposer chose to show
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1


def metres(line: BaseGeometry) -> float:
    """The geodesic length of a WGS84 line, in metres."""
    return float(_GEOD.geometry_length(line)) if not line.is_empty else 0.0


def walking_minutes(length_m: float) -> int:
    """Minutes on foot at an easy pace, rounded up to the next 5 (at least 5)."""
    return max(5, 5 * math.ceil(length_m / WALKING_M_PER_MIN / 5))


def stop_to_stop(points: Sequence[BaseGeometry]) -> LineString | None:
    """The line through the stops in order (None for fewer than two)."""
    coords = [(p.centroid.x, p.centroid.y) for p in points]
    return LineString(coords) if len(coords) >= 2 else None
