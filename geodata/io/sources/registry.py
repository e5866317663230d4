"""The readers of community tools' exports, ``--from`` names, and telling which tool
made a file from what is in it."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from geodata.errors import SourceError
from geodata.io.sources import gpx, kml, kobo, odk, umap, ushahidi
from geodata.io.sources.base import HEAD_BYTES, SourceRead
from geodata.io.sources.generic import read_features

# In sniffing order: the more particular signatures first.
READERS: dict[str, ModuleType] = {m.NAME: m for m in (umap, ushahidi, kobo, odk, kml, gpx)}
SOURCE_NAMES = tuple(READERS)


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def detect_source(path: str | Path) -> str | None:
    """The tool whose export ``path`` is (a ``--from`` name), or None for a plain file."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    head = _head(path)
    for name, reader in READERS.items():
        if reader.sniff(path, head):
            return name
    return None


def read_source(
    path: str | Path, source: str | None = None, geopoint: str | None = None
) -> tuple[str | None, SourceRead]:
    """The features of ``path`` read as an export of ``source`` (detected when None;
    a plain GeoJSON, CSV or vector file when no tool's signature is found), and the
    tool's name. A file that is not what ``source`` says is refused, naming both."""
    path = Path(path)
    if source is not None and source not in READERS:
        raise SourceError(f"--from {source!r}: use one of {', '.join(SOURCE_NAMES)}")
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if source is None:
        source = detect_source(path)
        if source is None:
            return None, SourceRead(read_features(path))
    reader = READERS[source]
    if not reader.sniff(path, _head(path)):
        found = detect_source(path)
        raise SourceError(
            f"{path}: is not a {source} export ({reader.EXPECTS})"
            + (f"; it looks like a {found} export (--from {found})" if found else "")
        )
    return source, reader.read(path, geopoint)
