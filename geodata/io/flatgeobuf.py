"""FlatGeobuf downloads with a spatial index (a packed Hilbert R-tree), written by GDAL's
FlatGeobuf driver from the same Arrow batches as GeoParquet.

The index needs every feature's bounding box before the first feature can be placed, so
the file is written whole (to a temporary file, by the caller) before it is sent. GDAL
reads the batches as it goes: Python holds one batch at a time, GDAL a bounding box and
an offset per place. A place whose location is hidden has no bounding box to index and
is left out; every other format carries it with no geometry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyogrio.raw import write_arrow

from geodata.io.arrow_batches import GEOMETRY, SCHEMA, arrow_batch
from geodata.io.export import DatasetInfo, count_licences, public_batches
from geodata.privacy import DEFAULT_GRID_M
from geodata.store.base import PlaceFilter, PlaceStore

MEDIA_TYPE = "application/vnd.flatgeobuf"
LAYER = "places"
BATCH_SIZE = 5_000
# The FlatGeobuf layer: the fields and the geometry; its own index replaces a bbox column.
FGB_SCHEMA = SCHEMA.remove(SCHEMA.get_field_index("bbox"))


def _description(info: DatasetInfo) -> str:
    return (
        f"Licence: {info.licence}. Attribution: {info.attribution}. {info.rights} "
        "Places whose location is hidden are left out of this file."
    )


def write_places_fgb(
    store: PlaceStore,
    flt: PlaceFilter | None,
    path: str | Path,
    *,
    info: DatasetInfo | None = None,
    grid_m: float = DEFAULT_GRID_M,
    licences: dict[tuple[str, str | None], int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the open-data places matching ``flt`` that have a public location to a new
    FlatGeobuf file with a spatial index; return how many (``licences`` is filled)."""
    info = info or DatasetInfo()
    path = Path(path)
    path.unlink(missing_ok=True)
    licences = {} if licences is None else licences
    written = 0

    def located() -> Iterator[pa.RecordBatch]:
        nonlocal written
        for batch in public_batches(store, flt, grid_m=grid_m, batch_size=BATCH_SIZE):
            record, _, _ = arrow_batch(batch)
            shown = pc.is_valid(record.column(GEOMETRY))
            if not pc.all(shown).as_py():
                keep = shown.to_pylist()
                rows = [r for r, k in zip(batch.rows, keep, strict=True) if k]
                batch = dataclasses.replace(batch, rows=rows)  # for its licences
                record = record.filter(shown)
            count_licences(batch, licences)
            written += len(record)
            if progress is not None:
                progress(written)
            yield record.drop_columns(["bbox"])

    write_arrow(
        pa.RecordBatchReader.from_batches(FGB_SCHEMA, located()),
        path,
        layer=LAYER,
        driver="FlatGeobuf",
        geometry_name=GEOMETRY,
        geometry_type="Unknown",  # points, routes and areas share the layer
        crs="EPSG:4326",
        layer_options={"SPATIAL_INDEX": "YES", "TITLE": info.title,
                       "DESCRIPTION": _description(info)},
    )  # fmt: skip
    return written
