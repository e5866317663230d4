"""Walks over audio containers, beside what mutagen does: each checks a file's structure
to its last byte (a file cut short or padded with junk is refused) and blanks or drops
what mutagen leaves behind. Files are read through a small window, never whole.

- MP3: every frame header, one after the other, to the end (after mutagen has removed
  the ID3 and APE tags); the duration is the frames' own count.
- Ogg: every page header, one stream only (a second one would be video or another
  sound).
- MP4/M4A: the atom tree; one sound track only; everything but the atoms needed to play
  it (user data ``udta``, ``meta`` with its QuickTime keys such as
  ``com.apple.quicktime.location.ISO6709``, ``uuid`` XMP, Apple's ``©xyz`` position...)
  is turned into a ``free`` atom of the same size filled with zeros, so no offset in the
  file moves; creation and modification times are zeroed.
- WAV: written again with its ``fmt``, ``fact`` and ``data`` chunks only (LIST/INFO,
  ``id3``, ``bext`` with its originator, ``iXML``... are left behind).
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from pathlib import Path
from typing import BinaryIO

WINDOW = 65536


class ContainerError(Exception):
    """A file whose structure is wrong; ``unsupported`` tells a wrong kind (415) from a
    damaged one (422)."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


def _damaged() -> ContainerError:
    return ContainerError("the recording is cut short or damaged")


class Window:
    """Reads of a few bytes anywhere in a file, served from one cached block."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size
        self.start, self.block = 0, b""

    def read(self, at: int, n: int) -> bytes:
        if at < 0 or at + n > self.size:
            raise _damaged()
        if not (self.start <= at and at + n <= self.start + len(self.block)):
            self.fh.seek(at)
            self.start, self.block = at, self.fh.read(max(n, WINDOW))
            if len(self.block) < n:
                raise _damaged()
        return self.block[at - self.start : at - self.start + n]


# -- MP3 ------------------------------------------------------------------------------
_BITRATES = {  # (MPEG-1?, layer) -> kbit/s by index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[(False, 3)] = _BITRATES[(False, 2)]
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame(header: bytes) -> tuple[int, int, int] | None:
    """(frame length in bytes, samples, sample rate) of an MPEG audio frame header."""
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or "free" bitrate (no length to follow)
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    rate = _RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4, 384, rate
    samples = 1152 if layer == 2 or mpeg1 else 576
    return samples // 8 * bitrate // rate + padding, samples, rate


def walk_mp3(fh: BinaryIO, size: int) -> float:
    """The duration of an MP3 stream of frames only; raise ContainerError."""
    window, at, seconds, frames = Window(fh, size), 0, 0.0, 0
    while at < size:
        if size - at < 4:
            raise _damaged()
        frame = _mp3_frame(window.read(at, 4))
        if frame is None:
            raise _damaged()
        length, samples, rate = frame
        if at + length > size:
            raise _damaged()
        head = window.read(at, min(length, 48))
        if not (frames == 0 and (b"Xing" in head or b"Info" in head or b"VBRI" in head)):
            seconds += samples / rate  # the first frame of a VBR file is its index, silent
        frames += 1
        at += length
    if frames == 0:
        raise _damaged()
    return seconds


# -- Ogg ------------------------------------------------------------------------------
def walk_ogg(fh: BinaryIO, size: int) -> None:
    """Check that an Ogg file is whole pages of one stream; raise ContainerError."""
    window, at, serial = Window(fh, size), 0, None
    while at < size:
        head = window.read(at, 27)
        if head[:4] != b"OggS" or head[4] != 0:
            raise _damaged()
        page_serial = struct.unpack_from("<I", head, 14)[0]
        if serial is None:
            serial = page_serial
        elif page_serial != serial:
            raise ContainerError(
                "this Ogg file holds more than one stream (video, or several sounds)",
                unsupported=True,
            )
        segments = window.read(at + 27, head[26])
        at += 27 + head[26] + sum(segments)
        if at > size:
            raise _damaged()
    if serial is None:
        raise _damaged()


# -- MP4 ------------------------------------------------------------------------------
_KEEP_TOP = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"}
_KEEP_IN = {  # container -> the children that playing the sound needs
    b"moov": {b"mvhd", b"trak", b"iods", b"free", b"skip"},
    b"trak": {b"tkhd", b"mdia", b"edts", b"free", b"skip"},
    b"mdia": {b"mdhd", b"hdlr", b"minf", b"free", b"skip"},
    b"minf": {b"smhd", b"dinf", b"stbl", b"hdlr", b"free", b"skip"},
}
# Fragmented MP4 (sound in movie fragments after the header): its duration and tags lie
# in every fragment; not taken (the edit page's recorder never makes one).
_FRAGMENTS = {b"moof", b"mfra", b"sidx", b"styp"}
_DATED = {b"mvhd", b"tkhd", b"mdhd"}  # version/flags, then creation and modification time


def _atoms(window: Window, start: int, end: int):
    """(type, atom offset, body offset, atom end) of each atom between start and end."""
    at = start
    while at < end:
        head = window.read(at, 8)
        length, kind = struct.unpack(">I4s", head)
        body = at + 8
        if length == 1:
            length = struct.unpack(">Q", window.read(at + 8, 8))[0]
            body = at + 16
        elif length == 0:
            length = end - at  # to the end of the file (allowed for the last atom)
        if length < body - at or at + length > end:
            raise _damaged()
        yield kind, at, body, at + length
        at += length


def mp4_blanks(fh: BinaryIO, size: int) -> tuple[list[tuple[int, int, int]], list[int]]:
    """Check an MP4 file's atoms and find what to blank: (atom offset, body offset, end)
    of each atom to turn into ``free``, and the offsets of the dated headers' bodies.
    Raise ContainerError (unsupported when it holds anything but one sound track)."""
    window = Window(fh, size)
    blanks: list[tuple[int, int, int]] = []
    dated: list[int] = []
    handlers: list[bytes] = []
    has_moov = False

    def walk(container: bytes, start: int, end: int) -> None:
        for kind, at, body, atom_end in _atoms(window, start, end):
            if kind not in _KEEP_IN[container]:
                blanks.append((at, body, atom_end))
            elif kind in _KEEP_IN:
                walk(kind, body, atom_end)
            elif kind in _DATED:
                dated.append(body)
            elif kind == b"hdlr" and container == b"mdia":
                handlers.append(window.read(body + 8, 4))

    for kind, at, body, atom_end in _atoms(window, 0, size):
        if kind in _FRAGMENTS:
            raise ContainerError(
                "a fragmented MP4 file (as some browsers record) is not accepted",
                unsupported=True,
            )
        if kind == b"moov":
            has_moov = True
            walk(kind, body, atom_end)
        elif kind not in _KEEP_TOP:
            blanks.append((at, body, atom_end))
    if not has_moov:
        raise _damaged()
    if handlers != [b"soun"]:
        raise ContainerError(
            "this MP4 file holds more than one sound track (video, text or chapters)",
            unsupported=True,
        )
    return blanks, dated


def blank_mp4(fh: BinaryIO, blanks: list[tuple[int, int, int]], dated: list[int]) -> None:
    """Turn each atom into a zero-filled ``free`` atom and zero the dates, in place."""
    zeros = bytes(WINDOW)
    for at, body, end in blanks:
        fh.seek(at + 4)
        fh.write(b"free")
        if body - at == 16:
            fh.write(bytes(8))  # keep the 64-bit length: only the type and body change
        left = end - body
        fh.seek(body)
        while left:
            fh.write(zeros[: min(left, WINDOW)])
            left -= min(left, WINDOW)
    for body in dated:
        fh.seek(body)
        version = fh.read(4)[0]
        fh.seek(body + 4)
        fh.write(bytes(16 if version == 1 else 8))


# -- WAV ------------------------------------------------------------------------------
_WAV_KEEP = {b"fmt ", b"fact", b"data"}
_WAV_CODECS = {1, 3, 0xFFFE}  # PCM, float, and "extensible" (PCM with channel layout)


def rewrite_wav(path: Path) -> float:
    """Write a WAV file again with its sound chunks only (atomically, beside it); return
    its duration. Raise ContainerError."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        window = Window(fh, size)
        head = window.read(0, 12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ContainerError("not a WAV file", unsupported=True)
        chunks: list[tuple[bytes, int, int]] = []
        at, byte_rate, data_bytes = 12, 0, None
        while at < size:
            kind, length = struct.unpack("<4sI", window.read(at, 8))
            if at + 8 + length > size:
                raise _damaged()
            if kind == b"fmt ":
                fmt = window.read(at + 8, min(length, 16))
                if len(fmt) < 16 or struct.unpack_from("<H", fmt)[0] not in _WAV_CODECS:
                    raise ContainerError(
                        "this WAV file's sound is compressed in a way browsers do not play; "
                        "send plain PCM WAV",
                        unsupported=True,
                    )
                byte_rate = struct.unpack_from("<I", fmt, 8)[0]
            elif kind == b"data":
                if byte_rate == 0:
                    raise _damaged()
                data_bytes = length
            if kind in _WAV_KEEP:
                chunks.append((kind, at, length))
            at += 8 + length + (length & 1)
        if data_bytes is None or not byte_rate or not data_bytes:
            raise _damaged()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(b"RIFF\0\0\0\0WAVE")
                for kind, at, length in chunks:
                    out.write(struct.pack("<4sI", kind, length))
                    fh.seek(at + 8)
                    left = length
                    while left:
                        block = fh.read(min(left, WINDOW))
                        if not block:
                            raise _damaged()
                        out.write(block)
                        left -= len(block)
                    if length & 1:
                        out.write(b"\0")  # chunks are padded to an even length
                total = out.tell()
                out.seek(4)
                out.write(struct.pack("<I", total - 8))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    return data_bytes / byte_rate
