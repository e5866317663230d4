"""Which places a query asks for: the filter every store backend and every output reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from geodata.models import Status

if TYPE_CHECKING:
    from geodata.filter_nodes import Filter


@dataclass(frozen=True)
class PlaceFilter:
    """Which places a query returns; every field left ``None`` matches everything.

    ``bbox`` is (min lon, min lat, max lon, max lat) and matches places whose geometry
    intersects it. ``since``/``until`` bound ``created_at`` (since inclusive, until
    exclusive); ``updated_since`` bounds ``updated_at`` (for live maps). ``audience``
    is set by :func:`geodata.privacy.public_filter`, never by hand.
    """

    bbox: tuple[float, float, float, float] | None = None
    neighbourhood_id: int | None = None
    category: str | Sequence[str] | None = None
    status: Status | str | Sequence[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    updated_since: datetime | None = None
    workshop: str | None = None
    language: str | None = None  # places with a narrative in this language (primary subtag)
    year_from: int | None = None  # places whose period overlaps [year_from, year_to]
    year_to: int | None = None
    # "map" or "open_data": only published places whose contributor consented to that use.
    audience: str | None = None
    sensitivity: str | Sequence[str] | None = None  # "public", "generalised", "hidden"
    # Substring of the title, case-insensitive (ASCII at least); for searches that fold
    # accents and look in narratives too, see PlaceStore.search.
    title_contains: str | None = None
    ids: Sequence[str] | None = None  # only the places with these ids
    # A checked CQL2 filter (geodata.filters.compile_filter) over the public queryables.
    where: Filter | None = None
    # The order of list and export_rows: (queryable, descending) pairs, each with empty
    # values last, then oldest first (the default order alone when None).
    order: tuple[tuple[str, bool], ...] | None = None
