"""A piece of a basemap: the tiles of one area, copied into an MBTiles file of its own.

A workshop kit carries the background of its venue's area, not the whole city's
archive: every zoom the archive has, only the tiles that touch the area. Tiles are
copied as they are stored (an image, or a vector tile compressed or not), so nothing is
decoded or re-encoded.
"""

from __future__ import annotations

import json
from pathlib import Path

from geodata.basemap.archive import ArchiveInfo, BasemapError
from geodata.basemap.coverage import count_tiles, tile_range
from geodata.basemap.installed import InstalledBasemap
from geodata.basemap.mbtiles import MBTilesWriter, connect_read_only, read_info

BATCH = 500  # tiles written per transaction


def overlap(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> tuple[float, float, float, float] | None:
    """Where two west, south, east, north boxes meet; None when they do not."""
    w, s, e, n = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (w, s, e, n) if w < e and s < n else None


def cut_area(
    basemap: InstalledBasemap,
    area: tuple[float, float, float, float],
    target: Path,
    max_tiles: int,
) -> ArchiveInfo:
    """Copy the tiles of ``basemap`` that touch ``area`` (west, south, east, north) into a
    new MBTiles file ``target`` and say what it holds.

    BasemapError when the basemap does not reach the area, or when the area needs more
    than ``max_tiles`` tiles (a kit must stay a file that can be copied to a laptop).
    """
    info = basemap.info
    inside = overlap(area, info.bounds)
    zooms = range(info.minzoom, info.maxzoom + 1)
    if inside is None:
        raise BasemapError(
            "the installed basemap does not reach this workshop's area; fetch or import "
            "one that does, or leave the basemap out with --no-basemap"
        )
    needed = count_tiles(inside, zooms)
    if needed > max_tiles:
        raise BasemapError(
            f"the basemap has {needed} tiles over this workshop's area (zooms "
            f"{info.minzoom}-{info.maxzoom}), more than the limit of {max_tiles} "
            "(HERITAGE_BASEMAP_MAX_TILES); import a basemap with fewer zooms, or leave it "
            "out with --no-basemap"
        )
    target.unlink(missing_ok=True)
    archive = basemap.open()
    writer = MBTilesWriter(target)
    try:
        metadata = {
            "name": info.name or "basemap",
            "format": info.format,
            "attribution": info.attribution,
            "bounds": ",".join(f"{v:.6f}" for v in inside),
            "minzoom": str(info.minzoom),
            "maxzoom": str(info.maxzoom),
            "type": "baselayer",
        }
        if info.vector_layers:
            layers = [{"id": name, "fields": {}} for name in info.vector_layers]
            metadata["json"] = json.dumps({"vector_layers": layers})
        writer.set_metadata(metadata)
        batch: list[tuple[int, int, int, bytes]] = []
        copied = 0
        for z in zooms:
            for x, y in tile_range(inside, z).tiles():
                data = archive.tile(z, x, y)
                if data is None:
                    continue
                batch.append((z, x, y, bytes(data)))
                copied += 1
                if len(batch) >= BATCH:
                    writer.put(batch)
                    batch = []
        writer.put(batch)
    finally:
        writer.close()
        archive.close()
    if not copied:
        target.unlink(missing_ok=True)
        raise BasemapError(
            "the installed basemap has no tiles over this workshop's area; fetch or import "
            "one that does, or leave the basemap out with --no-basemap"
        )
    con = connect_read_only(target)
    try:
        return read_info(con, target)  # the copy checked as any archive is
    finally:
        con.close()
