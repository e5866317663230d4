"""The store interface every backend implements, and the filters it understands."""

from __future__ import annotations

import abc
import contextlib
import functools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.models import (
    Account,
    AuditEvent,
    Credential,
    Media,
    Neighbourhood,
    NewPlaces,
    Place,
    PlaceFlag,
    ProtocolLabel,
    Status,
    Workshop,
)
from geodata.store.counts import CountCache
from geodata.store.walks import WalkStore

if TYPE_CHECKING:  # the tile modules import numpy and pandas: only when tiles are built
    from geodata.tile_layers import TilePlaces
    from geodata.tilematrix import Tile

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


# What a public export may read of a place: every column but personal data (the
# contributor's name, contact and display name never leave the store this way).
EXPORT_COLUMNS = (
    "id",
    "geom",
    "geom_type",
    "sensitivity",
    "title",
    "narratives",
    "category",
    "period",
    "year_from",
    "year_to",
    "tags",
    "licence",
    "attribution",
    "consent_publish",
    "consent_open_data",
    "consent_research",
    "neighbourhood_id",
    "workshop",
    "created_at",
    "updated_at",
    "version",
)


@dataclass(frozen=True)
class PlaceSummary:
    """Aggregates of the places a filter matches (``flt.bbox`` compared by bounding box)."""

    count: int
    bbox: tuple[float, float, float, float] | None  # union of their bounding boxes
    first_created: datetime | None
    last_created: datetime | None
    last_updated: datetime | None


# The sphere PostGIS measures on with ``use_spheroid => false``: the mean Earth radius.
EARTH_RADIUS_M = 6_371_008.8


def near_box(geometry: BaseGeometry, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding every point within ``radius_m`` metres of ``geometry``."""
    minx, miny, maxx, maxy = geometry.bounds
    deg = radius_m / (EARTH_RADIUS_M * math.pi / 180) * 1.01  # 1 % to spare
    widest = min(max(abs(miny), abs(maxy)) + deg, 89.9)  # where a degree of longitude is least
    dlon = deg / math.cos(math.radians(widest))
    return (minx - dlon, max(miny - deg, -90.0), maxx + dlon, min(maxy + deg, 90.0))


@dataclass(frozen=True)
class GridCell:
    """The matching places whose bounding-box centre falls in one cell of a lon/lat grid."""

    col: int  # floor(centre longitude / cell size)
    row: int  # floor(centre latitude / cell size)
    count: int
    lon: float  # mean of the places' bounding-box centres
    lat: float


# Marks, in a FeatureBatch's body, a feature the store could not copy (see below).
PENDING = b"\x00"  # a JSON text never holds a raw NUL, so the mark cannot be mistaken


@dataclass(frozen=True)
class FeatureBatch:
    """Consecutive exported places as GeoJSON features joined by commas, with
    :data:`PENDING` in place of each feature the caller must build itself (``pending``
    holds their export rows, in :data:`EXPORT_COLUMNS` order, in the same order), and the
    batch's (licence, attribution) counts."""

    body: bytes
    pending: list[tuple[Any, ...]]
    count: int
    licences: dict[tuple[str, str | None], int]
    scanned: float | None = None  # how far through its scan the store is, if it can tell


def assemble_features(
    rows: Iterable[tuple[str, bytes | None, int | None, str, str | None, bool]],
    tails: Mapping[int | None, bytes],
    fetch: Callable[[list[str]], list[tuple[Any, ...]]],
) -> FeatureBatch:
    """A :class:`FeatureBatch` from ``(id, stored head, neighbourhood id, licence,
    attribution, has protocol labels)`` rows; ``fetch`` reads the export rows of the
    pending ones (by id, in the same order, from the same snapshot)."""
    parts: list[bytes] = []
    pending: list[str] = []
    licences: dict[tuple[str, str | None], int] = {}
    for pid, head, nid, licence, attribution, labelled in rows:
        tail = tails.get(nid)
        if head is None or labelled or tail is None:
            parts.append(PENDING)
            pending.append(pid)
        else:
            parts.append(head + tail)
        key = (licence, attribution)
        licences[key] = licences.get(key, 0) + 1
    return FeatureBatch(b",".join(parts), fetch(pending) if pending else [], len(parts), licences)


def require_shown_where_stored(flt: PlaceFilter) -> None:
    """Refuse a filter that could let a stored geometry out which the public may not see
    there (generalised and hidden places): tiles draw stored geometries as they are."""
    if flt.audience is None or flt.sensitivity is None or str(flt.sensitivity) != "public":
        raise ValueError(
            "a tile draws stored geometries: give it a public_filter with sensitivity 'public'"
        )


class PlaceStore(abc.ABC, WalkStore):
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

    # -- exports (defaults built on ``list``; backends override them for speed) --------
    def export_rows(
        self,
        flt: PlaceFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        batch_size: int = 1000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Places matching ``flt`` as batches of rows in :data:`EXPORT_COLUMNS` order.

        Same places, order, ``limit`` and ``offset`` as :meth:`list` (``bbox`` exact), but
        raw: ``geom`` as WKB, ``narratives`` and ``tags`` as JSON text, timestamps as ISO
        8601 UTC text, consent flags as 0/1. No personal data is ever read.
        """
        from geodata.store.records import iso, narratives_json

        batch: list[tuple[Any, ...]] = []
        for p in self.list(flt, limit=limit, offset=offset):
            batch.append(
                (
                    p.id,
                    shapely.to_wkb(p.geometry),
                    p.geometry.geom_type,
                    str(p.sensitivity),
                    p.title,
                    narratives_json(p.narratives),
                    p.category,
                    p.period,
                    p.year_from,
                    p.year_to,
                    orjson.dumps(list(p.tags)).decode(),
                    p.licence,
                    p.attribution,
                    int(p.consent.publish),
                    int(p.consent.open_data),
                    int(p.consent.research),
                    p.neighbourhood_id,
                    p.workshop,
                    iso(p.created_at),
                    iso(p.updated_at),
                    p.version,
                )
            )
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def export_features(
        self,
        flt: PlaceFilter | None,
        tails: Mapping[int | None, bytes],
        *,
        batch_size: int = 5000,
    ) -> Iterator[FeatureBatch]:
        """The places matching ``flt`` (which has no ``bbox``) in :meth:`export_rows`' order,
        as GeoJSON features copied from their stored heads (``public_feature``, see
        :mod:`geodata.features`), each closed by ``tails[neighbourhood_id]``.

        A place is left :data:`PENDING` for the caller to build from :meth:`export_rows`
        when it has no stored head, carries protocol labels or lies in a neighbourhood
        ``tails`` does not know. This base version leaves every place pending.
        """
        if flt is not None and flt.bbox is not None:
            raise ValueError("export_features takes no bbox: use export_rows")
        counted = itemgetter(EXPORT_COLUMNS.index("licence"), EXPORT_COLUMNS.index("attribution"))
        for rows in self.export_rows(flt, batch_size=batch_size):
            licences = Counter(map(counted, rows))
            yield FeatureBatch(b",".join([PENDING] * len(rows)), rows, len(rows), dict(licences))

    def summary(self, flt: PlaceFilter | None = None) -> PlaceSummary:
        """Count, bounding box, first/last ``created_at`` and last ``updated_at`` of matches."""
        n, bounds, created, updated = 0, None, [], []
        for p in self.list(flt):
            n += 1
            b = p.geometry.bounds
            bounds = (
                b
                if bounds is None
                else (
                    min(bounds[0], b[0]),
                    min(bounds[1], b[1]),
                    max(bounds[2], b[2]),
                    max(bounds[3], b[3]),
                )
            )
            created.append(p.created_at)
            updated.append(p.updated_at)
        return PlaceSummary(
            n,
            bounds,
            min(created, default=None),
            max(created, default=None),
            max(updated, default=None),
        )

    def category_counts(self, flt: PlaceFilter | None = None) -> dict[tuple[int | None, str], int]:
        """Matching places per (neighbourhood id, category)."""
        counts: dict[tuple[int | None, str], int] = {}
        for p in self.list(flt):
            key = (p.neighbourhood_id, p.category)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def licence_counts(self, flt: PlaceFilter | None = None) -> dict[tuple[str, str | None], int]:
        """Matching places per (licence, attribution)."""
        counts: dict[tuple[str, str | None], int] = {}
        for p in self.list(flt):
            key = (p.licence, p.attribution)
            counts[key] = counts.get(key, 0) + 1
        return counts

    # -- vector tiles (built in Python here; PostGIS encodes them in SQL) ----------------
    def tile_rows(self, flt: PlaceFilter) -> list[tuple[Any, ...]]:
        """(id, WKB geometry, title, category, neighbourhood name, year_from, year_to) of
        the places matching ``flt`` (``bbox`` exact): public columns only."""
        names = {n.id: n.name for n in self.neighbourhoods()}
        c = {name: i for i, name in enumerate(EXPORT_COLUMNS)}
        return [
            (
                r[c["id"]],
                r[c["geom"]],
                r[c["title"]],
                r[c["category"]],
                names.get(r[c["neighbourhood_id"]]),
                r[c["year_from"]],
                r[c["year_to"]],
            )
            for rows in self.export_rows(flt)
            for r in rows
        ]

    def places_tile(
        self,
        flt: PlaceFilter,
        tile: Tile,
        extra: TilePlaces,
        *,
        layer: str = "places",
        limit: int | None = None,
    ) -> bytes | None:
        """An MVT layer of the places matching ``flt`` at their stored geometries, and of
        ``extra`` (places the caller has located: generalised ones at their public point),
        with :data:`~geodata.tile_layers.PLACE_PROPERTIES`; None when they are more than
        ``limit``. ``flt`` must come from :func:`geodata.privacy.public_filter` narrowed
        to places shown where they are."""
        from geodata.tile_layers import TilePlaces, places_layer

        require_shown_where_stored(flt)
        if limit is not None and self.count(flt) + len(extra) > limit:
            return None
        return places_layer(layer, tile, TilePlaces.from_rows(self.tile_rows(flt)).concat(extra))

    def tile_grid(self, flt: PlaceFilter, cell_deg: float) -> list[GridCell]:
        """:meth:`cluster_grid` for one vector tile (PostGIS runs it without parallel
        workers: a map asks for a dozen tiles at once, which would only compete)."""
        return self.cluster_grid(flt, cell_deg)

    def neighbourhoods_tile(
        self, tile: Tile, counts: dict[int, int], *, layer: str = "neighbourhoods"
    ) -> bytes:
        """An MVT layer of the neighbourhoods meeting ``tile``, each with its ``places``
        count from ``counts``."""
        from geodata.tile_layers import neighbourhoods_layer

        return neighbourhoods_layer(layer, tile, self.neighbourhoods(), counts)

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

    # -- contributions: edit tokens, flags, photos ------------------------------
    @abc.abstractmethod
    def set_edit_token_hash(self, place_id: str, token_hash: str) -> None:
        """Store (or replace) the hash of a place's private edit token."""

    @abc.abstractmethod
    def edit_token_hash(self, place_id: str) -> str | None:
        """The stored edit-token hash of a place, None if it has none (or does not exist)."""

    @abc.abstractmethod
    def add_flags(self, flags: Sequence[PlaceFlag]) -> None:
        """Store moderator hints; a repeated (place, kind, other place) is ignored."""

    @abc.abstractmethod
    def flags(self, place_id: str | None = None, kind: str | None = None) -> list[PlaceFlag]:
        """Hints, oldest first, for one place and/or of one kind (None: all)."""

    @abc.abstractmethod
    def add_media(self, media: Media) -> Media:
        """Store a photo's record after the place's last one (sets ``position``); NotFound
        if the place does not exist."""

    @abc.abstractmethod
    def media(self, place_id: str) -> list[Media]:
        """A place's photos in order."""

    @abc.abstractmethod
    def media_for_places(self, place_ids: Sequence[str]) -> dict[str, list[Media]]:
        """Photos of many places at once, each list in order (places without any left out)."""

    @abc.abstractmethod
    def get_media(self, media_id: str) -> Media:
        """One photo's record; raise NotFound."""

    @abc.abstractmethod
    def delete_media(self, media_id: str) -> None:
        """Forget a photo's record (its files are the caller's to remove); raise NotFound."""

    # -- request bookkeeping shared by every worker ---------------------------
    @abc.abstractmethod
    def idempotent_response(self, key_hash: str) -> IdempotentResponse | None:
        """The answer stored for an Idempotency-Key (hashed), if any."""

    @abc.abstractmethod
    def save_idempotent_response(self, key_hash: str, response: IdempotentResponse) -> None:
        """Remember the answer for an Idempotency-Key; raise Conflict if it is taken."""

    @abc.abstractmethod
    def purge_idempotent_responses(self, before: datetime) -> int:
        """Forget answers stored before ``before``; return how many."""

    @abc.abstractmethod
    def count_hit(
        self, bucket: str, window_s: int, at: datetime | None = None, cost: int = 1
    ) -> int:
        """Count ``cost`` hits (usually one) in ``bucket``'s current fixed window of
        ``window_s`` seconds and return the window's hits so far (these included); older
        windows are dropped. ``cost=0`` only reads the count."""

    @abc.abstractmethod
    def secret(self, name: str, create: Callable[[], bytes]) -> bytes:
        """A service-wide secret; the first caller's ``create()`` value wins for everyone."""

    # -- staff accounts, credentials, audit trail, protocol labels -------------
    # Not abstract so a backend still being ported keeps working for everything else.
    def _missing(self, what: str) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} does not keep {what} yet")

    def add_account(self, account: Account) -> Account:
        """Store a new staff account; raise Conflict if its name is taken (any case)."""
        raise self._missing("accounts")

    def get_account(self, account_id: str) -> Account:
        """The account with this id; raise NotFound."""
        raise self._missing("accounts")

    def account_by_name(self, name: str) -> Account | None:
        """The account with this name (case-insensitive), if any."""
        raise self._missing("accounts")

    def accounts(self) -> list[Account]:
        """Every account, by name."""
        raise self._missing("accounts")

    def update_account(self, account: Account) -> Account:
        """Save an account's role, password hash and ``disabled_at``; raise NotFound."""
        raise self._missing("accounts")

    def add_credential(self, credential: Credential) -> Credential:
        """Store an API token's or session's id and secret hash; NotFound without account."""
        raise self._missing("credentials")

    def get_credential(self, credential_id: str) -> Credential | None:
        """The credential with this id (revoked and expired ones included), if any."""
        raise self._missing("credentials")

    def credentials(self, account_id: str, kind: str | None = None) -> list[Credential]:
        """An account's credentials, newest first, of one kind ("token", "session") or all."""
        raise self._missing("credentials")

    def revoke_credential(self, credential_id: str, at: datetime) -> bool:
        """Mark a credential revoked at ``at``; False if unknown or already revoked."""
        raise self._missing("credentials")

    def delete_credential(self, credential_id: str) -> None:
        """Forget a credential (a session on sign-out); unknown ids are ignored."""
        raise self._missing("credentials")

    def purge_credentials(self, before: datetime) -> int:
        """Forget sessions that expired before ``before``; return how many."""
        raise self._missing("credentials")

    def login_throttle_for_update(self, key: str, at: datetime) -> LoginThrottle:
        """The failed sign-ins kept under ``key`` (an empty record, last attempt ``at``, if
        there is none), locked until the enclosing transaction ends: call it inside
        :meth:`transaction`, so concurrent attempts on one key wait for each other."""
        raise self._missing("sign-in throttling")

    def save_login_throttle(self, key: str, state: LoginThrottle) -> None:
        """Store the failed sign-ins under ``key``."""
        raise self._missing("sign-in throttling")

    def clear_login_throttle(self, key: str) -> None:
        """Forget the failed sign-ins under ``key`` (after a successful one)."""
        raise self._missing("sign-in throttling")

    def purge_login_throttles(self, before: datetime) -> int:
        """Forget records last tried before ``before`` and not locked after it."""
        raise self._missing("sign-in throttling")

    def add_audit(self, event: AuditEvent) -> AuditEvent:
        """Append an event to the audit trail (sets ``event.id``, increasing)."""
        raise self._missing("an audit trail")

    def audit_events(
        self,
        place_id: str | None = None,
        action: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """Events oldest first, for one place and/or one action; ``limit``: the latest N."""
        raise self._missing("an audit trail")

    def delete_audit_events(self, place_ids: Sequence[str]) -> int:
        """Forget every event about these places (erasure); return how many."""
        raise self._missing("an audit trail")

    def set_protocol_labels(self, place_id: str, labels: Sequence[ProtocolLabel]) -> None:
        """Replace a place's cultural-protocol labels (in order); raise NotFound."""
        raise self._missing("protocol labels")

    def protocol_labels(self, place_ids: Sequence[str]) -> dict[str, list[ProtocolLabel]]:
        """Labels of many places at once, each list in order (places without any left out)."""
        raise self._missing("protocol labels")

    def update_workshop(self, workshop: Workshop) -> Workshop:
        """Save a workshop's title, neighbourhood, time window, moderation and languages
        (found by its code); raise NotFound."""
        raise self._missing("workshop updates")

    def place_ids_by_contact(self, contact: str) -> list[str]:
        """Ids of every place whose contributor contact is ``contact`` (trimmed, any case)."""
        raise self._missing("contact lookups")

    def compact(self) -> None:
        """Rewrite the database so deleted data no longer sits in free pages (after erasure)."""

    def close(self) -> None:
        """Release connections."""


@dataclass(frozen=True)
class LoginThrottle:
    """Failed sign-ins on one account name (see :mod:`geodata.login_throttle`)."""

    failures: int
    locked_until: datetime | None
    last_attempt: datetime


@dataclass(frozen=True)
class IdempotentResponse:
    """The first answer to a request made with an Idempotency-Key."""

    request_hash: str  # what the request was: a retry must match it
    status: int
    body: bytes  # as the backend keeps it (the web layer encrypts it first)
    created_at: datetime
