"""What every download holds: published places whose contributors agreed to open data,
as the public may see them, read from the store in batches.

GeoJSON, GeoPackage, CSV and OGC API – Features all read :func:`public_batches`, which
always narrows the filter with :func:`geodata.privacy.public_filter` (audience
``open_data``) and lets :func:`geodata.privacy.public_view` place every sensitive place.
Personal data is never read: the store's export rows have no column for it.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geodata.features import CONSENT_SCOPES
from geodata.geometry_rules import M_PER_DEG_LAT, M_PER_DEG_LON
from geodata.privacy import (
    DEFAULT_GRID_M,
    public_filter,
    public_locations,
    shows_exact_location,
)
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.base_exports import EXPORT_COLUMNS

# Most places carry no Local Contexts TK/BC label: they share this one empty list.
NO_PROTOCOL_LABELS: list[str] = []
COLUMN = {name: i for i, name in enumerate(EXPORT_COLUMNS)}
_LICENCE = itemgetter(COLUMN["licence"], COLUMN["attribution"])


@dataclass(frozen=True)
class DatasetInfo:
    """How a download names itself and whom it credits (each feature has its own licence)."""

    title: str = "Heritage Atlas places"
    licence: str = "CC-BY-4.0"
    attribution: str = "Heritage Atlas contributors"
    rights: str = (
        "Each place carries its own licence and attribution; keep them when you reuse it. "
        "Sensitive locations are generalised or left out; no personal data is included."
    )


@dataclass
class PublicBatch:
    """Consecutive exported places: the store's rows (in :data:`EXPORT_COLUMNS` order, JSON
    text where the store keeps JSON) with their locations as the public may see them.

    When every place of the batch is stored as a plain point (the common case), the
    locations stay an (n, 2) lon/lat array: no geometry object is made unless asked for.
    """

    rows: list[tuple[Any, ...]]
    xy: np.ndarray | None  # stored lon/lat when every place is a point, else None
    stored: np.ndarray | None  # stored shapely geometries when xy is None
    overrides: dict[int, BaseGeometry | None]  # public_view's location where it differs
    location_generalised: list[bool]
    names: dict[int, str]  # neighbourhood names by id
    labels: dict[str, list[str]]  # Local Contexts TK/BC label ids by place id (if any)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def geometries(self) -> np.ndarray:
        """Shapely geometries as the public may see them (None where hidden)."""
        if self.xy is not None:
            base = shapely.points(self.xy) if len(self.xy) else np.array([], dtype=object)
        else:
            base = np.array(self.stored, dtype=object)
        for i, geometry in self.overrides.items():
            base[i] = geometry
        return base

    @property
    def ids(self) -> list[str]:
        return [r[0] for r in self.rows]

    def column(self, name: str) -> list[Any]:
        i = COLUMN[name]
        return [r[i] for r in self.rows]

    def consent(self) -> list[list[str]]:
        a, b, c = COLUMN["consent_publish"], COLUMN["consent_open_data"], COLUMN["consent_research"]
        return [CONSENT_SCOPES[r[a], r[b], r[c]] for r in self.rows]

    def protocol_labels(self) -> list[list[str]]:
        get = self.labels.get
        return [get(r[0], NO_PROTOCOL_LABELS) for r in self.rows]

    def neighbourhood(self) -> list[str | None]:
        get, i = self.names.get, COLUMN["neighbourhood_id"]
        return [get(r[i]) for r in self.rows]


# The fixed layout of a two-dimensional little-endian WKB point.
_WKB_POINT = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _decode(rows: Sequence[tuple[Any, ...]]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The rows' stored locations: an (n, 2) array read straight from the WKB bytes when all
    are points, shapely geometries otherwise."""
    wkbs = list(map(itemgetter(COLUMN["geom"]), rows))
    # Every record 21 bytes long and headed "little-endian 2D point": all are points.
    if wkbs and set(map(len, wkbs)) == {21}:
        xy = np.frombuffer(b"".join(wkbs), dtype=_WKB_POINT)
        if (xy["order"] == 1).all() and (xy["kind"] == 1).all():
            return np.column_stack([xy["x"], xy["y"]]), None
    return None, shapely.from_wkb(wkbs)


def _public_locations(
    rows: Sequence[tuple[Any, ...]],
    xy: np.ndarray | None,
    stored: np.ndarray | None,
    grid_m: float,
) -> tuple[dict[int, BaseGeometry | None], list[bool]]:
    """Where the public may see the places not shown where they are
    (:func:`geodata.privacy.public_locations`, ``public_view``'s rule), and every place's
    ``location_generalised`` flag."""
    s = COLUMN["sensitivity"]
    moved = [i for i, row in enumerate(rows) if not shows_exact_location(row[s])]
    generalised = [False] * len(rows)
    if not moved:
        return {}, generalised
    geometries = shapely.points(xy[moved]) if stored is None else stored[moved]  # type: ignore[index]
    shown, coarse = public_locations([rows[i][s] for i in moved], geometries, grid_m)
    for i, flag in zip(moved, coarse.tolist(), strict=True):
        generalised[i] = flag
    return dict(zip(moved, shown.tolist(), strict=True)), generalised


def to_batch(
    rows: list[tuple[Any, ...]],
    names: dict[int, str],
    grid_m: float = DEFAULT_GRID_M,
    store: PlaceStore | None = None,
    labels: dict[str, list[str]] | None = None,
) -> PublicBatch:
    """Export rows (after ``public_filter``) to a public batch: privacy applied here, and
    the places' cultural-protocol label ids as given, else read from ``store``."""
    xy, stored = _decode(rows)
    overrides, generalised = _public_locations(rows, xy, stored, grid_m)
    if labels is not None:
        return PublicBatch(rows, xy, stored, overrides, generalised, names, labels)
    labels = {}
    if store is not None and rows:
        found = store.protocol_labels([r[0] for r in rows])
        labels = {pid: [label.label_id for label in items] for pid, items in found.items()}
    return PublicBatch(rows, xy, stored, overrides, generalised, names, labels)


def neighbourhood_names(store: PlaceStore) -> dict[int, str]:
    return {n.id: n.name for n in store.neighbourhoods()}


def _margin_deg(bbox: tuple[float, float, float, float], grid_m: float) -> float:
    """How far (degrees) a generalised location may lie from its place's bounding box."""
    lat = min(max(abs(bbox[1]), abs(bbox[3])), 89.0)
    return grid_m / (min(M_PER_DEG_LAT, M_PER_DEG_LON) * math.cos(math.radians(lat)))


def generalised_near(flt: PlaceFilter, grid_m: float) -> PlaceFilter:
    """``flt`` for the generalised places whose generalised location may lie in its bbox:
    the bbox widened by how far a grid cell's centre may be from its place."""
    assert flt.bbox is not None
    m = _margin_deg(flt.bbox, grid_m)
    minx, miny, maxx, maxy = flt.bbox
    return dataclasses.replace(
        flt, bbox=(minx - m, miny - m, maxx + m, maxy + m), sensitivity="generalised"
    )


def _generalised_in_bbox(
    store: PlaceStore, flt: PlaceFilter, names: dict[int, str], grid_m: float
) -> PublicBatch | None:
    """Generalised places whose public (generalised) location lies in ``flt.bbox``."""
    assert flt.bbox is not None
    # Usually no place is generalised: a count kept per version of the places says so
    # without a search (and without the server-side cursor one takes on PostGIS).
    if not store.count(public_filter(PlaceFilter(sensitivity="generalised"), "open_data")):
        return None
    wider = generalised_near(flt, grid_m)
    area = box(*flt.bbox)
    kept: list[tuple[Any, ...]] = []
    for rows in store.export_rows(wider):
        batch = to_batch(rows, names, grid_m)
        inside = shapely.intersects(area, batch.geometries).tolist()
        kept += [r for r, hit in zip(rows, inside, strict=True) if hit]
    return to_batch(kept, names, grid_m, store) if kept else None


def _slice(batch: PublicBatch, start: int, stop: int) -> PublicBatch:
    stop = min(stop, len(batch))
    return PublicBatch(
        batch.rows[start:stop],
        None if batch.xy is None else batch.xy[start:stop],
        None if batch.stored is None else batch.stored[start:stop],
        {i - start: g for i, g in batch.overrides.items() if start <= i < stop},
        batch.location_generalised[start:stop],
        batch.names,
        batch.labels,
    )


def public_batches(
    store: PlaceStore,
    flt: PlaceFilter | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    batch_size: int = 1000,
    names: dict[int, str] | None = None,
    grid_m: float = DEFAULT_GRID_M,
) -> Iterator[PublicBatch]:
    """The open-data places matching ``flt``, oldest first, as the public may see them.

    A ``bbox`` matches public locations only: exact locations of public places, then the
    generalised locations of generalised places; hidden places have no location to match
    (without a bbox they are exported with a null geometry). Matching on true locations
    would let anyone narrow a hidden place down by repeated bbox queries.
    """
    flt = public_filter(flt, "open_data")
    names = neighbourhood_names(store) if names is None else names
    if flt.bbox is None:
        for rows in store.export_rows(flt, limit=limit, offset=offset, batch_size=batch_size):
            yield to_batch(rows, names, grid_m, store)
        return
    exact = dataclasses.replace(flt, sensitivity="public")
    returned = 0
    for rows in store.export_rows(exact, limit=limit, offset=offset, batch_size=batch_size):
        returned += len(rows)
        yield to_batch(rows, names, grid_m, store)
    if limit is not None and returned >= limit:
        return
    extra = _generalised_in_bbox(store, flt, names, grid_m)
    if extra is None:
        return
    # Past the public matches, the offset goes on counting into the generalised ones.
    skip = 0 if returned or not offset else max(0, offset - store.count(exact))
    stop = len(extra) if limit is None else skip + limit - returned
    if skip < len(extra):
        yield _slice(extra, skip, stop)


class PublicPage(NamedTuple):
    """One page of :func:`public_page`."""

    matched: int | None  # how many match in all; None when more than count_most do
    batches: list[PublicBatch]
    more: bool  # whether places follow this page


def public_page(
    store: PlaceStore,
    flt: PlaceFilter | None,
    *,
    limit: int,
    offset: int = 0,
    grid_m: float = DEFAULT_GRID_M,
    count_most: int | None = None,
) -> PublicPage:
    """One page of :func:`public_batches` and how many match in all, sharing the search
    for generalised places in a bbox. With ``count_most``, counting stops past that many
    matches (:meth:`PlaceStore.count_up_to`): beyond it ``matched`` is None, unless this
    page reaches the end, and whether more follow comes from reading one place further.
    Counts are kept per version of the places (:meth:`PlaceStore.count`)."""
    flt = public_filter(flt, "open_data")
    names = neighbourhood_names(store)
    # With a bbox: the public places' stored locations here, generalised ones below.
    exact = flt if flt.bbox is None else dataclasses.replace(flt, sensitivity="public")
    public_n, rows = store.export_page(exact, limit=limit, offset=offset, most=count_most)
    extra = None if flt.bbox is None else _generalised_in_bbox(store, flt, names, grid_m)
    batches = [to_batch(rows, names, grid_m, store)] if rows else []
    returned = len(rows)
    if returned > limit:  # only when counting stopped early: one more than the page
        return PublicPage(None, _first(batches, limit), True)
    if public_n is None:  # the public matches end on this page (or before it)
        public_n = offset + returned if returned else store.count(exact)
    if extra is not None and returned < limit:
        # Past the public matches, the offset goes on counting into the generalised ones.
        skip = max(0, offset - public_n)
        batches.append(_slice(extra, skip, skip + limit - returned))
        returned += len(batches[-1])
    matched = public_n + (len(extra) if extra is not None else 0)
    return PublicPage(matched, [b for b in batches if len(b)], offset + returned < matched)


def _first(batches: list[PublicBatch], n: int) -> list[PublicBatch]:
    """The first ``n`` places of consecutive batches."""
    out = []
    for batch in batches:
        if n <= 0:
            break
        out.append(batch if len(batch) <= n else _slice(batch, 0, n))
        n -= len(out[-1])
    return out


def count_public(
    store: PlaceStore, flt: PlaceFilter | None = None, grid_m: float = DEFAULT_GRID_M
) -> int:
    """How many places :func:`public_batches` yields for ``flt`` (without limit)."""
    flt = public_filter(flt, "open_data")
    if flt.bbox is None:
        return store.count(flt)
    extra = _generalised_in_bbox(store, flt, {}, grid_m)
    return store.count(dataclasses.replace(flt, sensitivity="public")) + (
        len(extra) if extra else 0
    )


def licence_list(counts: dict[tuple[str, str | None], int]) -> list[dict[str, Any]]:
    """Licence counts as records, most places first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or ""))
    return [{"licence": lic, "attribution": att, "places": n} for (lic, att), n in items]


def count_licences(batch: PublicBatch, counts: dict[tuple[str, str | None], int]) -> None:
    """Add a batch's (licence, attribution) pairs to ``counts``."""
    for key, n in Counter(map(_LICENCE, batch.rows)).items():
        counts[key] = counts.get(key, 0) + n


def coarse_bbox(bbox: Iterable[float] | None, step: float = 0.01) -> list[float] | None:
    """A bounding box widened outward to a ``step``-degree grid (about 1 km), so an extent
    never gives away the exact position of the place at its edge."""
    if bbox is None:
        return None
    minx, miny, maxx, maxy = bbox
    return [
        max(-180.0, round(math.floor(minx / step) * step, 6)),
        max(-90.0, round(math.floor(miny / step) * step, 6)),
        min(180.0, round(math.ceil(maxx / step) * step, 6)),
        min(90.0, round(math.ceil(maxy / step) * step, 6)),
    ]
