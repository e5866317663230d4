"""CSV downloads: one row per place, longitude/latitude for points, WKT for every geometry,
and a plain-text licence sidecar naming the dataset licence and every source licence."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

import orjson
import shapely

from geodata.io.export import (
    COLUMN,
    DatasetInfo,
    PublicBatch,
    count_licences,
    licence_list,
    public_batches,
)
from geodata.io.fields import BOOLEAN, DATETIME, INTEGER, JSON, KIND, LIST, NAMES, STRING
from geodata.io.spreadsheet import SpreadsheetWriter
from geodata.privacy import DEFAULT_GRID_M
from geodata.store.base import PlaceFilter, PlaceStore

MEDIA_TYPE = "text/csv; charset=utf-8"
GEOMETRY_TYPES = {"longitude": "Real", "latitude": "Real", "wkt": "WKT"}
HEADER = (
    "id", "longitude", "latitude", "wkt", "title", "narratives", "languages", "category",
    "period", "year_from", "year_to", "tags", "licence", "attribution", "consent",
    "protocol_labels", "neighbourhood_id", "neighbourhood", "workshop", "location_generalised",
    "created_at", "updated_at", "version",
)  # fmt: skip
# The column types GDAL and QGIS read from a ".csvt" file of the same name beside the CSV:
# the fields' kinds (geodata.io.fields; lists stay ";"-separated text), and the geometry
# from the WKT column.
_CSVT_TYPES = {
    STRING: "String",
    INTEGER: "Integer64",
    BOOLEAN: "Integer(Boolean)",
    DATETIME: "DateTime",
    LIST: "String",
    JSON: "String",
}
CSVT = ",".join(
    f'"{_CSVT_TYPES[KIND[name]] if name in KIND else GEOMETRY_TYPES[name]}"' for name in HEADER
)
# Columns that hold text people wrote or files brought in, checked for formulas; the
# others are numbers, ids, dates, WKT, JSON arrays or fixed vocabularies.
TEXT_COLUMNS = tuple(
    HEADER.index(name)
    for name in ("title", "category", "period", "tags", "licence", "attribution", "neighbourhood")
)


if tuple(n for n in HEADER if n not in GEOMETRY_TYPES) != NAMES:  # pragma: no cover
    raise ImportError("geodata.io.csv_export: HEADER and geodata.io.fields.FIELDS differ")


def _rows(batch: PublicBatch) -> Iterator[list[Any]]:
    geoms = batch.geometries
    wkt = shapely.to_wkt(geoms, rounding_precision=6, trim=True).tolist()
    points = shapely.get_type_id(geoms) == 0
    x = shapely.get_x(geoms).round(6).tolist()
    y = shapely.get_y(geoms).round(6).tolist()
    c = COLUMN
    for i, (r, consent, labels, name) in enumerate(
        zip(
            batch.rows, batch.consent(), batch.protocol_labels(), batch.neighbourhood(), strict=True
        )
    ):
        narratives = orjson.loads(r[c["narratives"]])
        yield [
            r[c["id"]],
            x[i] if points[i] else "",
            y[i] if points[i] else "",
            wkt[i] or "",
            r[c["title"]],
            r[c["narratives"]],
            ";".join(dict.fromkeys(n["language"] for n in narratives)),
            r[c["category"]],
            r[c["period"]],
            r[c["year_from"]],
            r[c["year_to"]],
            ";".join(orjson.loads(r[c["tags"]])),
            r[c["licence"]],
            r[c["attribution"]],
            ";".join(consent),
            ";".join(labels),
            r[c["neighbourhood_id"]],
            name,
            r[c["workshop"]],
            "true" if batch.location_generalised[i] else "false",
            r[c["created_at"]],
            r[c["updated_at"]],
            r[c["version"]],
        ]


def csv_chunks(
    batches: Iterable[PublicBatch],
    licences: dict[tuple[str, str | None], int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The CSV as UTF-8 byte chunks, one per batch (``licences`` is filled as it goes).

    Text cells that a spreadsheet would run as a formula get a leading ``'``."""
    buf = io.StringIO()
    writer = SpreadsheetWriter(buf, TEXT_COLUMNS, lineterminator="\r\n")
    writer.writerow(HEADER)
    n = 0
    for batch in batches:
        writer.writerows(_rows(batch))
        if licences is not None:
            count_licences(batch, licences)
        n += len(batch)
        if progress is not None:
            progress(n)
        yield buf.getvalue().encode("utf-8")
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def licence_text(
    info: DatasetInfo,
    licences: dict[tuple[str, str | None], int],
    filters: dict[str, object] | None = None,
    generated: datetime | None = None,
) -> str:
    """The sidecar: what the download is, under which licences, whom to credit."""
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        info.title,
        "",
        f"Licence: {info.licence}",
        f"Attribution: {info.attribution}",
        f"Generated: {when}",
    ]
    if filters:
        lines.append("Filters: " + ", ".join(f"{k}={v}" for k, v in filters.items()))
    lines += ["", info.rights, "", "Sources (licence, attribution, places):"]
    for item in licence_list(licences):
        lines.append(
            f"- {item['licence']}, {item['attribution'] or 'no attribution given'}, "
            f"{item['places']}"
        )
    if not licences:
        lines.append("- none: the download holds no places")
    return "\n".join(lines) + "\n"


def write_places_csv(
    store: PlaceStore,
    flt: PlaceFilter | None,
    fh: IO[bytes],
    *,
    grid_m: float = DEFAULT_GRID_M,
    progress: Callable[[int], None] | None = None,
) -> dict[tuple[str, str | None], int]:
    """Write the open-data places matching ``flt`` as CSV; return the licence counts."""
    licences: dict[tuple[str, str | None], int] = {}
    for chunk in csv_chunks(public_batches(store, flt, grid_m=grid_m), licences, progress):
        fh.write(chunk)
    return licences
