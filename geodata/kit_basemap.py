"""The background map a workshop kit carries, and installs where it is opened.

By default a kit carries the installed basemap cut to the workshop's area (its
neighbourhood, or the whole city when the workshop has none, with a margin for the
walks and places at its edge). A file given on the command line goes whole instead,
once it has passed the same checks as ``heritage-atlas basemap import``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shapely.ops import unary_union

from geodata.basemap.archive import BasemapError, container_of
from geodata.basemap.area_cut import cut_area
from geodata.basemap.installed import InstalledBasemap
from geodata.basemap.opening import credited_info
from geodata.models import Workshop
from geodata.store.base import PlaceStore

AREA_MARGIN_DEG = 0.005  # about 400-550 m around the area at Lisbon's latitude


@dataclass(frozen=True)
class KitBasemap:
    """A basemap file ready to go into a kit, with what it is."""

    path: Path
    container: str  # "mbtiles" or "pmtiles"
    attribution: str
    tiles: int
    scratch: bool  # made for this kit (deleted once written), not the user's own file


def workshop_area(store: PlaceStore, workshop: Workshop) -> tuple[float, float, float, float]:
    """West, south, east, north of the workshop's neighbourhood (or of every one), padded."""
    if workshop.neighbourhood_id is not None:
        shape = store.neighbourhood(workshop.neighbourhood_id).geometry
    else:
        neighbourhoods = store.neighbourhoods()
        if not neighbourhoods:
            raise BasemapError(
                "this atlas has no neighbourhoods, so a workshop has no area to cut the "
                "basemap to; give the file with --basemap, or leave it out with --no-basemap"
            )
        shape = unary_union([n.geometry for n in neighbourhoods])
    w, s, e, n = shape.bounds
    m = AREA_MARGIN_DEG
    return (max(-180.0, w - m), max(-85.0, s - m), min(180.0, e + m), min(85.0, n + m))


def given_basemap(path: Path, attribution: str | None) -> KitBasemap:
    """A basemap file named by the user, checked through as an import checks it."""
    if not path.is_file():
        raise BasemapError(f"there is no basemap file {path}")
    container_of(path)  # a foreign file is refused by its content before it is opened
    info = credited_info(path, attribution, "--basemap-attribution")
    return KitBasemap(path, info.container, info.attribution, info.tiles, scratch=False)


def area_basemap(
    installed: InstalledBasemap,
    store: PlaceStore,
    workshop: Workshop,
    scratch: Path,
    max_tiles: int,
) -> KitBasemap:
    """The installed basemap's tiles over the workshop's area, in the file ``scratch``."""
    info = cut_area(installed, workshop_area(store, workshop), scratch, max_tiles)
    return KitBasemap(scratch, "mbtiles", info.attribution, info.tiles, scratch=True)


def kit_basemap(
    store: PlaceStore,
    workshop: Workshop,
    *,
    given: Path | None,
    attribution: str | None,
    installed: InstalledBasemap | None,
    scratch: Path,
    max_tiles: int,
) -> KitBasemap | None:
    """The basemap a kit carries: the file ``given``, else the ``installed`` one cut to
    the workshop's area (written to ``scratch``), else none."""
    if given is not None:
        return given_basemap(given, attribution)
    if installed is None:
        return None
    return area_basemap(installed, store, workshop, scratch, max_tiles)
