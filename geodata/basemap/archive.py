"""What a basemap archive holds, and one way to read either kind.

``open_archive(path)`` recognises the file by its first bytes (never its name), checks
it through and answers a :class:`TileArchive`; anything else is a :class:`BasemapError`
whose message says what is wrong in words an operator can act on.
"""

from __future__ import annotations

import html
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from geodata.errors import HeritageError

SQLITE_MAGIC = b"SQLite format 3\x00"
PMTILES_MAGIC = b"PMTiles"
GZIP_MAGIC = b"\x1f\x8b"
RASTER_FORMATS = ("png", "jpg", "webp")
VECTOR_FORMAT = "pbf"
MAX_ZOOM = 24  # deeper than any basemap is drawn (centimetres a pixel)
MAX_LAT = 85.0511287798066  # where Web Mercator's square world ends
WORLD = (-180.0, -MAX_LAT, 180.0, MAX_LAT)
MAX_ATTRIBUTION = 500  # characters: a credit line, not a page
_TAG = re.compile(r"<[^>]*>")


class BasemapError(HeritageError):
    """A file that is not a usable basemap archive; the message says why."""

    code = "invalid_basemap"
    status = 400


@dataclass(frozen=True)
class ArchiveInfo:
    """What a basemap archive holds: the kind of tiles, its zooms and area, its credit."""

    container: str  # "mbtiles" or "pmtiles"
    format: str  # "png", "jpg", "webp" or "pbf" (Mapbox Vector Tiles)
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]  # west, south, east, north (degrees)
    name: str = ""
    attribution: str = ""  # plain text: markup in the archive's metadata is removed
    tiles: int = 0  # tiles addressed
    gzipped: bool = False  # vector tiles stored gzip-compressed
    vector_layers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def vector(self) -> bool:
        return self.format == VECTOR_FORMAT

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "pbf": "application/vnd.mapbox-vector-tile",
}


# A format's names in metadata and URLs, as this module names it.
FORMAT_NAMES = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp", "pbf": "pbf"}
FORMAT_NAMES["mvt"] = "pbf"


class TileArchive(Protocol):
    """An open archive: its description, and one tile's bytes as stored (None: no tile)."""

    info: ArchiveInfo

    def tile(self, z: int, x: int, y: int) -> bytes | None: ...

    def close(self) -> None: ...


def image_format(data: bytes) -> str | None:
    """``png``, ``jpg`` or ``webp`` from an image's first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def inflate_gzip(data: bytes, limit: int) -> bytes:
    """Gzip data decompressed, or ValueError past ``limit`` bytes (no bomb inflates)."""
    inflater = zlib.decompressobj(wbits=31)
    out = inflater.decompress(data, limit)
    if inflater.unconsumed_tail:
        raise ValueError(f"larger than {limit:,} bytes once decompressed")
    return out


def plain_attribution(text: object) -> str:
    """An archive's credit as plain text: tags dropped, entities read, spaces squeezed.

    >>> plain_attribution('<a href="https://osm.org/copyright">&copy; OpenStreetMap</a>')
    '© OpenStreetMap'
    """
    if not isinstance(text, str):
        return ""
    words = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    return words[:MAX_ATTRIBUTION]


def checked_bounds(values: object) -> tuple[float, float, float, float] | None:
    """West, south, east, north from ``"w,s,e,n"`` or a list; None when unusable."""
    if isinstance(values, str):
        values = values.split(",")
    if not isinstance(values, list | tuple) or len(values) != 4:
        return None
    try:
        w, s, e, n = (float(v) for v in values)
    except (TypeError, ValueError):
        return None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        return None
    return (w, max(s, -MAX_LAT), e, min(n, MAX_LAT))


def container_of(path: Path) -> str:
    """``mbtiles`` or ``pmtiles`` from the file's first bytes; BasemapError otherwise."""
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except IsADirectoryError:
        raise BasemapError(f"{path} is a folder, not a basemap file") from None
    except FileNotFoundError:
        raise BasemapError(f"there is no file at {path}") from None
    if head.startswith(SQLITE_MAGIC):
        return "mbtiles"
    if head.startswith(PMTILES_MAGIC):
        return "pmtiles"
    raise BasemapError(
        f"{path.name} is neither an MBTiles nor a PMTiles archive (its first bytes say "
        "neither); a basemap must be one of those two"
    )
