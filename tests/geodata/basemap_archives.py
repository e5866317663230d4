"""Basemap archives made for the tests, with the formats' own tools: SQLite for MBTiles
(MBTiles 1.3's tables), the ``pmtiles`` package's writer for PMTiles, Pillow for the
images and ``mapbox_vector_tile`` for vector tiles. Every tile has a colour of its own
zoom, so a test can tell which one the browser drew."""

from __future__ import annotations

import gzip
import io
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import mapbox_vector_tile
from PIL import Image
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from geodata.basemap.coverage import tile_range

# Baixa and Alfama, in Lisbon: a small area, a few tiles per zoom.
BAIXA = (-9.145, 38.705, -9.125, 38.718)
LISBON = (-9.24, 38.69, -9.08, 38.80)


def colour(z: int) -> tuple[int, int, int]:
    return (40 + 9 * z, 90, 200 - 6 * z)


def png_tile(z: int, size: int = 256) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour(z)).save(out, "PNG")
    return out.getvalue()


def vector_tile(z: int, x: int, y: int) -> bytes:
    """Water over the tile's west half, a road across it and a place name (4096 units)."""
    return mapbox_vector_tile.encode(
        [
            {
                "name": "water",
                "features": [
                    {
                        "geometry": "POLYGON ((0 0, 2048 0, 2048 4096, 0 4096, 0 0))",
                        "properties": {"class": "river"},
                    }
                ],
            },
            {
                "name": "transportation",
                "features": [
                    {
                        "geometry": "LINESTRING (0 2048, 4096 2100)",
                        "properties": {"class": "primary"},
                    }
                ],
            },
            {
                "name": "place",
                "features": [
                    {
                        "geometry": "POINT (3000 1000)",
                        "properties": {"class": "suburb", "name": f"Tile {z}/{x}/{y}"},
                    }
                ],
            },
        ],
        default_options={"y_coord_down": True},
    )


def tiles_of(bounds=BAIXA, zooms: Iterable[int] = range(13, 16)):
    for z in zooms:
        for x, y in tile_range(bounds, z).tiles():
            yield z, x, y


def write_mbtiles(
    path: Path,
    bounds=BAIXA,
    zooms: Iterable[int] = range(13, 16),
    *,
    vector: bool = False,
    attribution: str = "© Test tiles",
) -> Path:
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE metadata (name TEXT, value TEXT);"
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB);"
        "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
    )
    meta = {
        "name": "Test basemap",
        "format": "pbf" if vector else "png",
        "bounds": ",".join(map(str, bounds)),
        "attribution": attribution,
    }
    if vector:
        meta["json"] = '{"vector_layers": [{"id": "water"}, {"id": "transportation"}]}'
    con.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    rows = []
    for z, x, y in tiles_of(bounds, zooms):
        data = gzip.compress(vector_tile(z, x, y)) if vector else png_tile(z)
        rows.append((z, x, 2**z - 1 - y, data))
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return path


def write_pmtiles(
    path: Path,
    bounds=BAIXA,
    zooms: Iterable[int] = range(13, 16),
    *,
    vector: bool = False,
    attribution: str = "© Test tiles",
    compression: Compression = Compression.GZIP,
) -> Path:
    tiles = sorted((zxy_to_tileid(z, x, y), (z, x, y)) for z, x, y in tiles_of(bounds, zooms))
    with path.open("wb") as f:
        writer = Writer(f)
        for tile_id, (z, x, y) in tiles:
            if vector:
                data = vector_tile(z, x, y)
                if compression == Compression.GZIP:
                    data = gzip.compress(data)
            else:
                data = png_tile(z)
            writer.write_tile(tile_id, data)
        w, s, e, n = bounds
        writer.finalize(
            {
                "tile_type": TileType.MVT if vector else TileType.PNG,
                "tile_compression": compression if vector else Compression.NONE,
                "min_lon_e7": int(w * 1e7),
                "min_lat_e7": int(s * 1e7),
                "max_lon_e7": int(e * 1e7),
                "max_lat_e7": int(n * 1e7),
            },
            {"attribution": attribution, "name": "Test PMTiles"},
        )
    return path
