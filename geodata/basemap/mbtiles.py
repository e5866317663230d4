"""MBTiles (SQLite) archives: checked and read, and written a tile at a time by a fetch.

MBTiles 1.3 keeps tiles in a ``tiles`` table (or view) of ``zoom_level``,
``tile_column``, ``tile_row`` (TMS: counted from the south) and ``tile_data``, and its
description in ``metadata``. Tiles here are addressed XYZ (rows from the north), as web
maps ask for them; the flip happens in this module alone.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from geodata.basemap.archive import (
    FORMAT_NAMES,
    GZIP_MAGIC,
    MAX_ZOOM,
    RASTER_FORMATS,
    VECTOR_FORMAT,
    ArchiveInfo,
    BasemapError,
    checked_bounds,
    image_format,
    plain_attribution,
)
from geodata.basemap.coverage import tile_bounds

TILE_COLUMNS = {"zoom_level", "tile_column", "tile_row", "tile_data"}
MAX_METADATA_ROWS = 1000


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that writes nothing beside the file (no -wal, no -shm)."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _damaged(path: Path, exc: sqlite3.Error) -> BasemapError:
    return BasemapError(
        f"{path.name} is an SQLite file but its tile index is damaged or unreadable "
        f"(SQLite says: {exc}); nothing was installed"
    )


def tile_format(data: bytes) -> str | None:
    """A tile's format from its bytes: an image's, ``pbf`` for vector data, else None."""
    found = image_format(data)
    if found:
        return found
    # A Mapbox Vector Tile is protobuf: gzip-compressed, or its first field is a layer
    # (field 3, length-delimited: 0x1a); an empty tile is an empty vector tile.
    if data.startswith(GZIP_MAGIC) or data[:1] in (b"\x1a", b""):
        return VECTOR_FORMAT
    return None


def read_info(con: sqlite3.Connection, path: Path) -> ArchiveInfo:
    """Check the whole archive (its SQLite structure, tables, tile index and a tile) and
    say what it holds; BasemapError naming what is wrong otherwise."""
    try:
        verdict = con.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise _damaged(path, sqlite3.DatabaseError(str(verdict)))
        tables = dict(
            con.execute(
                "SELECT name, type FROM sqlite_master WHERE name IN ('tiles', 'metadata')"
            ).fetchall()
        )
        if "tiles" not in tables:
            raise BasemapError(
                f"{path.name} is an SQLite database but not an MBTiles archive: it has no "
                "'tiles' table"
            )
        columns = {row[1] for row in con.execute("PRAGMA table_info(tiles)")}
        if not columns >= TILE_COLUMNS:
            missing = ", ".join(sorted(TILE_COLUMNS - columns))
            raise BasemapError(f"{path.name}: its 'tiles' table lacks {missing}")
        metadata: dict[str, str] = {}
        if "metadata" in tables:
            rows = con.execute(
                "SELECT name, value FROM metadata LIMIT ?", (MAX_METADATA_ROWS,)
            ).fetchall()
            metadata = {str(k): str(v) for k, v in rows if k is not None and v is not None}
        zooms = con.execute(
            "SELECT zoom_level, min(tile_column), max(tile_column), min(tile_row), "
            "max(tile_row), count(*) FROM tiles GROUP BY zoom_level ORDER BY zoom_level"
        ).fetchall()
        sample = con.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from None
    if not zooms:
        raise BasemapError(f"{path.name} holds no tiles")
    for z, x0, x1, y0, y1, _n in zooms:
        if not isinstance(z, int) or not 0 <= z <= MAX_ZOOM:
            raise BasemapError(f"{path.name}: its tile index lists a zoom of {z!r}")
        last = 2**z - 1
        if not all(isinstance(v, int) and 0 <= v <= last for v in (x0, x1, y0, y1)):
            raise BasemapError(
                f"{path.name}: its tile index lists tiles outside zoom {z}'s grid (columns "
                f"and rows go from 0 to {last})"
            )
    data = sample[0] if sample and isinstance(sample[0], bytes) else b""
    found = tile_format(data)
    said = FORMAT_NAMES.get(metadata.get("format", "").strip().lower())
    if found is None:
        raise BasemapError(
            f"{path.name}: its tiles are neither PNG, JPEG, WebP images nor vector tiles"
        )
    if found == VECTOR_FORMAT and said in RASTER_FORMATS:
        raise BasemapError(
            f"{path.name}: its metadata says {said} images but its tiles are not images"
        )
    fmt = found
    z_top, x0, x1, y0, y1, _n = zooms[-1]
    west, _, _, north = tile_bounds(z_top, x0, 2**z_top - 1 - y1)
    _, south, east, _ = tile_bounds(z_top, x1, 2**z_top - 1 - y0)
    bounds = checked_bounds(metadata.get("bounds")) or (west, south, east, north)
    layers: tuple[str, ...] = ()
    try:
        described = json.loads(metadata.get("json", "{}"))
        listed = described.get("vector_layers", []) if isinstance(described, dict) else []
        layers = tuple(str(v["id"]) for v in listed if isinstance(v, dict) and "id" in v)
    except (ValueError, TypeError):
        pass  # the layer list only describes; the tiles themselves are what is drawn
    return ArchiveInfo(
        container="mbtiles",
        format=fmt,
        minzoom=zooms[0][0],
        maxzoom=z_top,
        bounds=bounds,
        name=plain_attribution(metadata.get("name", ""))[:200],
        attribution=plain_attribution(metadata.get("attribution", "")),
        tiles=sum(row[5] for row in zooms),
        gzipped=fmt == VECTOR_FORMAT and data.startswith(GZIP_MAGIC),
        vector_layers=layers,
    )


class MBTilesArchive:
    """An MBTiles file opened for reading, one connection per thread."""

    def __init__(self, path: Path, info: ArchiveInfo | None = None) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if info is None:
            try:
                info = read_info(self._connection(), path)
            except BaseException:
                self.close()
                raise
        self.info = info

    def _connection(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            try:
                con = connect_read_only(self.path)
            except sqlite3.Error as exc:
                raise _damaged(self.path, exc) from None
            self._local.con = con
            with self._lock:
                self._connections.append(con)
        return con

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        row = (
            self._connection()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                "AND tile_row = ?",
                (z, x, 2**z - 1 - y),
            )
            .fetchone()
        )
        return bytes(row[0]) if row and row[0] is not None else None

    def close(self) -> None:
        with self._lock:
            for con in self._connections:
                con.close()
            self._connections.clear()


def copy_mbtiles(source: Path, target: Path) -> None:
    """Copy an MBTiles file whole, its write-ahead log included (SQLite's backup)."""
    try:
        src = sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _damaged(source, exc) from None
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise _damaged(source, exc) from None
    finally:
        src.close()


class MBTilesWriter:
    """An MBTiles file being filled: a new one, or one a fetch left and now goes on with."""

    def __init__(self, path: Path) -> None:
        self.path = path
        exists = path.exists() and path.stat().st_size > 0
        if exists:
            with path.open("rb") as f:
                if not f.read(16).startswith(b"SQLite format 3\x00"):
                    raise BasemapError(f"{path} exists and is not an MBTiles file; choose another")
        try:
            self.con = sqlite3.connect(path)
            if exists:
                read_info_tables(self.con, path)
            self.con.executescript(
                "CREATE TABLE IF NOT EXISTS metadata (name TEXT NOT NULL, value TEXT);"
                "CREATE UNIQUE INDEX IF NOT EXISTS metadata_name ON metadata (name);"
                "CREATE TABLE IF NOT EXISTS tiles (zoom_level INTEGER NOT NULL, "
                "tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB);"
                "CREATE UNIQUE INDEX IF NOT EXISTS tile_index "
                "ON tiles (zoom_level, tile_column, tile_row);"
                # Tiles the server said it has not (404): not asked again on a resume.
                "CREATE TABLE IF NOT EXISTS absent_tiles (zoom_level INTEGER NOT NULL, "
                "tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, "
                "PRIMARY KEY (zoom_level, tile_column, tile_row));"
            )
        except sqlite3.Error as exc:
            raise _damaged(path, exc) from None

    def metadata(self) -> dict[str, str]:
        return dict(self.con.execute("SELECT name, value FROM metadata").fetchall())

    def set_metadata(self, values: dict[str, str]) -> None:
        self.con.executemany(
            "INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)", values.items()
        )
        self.con.commit()

    def stored(self, z: int, table: str = "tiles") -> set[tuple[int, int]]:
        """The XYZ column and row of every tile of zoom ``z`` already in the file (or, with
        ``table="absent_tiles"``, already known to be missing on the server)."""
        assert table in ("tiles", "absent_tiles")
        last = 2**z - 1
        rows = self.con.execute(
            f"SELECT tile_column, tile_row FROM {table} WHERE zoom_level = ?", (z,)
        )
        return {(x, last - row) for x, row in rows}

    def put(
        self,
        tiles: Iterable[tuple[int, int, int, bytes]],
        absent: Iterable[tuple[int, int, int]] = (),
    ) -> None:
        """Store XYZ tiles (and the ones the server has not) in one transaction: a kill
        keeps them all or none."""
        self.con.executemany(
            "INSERT OR REPLACE INTO tiles (zoom_level, tile_column, tile_row, tile_data) "
            "VALUES (?, ?, ?, ?)",
            [(z, x, 2**z - 1 - y, data) for z, x, y, data in tiles],
        )
        self.con.executemany(
            "INSERT OR IGNORE INTO absent_tiles (zoom_level, tile_column, tile_row) "
            "VALUES (?, ?, ?)",
            [(z, x, 2**z - 1 - y) for z, x, y in absent],
        )
        self.con.commit()

    def zooms(self) -> tuple[int, int] | None:
        row = self.con.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        return None if row[0] is None else (row[0], row[1])

    def close(self) -> None:
        self.con.close()


def read_info_tables(con: sqlite3.Connection, path: Path) -> None:
    """An existing SQLite file must be an MBTiles archive before a fetch adds to it."""
    names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if names and "tiles" not in names:
        raise BasemapError(f"{path} is an SQLite database but not an MBTiles archive")
