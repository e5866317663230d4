"""A venue laptop's working folder: where a workshop kit is unpacked and run from.

``venue.atlaskit`` opens into ``venue/`` beside it: ``kit.json`` (the kit's manifest,
naming the kit), ``atlas.db`` (SQLite), ``media/`` and, if the kit brought a basemap,
``atlas-basemap/`` with it installed (where the atlas on ``atlas.db`` looks for one).
The folder is built under a hidden name and renamed only once the kit is wholly loaded,
so an interrupted opening leaves nothing that looks like a workshop.
Opening the same kit again reuses its folder and everything collected in it; a folder
holding another kit's workshop is never touched.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from geodata.basemap.installed import install_basemap
from geodata.errors import Conflict, NotFound
from geodata.kit_format import VerifiedKit, read_kit
from geodata.kit_import import KitContents, load_kit

MARKER = "kit.json"


@dataclass(frozen=True)
class VenueFolder:
    root: Path
    manifest: dict[str, Any]

    @property
    def database(self) -> Path:
        return self.root / "atlas.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def kit_id(self) -> str:
        return str(self.manifest["kit_id"])

    @property
    def workshop_code(self) -> str:
        return str(self.manifest["workshop"]["code"])

    @property
    def basemap_folder(self) -> Path:
        """The installed basemap's folder: ``<database>-basemap``, the default beside SQLite."""
        return self.root / "atlas-basemap"

    @property
    def has_basemap(self) -> bool:
        return bool(self.manifest.get("basemap"))


def folder_for(kit_path: Path) -> Path:
    """Where ``kit_path`` opens: beside it, named after it without ``.atlaskit``."""
    kit_path = Path(kit_path)
    name = kit_path.stem if kit_path.suffix else f"{kit_path.name}-venue"
    return kit_path.with_name(name)


def _read_marker(root: Path) -> dict[str, Any] | None:
    try:
        return orjson.loads((root / MARKER).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def existing_folder(kit_path: Path) -> VenueFolder:
    """The working folder of a kit opened before; NotFound if it was not."""
    root = folder_for(kit_path)
    manifest = _read_marker(root)
    if manifest is None:
        raise NotFound(
            f"{Path(kit_path).name} has not been opened on this computer (there is no "
            f"{root}); open it first with: heritage-atlas kit open {kit_path}",
            code="kit_not_opened",
        )
    return VenueFolder(root, manifest)


def open_folder(kit_path: Path) -> tuple[VenueFolder, KitContents | None]:
    """Check the kit, then unpack it into its working folder, or reuse the folder if this
    kit was opened there before (the contents are None then). Raise KitError for a kit
    that fails its checks and Conflict for a folder that holds something else, in both
    cases before anything is written."""
    root = folder_for(kit_path)
    with read_kit(Path(kit_path)) as kit:
        if root.exists():
            held = _read_marker(root)
            if held is None or held.get("kit_id") != kit.manifest.kit_id:
                what = "another workshop kit" if held else "other files"
                raise Conflict(
                    f"{root} already holds {what}; move it away, or copy "
                    f"{Path(kit_path).name} into another folder and open it there",
                    code="folder_taken",
                )
            return VenueFolder(root, held), None
        return _unpack(kit, root)


def _unpack(kit: VerifiedKit, root: Path) -> tuple[VenueFolder, KitContents]:
    from geodata.store import open_store

    building = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.opening-"))
    try:
        folder = VenueFolder(building, kit.manifest.to_json())
        store = open_store(folder.database_url)
        try:
            contents = load_kit(kit, store, folder.media)
        finally:
            store.close()
        slot = kit.manifest.basemap
        if slot:
            # Unpacked, then installed as `basemap import` installs it (checked again).
            unpacked = building / Path(slot["path"]).name
            kit.extract(slot["path"], unpacked)
            install_basemap(unpacked, folder.basemap_folder, attribution=slot.get("attribution"))
            unpacked.unlink()
        (building / MARKER).write_bytes(
            orjson.dumps(kit.manifest.to_json(), option=orjson.OPT_INDENT_2)
        )
        building.rename(root)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return VenueFolder(root, folder.manifest), contents
