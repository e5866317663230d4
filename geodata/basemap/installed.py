"""The basemap a service uses, kept in its data folder.

The folder holds the archive (``basemap-<id>.mbtiles`` or ``.pmtiles``, never changed once
written) and ``current.json``, which names it and records what the check found. An
import copies the file in beside the old one, checks the copy, and only then replaces
``current.json`` in one rename: a reader sees the old basemap or the new one, never
half of either, and a failed import leaves the folder as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from geodata.basemap.archive import (
    ArchiveInfo,
    BasemapError,
    TileArchive,
    container_of,
)

POINTER = "current.json"
PARTIAL = ".partial"
STALE_PARTIAL_S = 3600.0  # an unfinished copy older than this was left by a crash


@dataclass(frozen=True)
class InstalledBasemap:
    """The archive in use: its file, what it holds, and where it came from."""

    path: Path
    info: ArchiveInfo
    source: str  # the file name it was imported from
    imported: str  # ISO 8601, UTC

    @property
    def version(self) -> str:
        """Changes with every import (the id in the archive's file name)."""
        return self.path.stem.removeprefix("basemap-")

    def open(self) -> TileArchive:
        """The archive for reading tiles, trusting the check made when it was imported."""
        if self.info.container == "mbtiles":
            from geodata.basemap.mbtiles import MBTilesArchive

            return MBTilesArchive(self.path, self.info)
        from geodata.basemap.pmtiles_archive import PMTilesArchive

        return PMTilesArchive(self.path, self.info)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems (and Windows, for folders) cannot: best effort
        pass
    finally:
        os.close(fd)


def installed_basemap(folder: Path) -> InstalledBasemap | None:
    """The basemap in ``folder``, or None when none was imported (or its file is gone)."""
    try:
        pointer = json.loads((folder / POINTER).read_text(encoding="utf-8"))
        info = pointer["info"]
        info["bounds"] = tuple(info["bounds"])
        info["vector_layers"] = tuple(info.get("vector_layers", ()))
        found = InstalledBasemap(
            path=folder / Path(pointer["file"]).name,
            info=ArchiveInfo(**info),
            source=str(pointer.get("source", "")),
            imported=str(pointer.get("imported", "")),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise BasemapError(
            f"{folder / POINTER} is damaged ({exc}); import the basemap again"
        ) from None
    return found if found.path.is_file() else None


def _clear_stale(folder: Path) -> None:
    for leftover in folder.glob(f"basemap-*{PARTIAL}"):
        try:
            if time.time() - leftover.stat().st_mtime > STALE_PARTIAL_S:
                leftover.unlink()
        except OSError:
            pass


def install_basemap(
    source: Path, folder: Path, *, attribution: str | None = None
) -> InstalledBasemap:
    """Copy ``source`` into ``folder``, check the copy through, and make it the basemap.

    ``attribution`` replaces the archive's own credit (required when it has none).
    Raises BasemapError, leaving ``folder`` as it was, when anything is wrong.
    """
    from geodata.basemap.mbtiles import copy_mbtiles
    from geodata.basemap.opening import credited_info

    kind = container_of(source)  # refuse a foreign file before copying a byte
    folder.mkdir(parents=True, exist_ok=True)
    _clear_stale(folder)
    previous = installed_basemap_or_none(folder)
    name = f"basemap-{secrets.token_hex(6)}.{kind}"
    partial, final = folder / (name + PARTIAL), folder / name
    staged = folder / (POINTER + PARTIAL)
    switched = False
    try:
        if kind == "mbtiles":
            copy_mbtiles(source, partial)
        else:
            shutil.copyfile(source, partial)
        _fsync(partial)
        info = credited_info(partial, attribution, "--attribution")
        partial.replace(final)
        pointer = {
            "file": name,
            "source": source.name,
            "imported": datetime.now(UTC).isoformat(timespec="seconds"),
            "info": dataclasses.asdict(info),
        }
        staged.write_text(json.dumps(pointer, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync(staged)
        staged.replace(folder / POINTER)
        switched = True
        _fsync(folder)
    except BaseException:
        if not switched:  # the old basemap stays in use, untouched
            for leftover in (partial, final, staged):
                leftover.unlink(missing_ok=True)
        raise
    if previous is not None and previous.path.name != name:
        # open readers keep their handle (POSIX); still open where that is not allowed
        # (Windows): left behind
        with contextlib.suppress(OSError):
            previous.path.unlink(missing_ok=True)
    installed = installed_basemap(folder)
    assert installed is not None
    return installed


def installed_basemap_or_none(folder: Path) -> InstalledBasemap | None:
    """As :func:`installed_basemap`, but a damaged pointer counts as no basemap."""
    try:
        return installed_basemap(folder)
    except BasemapError:
        return None


def remove_basemap(folder: Path) -> InstalledBasemap | None:
    """Stop using the basemap in ``folder`` and delete its file; the one removed, if any."""
    current = installed_basemap_or_none(folder)
    (folder / POINTER).unlink(missing_ok=True)
    if current is not None:
        current.path.unlink(missing_ok=True)
    return current
