"""Opening a basemap archive of either kind (apart from :mod:`geodata.basemap.archive`,
which both kinds import)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from geodata.basemap.archive import (
    ArchiveInfo,
    BasemapError,
    TileArchive,
    container_of,
    plain_attribution,
)
from geodata.basemap.mbtiles import MBTilesArchive
from geodata.basemap.pmtiles_archive import PMTilesArchive


def open_archive(path: Path) -> TileArchive:
    """Open and check the archive at ``path``: MBTiles or PMTiles, raster or vector."""
    if container_of(path) == "mbtiles":
        return MBTilesArchive(path)
    return PMTilesArchive(path)


def credited_info(path: Path, attribution: str | None, option: str) -> ArchiveInfo:
    """What the archive at ``path`` holds, checked through, with its credit: ``attribution``
    when given, else the archive's own; BasemapError when it has neither (``option`` is
    the command-line option that gives one)."""
    archive = open_archive(path)
    try:
        info = archive.info
    finally:
        archive.close()
    credit = plain_attribution(attribution) if attribution is not None else info.attribution
    if not credit:
        raise BasemapError(
            f"{path.name} names no attribution; give the tiles' credit with "
            f"{option} (it is shown on every map drawn over them)"
        )
    return dataclasses.replace(info, attribution=credit)
