"""GeoParquet 1.1 downloads: the open-data places as a Parquet file, written a row group at
a time and handed on as bytes as each row group is finished, so memory stays flat and the
first bytes leave before the last place is read.

The file follows GeoParquet 1.1.0: a ``geometry`` column of WKB, a ``bbox`` covering column
(a struct of xmin, ymin, xmax, ymax per place, which lets readers skip row groups outside a
box), and the ``geo`` key in the file metadata naming the encoding, the geometry types
present, the CRS (OGC:CRS84, as PROJJSON) and the bounding box. The metadata lives in the
footer, which Parquet writes last: the geometry types and bounds are gathered while the
places go by. The dataset's title, licence, attribution and rights, the filters and the
source licences are in the file metadata too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pyproj

from geodata.io.arrow_batches import GEOMETRY, SCHEMA, TYPE_NAMES, arrow_batch
from geodata.io.export import DatasetInfo, PublicBatch, count_licences, licence_list, public_batches
from geodata.privacy import DEFAULT_GRID_M
from geodata.store.base import PlaceFilter, PlaceStore

MEDIA_TYPE = "application/vnd.apache.parquet"
GEOPARQUET_VERSION = "1.1.0"
# Rows per row group: the unit a reader skips by its statistics, and what is held in
# memory at once while writing (about 20 MB of Arrow arrays for typical places).
ROWS_PER_GROUP = 50_000
BATCH_SIZE = 5_000  # rows read from the store at a time


@functools.cache
def crs84() -> dict[str, Any]:
    """OGC:CRS84 (WGS 84, longitude first) as PROJJSON."""
    return pyproj.CRS("OGC:CRS84").to_json_dict()


class Extent:
    """The geometry types and bounding box of the places written so far."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.bounds: list[float] | None = None

    def add(self, bounds: np.ndarray, types: np.ndarray) -> None:
        self.types.update(TYPE_NAMES[t] for t in np.unique(types).tolist() if t >= 0)
        shown = bounds[~np.isnan(bounds[:, 0])]
        if not len(shown):
            return
        box = [*shown[:, :2].min(axis=0).tolist(), *shown[:, 2:].max(axis=0).tolist()]
        if self.bounds is not None:
            box = [*np.minimum(self.bounds[:2], box[:2]).tolist(),
                   *np.maximum(self.bounds[2:], box[2:]).tolist()]  # fmt: skip
        self.bounds = box


def geo_metadata(extent: Extent) -> dict[str, Any]:
    """The ``geo`` file metadata of GeoParquet 1.1 for what ``extent`` saw."""
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": sorted(extent.types),
        "crs": crs84(),
        "edges": "planar",
        "covering": {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}},
    }
    if extent.bounds is not None:
        column["bbox"] = extent.bounds
    return {
        "version": GEOPARQUET_VERSION,
        "primary_column": GEOMETRY,
        "columns": {GEOMETRY: column},
    }


def dataset_metadata(info: DatasetInfo, filters: dict[str, object] | None) -> dict[str, str]:
    """What the file says about itself, as Parquet key-value metadata (strings)."""
    return {
        "title": info.title,
        "licence": info.licence,
        "attribution": info.attribution,
        "rights": info.rights,
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "filters": orjson.dumps(filters or {}).decode(),
    }


class _Sink:
    """A write-only file that keeps what the Parquet writer wrote until it is taken."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def parquet_chunks(
    batches: Iterable[PublicBatch],
    info: DatasetInfo,
    *,
    filters: dict[str, object] | None = None,
    licences: dict[tuple[str, str | None], int] | None = None,
    progress: Callable[[int], None] | None = None,
    rows_per_group: int | None = None,
) -> Iterator[bytes]:
    """The GeoParquet file as byte chunks: the head with the first row group, each row
    group as it is finished, then the footer with the ``geo`` metadata and the licences of
    the sources (``licences`` is filled as it goes). ``progress`` hears the places so far."""
    rows_per_group = rows_per_group or ROWS_PER_GROUP
    sink = _Sink()
    described = dataset_metadata(info, filters)
    # All metadata goes in the footer, and no copy of the Arrow schema beside it: pyarrow
    # would take that copy's (head-time) metadata as the schema's and hide "geo".
    writer = pq.ParquetWriter(sink, SCHEMA, compression="zstd", store_schema=False)
    extent = Extent()
    licences = {} if licences is None else licences
    n = 0
    records: list[pa.RecordBatch] = []
    held = 0

    def flush() -> bytes:
        nonlocal n, held
        writer.write_table(pa.Table.from_batches(records), row_group_size=rows_per_group)
        n += held
        records.clear()
        held = 0
        if progress is not None:
            progress(n)
        return sink.take()

    try:
        for batch in batches:
            if not len(batch):
                continue
            # Each batch becomes Arrow columns at once: only those wait for the row group.
            record, bounds, types = arrow_batch(batch)
            extent.add(bounds, types)
            count_licences(batch, licences)
            del batch
            records.append(record)
            held += len(record)
            if held >= rows_per_group:
                yield flush()
        if records:
            yield flush()
        writer.add_key_value_metadata(
            {
                **described,
                "geo": orjson.dumps(geo_metadata(extent)).decode(),
                "licences": orjson.dumps(licence_list(licences)).decode(),
            }
        )
    finally:
        writer.close()  # a download given up half-way leaves nothing open
    yield sink.take()


def write_places_parquet(
    store: PlaceStore,
    flt: PlaceFilter | None,
    fh: IO[bytes],
    *,
    info: DatasetInfo | None = None,
    filters: dict[str, object] | None = None,
    grid_m: float = DEFAULT_GRID_M,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the open-data places matching ``flt`` to ``fh`` as GeoParquet; return how many."""
    licences: dict[tuple[str, str | None], int] = {}
    batches = public_batches(store, flt, grid_m=grid_m, batch_size=BATCH_SIZE)
    for chunk in parquet_chunks(
        batches, info or DatasetInfo(), filters=filters, licences=licences, progress=progress
    ):
        fh.write(chunk)
    return sum(licences.values())
