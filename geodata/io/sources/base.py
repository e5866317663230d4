"""What every reader of a community tool's export provides (one module per tool), and
the helpers they share.

A reader module has:

- ``NAME``: the ``--from`` value (``"ushahidi"``, ``"kml"``...);
- ``EXPECTS``: what a file of that tool looks like, for the error naming a wrong file;
- ``sniff(path, head) -> bool``: whether the file is one (``head``: its first bytes),
  from what is in it, not only its name;
- ``read(path, geopoint=None) -> SourceRead``: its features as the importer's usual stream
  (:class:`SourceFeatures`), with their properties under the names the importer reads
  (``title``, ``narrative``, ``layer`` for the tool's own category, ``tags``...) beside
  the tool's own fields, which ``--map`` can name (``geopoint``: the column of an
  XLSForm export's location, when it is not found by itself).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from geodata.errors import SourceError
from geodata.io.sources.generic import SourceFeatures

HEAD_BYTES = 65_536  # how much of a file the sniffers look at

# The property a reader puts the tool's own grouping in (layer, folder, category...);
# the field map turns it into one of the atlas's category keys.
LAYER = "layer"


@dataclass
class SourceRead:
    """A reader's features, and import options it sets unless the operator does
    (e.g. ``{"narrative_source_field": "narrative_source"}``)."""

    features: SourceFeatures
    option_defaults: dict[str, Any] = field(default_factory=dict)
    list_separator: str = ","  # how a text of several values (tags) is split


def decode_text(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{label}: is not UTF-8 text") from None


def csv_rows(text: str, label: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV separated by commas, semicolons or tabs (whichever
    its header line uses most)."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = [{k: v for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise SourceError(f"{label}: is not a readable CSV ({exc})") from None
    return list(reader.fieldnames or []), rows


def csv_header(head: bytes) -> list[str]:
    """The column names of a CSV's first line (empty if it is not text)."""
    try:
        first = head.decode("utf-8-sig").split("\n", 1)[0]
    except UnicodeDecodeError:
        return []
    delimiter = max(",;\t", key=first.count)
    try:
        return next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error:
        return []


def number(text: Any) -> Any:
    """A coordinate as a float, or as it was (validation then names it)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def point(lon: Any, lat: Any) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [number(lon), number(lat)]}
