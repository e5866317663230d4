"""The workshop kit file (``.atlaskit``): a zip archive with a manifest that names the kit
format and its schema version and gives the size and SHA-256 of every other member.

Opening a kit checks all of it before anything is written anywhere (:func:`read_kit`):
that it is a whole zip archive (a truncated one has lost its central directory), that
its manifest says it is a Heritage Atlas kit in a schema this version reads, that it
holds exactly the members the manifest lists, each with its size and checksum. A
truncated, tampered or foreign file, or one from a newer version, is refused with a
sentence saying which. Members are read again through :meth:`VerifiedKit.read` and
:meth:`VerifiedKit.extract`, which check the checksum once more as they go.

A kit is written beside its final name and moved into place when complete
(:class:`KitWriter`), so a kit interrupted while being written is never mistaken for one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from geodata.errors import HeritageError

KIT_FORMAT = "heritage-atlas-kit"
KIT_SCHEMA = 1  # raise when a kit's layout changes in a way an older reader cannot follow
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 2**20
MAX_MEMBERS = 200_000
MAX_MEMBER_BYTES = 4 * 2**30  # a basemap of a city at street level fits
_BLOCK = 1 << 20
# Members are named by the kit writer: letters, digits and . _ - in folders, never ".."
_MEMBER_NAME = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]*/)*[A-Za-z0-9_][A-Za-z0-9_.-]*")
# Already compressed: stored as they are (deflating them again costs time, saves nothing).
_STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".mp3", ".ogg", ".m4a", ".webm", ".pmtiles")


class KitError(HeritageError):
    """A file that cannot be opened as a workshop kit; the message says why."""

    code = "bad_kit"
    status = 422


@dataclass(frozen=True)
class KitMember:
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """What a kit says about itself. ``basemap`` is the slot for a background map file
    (``{"path", "format", "attribution"}``) or None; ``info`` the rest of the manifest
    (the workshop, what the kit holds, the settings the venue runs with)."""

    kit_id: str
    schema: int
    created_at: str
    members: dict[str, KitMember]
    basemap: dict[str, Any] | None
    info: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": KIT_FORMAT,
            "schema": self.schema,
            "kit_id": self.kit_id,
            "created_at": self.created_at,
            "basemap": self.basemap,
            **self.info,
            "members": {
                m.path: {"sha256": m.sha256, "bytes": m.bytes}
                for m in sorted(self.members.values(), key=lambda m: m.path)
            },
        }


def _check_name(path: str) -> str:
    if not _MEMBER_NAME.fullmatch(path) or ".." in path.split("/") or path == MANIFEST:
        raise ValueError(f"{path!r} cannot be the name of a kit member")
    return path


class KitWriter:
    """Write a kit: members first, then (on :meth:`finish`) the manifest, and only then
    move the file to its name. Leaving the ``with`` block without finishing removes it."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        fd, name = tempfile.mkstemp(dir=self.target.parent, prefix=f".{self.target.name}.")
        os.close(fd)
        self.partial = Path(name)
        self.zip = zipfile.ZipFile(self.partial, "w", allowZip64=True)
        self.members: dict[str, KitMember] = {}

    def __enter__(self) -> KitWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()
        self.partial.unlink(missing_ok=True)  # finished: already moved away

    def _compression(self, path: str) -> int:
        return zipfile.ZIP_STORED if path.endswith(_STORED_SUFFIXES) else zipfile.ZIP_DEFLATED

    def add_bytes(self, path: str, data: bytes) -> None:
        path = _check_name(path)
        if path in self.members:
            raise ValueError(f"the kit already holds {path}")
        self.zip.writestr(path, data, compress_type=self._compression(path))
        self.members[path] = KitMember(path, hashlib.sha256(data).hexdigest(), len(data))

    def add_json(self, path: str, value: Any) -> None:
        self.add_bytes(path, orjson.dumps(value))

    def add_file(self, path: str, source: Path) -> None:
        """Copy a file into the kit a block at a time (a basemap may be gigabytes)."""
        path = _check_name(path)
        digest, size = hashlib.sha256(), 0
        info = zipfile.ZipInfo(path)
        info.compress_type = self._compression(path)
        with open(source, "rb") as src, self.zip.open(info, "w", force_zip64=True) as out:
            while block := src.read(_BLOCK):
                digest.update(block)
                size += len(block)
                out.write(block)
        self.members[path] = KitMember(path, digest.hexdigest(), size)

    def finish(self, manifest: Manifest) -> Path:
        members = dict(self.members)
        manifest = Manifest(
            manifest.kit_id,
            KIT_SCHEMA,
            manifest.created_at,
            members,
            manifest.basemap,
            manifest.info,
        )
        self.zip.writestr(MANIFEST, orjson.dumps(manifest.to_json(), option=orjson.OPT_INDENT_2))
        self.zip.close()
        with open(self.partial, "rb") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.partial, 0o666 & ~umask)  # as any new file (mkstemp made it private)
        os.replace(self.partial, self.target)
        return self.target


# ---------------------------------------------------------------------------
# Reading: everything checked before anything is written
# ---------------------------------------------------------------------------


def _manifest(archive: zipfile.ZipFile, name: str) -> Manifest:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise KitError(
            f"{name} is a zip archive but not a Heritage Atlas workshop kit (it has no manifest)",
            code="foreign_kit",
        ) from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise KitError(f"{name}: the manifest is far too large to be a kit's", code="foreign_kit")
    try:
        data = orjson.loads(archive.read(info))
    except (orjson.JSONDecodeError, zipfile.BadZipFile, OSError):
        raise KitError(
            f"{name}: the kit's manifest cannot be read; the file is damaged", code="damaged_kit"
        ) from None
    if not isinstance(data, dict) or data.get("format") != KIT_FORMAT:
        raise KitError(
            f"{name} is not a Heritage Atlas workshop kit (its manifest names another format)",
            code="foreign_kit",
        )
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise KitError(f"{name}: the kit's manifest gives no schema version", code="damaged_kit")
    if schema > KIT_SCHEMA:
        raise KitError(
            f"{name} was made by a newer version of Heritage Atlas (kit schema {schema}; "
            f"this version reads schema {KIT_SCHEMA} and older): update Heritage Atlas on "
            "this computer, or export the kit again from the same version",
            code="kit_too_new",
        )
    try:
        members = {
            _check_name(path): KitMember(path, str(m["sha256"]), int(m["bytes"]))
            for path, m in dict(data["members"]).items()
        }
        manifest = Manifest(
            str(data["kit_id"]),
            schema,
            str(data["created_at"]),
            members,
            data.get("basemap"),
            {k: v for k, v in data.items() if k not in _OWN_KEYS},
        )
    except (KeyError, TypeError, ValueError):
        raise KitError(f"{name}: the kit's manifest is incomplete", code="damaged_kit") from None
    if len(members) > MAX_MEMBERS:
        raise KitError(f"{name}: the kit lists far too many files", code="damaged_kit")
    return manifest


_OWN_KEYS = ("format", "schema", "kit_id", "created_at", "basemap", "members")


def _hash_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: IO[bytes] | None) -> str:
    digest, size = hashlib.sha256(), 0
    with archive.open(info) as src:
        while block := src.read(_BLOCK):
            size += len(block)
            if size > info.file_size:  # never more than the directory says
                break
            digest.update(block)
            if out is not None:
                out.write(block)
    return digest.hexdigest() if size == info.file_size else ""


class VerifiedKit:
    """A kit whose every member was checked against its manifest; read members through
    it (each read checks its member again)."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, manifest: Manifest) -> None:
        self.path = path
        self.archive = archive
        self.manifest = manifest

    def close(self) -> None:
        self.archive.close()

    def __enter__(self) -> VerifiedKit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, path: str) -> bool:
        return path in self.manifest.members

    def _tampered(self, path: str) -> KitError:
        return KitError(
            f"{self.path.name}: {path} does not match the kit's checksum; the file was "
            "changed or damaged after it was made",
            code="tampered_kit",
        )

    def read(self, path: str, limit: int = 512 * 2**20) -> bytes:
        """A member's bytes (members larger than ``limit`` are extracted, never read)."""
        member = self.manifest.members[path]
        if member.bytes > limit:
            raise KitError(f"{path} is too large to read into memory", code="damaged_kit")
        try:
            data = self.archive.read(path)
        except (zipfile.BadZipFile, OSError):
            raise self._tampered(path) from None
        if hashlib.sha256(data).hexdigest() != member.sha256:
            raise self._tampered(path)
        return data

    def read_json(self, path: str) -> Any:
        try:
            return orjson.loads(self.read(path))
        except orjson.JSONDecodeError:
            raise KitError(f"{path} in the kit is not valid JSON", code="damaged_kit") from None

    def extract(self, path: str, dest: Path) -> None:
        """Write a member to ``dest`` (through a hidden file moved into place once its
        checksum holds)."""
        member = self.manifest.members[path]
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=".kit-")
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _hash_member(self.archive, self.archive.getinfo(path), out)
            if digest != member.sha256:
                raise self._tampered(path)
            os.replace(name, dest)
        except (zipfile.BadZipFile, OSError) as exc:
            raise self._tampered(path) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


def read_kit(path: Path) -> VerifiedKit:
    """Open and check a kit file: all of it, before the caller writes anything.

    Raise KitError naming what is wrong: not there, not a zip archive or cut short,
    another program's archive, a newer schema, a member missing, added, resized or
    changed."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise KitError(f"there is no kit file {path}", code="no_kit")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise KitError(
            f"{name} is not a workshop kit, or it is incomplete: the file is not a whole zip "
            "archive (was it cut short while copying?)",
            code="truncated_kit",
        ) from None
    try:
        manifest = _manifest(archive, name)
        infos = archive.infolist()
        names = [i.filename for i in infos if i.filename != MANIFEST]
        if len(names) != len(set(names)) or len(infos) != len(names) + 1:
            raise KitError(f"{name}: a file appears twice in the kit", code="tampered_kit")
        extra = sorted(set(names) - set(manifest.members))
        missing = sorted(set(manifest.members) - set(names))
        if extra or missing:
            which = f"{extra[0]} is not in its manifest" if extra else f"{missing[0]} is missing"
            raise KitError(f"{name} was changed after it was made: {which}", code="tampered_kit")
        for info in infos:
            if info.filename == MANIFEST:
                continue
            member = manifest.members[info.filename]
            if info.flag_bits & 0x1:
                raise KitError(f"{name}: {info.filename} is encrypted", code="foreign_kit")
            if info.file_size != member.bytes or member.bytes > MAX_MEMBER_BYTES:
                raise KitError(
                    f"{name} was changed after it was made: {info.filename} is not the size "
                    "its manifest gives",
                    code="tampered_kit",
                )
            try:
                digest = _hash_member(archive, info, None)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
                digest = ""
            if digest != member.sha256:
                raise KitError(
                    f"{name}: {info.filename} does not match the kit's checksum; the file "
                    "was changed or damaged after it was made",
                    code="tampered_kit",
                )
    except BaseException:
        archive.close()
        raise
    return VerifiedKit(path, archive, manifest)


def members_under(kit: VerifiedKit, folder: str) -> Iterator[str]:
    prefix = folder.rstrip("/") + "/"
    return (p for p in sorted(kit.manifest.members) if p.startswith(prefix))
