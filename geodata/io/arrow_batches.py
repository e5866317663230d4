"""Exported places as Arrow record batches of the download fields' types
(:mod:`geodata.io.fields`), for GeoParquet and FlatGeobuf.

A batch is built column by column from a :class:`~geodata.io.export.PublicBatch`: the
stored WKB is copied for places shown where they are, and only the places
:func:`geodata.privacy.public_view` moves or hides get a geometry of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import shapely

from geodata.features import narrative_languages
from geodata.io.export import COLUMN, PublicBatch
from geodata.io.fields import BOOLEAN, DATETIME, FIELDS, INTEGER, JSON, LIST, STRING
from geodata.store.base_exports import EXPORT_COLUMNS

# A story taken from elsewhere also says where from (source) and on what terms (licence).
NARRATIVE = pa.struct(
    [(key, pa.string()) for key in ("text", "language", "provenance", "source", "licence")]
)
TIMESTAMP = pa.timestamp("us", tz="UTC")
_ARROW = {
    STRING: pa.string(),
    INTEGER: pa.int64(),
    BOOLEAN: pa.bool_(),
    DATETIME: TIMESTAMP,
    LIST: pa.list_(pa.string()),
    JSON: pa.list_(NARRATIVE),
}
BBOX = pa.struct([(k, pa.float64()) for k in ("xmin", "ymin", "xmax", "ymax")])
GEOMETRY = "geometry"
# The properties, then the geometry as WKB, then (GeoParquet 1.1 "covering") its bounds.
SCHEMA = pa.schema(
    [
        *(pa.field(name, _ARROW[kind], nullable=name != "id") for name, kind in FIELDS),
        pa.field(GEOMETRY, pa.binary()),
        pa.field("bbox", BBOX),
    ]
)
TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
              "MultiPolygon", "GeometryCollection")  # fmt: skip
_EMPTY: list[Any] = []


def _lists(texts: Sequence[str]) -> list[list[Any]]:
    """JSON lists as stored, each text parsed once (the places of a bulk import often share
    their tags; an empty list is the most common of all)."""
    parsed: dict[str, list[Any]] = {"[]": _EMPTY}
    loads = orjson.loads
    return [parsed[t] if t in parsed else parsed.setdefault(t, loads(t)) for t in texts]


def _languages(narratives: list[list[dict[str, Any]]]) -> list[list[str]]:
    return [
        _EMPTY
        if not items
        else [items[0]["language"]]
        if len(items) == 1
        else narrative_languages(n["language"] for n in items)
        for items in narratives
    ]


def _timestamps(values: list[Any]) -> pa.Array:
    """ISO 8601 UTC text (as both stores export it) to timestamps."""
    return pa.array(values, pa.string()).cast(TIMESTAMP)


def _geometry(batch: PublicBatch) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """WKB of each public location (null where hidden), its bounds as an (n, 4) array (NaN
    where hidden), and its geometry type ids (-1 where hidden)."""
    n = len(batch)
    g = COLUMN["geom"]
    wkb: list[bytes | None] = [bytes(r[g]) for r in batch.rows]
    if batch.xy is not None:
        bounds = np.column_stack([batch.xy, batch.xy]) if n else np.empty((0, 4))
        types = np.zeros(n, dtype=np.int8)
    else:
        bounds = shapely.bounds(batch.stored)
        types = shapely.get_type_id(batch.stored).astype(np.int8)
    if batch.overrides:
        where = list(batch.overrides)
        moved = np.array([batch.overrides[i] for i in where], dtype=object)
        for i, data in zip(where, shapely.to_wkb(moved).tolist(), strict=True):
            wkb[i] = data
        bounds[where] = shapely.bounds(moved)
        types[where] = shapely.get_type_id(moved)
    return pa.array(wkb, pa.binary()), bounds, types


def _bbox(bounds: np.ndarray) -> pa.Array:
    hidden = np.isnan(bounds[:, 0])
    return pa.StructArray.from_arrays(
        [pa.array(bounds[:, k], pa.float64(), mask=hidden) for k in range(4)],
        fields=list(BBOX),
        mask=pa.array(hidden, pa.bool_()),
    )


def arrow_batch(batch: PublicBatch) -> tuple[pa.RecordBatch, np.ndarray, np.ndarray]:
    """The batch as an Arrow record batch of :data:`SCHEMA`, with its locations' bounds as
    an (n, 4) array (NaN rows for hidden places) and their geometry type ids (-1: none)."""
    # The rows as columns, in one pass.
    rows = dict(zip(EXPORT_COLUMNS, zip(*batch.rows, strict=True), strict=True))
    col = rows.get if batch.rows else (lambda name: ())
    narratives = _lists(col("narratives"))
    geometry, bounds, types = _geometry(batch)
    columns = {
        "id": col("id"),
        "title": col("title"),
        "narratives": narratives,
        "languages": _languages(narratives),
        "category": col("category"),
        "period": col("period"),
        "year_from": col("year_from"),
        "year_to": col("year_to"),
        "tags": _lists(col("tags")),
        "licence": col("licence"),
        "attribution": col("attribution"),
        "consent": batch.consent(),
        "protocol_labels": batch.protocol_labels(),
        "neighbourhood_id": col("neighbourhood_id"),
        "neighbourhood": batch.neighbourhood(),
        "workshop": col("workshop"),
        "location_generalised": batch.location_generalised,
        "created_at": _timestamps(col("created_at")),
        "updated_at": _timestamps(col("updated_at")),
        "version": col("version"),
    }
    arrays = [
        v if isinstance(v := columns[name], pa.Array) else pa.array(v, _ARROW[kind])
        for name, kind in FIELDS
    ]
    arrays += [geometry, _bbox(bounds)]
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA), bounds, types
