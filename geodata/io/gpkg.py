"""GeoPackage downloads through pyogrio: a ``places`` layer written in slices (flat memory),
a ``licences`` table and the dataset's licence and attribution in ``gpkg_metadata``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyogrio

from geodata.io.export import (
    DatasetInfo,
    PublicBatch,
    count_licences,
    licence_list,
    public_batches,
)
from geodata.privacy import DEFAULT_GRID_M
from geodata.store.base import PlaceFilter, PlaceStore

MEDIA_TYPE = "application/geopackage+sqlite3"
LAYER = "places"
ROWS_PER_WRITE = 20_000  # each append reopens the file: few, large writes


def _languages(narratives: str) -> str:
    return ";".join(dict.fromkeys(n["language"] for n in orjson.loads(narratives)))


def batch_frame(batch: PublicBatch) -> gpd.GeoDataFrame:
    """One batch as a GeoDataFrame with the export's properties (lists as JSON text)."""
    col = batch.column
    narratives = col("narratives")
    frame = {
        "id": batch.ids,
        "title": col("title"),
        "narratives": narratives,
        "languages": [_languages(n) for n in narratives],
        "category": col("category"),
        "period": col("period"),
        "year_from": pd.array(col("year_from"), dtype="Int64"),
        "year_to": pd.array(col("year_to"), dtype="Int64"),
        "tags": col("tags"),
        "licence": col("licence"),
        "attribution": col("attribution"),
        "consent": [orjson.dumps(c).decode() for c in batch.consent()],
        "protocol_labels": [orjson.dumps(x).decode() for x in batch.protocol_labels()],
        "neighbourhood_id": pd.array(col("neighbourhood_id"), dtype="Int64"),
        "neighbourhood": batch.neighbourhood(),
        "workshop": col("workshop"),
        "location_generalised": batch.location_generalised,
        "created_at": pd.to_datetime(col("created_at"), utc=True, format="ISO8601"),
        "updated_at": pd.to_datetime(col("updated_at"), utc=True, format="ISO8601"),
        "version": pd.array(col("version"), dtype="Int64"),
    }
    return gpd.GeoDataFrame(frame, geometry=batch.geometries, crs="EPSG:4326")


def _slices(batches: Iterable[PublicBatch]) -> Iterator[list[PublicBatch]]:
    group: list[PublicBatch] = []
    size = 0
    for batch in batches:
        group.append(batch)
        size += len(batch)
        if size >= ROWS_PER_WRITE:
            yield group
            group, size = [], 0
    if group:
        yield group


def write_places_gpkg(
    store: PlaceStore,
    flt: PlaceFilter | None,
    path: str | Path,
    *,
    info: DatasetInfo | None = None,
    filters: dict[str, object] | None = None,
    grid_m: float = DEFAULT_GRID_M,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the open-data places matching ``flt`` to a new GeoPackage; return how many."""
    info = info or DatasetInfo()
    path = Path(path)
    path.unlink(missing_ok=True)
    licences: dict[tuple[str, str | None], int] = {}
    metadata = {
        "title": info.title,
        "licence": info.licence,
        "attribution": info.attribution,
        "rights": info.rights,
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "filters": orjson.dumps(filters or {}).decode(),
    }
    n = 0
    for group in _slices(public_batches(store, flt, grid_m=grid_m)):
        frame = pd.concat([batch_frame(b) for b in group], ignore_index=True)
        for b in group:
            count_licences(b, licences)
        first = n == 0
        pyogrio.write_dataframe(
            frame,
            path,
            layer=LAYER,
            driver="GPKG",
            geometry_type="Unknown",  # points, routes and areas share the layer
            append=not first,
            layer_metadata=metadata if first else None,
            dataset_metadata=metadata if first else None,
        )
        n += len(frame)
        if progress is not None:
            progress(n)
    if n == 0:  # still a valid, empty layer with the same columns
        empty = batch_frame(PublicBatch([], None, np.array([], dtype=object), {}, [], {}, {}))
        pyogrio.write_dataframe(
            empty, path, layer=LAYER, driver="GPKG", geometry_type="Unknown",
            layer_metadata=metadata, dataset_metadata=metadata,
        )  # fmt: skip
    table = pd.DataFrame(licence_list(licences), columns=["licence", "attribution", "places"])
    pyogrio.write_dataframe(table, path, layer="licences", driver="GPKG")
    return n
