"""KoboToolbox CSV exports (the main sheet; separated by semicolons or commas): rows
carry ``_id``, ``_uuid`` and ``_submission_time``; the geopoint is the column whose
answers read "lat lon alt accuracy" (or ``_NAME_latitude``/``_NAME_longitude``).
Which question is the title, the story, the category or the tags (a select_multiple,
split on spaces) is said with ``--map``; see :mod:`.xlsform`."""

from __future__ import annotations

from pathlib import Path

from geodata.io.sources.base import SourceRead, csv_header
from geodata.io.sources.xlsform import read_xlsform_csv

NAME = "kobo"
EXPECTS = "a KoboToolbox CSV export with _id, _uuid and _submission_time columns"


def sniff(path: Path, head: bytes) -> bool:
    columns = {c.rsplit("/", 1)[-1] for c in csv_header(head)}
    return {"_uuid", "_submission_time"} <= columns


def read(path: Path, geopoint: str | None = None) -> SourceRead:
    return read_xlsform_csv(path, ("_uuid", "_id"), ("_latitude",), geopoint)
