"""The store interface every backend implements: places, counts, search and
neighbourhoods here; exports, tiles, contributions and accounts in the ``base_*``
modules it is assembled from."""

from __future__ import annotations

import abc
import contextlib
import functools
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from operator import itemgetter
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.models import Neighbourhood, NewPlaces, Place
from geodata.place_filter import PlaceFilter
from geodata.store.base_accounts import AccountsDefaults
from geodata.store.base_contributions import ContributionsContract
from geodata.store.base_exports import ExportDefaults
from geodata.store.base_recordings import RecordingStore
from geodata.store.base_sync import SyncStore
from geodata.store.base_tiles import GridCell, TileDefaults
from geodata.store.counts import CountCache
from geodata.store.narrative_additions import NarrativeAdditionsInterface
from geodata.store.walks import WalkStore

__all__ = ["EARTH_RADIUS_M", "PlaceFilter", "PlaceStore", "near_box"]

# The sphere PostGIS measures on with ``use_spheroid => false``: the mean Earth radius.
EARTH_RADIUS_M = 6_371_008.8


def near_box(geometry: BaseGeometry, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding every point within ``radius_m`` metres of ``geometry``."""
    minx, miny, maxx, maxy = geometry.bounds
    deg = radius_m / (EARTH_RADIUS_M * math.pi / 180) * 1.01  # 1 % to spare
    widest = min(max(abs(miny), abs(maxy)) + deg, 89.9)  # where a degree of longitude is least
    dlon = deg / math.cos(math.radians(widest))
    return (minx - dlon, max(miny - deg, -90.0), maxx + dlon, min(maxy + deg, 90.0))


class PlaceStore(
    NarrativeAdditionsInterface,
    ExportDefaults,
    TileDefaults,
    ContributionsContract,
    RecordingStore,
    SyncStore,
    AccountsDefaults,
    abc.ABC,
    WalkStore,
):
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

    def add_new(self, batches: Iterable[NewPlaces]) -> int:
        """Store a bulk import's new places, given as batches of columns, in one
        transaction; return how many. The batches may be built while earlier ones are
        written; an exception from them rolls everything back. Backends with a columnar
        write path override this."""
        return self.add_many(place for batch in batches for place in batch.places())

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

    def latest_with_story(self, flt: PlaceFilter | None = None, *, limit: int = 6) -> list[Place]:
        """The ``limit`` newest matching places that have a story, newest first by
        ``created_at`` (the home page). Backends override this with one bounded query; this
        default reads them all."""
        told = [p for p in self.list(flt) if p.narratives][::-1]  # ties: the newer row first
        return sorted(told, key=lambda p: p.created_at, reverse=True)[:limit]

    def count(self, flt: PlaceFilter | None = None) -> int:
        """How many places match ``flt``: exact, and kept until the places change, so asking
        again costs one small query instead of a scan (:mod:`geodata.store.counts`)."""
        return self._counts.get_or_count(
            ("all", repr(flt)), self._count_version(), lambda: self._count(flt)
        )

    def count_up_to(self, flt: PlaceFilter | None, most: int) -> int | None:
        """How many places match ``flt`` if at most ``most`` do, else None: counting stops
        after ``most + 1`` matches, so the work is bounded whatever the filter. Kept until
        the places change, as :meth:`count` is."""
        return self._counts.get_or_count(
            ("up_to", most, repr(flt)),
            self._count_version(),
            lambda: self._count_up_to(flt, most),
        )

    def export_page(
        self, flt: PlaceFilter | None, *, limit: int, offset: int = 0, most: int | None = None
    ) -> tuple[int | None, list[tuple[Any, ...]]]:
        """How many places match ``flt`` (as :meth:`count` or, with ``most``,
        :meth:`count_up_to` gives it) and a page of their :meth:`export_rows`. When the
        count is None the page holds one row beyond ``limit`` if more places follow.
        Backends may find both in one pass over the matches."""
        n = self.count(flt) if most is None else self.count_up_to(flt, most)
        if n is not None and offset >= n:
            return n, []
        page = self.export_rows(flt, limit=limit + (n is None), offset=offset)
        return n, [row for rows in page for row in rows]

    @abc.abstractmethod
    def _count(self, flt: PlaceFilter | None) -> int:
        """How many places match ``flt``, counted now."""

    def _count_up_to(self, flt: PlaceFilter | None, most: int) -> int | None:
        """:meth:`count_up_to`, counted now (backends stop counting at ``most + 1``)."""
        n = self._count(flt)
        return n if n <= most else None

    def _count_version(self) -> str | None:
        """The version counts are filed under, read now; None files nothing (a backend
        without a cheap version, or inside a write transaction whose writes may yet be
        rolled back)."""
        return None

    @functools.cached_property
    def _counts(self) -> CountCache:
        return CountCache()

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see one state of the store, as of the first of them (read only):
        a page of places and the count beside it agree. Backends without snapshots
        read as they go."""
        return contextlib.nullcontext()

    @abc.abstractmethod
    def counts_by_neighbourhood(self, flt: PlaceFilter | None = None) -> dict[int | None, int]:
        """Matching places per neighbourhood id (``None`` for places outside every one)."""

    @abc.abstractmethod
    def cluster_grid(self, flt: PlaceFilter | None, cell_deg: float) -> list[GridCell]:
        """Matching places aggregated on a grid of ``cell_deg`` degrees, in the database.

        Each place counts in the cell holding the centre of its bounding box
        (``floor(x / cell_deg)``, ``floor(y / cell_deg)``); ``flt.bbox`` selects places by
        the spatial index as ``list`` does. Cells without places are left out; any order.
        """

    def places_near(
        self,
        geometry: BaseGeometry,
        radius_m: float,
        flt: PlaceFilter | None = None,
        *,
        limit: int = 200,
    ) -> list[tuple[Place, float]]:
        """Places within ``radius_m`` metres of ``geometry`` and their distance in metres,
        nearest first (ties oldest first), at most ``limit``; ``flt`` narrows them further
        (its ``bbox`` is ignored). Distances are between the nearest points of the two
        geometries on a sphere of radius :data:`EARTH_RADIUS_M`.

        This default selects candidates by bounding box (the spatial index) and measures in
        a local projection around them; PostGIS measures with ``ST_DWithin`` in the database.
        """
        import dataclasses

        box = near_box(geometry, radius_m)
        candidates = self.list(dataclasses.replace(flt or PlaceFilter(), bbox=box))
        m_per_deg = EARTH_RADIUS_M * math.pi / 180
        lat = (geometry.bounds[1] + geometry.bounds[3]) / 2
        scale = [m_per_deg * math.cos(math.radians(lat)), m_per_deg]

        def metres(g: BaseGeometry) -> BaseGeometry:
            return shapely.transform(g, lambda xy: xy * scale)

        here = metres(geometry)
        found = [(p, float(here.distance(metres(p.geometry)))) for p in candidates]
        found = [(p, d) for p, d in found if d <= radius_m]
        found.sort(key=lambda pair: pair[1])  # stable: oldest first among equal distances
        return found[:limit]

    def search(self, text: str, flt: PlaceFilter | None = None, *, limit: int = 20) -> list[Place]:
        """Places matching ``flt`` whose title or narratives hold what ``text`` asks for,
        best first, at most ``limit`` (capped at :data:`geodata.search.MAX_RESULTS`).

        Any script, any case, with or without accents; the rules (what matches, in which
        order) are :mod:`geodata.search`'s. Any text is safe: nothing in it is syntax.
        This default folds every place ``flt`` matches; backends search an index.
        """
        from geodata.search import (
            capped,
            narratives_search_text,
            parse_query,
            rank,
            search_text,
            sort_key,
        )

        query = parse_query(text)
        if query is None or not capped(limit):
            return []
        found = []
        for order, place in enumerate(self.list(flt)):
            title = search_text(place.title)
            tier = rank(query, title, narratives_search_text(n.text for n in place.narratives))
            if tier is not None:
                found.append((sort_key(tier, title, order), place))
        found.sort(key=itemgetter(0))
        return [place for _, place in found[: capped(limit)]]

    def story_languages(self, flt: PlaceFilter | None = None) -> dict[str, int]:
        """How many stories the matching places tell in each language (tags lower-cased)."""
        counts: dict[str, int] = {}
        for p in self.list(flt):
            for n in p.narratives:
                tag = n.language.lower()
                counts[tag] = counts.get(tag, 0) + 1
        return counts

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

    def places_version(self) -> tuple[str, datetime | None]:
        """A value that changes whenever a place is added, changed or removed or protocol
        labels change (downloads' ETags), and about when that last happened. Backends
        override this with a counter; this default reads every place."""
        s = self.summary()
        return f"{s.count}:{s.last_updated}", s.last_updated

    def neighbourhoods_version(self) -> str:
        """A value that changes whenever the neighbourhoods change, for caches of what is
        derived from them. Backends override this with a cheap counter; this default
        reads every polygon."""
        import hashlib

        digest = hashlib.sha256()
        for n in self.neighbourhoods():
            digest.update(f"{n.id}\0{n.name}\0{n.code}\0".encode() + n.geometry.wkb)
        return digest.hexdigest()

    @abc.abstractmethod
    def set_neighbourhood_ids(self, assignments: Iterable[tuple[str, int | None]]) -> None:
        """Set the neighbourhood of many places at once, by place id."""

    def reassign_neighbourhoods(self) -> int:
        """Give every place its neighbourhood by the rule of
        :func:`geodata.neighbourhoods.assign_neighbourhoods`; return how many places changed.

        This default joins in Python (geopandas); PostGIS overrides it to join in the database.
        """
        from geodata.neighbourhoods import assign_neighbourhoods

        with self.transaction():
            places = list(self.list())
            ids = assign_neighbourhoods([p.geometry for p in places], self.neighbourhoods())
            changed = [
                (p.id, n) for p, n in zip(places, ids, strict=True) if p.neighbourhood_id != n
            ]
            self.set_neighbourhood_ids(changed)
        return len(changed)

    def compact(self) -> None:  # optional: a no-op where space is reused anyway
        """Rewrite the database so deleted data no longer sits in free pages (after erasure)."""

    def close(self) -> None:  # optional for backends with nothing to close
        """Release connections."""
