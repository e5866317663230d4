"""What a public export reads of the store: the columns, the stored GeoJSON features'
batches, the summaries a download carries, and their defaults built on
:meth:`~geodata.store.base.PlaceStore.list` (backends override them for speed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
import shapely

from geodata.place_filter import PlaceFilter
from geodata.store.records import iso, narratives_json

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


# (stored head, neighbourhood id, neighbourhood name, protocol label ids, export row)
PageRow = tuple[bytes | None, int | None, str | None, list[str], tuple[Any, ...] | None]


class FeaturePage(NamedTuple):
    """One page of :meth:`~geodata.store.base.PlaceStore.export_page` read in one statement,
    each place as ``(head, neighbourhood id, neighbourhood name, protocol label ids, export
    row)``: ``head`` is the place's stored ``public_feature`` when it is shown where it is (then
    ``export row`` is None), else None and ``export row`` (:data:`EXPORT_COLUMNS` order)
    holds what the caller builds the feature from, through ``public_view``."""

    matched: int | None  # as export_page's count: None when more than ``most`` match
    rows: list[PageRow]


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


class ExportDefaults:
    """Exports built on ``list``, mixed into :class:`~geodata.store.base.PlaceStore`."""

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

    def export_feature_page(
        self,
        flt: PlaceFilter | None,
        *,
        limit: int,
        offset: int = 0,
        most: int | None = None,
        absent: PlaceFilter | None = None,
    ) -> FeaturePage | None:
        """:meth:`export_page` (the same count, places and order) with the stored heads,
        all read in one statement, so from one state of the store without a snapshot's
        transaction; or None when this store cannot answer so: the caller then reads the
        page in a :meth:`snapshot`. A backend answers None as well when that state holds a
        place matching ``absent`` (what the caller would have to add to the page), or
        when it keeps no count of ``flt`` for that state (a ``bbox`` is counted in the
        statement itself). This base version always answers None."""
        return None

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
