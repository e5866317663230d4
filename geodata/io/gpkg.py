"""GeoPackage downloads through pyogrio: one ``places`` layer written in slices (flat
memory), every field typed (integer years, dates, booleans, JSON lists as GDAL's JSON
subtype), and the licences in ``gpkg_metadata`` (the GeoPackage metadata extension);
:func:`write_download_gpkg` adds the ``walks`` layer (the web download and the CLI).

The file is GeoPackage 1.3 (``user_version`` 10300): GDAL from 3.8 on writes 1.4 by default,
and the GDAL of many planners' QGIS (3.6 in Debian 12) warns that 1.4 may be only partly
supported; nothing here needs 1.4.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
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
from geodata.io.walks import write_walks_layer
from geodata.privacy import DEFAULT_GRID_M
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.walk_views import open_data_walks

MEDIA_TYPE = "application/geopackage+sqlite3"
LAYER = "places"
ROWS_PER_WRITE = 20_000  # each append reopens the file: few, large writes
GPKG_VERSION = "1.3"
JSON_FIELDS = ("narratives", "tags", "consent", "protocol_labels")
# The licences record: JSON whose licences are SPDX identifiers.
LICENCES_STANDARD = "https://spdx.org/licenses/"


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
        "year_from": pd.array(col("year_from"), dtype="Int32"),
        "year_to": pd.array(col("year_to"), dtype="Int32"),
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
    first_write = {
        "layer": LAYER,
        "driver": "GPKG",
        "geometry_type": "Unknown",  # points, routes and areas share the layer
        "dataset_options": {"VERSION": GPKG_VERSION},
        "layer_metadata": metadata,
        "dataset_metadata": metadata,
    }
    n = 0
    for group in _slices(public_batches(store, flt, grid_m=grid_m)):
        frame = pd.concat([batch_frame(b) for b in group], ignore_index=True)
        for b in group:
            count_licences(b, licences)
        if n == 0:
            pyogrio.write_dataframe(frame, path, **first_write)
        else:
            pyogrio.write_dataframe(
                frame, path, layer=LAYER, driver="GPKG", geometry_type="Unknown", append=True
            )
        n += len(frame)
        if progress is not None:
            progress(n)
    if n == 0:  # still a valid, empty layer with the same columns
        empty = batch_frame(PublicBatch([], None, np.array([], dtype=object), {}, [], {}, {}))
        pyogrio.write_dataframe(empty, path, **first_write)
    licence_record = {
        "licence": info.licence,
        "attribution": info.attribution,
        "rights": info.rights,
        "licences": licence_list(licences),
    }
    with closing(sqlite3.connect(path)) as db, db:
        _add_metadata(db, LAYER, orjson.dumps(licence_record).decode())
        _mark_json(db, LAYER, JSON_FIELDS)
    return n


def write_download_gpkg(
    store: PlaceStore,
    flt: PlaceFilter | None,
    path: str | Path,
    *,
    base_url: str,
    info: DatasetInfo | None = None,
    filters: dict[str, object] | None = None,
    grid_m: float = DEFAULT_GRID_M,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """The GeoPackage download: the open-data places matching ``flt`` in ``places``, and
    every open-data walk in ``walks`` (walks are whole, whatever the places' filter; their
    links start with ``base_url``). Returns (places, walks)."""
    places = write_places_gpkg(
        store, flt, path, info=info, filters=filters, grid_m=grid_m, progress=progress
    )
    walks = write_walks_layer(str(path), open_data_walks(store), base_url)
    return places, walks


_EXTENSION_ROW = (
    "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
    "SELECT ?, NULL, ?, ?, 'read-write' WHERE NOT EXISTS (SELECT 1 FROM gpkg_extensions "
    "WHERE table_name = ? AND column_name IS NULL AND extension_name = ?)"
)


def _register(db: sqlite3.Connection, tables: Iterable[str], name: str, definition: str) -> None:
    for table in tables:
        db.execute(_EXTENSION_ROW, (table, name, definition, table, name))


def _add_metadata(db: sqlite3.Connection, table: str, record: str) -> None:
    """Add a JSON metadata record about ``table`` (the metadata extension: its tables
    created and registered as GDAL does, if GDAL has not already)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY "
        "ASC NOT NULL, md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT "
        "NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL, "
        "table_name TEXT, column_name TEXT, row_id_value INTEGER, timestamp DATETIME NOT "
        "NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), md_file_id INTEGER NOT NULL, "
        "md_parent_id INTEGER, CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES "
        "gpkg_metadata(id), CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES "
        "gpkg_metadata(id))"
    )
    _register(
        db,
        ("gpkg_metadata", "gpkg_metadata_reference"),
        "gpkg_metadata",
        "http://www.geopackage.org/spec120/#extension_metadata",
    )
    cursor = db.execute(
        "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
        "VALUES ('dataset', ?, 'application/json', ?)",
        (LICENCES_STANDARD, record),
    )
    db.execute(
        "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) "
        "VALUES ('table', ?, ?)",
        (table, cursor.lastrowid),
    )


def _mark_json(db: sqlite3.Connection, table: str, columns: Iterable[str]) -> None:
    """Declare ``columns`` JSON text (GDAL's JSON subtype) in ``gpkg_data_columns`` (the
    schema extension), as GDAL itself records a JSON field."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name "
        "TEXT NOT NULL, name TEXT UNIQUE, title TEXT, description TEXT, mime_type TEXT, "
        "constraint_name TEXT, CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), "
        "CONSTRAINT gdc_tn UNIQUE (table_name, name))"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT "
        "NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive "
        "BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT, CONSTRAINT "
        "gdcc_ntv UNIQUE (constraint_name, constraint_type, value))"
    )
    _register(
        db,
        ("gpkg_data_columns", "gpkg_data_column_constraints"),
        "gpkg_schema",
        "http://www.geopackage.org/spec121/#extension_schema",
    )
    db.executemany(
        "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, mime_type) "
        "VALUES (?, ?, 'application/json')",
        [(table, column) for column in columns],
    )
