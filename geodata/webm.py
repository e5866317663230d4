"""WebM audio (Opus), read and stripped without a Matroska library.

mutagen does not read WebM, and a browser's MediaRecorder writes exactly that. A WebM
file is EBML: nested elements, each an id, a size and a body. This module walks the
element headers only (the audio itself is never decoded), reading a few bytes per
element, and accepts a file when it is a ``webm`` document with one Segment holding one
audio track coded ``A_OPUS`` and at least one block of it.

What could name a person, a place or a device is blanked *in place*, overwritten by a
Void element of the same length (so every offset in the file, cue points included,
stays right): the whole Tags, Attachments and Chapters elements, the SeekHead (which
points at them), and the segment's Title, MuxingApp, WritingApp and DateUTC and each
track's Name. Every element of the file is walked, so no Tags element is missed; a file
this walk cannot follow to its last byte (an element of unknown size other than a
Segment or Cluster, a second Segment, bytes after the Segment) is refused rather than
stored with parts unread.

The duration is the segment's Duration when it has one, else the time of its last block
plus that block's length (MediaRecorder leaves Duration out: it cannot go back to write
it), read from the Opus packet's first byte (RFC 6716, section 3.1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

EBML, DOCTYPE, SEGMENT = 0x1A45DFA3, 0x4282, 0x18538067
SEEKHEAD, INFO, TRACKS, CLUSTER = 0x114D9B74, 0x1549A966, 0x1654AE6B, 0x1F43B675
CUES, TAGS, ATTACHMENTS, CHAPTERS = 0x1C53BB6B, 0x1254C367, 0x1941A469, 0x1043A770
VOID, CRC32 = 0xEC, 0xBF
TIMECODE_SCALE, DURATION = 0x2AD7B1, 0x4489
TITLE, MUXING_APP, WRITING_APP, DATE_UTC = 0x7BA9, 0x4D80, 0x5741, 0x4461
TRACK_ENTRY, TRACK_TYPE, CODEC_ID, TRACK_NAME = 0xAE, 0x83, 0x86, 0x536E
TIMECODE, SIMPLE_BLOCK, BLOCK_GROUP, BLOCK = 0xE7, 0xA3, 0xA0, 0xA1

# The Segment's children: an unknown-size Cluster ends where one of these begins.
SEGMENT_CHILDREN = frozenset(
    {SEEKHEAD, INFO, TRACKS, CLUSTER, CUES, TAGS, ATTACHMENTS, CHAPTERS, VOID, CRC32}
)
BLANKED_TOP = frozenset({SEEKHEAD, TAGS, ATTACHMENTS, CHAPTERS})
BLANKED_INFO = frozenset({TITLE, MUXING_APP, WRITING_APP, DATE_UTC})
AUDIO_TRACK = 2
MAX_TEXT = 64  # the most read of a DocType or CodecID string


class WebmError(Exception):
    """A WebM file that cannot be accepted; ``unsupported`` tells a wrong kind of file
    (415) from a damaged one (422)."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


@dataclass
class WebmAudio:
    duration_s: float
    blanked: list[tuple[int, int]] = field(default_factory=list)  # (offset, length)


def _cut_short() -> WebmError:
    return WebmError("the recording is cut short or damaged")


class _Reader:
    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size

    def read(self, at: int, n: int) -> bytes:
        if at + n > self.size:
            raise _cut_short()
        self.fh.seek(at)
        data = self.fh.read(n)
        if len(data) != n:
            raise _cut_short()
        return data

    def header(self, at: int) -> tuple[int, int | None, int]:
        """An element's id, its body's size (None: unknown) and where its body starts."""
        first = self.read(at, 1)[0]
        id_len = _vint_length(first, 4)
        element_id = int.from_bytes(self.read(at, id_len), "big")
        at += id_len
        first = self.read(at, 1)[0]
        size_len = _vint_length(first, 8)
        raw = int.from_bytes(self.read(at, size_len), "big")
        value = raw & ((1 << (7 * size_len)) - 1)
        unknown = value == (1 << (7 * size_len)) - 1
        return element_id, None if unknown else value, at + size_len

    def uint(self, at: int, size: int) -> int:
        if size > 8:
            raise _cut_short()
        return int.from_bytes(self.read(at, size), "big")


def _vint_length(first: int, most: int) -> int:
    for length in range(1, most + 1):
        if first & (0x80 >> (length - 1)):
            return length
    raise _cut_short()


def _opus_packet_ticks(toc: int, count_byte: int | None) -> float:
    """The length in milliseconds of an Opus packet, from its TOC byte (RFC 6716 3.1)."""
    config = toc >> 3
    if config < 12:
        frame = (10.0, 20.0, 40.0, 60.0)[config % 4]
    elif config < 16:
        frame = (10.0, 20.0)[config % 2]
    else:
        frame = (2.5, 5.0, 10.0, 20.0)[config % 4]
    code = toc & 3
    frames = 1 if code == 0 else 2 if code in (1, 2) else (count_byte or 0) & 0x3F
    return frame * frames


class _Walk:
    def __init__(self, reader: _Reader) -> None:
        self.r = reader
        self.scale = 1_000_000  # ns per tick, the default TimecodeScale
        self.duration: float | None = None
        self.tracks = 0
        self.blocks = 0
        self.end_ms = 0.0
        self.blanked: list[tuple[int, int]] = []

    def child_end(self, start: int, size: int | None, parent_end: int) -> int:
        if size is None:
            raise WebmError("the recording has a part of unknown length where none may be")
        end = start + size
        if end > parent_end:
            raise _cut_short()
        return end

    def header(self) -> None:
        element_id, size, start = self.r.header(0)
        if element_id != EBML:
            raise WebmError("not a WebM file", unsupported=True)
        end = self.child_end(start, size, self.r.size)
        doctype = b""
        at = start
        while at < end:
            cid, csize, cstart = self.r.header(at)
            cend = self.child_end(cstart, csize, end)
            if cid == DOCTYPE:
                doctype = self.r.read(cstart, min(cend - cstart, MAX_TEXT)).rstrip(b"\0")
            at = cend
        if doctype != b"webm":
            raise WebmError(
                "this Matroska file is not WebM; send WebM with Opus audio", unsupported=True
            )
        self.segment(end)

    def segment(self, at: int) -> None:
        element_id, size, start = self.r.header(at)
        if element_id != SEGMENT:
            raise WebmError("the WebM file holds no recording", unsupported=True)
        end = self.r.size if size is None else start + size
        if end > self.r.size:
            raise _cut_short()
        if end < self.r.size:  # bytes after the recording: damaged, or hiding something
            raise _cut_short()
        at = start
        while at < end:
            element_id, size, body = self.r.header(at)
            if element_id == CLUSTER:
                at = self.cluster(body, size, end)
                continue
            child_end = self.child_end(body, size, end)
            if element_id in BLANKED_TOP:
                self.blanked.append((at, child_end - at))
            elif element_id == INFO:
                self.info(body, child_end)
            elif element_id == TRACKS:
                self.track_list(body, child_end)
            elif element_id == SEGMENT:
                raise WebmError("the WebM file holds more than one recording", unsupported=True)
            at = child_end

    def info(self, at: int, end: int) -> None:
        while at < end:
            element_id, size, body = self.r.header(at)
            child_end = self.child_end(body, size, end)
            if element_id == TIMECODE_SCALE:
                self.scale = self.r.uint(body, child_end - body) or self.scale
            elif element_id == DURATION and child_end - body in (4, 8):
                fmt = ">f" if child_end - body == 4 else ">d"
                (self.duration,) = struct.unpack(fmt, self.r.read(body, child_end - body))
            elif element_id in BLANKED_INFO:
                self.blanked.append((at, child_end - at))
            at = child_end

    def track_list(self, at: int, end: int) -> None:
        while at < end:
            element_id, size, body = self.r.header(at)
            child_end = self.child_end(body, size, end)
            if element_id == TRACK_ENTRY:
                self.track(body, child_end)
            at = child_end

    def track(self, at: int, end: int) -> None:
        kind, codec = None, b""
        while at < end:
            element_id, size, body = self.r.header(at)
            child_end = self.child_end(body, size, end)
            if element_id == TRACK_TYPE:
                kind = self.r.uint(body, child_end - body)
            elif element_id == CODEC_ID:
                codec = self.r.read(body, min(child_end - body, MAX_TEXT)).rstrip(b"\0")
            elif element_id == TRACK_NAME:
                self.blanked.append((at, child_end - at))
            at = child_end
        if kind != AUDIO_TRACK:
            raise WebmError("this WebM file holds video, not only sound", unsupported=True)
        if codec != b"A_OPUS":
            raise WebmError("this WebM file's sound is not Opus", unsupported=True)
        self.tracks += 1
        if self.tracks > 1:
            raise WebmError("this WebM file holds more than one sound track", unsupported=True)

    def cluster(self, at: int, size: int | None, segment_end: int) -> int:
        end = segment_end if size is None else at + size
        if end > segment_end:
            raise _cut_short()
        cluster_time: int | None = None
        while at < end:
            element_id, csize, body = self.r.header(at)
            if size is None and element_id in SEGMENT_CHILDREN:
                return at  # the next Segment child: an unknown-size cluster ends here
            child_end = self.child_end(body, csize, end)
            if element_id == TIMECODE:
                cluster_time = self.r.uint(body, child_end - body)
            elif element_id in (SIMPLE_BLOCK, BLOCK_GROUP):
                if cluster_time is None:
                    raise _cut_short()
                block = body
                if element_id == BLOCK_GROUP:
                    block = self.block_in_group(body, child_end)
                self.block(block, child_end, cluster_time)
            at = child_end
        return end

    def block_in_group(self, at: int, end: int) -> int:
        while at < end:
            element_id, size, body = self.r.header(at)
            child_end = self.child_end(body, size, end)
            if element_id == BLOCK:
                return body
            at = child_end
        raise _cut_short()

    def block(self, at: int, end: int, cluster_time: int) -> None:
        track_len = _vint_length(self.r.read(at, 1)[0], 8)
        head = self.r.read(at + track_len, 3)
        offset = struct.unpack(">h", head[:2])[0]
        laced = head[2] & 0x06
        payload = at + track_len + 3
        ms = (cluster_time + offset) * self.scale / 1e6
        if not laced and payload < end:
            packet = self.r.read(payload, min(2, end - payload))
            ms += _opus_packet_ticks(packet[0], packet[1] if len(packet) > 1 else None)
        self.blocks += 1
        self.end_ms = max(self.end_ms, ms)


def read_webm(fh: BinaryIO, size: int) -> WebmAudio:
    """Check a WebM/Opus file and find its duration and the elements to blank; raise
    WebmError."""
    walk = _Walk(_Reader(fh, size))
    walk.header()
    if walk.tracks == 0:
        raise WebmError("this WebM file holds no sound track", unsupported=True)
    if walk.blocks == 0:
        raise WebmError("the recording holds no sound")
    if walk.duration is not None and walk.duration > 0:
        seconds = walk.duration * walk.scale / 1e9
    else:
        seconds = walk.end_ms / 1000
    return WebmAudio(seconds, walk.blanked)


def void_header(length: int) -> bytes:
    """The head of a Void element exactly ``length`` bytes long (any length from 2); its
    body is ``length - len(head)`` zero bytes."""
    if length < 2:
        raise ValueError("an EBML element is at least two bytes long")
    if length - 2 < 127:  # a one-byte size (0x7F would mean "unknown")
        return bytes([VOID, 0x80 | (length - 2)])
    return bytes([VOID, 0x01]) + (length - 9).to_bytes(7, "big")


_ZEROS = bytes(65536)


def blank_in_place(fh: BinaryIO, blanked: list[tuple[int, int]]) -> None:
    """Overwrite each (offset, length) of a file open for update with a Void element
    (zeros written a block at a time: an attachment may be megabytes long)."""
    for offset, length in blanked:
        head = void_header(length)
        fh.seek(offset)
        fh.write(head)
        left = length - len(head)
        while left:
            step = min(left, len(_ZEROS))
            fh.write(_ZEROS[:step])
            left -= step
