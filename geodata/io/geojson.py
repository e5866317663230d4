"""Streaming RFC 7946 GeoJSON: a FeatureCollection written batch by batch.

Longitude first, 6 decimals (about 10 cm), exterior rings counterclockwise, no ``crs``
member. The collection names its licence, attribution and every source licence in its
own members; each feature carries its own licence, consent scope and protocol labels,
and its ``id`` is the place's stable id. Memory stays flat whatever the size: one batch
of features is encoded (with orjson) and handed on before the next is read.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any, NamedTuple

import numpy as np
import orjson
import shapely

from geodata import features
from geodata.features import CONSENT_SCOPES, Projection, geometry_members
from geodata.io.export import (
    NO_PROTOCOL_LABELS,
    DatasetInfo,
    PublicBatch,
    count_licences,
    licence_list,
    neighbourhood_names,
    public_batches,
    to_batch,
)
from geodata.io.pipeline import read_ahead
from geodata.privacy import DEFAULT_GRID_M, public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.base_exports import EXPORT_COLUMNS, PENDING, FeatureBatch

MEDIA_TYPE = "application/geo+json"


def batch_geometry_members(batch: PublicBatch, project: Projection | None = None) -> list[Any]:
    """The batch's ``geometry`` members; a batch of plain points straight from its array.
    ``project`` gives them in another CRS (:func:`geodata.crs.projection`)."""
    if batch.xy is None:
        return geometry_members(batch.geometries, project)
    out: list[Any] = features.point_members(batch.xy, project)
    if batch.overrides:
        where = list(batch.overrides)
        shapes = np.array([batch.overrides[i] for i in where], dtype=object)
        for i, member in zip(where, geometry_members(shapes, project), strict=True):
            out[i] = member
    return out


def feature_tails(names: dict[int, str]) -> dict[int | None, bytes]:
    """The tail (:func:`geodata.features.tail`) of a place without protocol labels, by
    neighbourhood id (None: in no neighbourhood)."""
    tails: dict[int | None, bytes] = {nid: features.tail(nid, name) for nid, name in names.items()}
    tails[None] = features.tail(None, None)
    return tails


def languages_of(narratives: str) -> list[str]:
    """The ``languages`` property of a place from its narratives as stored (JSON text)."""
    if narratives == "[]":
        return NO_LANGUAGES
    return features.narrative_languages(n["language"] for n in orjson.loads(narratives))


NO_LANGUAGES: list[str] = []


def encoded_features(batch: PublicBatch, project: Projection | None = None) -> list[bytes]:
    """The batch's features, each encoded (:mod:`geodata.features` layout), their
    geometries in CRS84 or, through ``project``, another CRS."""
    head, tail, scopes, names = features.head, features.tail, CONSENT_SCOPES, batch.names
    labels = batch.labels.get
    return [
        head(
            r[0], geometry, r[4], r[5], languages_of(r[5]), r[6], r[7], r[8], r[9], r[10],
            r[11], r[12],
            scopes[r[13], r[14], r[15]], r[17], generalised, r[18], r[19], r[20],
        )
        + tail(r[16], names.get(r[16]), labels(r[0], NO_PROTOCOL_LABELS))
        for r, geometry, generalised in zip(
            batch.rows, batch_geometry_members(batch, project), batch.location_generalised,
            strict=True,
        )
    ]  # fmt: skip


# encoded_features reads rows by position for speed: refuse to run if the layout moves.
_LAYOUT = (
    "id", "geom", "geom_type", "sensitivity", "title", "narratives", "category", "period",
    "year_from", "year_to", "tags", "licence", "attribution", "consent_publish",
    "consent_open_data", "consent_research", "neighbourhood_id", "workshop", "created_at",
    "updated_at", "version",
)  # fmt: skip
if EXPORT_COLUMNS != _LAYOUT:  # pragma: no cover - a programming error
    raise ImportError("geodata.io.geojson: EXPORT_COLUMNS changed; update encoded_features")


def encode_features(batch: PublicBatch, project: Projection | None = None) -> bytes:
    """The batch's features as JSON, comma-separated, without enclosing brackets."""
    return b",".join(encoded_features(batch, project))


def encode_feature(batch: PublicBatch, project: Projection | None = None) -> bytes:
    """The first (only) feature of a batch as a JSON document."""
    return encoded_features(batch, project)[0]


def _completed(
    batch: FeatureBatch, store: PlaceStore, names: dict[int, str], grid_m: float
) -> bytes:
    """A store's feature batch with its pending features built here, through
    ``public_view`` (generalised and hidden places) and with their protocol labels."""
    if not batch.pending:
        return batch.body
    built = encoded_features(to_batch(batch.pending, names, grid_m, store))
    body, out, start = batch.body, [], 0
    for feature in built:
        mark = body.index(PENDING, start)  # bytes.find/index use memchr; split does not
        out += (body[start:mark], feature)
        start = mark + 1
    if body.find(PENDING, start) != -1:  # pragma: no cover - a store bug
        raise RuntimeError("a feature batch has more pending marks than rows")
    out.append(body[start:])
    return b"".join(out)


class FeatureChunk(NamedTuple):
    """Encoded, comma-separated features of consecutive places, how many, their
    (licence, attribution) counts, and how far through its scan the store is (a fraction,
    None when the store cannot tell)."""

    body: bytes
    count: int
    licences: dict[tuple[str, str | None], int]
    scanned: float | None = None


def public_feature_chunks(
    store: PlaceStore,
    flt: PlaceFilter | None,
    grid_m: float = DEFAULT_GRID_M,
    *,
    batch_size: int = 5000,
) -> Iterator[FeatureChunk]:
    """The open-data places matching ``flt`` (as :func:`public_batches` picks them) as
    encoded features, a chunk per batch.

    Without a bbox, features are copied from the heads the store keeps; places the public
    does not see where they are, and places with protocol labels, are built here.
    """
    flt = public_filter(flt, "open_data")
    names = neighbourhood_names(store)
    if flt.bbox is not None:
        for batch in public_batches(store, flt, names=names, grid_m=grid_m, batch_size=batch_size):
            if len(batch):
                licences: dict[tuple[str, str | None], int] = {}
                count_licences(batch, licences)
                yield FeatureChunk(encode_features(batch), len(batch), licences)
        return
    for stored in store.export_features(flt, feature_tails(names), batch_size=batch_size):
        body = _completed(stored, store, names, grid_m)
        yield FeatureChunk(body, stored.count, stored.licences, stored.scanned)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the collector off the objects that already exist while many short-lived
    feature dicts come and go (full collections would otherwise walk the whole heap)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def collection_chunks(
    chunks: Iterable[FeatureChunk],
    info: DatasetInfo,
    *,
    members: dict[str, Any] | None = None,
    progress: Callable[[int, float | None], None] | None = None,
) -> Iterator[bytes]:
    """A FeatureCollection as byte chunks: the head, the features' chunks (from
    :func:`public_feature_chunks`), the tail.

    The head names the dataset's licence and attribution; the tail adds the number of
    features and the licences of the sources they come from (counted while streaming).
    ``progress`` hears the number of features so far and the chunk's ``scanned``.
    """
    head = {
        "type": "FeatureCollection",
        "name": "places",
        "title": info.title,
        "licence": info.licence,
        "attribution": info.attribution,
        "rights": info.rights,
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **(members or {}),
    }
    yield orjson.dumps(head)[:-1] + b',"features":['
    n = 0
    licences: dict[tuple[str, str | None], int] = {}
    with frozen_heap():
        for chunk in chunks:
            if not chunk.count:
                continue
            if n:
                yield b","  # on its own: prefixing it would copy the whole chunk
            yield chunk.body
            n += chunk.count
            for key, k in chunk.licences.items():
                licences[key] = licences.get(key, 0) + k
            if progress is not None:
                progress(n, chunk.scanned)
    tail = {"numberReturned": n, "licences": licence_list(licences)}
    yield b"]," + orjson.dumps(tail)[1:]


def write_places_geojson(
    store: PlaceStore,
    flt: PlaceFilter | None,
    fh: IO[bytes],
    *,
    info: DatasetInfo | None = None,
    grid_m: float = DEFAULT_GRID_M,
    progress: Callable[[int, float | None], None] | None = None,
) -> int:
    """Write the open-data places matching ``flt`` to ``fh``; return how many.
    ``progress`` hears the number written so far and how far through its scan the store
    is (None when it cannot tell)."""
    written = 0

    def counted(k: int, scanned: float | None) -> None:
        nonlocal written
        written = k
        if progress is not None:
            progress(k, scanned)

    # Read on one thread while writing on this one (both mostly outside the GIL).
    chunks = read_ahead(public_feature_chunks(store, flt, grid_m))
    for chunk in collection_chunks(chunks, info or DatasetInfo(), progress=counted):
        fh.write(chunk)
    return written


def neighbourhood_features(
    store: PlaceStore,
    flt: PlaceFilter,
    categories: Sequence[str],
    project: Projection | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Neighbourhoods (those ``flt``'s neighbourhood and bbox pick) as features with the
    number of open-data places matching the rest of ``flt``, in all and per category;
    and the number of those places outside every neighbourhood. ``project`` gives their
    geometries in another CRS."""
    # The bbox picks neighbourhoods; counts are of whole neighbourhoods, so a small bbox
    # can never be used to find out where a hidden place lies.
    counting = public_filter(
        dataclasses.replace(flt, bbox=None, neighbourhood_id=None), "open_data"
    )
    counts = store.category_counts(counting)
    hoods = store.neighbourhoods()
    if flt.neighbourhood_id is not None:
        hoods = [n for n in hoods if n.id == flt.neighbourhood_id]
    shapes = np.array([n.geometry for n in hoods], dtype=object)
    if flt.bbox is not None and hoods:
        hits = shapely.intersects(shapely.box(*flt.bbox), shapes).tolist()
        hoods = [n for n, hit in zip(hoods, hits, strict=True) if hit]
        shapes = np.array([n.geometry for n in hoods], dtype=object)
    features = []
    for n, geometry in zip(hoods, geometry_members(shapes, project), strict=True):
        by_category = {f"places_{k}": counts.get((n.id, k), 0) for k in categories}
        properties = {"name": n.name, "code": n.code, "places": sum(by_category.values())}
        features.append(
            {"type": "Feature", "id": n.id, "geometry": geometry,
             "properties": {**properties, **by_category}}
        )  # fmt: skip
    outside = sum(v for (nid, _), v in counts.items() if nid is None)
    return features, outside
