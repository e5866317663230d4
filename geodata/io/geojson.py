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
from typing import IO, Any

import numpy as np
import orjson
import shapely

from geodata.io.export import (
    CONSENT_SCOPES,
    NO_PROTOCOL_LABELS,
    DatasetInfo,
    PublicBatch,
    count_licences,
    licence_list,
    public_batches,
)
from geodata.privacy import DEFAULT_GRID_M, public_filter
from geodata.store.base import EXPORT_COLUMNS, PlaceFilter, PlaceStore

MEDIA_TYPE = "application/geo+json"
PRECISION = 6


def _round(coords: np.ndarray) -> np.ndarray:
    return np.round(coords, PRECISION)


def geometry_members(geometries: np.ndarray) -> list[Any]:
    """Each geometry as an RFC 7946 ``geometry`` member (None stays None).

    Points become small dicts from one vectorised coordinate array; routes and areas are
    oriented (right-hand rule), rounded and written by GEOS, then embedded as fragments.
    """
    out: list[Any] = [None] * len(geometries)
    type_ids = shapely.get_type_id(geometries)
    points = np.flatnonzero(type_ids == 0)
    if len(points):
        coords = _round(shapely.get_coordinates(geometries[points])).tolist()
        for i, xy in zip(points.tolist(), coords, strict=True):
            out[i] = {"type": "Point", "coordinates": xy}
    others = np.flatnonzero(type_ids > 0)
    if len(others):
        shapes = shapely.transform(shapely.orient_polygons(geometries[others]), _round)
        for i, text in zip(others.tolist(), shapely.to_geojson(shapes).tolist(), strict=True):
            out[i] = orjson.Fragment(text)
    return out


def batch_geometry_members(batch: PublicBatch) -> list[Any]:
    """The batch's ``geometry`` members; a batch of plain points straight from its array."""
    if batch.xy is None:
        return geometry_members(batch.geometries)
    out: list[Any] = [{"type": "Point", "coordinates": xy} for xy in _round(batch.xy).tolist()]
    if batch.overrides:
        where = list(batch.overrides)
        shapes = np.array([batch.overrides[i] for i in where], dtype=object)
        for i, member in zip(where, geometry_members(shapes), strict=True):
            out[i] = member
    return out


def feature_dicts(batch: PublicBatch) -> list[dict[str, Any]]:
    """The batch's features, ready for orjson (stored JSON embedded as fragments)."""
    frag, scopes, names = orjson.Fragment, CONSENT_SCOPES, batch.names
    labels = batch.labels.get
    return [
        {
            "type": "Feature",
            "id": r[0],
            "geometry": geometry,
            "properties": {
                "title": r[4],
                "narratives": frag(r[5]),
                "category": r[6],
                "period": r[7],
                "year_from": r[8],
                "year_to": r[9],
                "tags": frag(r[10]),
                "licence": r[11],
                "attribution": r[12],
                "consent": scopes[r[13], r[14], r[15]],
                "protocol_labels": labels(r[0], NO_PROTOCOL_LABELS),
                "neighbourhood_id": r[16],
                "neighbourhood": names.get(r[16]),
                "workshop": r[17],
                "location_generalised": generalised,
                "created_at": r[18],
                "updated_at": r[19],
                "version": r[20],
            },
        }
        for r, geometry, generalised in zip(
            batch.rows,
            batch_geometry_members(batch),
            batch.location_generalised,
            strict=True,
        )
    ]


# feature_dicts reads rows by position for speed: refuse to run if the layout moves.
_LAYOUT = (
    "id", "geom", "geom_type", "sensitivity", "title", "narratives", "category", "period",
    "year_from", "year_to", "tags", "licence", "attribution", "consent_publish",
    "consent_open_data", "consent_research", "neighbourhood_id", "workshop", "created_at",
    "updated_at", "version",
)  # fmt: skip
if EXPORT_COLUMNS != _LAYOUT:  # pragma: no cover - a programming error
    raise ImportError("geodata.io.geojson: EXPORT_COLUMNS changed; update feature_dicts")


def encode_features(batch: PublicBatch) -> bytes:
    """The batch's features as JSON, comma-separated, without enclosing brackets."""
    return orjson.dumps(feature_dicts(batch))[1:-1]


def encode_feature(batch: PublicBatch) -> bytes:
    """The first (only) feature of a batch as a JSON document."""
    return orjson.dumps(feature_dicts(batch)[0])


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
    batches: Iterable[PublicBatch],
    info: DatasetInfo,
    *,
    members: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """A FeatureCollection as byte chunks: the head, one chunk per batch, the tail.

    The head names the dataset's licence and attribution; the tail adds the number of
    features and the licences of the sources they come from (counted while streaming).
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
        for batch in batches:
            if not len(batch):
                continue
            chunk = encode_features(batch)
            yield chunk if n == 0 else b"," + chunk
            n += len(batch)
            count_licences(batch, licences)
            if progress is not None:
                progress(n)
    tail = {"numberReturned": n, "licences": licence_list(licences)}
    yield b"]," + orjson.dumps(tail)[1:]


def write_places_geojson(
    store: PlaceStore,
    flt: PlaceFilter | None,
    fh: IO[bytes],
    *,
    info: DatasetInfo | None = None,
    grid_m: float = DEFAULT_GRID_M,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the open-data places matching ``flt`` to ``fh``; return how many."""
    written = 0

    def counted(k: int) -> None:
        nonlocal written
        written = k
        if progress is not None:
            progress(k)

    for chunk in collection_chunks(
        public_batches(store, flt, grid_m=grid_m), info or DatasetInfo(), progress=counted
    ):
        fh.write(chunk)
    return written


def neighbourhood_features(
    store: PlaceStore, flt: PlaceFilter, categories: Sequence[str]
) -> tuple[list[dict[str, Any]], int]:
    """Neighbourhoods (those ``flt``'s neighbourhood and bbox pick) as features with the
    number of open-data places matching the rest of ``flt``, in all and per category;
    and the number of those places outside every neighbourhood."""
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
    for n, geometry in zip(hoods, geometry_members(shapes), strict=True):
        by_category = {f"places_{k}": counts.get((n.id, k), 0) for k in categories}
        properties = {"name": n.name, "code": n.code, "places": sum(by_category.values())}
        features.append(
            {"type": "Feature", "id": n.id, "geometry": geometry,
             "properties": {**properties, **by_category}}
        )  # fmt: skip
    outside = sum(v for (nid, _), v in counts.items() if nid is None)
    return features, outside
