"""PMTiles (version 3) archives: checked through and read, with the ``pmtiles`` package's
header and tile-id functions and a directory reader of our own that bounds what it
decompresses (a directory is gzip: a small file must not inflate to gigabytes).
"""

from __future__ import annotations

import gzip
import io
import json
import mmap
import threading
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pmtiles.tile import (
    Compression,
    Entry,
    MagicNumberNotFound,
    SpecVersionUnsupported,
    TileType,
    deserialize_header,
    find_tile,
    read_varint,
    tileid_to_zxy,
    zxy_to_tileid,
)

from geodata.basemap.archive import (
    MAX_ZOOM,
    VECTOR_FORMAT,
    WORLD,
    ArchiveInfo,
    BasemapError,
    checked_bounds,
    inflate_gzip,
    plain_attribution,
)

HEADER_BYTES = 127
MAX_DIRECTORY_BYTES = 64 * 1024 * 1024  # decompressed; a planet's leaves are far smaller
MAX_DEPTH = 4  # root, leaves, leaves of leaves: the specification's reader stops there
_TYPES = {TileType.MVT: VECTOR_FORMAT, TileType.PNG: "png", TileType.JPEG: "jpg"}
_TYPES[TileType.WEBP] = "webp"


def _broken(path: Path, what: str) -> BasemapError:
    return BasemapError(
        f"{path.name} is a PMTiles archive but its tile index is broken ({what}); nothing "
        "was installed"
    )


def _inflate(data: bytes, compression: Compression) -> bytes:
    if compression in (Compression.NONE, Compression.UNKNOWN):
        return data
    if compression != Compression.GZIP:
        raise ValueError(f"directories compressed with {compression.name.lower()}")
    return inflate_gzip(data, MAX_DIRECTORY_BYTES)


def parse_directory(data: bytes, compression: Compression) -> list[Entry]:
    """A directory's entries (tile ids, run lengths, lengths, offsets)."""
    b_io = io.BytesIO(_inflate(data, compression))
    count = read_varint(b_io)
    if count > MAX_DIRECTORY_BYTES:  # each entry takes at least 4 bytes
        raise ValueError("a directory claiming more entries than it can hold")
    entries: list[Entry] = []
    last = 0
    for _ in range(count):
        last += read_varint(b_io)
        entries.append(Entry(last, 0, 0, 0))
    for e in entries:
        e.run_length = read_varint(b_io)
    for e in entries:
        e.length = read_varint(b_io)
    for i, e in enumerate(entries):
        value = read_varint(b_io)
        if i > 0 and value == 0:
            e.offset = entries[i - 1].offset + entries[i - 1].length
        elif value == 0:
            raise ValueError("the first entry of a directory has no offset")
        else:
            e.offset = value - 1
    return entries


class PMTilesArchive:
    """A PMTiles file opened for reading (memory-mapped: the OS shares its pages)."""

    def __init__(self, path: Path, info: ArchiveInfo | None = None) -> None:
        self.path = path
        self._file = path.open("rb")
        self._lock = threading.Lock()
        try:
            size = path.stat().st_size
            if size < HEADER_BYTES:
                raise _broken(path, "the file is shorter than its header")
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                self.header: dict[str, Any] = dict(deserialize_header(self._map[:HEADER_BYTES]))
            except MagicNumberNotFound:
                raise BasemapError(f"{path.name} is not a PMTiles archive") from None
            except SpecVersionUnsupported:
                raise BasemapError(
                    f"{path.name} is a PMTiles archive of version {self._map[7]}; only "
                    "version 3 is read here (`pmtiles convert` upgrades older ones)"
                ) from None
            except ValueError as exc:
                raise _broken(path, f"its header: {exc}") from None
            self._directory = lru_cache(maxsize=64)(self._read_directory)
            self.info = info or self._checked_info(size)
        except BaseException:
            self.close()
            raise

    def _bytes(self, offset: int, length: int) -> bytes:
        return self._map[offset : offset + length]

    def _read_directory(self, offset: int, length: int) -> list[Entry]:
        return parse_directory(self._bytes(offset, length), self.header["internal_compression"])

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        h = self.header
        wanted = zxy_to_tileid(z, x, y)
        offset, length = h["root_offset"], h["root_length"]
        for _ in range(MAX_DEPTH):
            found = find_tile(self._directory(offset, length), wanted)
            if found is None:
                return None
            if found.run_length > 0:
                return self._bytes(h["tile_data_offset"] + found.offset, found.length)
            offset, length = h["leaf_directory_offset"] + found.offset, found.length
        return None

    def _checked_info(self, size: int) -> ArchiveInfo:
        h, path = self.header, self.path
        sections = ("root", "metadata", "leaf_directory", "tile_data")
        for name in sections:
            start, length = h[f"{name}_offset"], h[f"{name}_length"]
            if start + length > size:
                raise _broken(path, f"its {name.replace('_', ' ')} section ends past the file")
        fmt = _TYPES.get(h["tile_type"])
        if fmt is None:
            raise BasemapError(
                f"{path.name} holds tiles of type {h['tile_type'].name}; maps here draw PNG, "
                "JPEG and WebP images and Mapbox vector tiles"
            )
        compression = h["tile_compression"]
        if fmt == VECTOR_FORMAT and compression not in (
            Compression.NONE,
            Compression.GZIP,
            Compression.UNKNOWN,
        ):
            raise BasemapError(
                f"{path.name}: its vector tiles are compressed with "
                f"{compression.name.lower()}; only gzip or none can be served to every browser "
                "(`pmtiles convert` can recompress them)"
            )
        try:
            tiles, first, last = self._walk(h["root_offset"], h["root_length"], 0)
        except (ValueError, EOFError, OSError, zlib.error, gzip.BadGzipFile) as exc:
            raise _broken(path, str(exc)) from None
        if tiles == 0:
            raise BasemapError(f"{path.name} holds no tiles")
        minzoom, maxzoom = tileid_to_zxy(first)[0], tileid_to_zxy(last)[0]
        metadata = self._metadata()
        e7 = 10_000_000
        corners = [h[f"{k}_e7"] / e7 for k in ("min_lon", "min_lat", "max_lon", "max_lat")]
        bounds = checked_bounds(corners) or checked_bounds(metadata.get("bounds")) or WORLD
        listed = metadata.get("vector_layers")
        layers = (
            tuple(str(v["id"]) for v in listed or [] if isinstance(v, dict) and "id" in v)
            if isinstance(listed, list)
            else ()
        )
        gzipped = fmt == VECTOR_FORMAT and compression == Compression.GZIP
        if fmt == VECTOR_FORMAT and compression == Compression.UNKNOWN:
            sample = self.tile(*tileid_to_zxy(first)) or b""
            gzipped = sample.startswith(b"\x1f\x8b")
        return ArchiveInfo(
            container="pmtiles",
            format=fmt,
            minzoom=minzoom,
            maxzoom=maxzoom,
            bounds=bounds,
            name=plain_attribution(metadata.get("name", ""))[:200],
            attribution=plain_attribution(metadata.get("attribution", "")),
            tiles=tiles,
            gzipped=gzipped,
            vector_layers=layers,
        )

    def _walk(self, offset: int, length: int, depth: int) -> tuple[int, int, int]:
        """Every directory under one, checked: (tiles addressed, first id, last id)."""
        if depth >= MAX_DEPTH:
            raise ValueError("leaf directories nested deeper than the format allows")
        h = self.header
        entries = parse_directory(self._bytes(offset, length), h["internal_compression"])
        tiles, first, last = 0, -1, -1
        previous = -1
        limit = zxy_to_tileid(MAX_ZOOM + 1, 0, 0)
        for e in entries:
            if e.tile_id <= previous:
                raise ValueError("directory entries out of order")
            previous = e.tile_id
            if e.run_length > 0:
                if e.offset + e.length > h["tile_data_length"]:
                    raise ValueError(f"tile {e.tile_id} lies past the tile data")
                end = e.tile_id + e.run_length - 1
                if end >= limit:
                    raise ValueError(f"tile {end} is deeper than zoom {MAX_ZOOM}")
                tiles += e.run_length
                first = e.tile_id if first < 0 else first
                last = end
            else:
                if e.offset + e.length > h["leaf_directory_length"]:
                    raise ValueError("a leaf directory lies past the leaf section")
                n, lo, hi = self._walk(h["leaf_directory_offset"] + e.offset, e.length, depth + 1)
                if n:
                    tiles += n
                    first = lo if first < 0 else first
                    last = hi
        return tiles, first, last

    def _metadata(self) -> dict[str, Any]:
        h = self.header
        try:
            raw = _inflate(
                self._bytes(h["metadata_offset"], h["metadata_length"]), h["internal_compression"]
            )
            value = json.loads(raw) if raw else {}
        except (ValueError, zlib.error):
            raise _broken(self.path, "its metadata is not readable JSON") from None
        return value if isinstance(value, dict) else {}

    def close(self) -> None:
        with self._lock:
            if getattr(self, "_map", None) is not None:
                self._map.close()
                self._map = None  # type: ignore[assignment]
            self._file.close()
