"""Opening a basemap archive of either kind (apart from :mod:`geodata.basemap.archive`,
which both kinds import)."""

from __future__ import annotations

from pathlib import Path

from geodata.basemap.archive import TileArchive, container_of
from geodata.basemap.mbtiles import MBTilesArchive
from geodata.basemap.pmtiles_archive import PMTilesArchive


def open_archive(path: Path) -> TileArchive:
    """Open and check the archive at ``path``: MBTiles or PMTiles, raster or vector."""
    if container_of(path) == "mbtiles":
        return MBTilesArchive(path)
    return PMTilesArchive(path)
