"""Recordings of places (oral histories, songs, street sounds): recognised by content,
stripped of every metadata tag, measured.

An uploaded file lies on disk (it is never held in memory whole). Its first bytes say
what it is, whatever its name or declared type: MP3, Ogg (Opus or Vorbis), MP4/M4A
(AAC), WAV or WebM (Opus); anything else is refused as unsupported (415). Then the file
is checked to its last byte, and what could name a person, a place or a device is taken
out where it lies:

- MP3: ID3v1, ID3v2 and APEv2 tags removed (mutagen), then every frame walked;
- Ogg: the comment header emptied, vendor string included (mutagen), pages walked;
- M4A: every atom that is not needed to play the sound blanked
  (:mod:`geodata.audio_containers`; mutagen reads the codec and duration);
- WAV: written again with its sound chunks only;
- WebM: walked and blanked by :mod:`geodata.webm` (mutagen does not read WebM).

A file whose structure does not hold to its end (cut short, damaged) is refused (422).
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen
from mutagen.apev2 import delete as delete_ape
from mutagen.id3 import delete as delete_id3
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from geodata.audio_containers import (
    ContainerError,
    blank_mp4,
    mp4_blanks,
    rewrite_wav,
    walk_mp3,
    walk_ogg,
)
from geodata.errors import InvalidInput
from geodata.schemas import Problem
from geodata.webm import WebmError, blank_in_place, read_webm

ACCEPTED = "MP3, Ogg (Opus or Vorbis), M4A (AAC), WAV or WebM (Opus)"
# What the browser's <audio> element and the file's name are told, per kind.
FORMATS = {
    "mp3": ("audio/mpeg", "mp3"),
    "ogg": ("audio/ogg", "ogg"),
    "m4a": ("audio/mp4", "m4a"),
    "wav": ("audio/wav", "wav"),
    "webm": ("audio/webm", "webm"),
}
# Sound files in containers that are not accepted, named so the refusal can say so.
_OTHER_AUDIO = {
    b"fLaC": "FLAC",
    b"FORM": "AIFF",
    b"#!AM": "AMR",
    b"MThd": "MIDI",
    b"MAC ": "Monkey's Audio",
    b"wvpk": "WavPack",
}
_HASH_BLOCK = 65536
# What mutagen raises (or lets through) on damaged files.
_DAMAGED = (mutagen.MutagenError, struct.error, EOFError, ValueError, IndexError, OverflowError)


class AudioError(InvalidInput):
    """A file that cannot be accepted as a recording; the message says why (422)."""

    code = "broken_audio"

    def __init__(
        self, message: str, *, code: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.problems = [Problem("file", self.code, message, params or {})]


class UnsupportedAudio(AudioError):
    """Not a sound file, or sound in a container that is not accepted (415)."""

    code = "not_audio"
    status = 415


class AudioTooLarge(AudioError):
    code = "audio_too_large"
    status = 413


@dataclass(frozen=True)
class AudioLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_per_place: int = 5


@dataclass(frozen=True)
class PreparedAudio:
    """A recording checked and stripped where it lies, at ``path``."""

    path: Path
    kind: str  # a key of FORMATS
    mime_type: str
    extension: str
    duration_s: float
    bytes: int
    sha256: str


def too_large(limits: AudioLimits) -> AudioTooLarge:
    mb = limits.max_bytes / 2**20
    limit = f"{mb:.0f}" if mb >= 10 else f"{mb:.1f}"  # a small limit is not "0 MB"
    return AudioTooLarge(
        f"the recording is larger than the limit of {limit} MB; send a shorter one",
        params={"limit": limit},
    )


def _broken() -> AudioError:
    return AudioError("the recording is damaged or cut short; send it again")


def _unsupported(what: str | None = None) -> UnsupportedAudio:
    if what:
        return UnsupportedAudio(
            f"{what} recordings are not accepted; send {ACCEPTED}",
            code="unsupported_audio",
            params={"kind": what, "accepted": ACCEPTED},
        )
    return UnsupportedAudio(
        f"this file is not a recording we can take (whatever its name says); send {ACCEPTED}",
        params={"accepted": ACCEPTED},
    )


def sniff(head: bytes) -> str:
    """The kind of recording a file's first bytes (16 or more) show; raise UnsupportedAudio."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    raise _unsupported(_OTHER_AUDIO.get(head[:4]))


def _container(exc: ContainerError | WebmError) -> AudioError:
    if exc.unsupported:
        return UnsupportedAudio(
            f"{exc}; send {ACCEPTED}",
            code="unsupported_audio",
            params={"kind": str(exc), "accepted": ACCEPTED},
        )
    return _broken()


def _mp3(path: Path) -> float:
    MP3(path)  # raises if no frame is found
    delete_id3(path, delete_v1=True, delete_v2=True)
    delete_ape(path)
    with path.open("rb") as fh:
        return walk_mp3(fh, path.stat().st_size)


def _ogg(path: Path) -> float:
    with path.open("rb") as fh:
        walk_ogg(fh, path.stat().st_size)
    for kind in (OggOpus, OggVorbis):
        try:
            audio = kind(path)
        except mutagen.MutagenError:
            continue
        audio.tags.clear()
        audio.tags.vendor = ""  # the encoder (or recording app) that wrote it
        audio.save()
        with path.open("rb") as fh:
            walk_ogg(fh, path.stat().st_size)
        return float(kind(path).info.length)
    raise _unsupported("Ogg FLAC, Speex or Theora")


def _m4a(path: Path) -> float:
    audio = MP4(path)
    if not str(getattr(audio.info, "codec", "")).startswith("mp4a"):
        raise _unsupported(f"MP4 {audio.info.codec}")
    with path.open("r+b") as fh:
        blanks, dated = mp4_blanks(fh, path.stat().st_size)
        blank_mp4(fh, blanks, dated)
    return float(MP4(path).info.length)


def _wav(path: Path) -> float:
    WAVE(path)
    return rewrite_wav(path)


def _webm(path: Path) -> float:
    with path.open("r+b") as fh:
        found = read_webm(fh, path.stat().st_size)
        blank_in_place(fh, found.blanked)
    return found.duration_s


_PREPARE = {"mp3": _mp3, "ogg": _ogg, "m4a": _m4a, "wav": _wav, "webm": _webm}


def prepare_audio(path: Path) -> PreparedAudio:
    """Recognise, check and strip the recording at ``path`` in place; raise AudioError
    (UnsupportedAudio for a file that is not a recording we take)."""
    size = path.stat().st_size
    if size == 0:
        raise AudioError("the file is empty; choose a recording", code="empty_audio")
    with path.open("rb") as fh:
        kind = sniff(fh.read(16))
    try:
        seconds = _PREPARE[kind](path)
    except (ContainerError, WebmError) as exc:
        raise _container(exc) from None
    except _DAMAGED:
        raise _broken() from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise _broken()
    mime_type, extension = FORMATS[kind]
    size, digest = _measure(path)
    return PreparedAudio(path, kind, mime_type, extension, round(seconds, 3), size, digest)


def _measure(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
