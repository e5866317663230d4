"""The store interface every backend implements, and the filters it understands."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from shapely.geometry.base import BaseGeometry

from geodata.models import Neighbourhood, Place, Status, Workshop


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


class PlaceStore(abc.ABC):
    """Places and neighbourhoods, with transactions. Every acknowledged write is durable."""

    @abc.abstractmethod
    def migrate(self) -> None:
        """Bring the schema up to date (idempotent)."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: all of them land, or (on an exception) none."""

    # -- places --------------------------------------------------------------
    @abc.abstractmethod
    def add(self, place: Place) -> Place:
        """Store a new place; raise Conflict if its id exists."""

    @abc.abstractmethod
    def add_many(self, places: Iterable[Place]) -> int:
        """Store many new places in one transaction; return how many."""

    @abc.abstractmethod
    def get(self, place_id: str) -> Place:
        """The place with this id; raise NotFound."""

    @abc.abstractmethod
    def update(self, place: Place, *, expected_version: int | None = None) -> Place:
        """Replace a stored place's fields, bumping its version and ``updated_at``.

        With ``expected_version``, raise Conflict if someone else changed it first.
        """

    @abc.abstractmethod
    def delete(self, place_id: str) -> None:
        """Remove a place for good; raise NotFound."""

    @abc.abstractmethod
    def list(
        self, flt: PlaceFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> Iterator[Place]:
        """Places matching ``flt``, oldest first (stable order for paging)."""

    @abc.abstractmethod
    def count(self, flt: PlaceFilter | None = None) -> int:
        """How many places match ``flt``."""

    @abc.abstractmethod
    def counts_by_neighbourhood(self, flt: PlaceFilter | None = None) -> dict[int | None, int]:
        """Matching places per neighbourhood id (``None`` for places outside every one)."""

    # -- neighbourhoods ------------------------------------------------------
    @abc.abstractmethod
    def replace_neighbourhoods(
        self, items: Sequence[tuple[str, BaseGeometry, str | None]]
    ) -> list[Neighbourhood]:
        """Replace every neighbourhood with (name, geometry, code) items; return them with ids."""

    @abc.abstractmethod
    def neighbourhoods(self) -> list[Neighbourhood]:
        """All neighbourhoods, by id."""

    def neighbourhood(self, neighbourhood_id: int) -> Neighbourhood:
        from geodata.errors import NotFound

        for n in self.neighbourhoods():
            if n.id == neighbourhood_id:
                return n
        raise NotFound(f"there is no neighbourhood {neighbourhood_id}")

    @abc.abstractmethod
    def set_neighbourhood_ids(self, assignments: Iterable[tuple[str, int | None]]) -> None:
        """Set the neighbourhood of many places at once, by place id."""

    # -- workshops -----------------------------------------------------------
    @abc.abstractmethod
    def add_workshop(self, workshop: Workshop) -> Workshop:
        """Store a new workshop; raise Conflict if its code is taken."""

    @abc.abstractmethod
    def get_workshop(self, code: str) -> Workshop:
        """The workshop with this join code (case-insensitive); raise NotFound."""

    @abc.abstractmethod
    def workshops(self) -> list[Workshop]:
        """All workshops, newest first."""

    def close(self) -> None:  # noqa: B027 - optional for backends with nothing to close
        """Release connections."""
