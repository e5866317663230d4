"""The basemap this service draws its maps on, as each worker sees it.

``heritage-atlas basemap import`` may replace the basemap while the service runs: every
look-up checks the folder's ``current.json`` (one ``stat``) and opens the new archive
when it changed, so a running service picks up an import at its next request, in
every worker. Archives are kept open per folder, for the life of the process.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import orjson

from geodata.basemap.archive import BasemapError, TileArchive
from geodata.basemap.installed import POINTER, InstalledBasemap, installed_basemap_or_none
from mapping.background import background_config
from mapping.options import LocalBasemap, MapOptions
from web.settings import Settings

TILE_PATH = "/tiles/basemap"
TILEJSON_PATH = "/tiles/basemap.json"
ORIENTATION_URL = "/api/map/orientation"


@dataclass(frozen=True)
class OpenBasemap:
    installed: InstalledBasemap
    archive: TileArchive


class BasemapFolder:
    """One basemap folder's current archive, reopened when an import replaces it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int] | None = None
        self._current: OpenBasemap | None = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.folder / POINTER)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> OpenBasemap | None:
        signature = self._stat()
        if signature == self._signature:
            return self._current
        with self._lock:
            if signature != self._signature:
                found = installed_basemap_or_none(self.folder)
                opened = None
                if found is not None:
                    try:
                        opened = OpenBasemap(found, found.open())
                    except (BasemapError, OSError):
                        opened = None  # removed or damaged since: maps fall back, never fail
                # The archive replaced stays open for requests still reading it; it is
                # closed when nothing refers to it any more.
                self._current, self._signature = opened, signature
        return self._current


_folders: dict[Path, BasemapFolder] = {}
_folders_lock = threading.Lock()


def basemap_folder(settings: Settings) -> BasemapFolder:
    """The (shared, per process) view of ``settings``' basemap folder."""
    key = settings.basemap_path.resolve()
    with _folders_lock:
        if key not in _folders:
            _folders[key] = BasemapFolder(key)
        return _folders[key]


def current_basemap(settings: Settings) -> OpenBasemap | None:
    return basemap_folder(settings).current()


def local_basemap(settings: Settings) -> LocalBasemap | None:
    """What the maps need to draw the installed basemap; None without one."""
    found = current_basemap(settings)
    if found is None:
        return None
    info, version = found.installed.info, found.installed.version
    return LocalBasemap(
        url=f"{TILE_PATH}/{{z}}/{{x}}/{{y}}.{info.format}?v={version}",
        vector=info.vector,
        minzoom=info.minzoom,
        maxzoom=info.maxzoom,
        bounds=info.bounds,
        attribution=info.attribution,
    )


def page_background(settings: Settings) -> str:
    """The background of the maps on pages that are not folium maps (place, walk,
    contribution and moderation pages), as JSON for their ``data-background``."""
    options = MapOptions(
        tiles=settings.tiles if settings.tiles_enabled else None,
        tiles_attribution=settings.tiles_attribution,
        basemap=local_basemap(settings),
        orientation_url=ORIENTATION_URL,
    )
    return orjson.dumps(background_config(options)).decode()
