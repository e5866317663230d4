"""Workshop kits: what a kit holds (public data only), opening one into a working folder,
and refusing a truncated, tampered, foreign or newer kit before anything is written."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import orjson
import pytest
import shapely
from PIL import Image

from geodata.errors import Conflict
from geodata.kit_folder import existing_folder, folder_for, open_folder
from geodata.kit_format import MANIFEST, KitError, read_kit
from geodata.privacy import generalise
from geodata.store import open_store
from geodata.store.base import PlaceStore
from geodata.sync_outbox import outbox
from tests.conftest import SECRET_CONTACT, SECRET_DISPLAY, SECRET_NAME
from tests.kit_helpers import ARCHIVE_TRANSCRIPT, Central, central_atlas, make_kit


@pytest.fixture
def central(store: PlaceStore, tmp_path: Path) -> tuple[PlaceStore, Central, Path]:
    media = tmp_path / "central-media"
    return store, central_atlas(store, media), media


@pytest.fixture
def kit(central, tmp_path: Path) -> Path:
    store, c, media = central
    target = tmp_path / "venue" / "mouraria.atlaskit"
    target.parent.mkdir()
    make_kit(store, c.code, target, media)
    return target


def _rewrite(kit: Path, change) -> Path:
    """A copy of ``kit`` whose members went through ``change(name, data) -> data | None``."""
    out = kit.with_name("changed.atlaskit")
    with zipfile.ZipFile(kit) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info.filename, data)
    return out


def _nothing_written(kit: Path) -> None:
    assert not folder_for(kit).exists()
    assert [p.name for p in kit.parent.iterdir() if p.name.startswith(".")] == []


def test_a_kit_holds_the_public_places_their_stories_and_media_and_no_personal_data(central, kit):
    store, c, _ = central
    with read_kit(kit) as opened:
        members = {p: opened.read(p) for p in opened.manifest.members}
        places = {f["id"]: f for f in orjson.loads(members["data/places.json"])}
        photos = orjson.loads(members["data/photos.json"])
        recordings = orjson.loads(members["data/recordings.json"])
        manifest = opened.manifest
    everything = b"".join(members.values()) + kit.read_bytes()
    for secret in (SECRET_NAME, SECRET_CONTACT, SECRET_DISPLAY, ARCHIVE_TRANSCRIPT):
        assert secret.encode() not in everything, secret
    assert c.hidden not in places and c.pending not in places
    assert len(places) == 557 + 2  # the demo, the generalised place and the fado corner
    cell = shapely.geometry.shape(places[c.generalised]["geometry"])
    assert cell.equals(generalise(store.get(c.generalised).geometry))
    assert not cell.equals(store.get(c.generalised).geometry)
    assert b"My father sang here every Friday." in members["data/additions.json"]
    assert [p["id"] for p in photos] == [c.photo]
    assert (photos[0]["width"], photos[0]["height"]) == (1920, 1280)  # from 3000 x 2000
    assert [r["id"] for r in recordings] == [c.public_recording]
    assert manifest.info["workshop"]["code"] == c.code
    assert manifest.basemap is None
    assert manifest.info["counts"]["walks"] == 2


def test_opening_a_kit_runs_the_same_public_atlas_with_nothing_to_push(central, kit):
    store, c, _ = central
    folder, contents = open_folder(kit)
    assert contents is not None and folder.root == kit.parent / "mouraria"
    venue = open_store(folder.database_url)
    try:
        assert venue.count() == 559 and venue.get_workshop(c.code).title == "Mouraria memories"
        corner = venue.get(c.with_photo)
        assert [n.text for n in corner.narratives if n.added] == [
            "My father sang here every Friday."
        ]
        assert corner.contributor_contact is None and corner.display_name is None
        assert venue.get(c.generalised).geometry.equals(
            generalise(store.get(c.generalised).geometry)
        )
        photo = venue.get_media(c.photo)
        assert Image.open(folder.media / photo.path).size == (1920, 1280)
        assert (folder.media / venue.get_recording(c.public_recording).path).is_file()
        assert len(venue.walks("published")) == 2
        assert len(venue.neighbourhoods()) == 24
        box = outbox(venue, folder.kit_id, folder.media)
        assert box.changes == []  # nothing was collected yet
    finally:
        venue.close()
    assert existing_folder(kit).kit_id == folder.kit_id


def test_opening_again_keeps_what_was_collected_and_never_takes_another_kits_folder(
    central, kit, tmp_path
):
    store, c, media = central
    folder, _ = open_folder(kit)
    venue = open_store(folder.database_url)
    venue.delete(c.generalised)  # something happened at the venue
    venue.close()
    again, contents = open_folder(kit)
    assert contents is None and again.root == folder.root
    venue = open_store(folder.database_url)
    assert venue.count() == 558
    venue.close()
    other = kit.with_name("other.atlaskit")
    make_kit(store, c.code, other, media)
    (kit.parent / "other").mkdir()
    (kit.parent / "other" / "notes.txt").write_text("mine")
    with pytest.raises(Conflict, match="already holds other files"):
        open_folder(other)
    shutil.copy(other, kit)  # another kit under the name of one opened here before
    with pytest.raises(Conflict, match="another workshop kit"):
        open_folder(kit)


def test_a_truncated_kit_is_refused_before_anything_is_written(kit):
    data = kit.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        kit.write_bytes(data[:cut])
        with pytest.raises(KitError) as refused:
            open_folder(kit)
        assert refused.value.code == "truncated_kit"
        assert "cut short" in refused.value.message
        _nothing_written(kit)


def test_a_tampered_kit_is_refused_before_anything_is_written(kit):
    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b"Fado corner", b"Fado c0rner") if name == "data/places.json" else data

    for change, why in (
        (edit, "data/places.json does not match"),
        (lambda n, d: None if n == "data/walks.json" else d, "data/walks.json is missing"),
    ):
        changed = _rewrite(kit, change)
        with pytest.raises(KitError, match=why) as refused:
            open_folder(changed)
        assert refused.value.code == "tampered_kit"
        _nothing_written(changed)
    with zipfile.ZipFile(kit, "a") as z:
        z.writestr("data/extra.json", b"{}")
    with pytest.raises(KitError, match=re.escape("data/extra.json is not in its manifest")):
        open_folder(kit)
    _nothing_written(kit)


def test_a_foreign_file_is_refused_with_a_clear_message(tmp_path):
    plain = tmp_path / "notes.atlaskit"
    plain.write_text("not a kit at all")
    with pytest.raises(KitError, match="not a whole zip archive"):
        open_folder(plain)
    other = tmp_path / "photos.atlaskit"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("photo.jpg", b"...")
    with pytest.raises(KitError, match="not a Heritage Atlas workshop kit") as refused:
        open_folder(other)
    assert refused.value.code == "foreign_kit"
    qgis = tmp_path / "project.atlaskit"
    with zipfile.ZipFile(qgis, "w") as z:
        z.writestr(MANIFEST, orjson.dumps({"format": "qgis-project", "schema": 1}))
    with pytest.raises(KitError, match="names another format"):
        open_folder(qgis)
    with pytest.raises(KitError, match="there is no kit file"):
        open_folder(tmp_path / "missing.atlaskit")
    for path in (plain, other, qgis):
        _nothing_written(path)


def test_a_kit_from_a_newer_version_is_refused_naming_both_versions(kit):
    def newer(name: str, data: bytes) -> bytes:
        return data.replace(b'"schema": 1', b'"schema": 7') if name == MANIFEST else data

    changed = _rewrite(kit, newer)
    with pytest.raises(KitError) as refused:
        open_folder(changed)
    assert refused.value.code == "kit_too_new"
    assert "newer version of Heritage Atlas (kit schema 7; this version reads schema 1" in (
        refused.value.message
    )
    _nothing_written(changed)
