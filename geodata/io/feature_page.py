"""One page of open-data places as GeoJSON features: what an OGC API items request
answers, with how many match and whether more follow.

Where the store can (:meth:`~geodata.store.base_exports.ExportDefaults.export_feature_page`,
PostGIS), the page is one statement: its public places arrive as their stored heads
(:mod:`geodata.features`), so nothing is decoded or encoded again, and no snapshot
transaction is opened around it. Otherwise, or when the statement cannot answer alone (a
count not kept for that state, a generalised place near the bbox, another CRS), the page
is :func:`geodata.io.export.public_page` read in a snapshot. Both give the same features.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from geodata import features
from geodata.features import Projection
from geodata.io.export import (
    NO_PROTOCOL_LABELS,
    generalised_near,
    public_page,
    to_batch,
)
from geodata.io.geojson import encode_features, encoded_features
from geodata.privacy import DEFAULT_GRID_M, public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.base_exports import PageRow


class EncodedPage(NamedTuple):
    """One page of features: their JSON, comma-separated, without enclosing brackets."""

    matched: int | None  # how many match in all; None when more than count_most do
    body: bytes
    returned: int
    more: bool  # whether places follow this page


def public_feature_page(
    store: PlaceStore,
    flt: PlaceFilter | None,
    *,
    limit: int,
    offset: int = 0,
    grid_m: float = DEFAULT_GRID_M,
    count_most: int | None = None,
    project: Projection | None = None,
) -> EncodedPage:
    """:func:`~geodata.io.export.public_page` encoded as GeoJSON (coordinates in CRS84, or
    through ``project`` in another CRS), read in one statement where the store can."""
    flt = public_filter(flt, "open_data")
    if project is None:  # stored heads are in CRS84
        page = _in_one_statement(store, flt, limit, offset, grid_m, count_most)
        if page is not None:
            return page
    with store.snapshot():  # the count and the page from one state of the store
        matched, batches, more = public_page(
            store, flt, limit=limit, offset=offset, grid_m=grid_m, count_most=count_most
        )
    body = b",".join(encode_features(b, project) for b in batches)
    return EncodedPage(matched, body, sum(len(b) for b in batches), more)


def _in_one_statement(
    store: PlaceStore,
    flt: PlaceFilter,
    limit: int,
    offset: int,
    grid_m: float,
    count_most: int | None,
) -> EncodedPage | None:
    # With a bbox, public_page matches public places where they are, then generalised
    # places on their grid cells: the statement takes the first, and answers only when
    # no generalised place lies near enough for the second to find one.
    exact, absent = flt, None
    if flt.bbox is not None:
        exact = dataclasses.replace(flt, sensitivity="public")
        absent = generalised_near(flt, grid_m)
    found = store.export_feature_page(
        exact, limit=limit, offset=offset, most=count_most, absent=absent
    )
    if found is None:
        return None
    returned = len(found.rows)
    matched = found.matched
    if matched is None:  # counting stopped early: a row beyond the page says more follow
        if returned > limit:
            return EncodedPage(None, _encode(found.rows[:limit], grid_m), limit, True)
        if not returned:  # past the end of a long count: public_page counts in full
            return None
        matched = offset + returned
    return EncodedPage(matched, _encode(found.rows, grid_m), returned, offset + returned < matched)


def _encode(rows: list[PageRow], grid_m: float) -> bytes:
    """The rows' features: stored heads closed by their tails, the others built from
    their export rows through ``public_view`` (in :func:`to_batch`)."""
    parts: list[bytes] = []
    pending: list[int] = []
    tails: dict[tuple[int | None, str | None], bytes] = {}
    for head, nid, name, labels, _ in rows:
        if head is None:
            pending.append(len(parts))
            parts.append(b"")
        elif labels:
            parts.append(head + features.tail(nid, name, labels))
        else:
            if (tail := tails.get((nid, name))) is None:
                tail = tails[nid, name] = features.tail(nid, name, NO_PROTOCOL_LABELS)
            parts.append(head + tail)
    if pending:
        built = [rows[i] for i in pending]
        export_rows = [r[4] for r in built]
        names = {nid: name for _, nid, name, _, _ in built if nid is not None}
        labels = {r[4][0]: r[3] for r in built if r[3]}
        batch = to_batch(export_rows, names, grid_m, labels=labels)
        for i, feature in zip(pending, encoded_features(batch), strict=True):
            parts[i] = feature
    return b",".join(parts)
