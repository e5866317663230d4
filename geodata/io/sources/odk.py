"""ODK Central CSV exports (the main sheet): rows carry ``SubmissionDate`` and
``KEY`` / ``meta-instanceID``; the geopoint is split into ``NAME-Latitude``,
``NAME-Longitude``... columns (or written "lat lon alt accuracy"). Which question is
the title, the story, the category or the tags (a select_multiple, split on spaces) is
said with ``--map``; see :mod:`.xlsform`."""

from __future__ import annotations

from pathlib import Path

from geodata.io.sources.base import SourceRead, csv_header
from geodata.io.sources.xlsform import read_xlsform_csv

NAME = "odk"
EXPECTS = "an ODK Central CSV export with SubmissionDate and KEY or meta-instanceID columns"


def sniff(path: Path, head: bytes) -> bool:
    columns = set(csv_header(head))
    return "SubmissionDate" in columns and bool({"KEY", "meta-instanceID"} & columns)


def read(path: Path, geopoint: str | None = None) -> SourceRead:
    return read_xlsform_csv(path, ("KEY", "meta-instanceID"), ("-Latitude",), geopoint)
