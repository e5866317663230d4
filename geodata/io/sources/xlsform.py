"""What KoboToolbox and ODK Central CSV exports share: forms built with XLSForm, whose
geopoint answers are written "lat lon altitude accuracy" (or split into columns), whose
select_multiple answers are values separated by spaces (read as tags), and whose repeat
groups are exported as separate files: only the main sheet is read here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from geodata.errors import SourceError
from geodata.io.sources.base import SourceRead, csv_rows, decode_text, point
from geodata.io.sources.generic import SourceFeatures

_GEOPOINT = re.compile(r"^\s*-?\d+(\.\d+)?\s+-?\d+(\.\d+)?(\s+-?\d+(\.\d+)?){0,2}\s*$")


def _split_columns(fields: list[str], lat_suffixes: tuple[str, ...]) -> tuple[str, str] | None:
    for f in fields:
        for lat_suffix in lat_suffixes:
            if f.endswith(lat_suffix):
                lon = f[: -len(lat_suffix)] + lat_suffix.replace("atitude", "ongitude")
                if lon in fields:
                    return f, lon
    return None


def read_xlsform_csv(
    path: Path, id_columns: tuple[str, ...], lat_suffixes: tuple[str, ...], geopoint: str | None
) -> SourceRead:
    label = str(path)
    fields, rows = csv_rows(decode_text(path.read_bytes(), label), label)
    column = geopoint
    if column is not None and column not in fields:
        raise SourceError(f"{label}: has no geopoint column {column!r}")
    if column is None:
        sample = next((r for r in rows if any(_GEOPOINT.match(v or "") for v in r.values())), {})
        column = next((f for f in fields if _GEOPOINT.match(sample.get(f) or "")), None)
    split = None if column else _split_columns(fields, lat_suffixes)
    if column is None and split is None:
        raise SourceError(
            f'{label}: has no geopoint column (answers written "lat lon alt accuracy"); '
            "name it with --map geopoint=COLUMN"
        )
    geoms: list[Any] = []
    for r in rows:
        if split is not None:
            geoms.append(point(r.get(split[1]), r.get(split[0])))
            continue
        parts = (r.get(column) or "").split()  # type: ignore[arg-type]
        geoms.append(point(parts[1], parts[0]) if len(parts) >= 2 else None)
    ids = [next((r[c] for c in id_columns if r.get(c)), None) for r in rows]
    return SourceRead(SourceFeatures(geoms, rows, ids), list_separator=" ")
