"""Mapbox Vector Tile (MVT 2.1) encoding with numpy: thousands of points at once.

A layer's point features all have the same shape in protobuf (tags, type, one MoveTo), so
each part of every feature is a column of varints: they are encoded as whole arrays and
the bytes of each feature gathered with one mask, never a Python object per feature.
Lines and polygons (few, in practice) are encoded one by one. Geometries come already
in tile coordinates (integers, y down); :mod:`geodata.tilematrix` puts them there.

Values follow PostGIS's ``ST_AsMVT``: text as ``string_value``, whole numbers as
``uint_value`` (from 0 up) or ``sint_value`` (below 0), booleans as ``bool_value``, so a
tile decodes the same from either backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

EXTENT = 4096
POINT, LINESTRING, POLYGON = 1, 2, 3
_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7
_VARINT_BYTES = 10  # a uint64 takes at most ten


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed integers as the unsigned ones protobuf's ``sint`` encoding writes."""
    v = np.asarray(values, dtype=np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def varint_lengths(values: np.ndarray) -> np.ndarray:
    """How many bytes each unsigned value takes as a varint."""
    v = np.asarray(values, dtype=np.uint64)
    n = np.ones(v.shape, dtype=np.int64)
    top = int(v.max()) if v.size else 0
    for shift in range(7, 64, 7):
        if top < 1 << shift:
            break
        n += v >= np.uint64(1) << np.uint64(shift)
    return n


def _varint_matrix(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, width) bytes of each value as a varint, and the mask of the bytes it uses."""
    v = np.asarray(values, dtype=np.uint64)
    shifts = np.arange(width, dtype=np.uint64) * np.uint64(7)
    groups = (v[:, None] >> shifts) & np.uint64(0x7F)
    used = np.arange(width) < varint_lengths(v)[:, None]
    more = np.arange(width) < varint_lengths(v)[:, None] - 1
    return (groups | (more * np.uint64(0x80))).astype(np.uint8), used


def varint(value: int) -> bytes:
    """One unsigned value as a protobuf varint."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class _Rows:
    """Byte strings built column by column for n rows at once: each column is a raw byte
    or a varint, present in some rows; :meth:`join` concatenates every row's bytes, row
    after row."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.blocks: list[np.ndarray] = []
        self.masks: list[np.ndarray] = []

    def byte(self, value: int, present: np.ndarray | None = None) -> None:
        self.blocks.append(np.full((self.n, 1), value, dtype=np.uint8))
        self.masks.append(np.ones((self.n, 1), bool) if present is None else present[:, None])

    def varint(self, values: np.ndarray, present: np.ndarray | None = None) -> None:
        v = np.asarray(values, dtype=np.uint64)
        top = int(v.max()) if len(v) else 0
        width = max(1, (top.bit_length() + 6) // 7)
        block, used = _varint_matrix(v, width)
        self.blocks.append(block)
        self.masks.append(used if present is None else used & present[:, None])

    def join(self) -> bytes:
        if not self.n or not self.blocks:
            return b""
        block, mask = np.hstack(self.blocks), np.hstack(self.masks)
        return block[mask].tobytes()


def _field_lengths(values: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    n = varint_lengths(values)
    return n if present is None else np.where(present, n, 0)


def _spread(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments of these lengths laid end to end: each byte's segment, and its offset
    inside that segment."""
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(lengths)), lengths)
    return owner, np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _text_values(texts: Sequence[str]) -> bytes:
    """Value messages (``string_value``) for many texts, each wrapped as a ``values``
    field: the headers are built as arrays and the texts scattered in between."""
    data = [t.encode() for t in texts]
    lengths = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    inner = 1 + varint_lengths(lengths) + lengths  # 0x0a, length, text
    rows = _Rows(len(data))
    rows.byte(0x22)
    rows.varint(inner)
    rows.byte(0x0A)
    rows.varint(lengths)
    heads = np.frombuffer(rows.join(), dtype=np.uint8)
    head_len = 2 + varint_lengths(inner) + varint_lengths(lengths)
    starts = np.cumsum(head_len + lengths) - (head_len + lengths)
    out = np.empty(int((head_len + lengths).sum()), dtype=np.uint8)
    owner, offset = _spread(head_len)
    out[starts[owner] + offset] = heads
    owner, offset = _spread(lengths)
    out[starts[owner] + head_len[owner] + offset] = np.frombuffer(b"".join(data), np.uint8)
    return out.tobytes()


def _other_value(value: Any) -> bytes:
    if isinstance(value, bool | np.bool_):
        return b"\x22\x02\x38" + (b"\x01" if value else b"\x00")
    if isinstance(value, int | np.integer):
        v = int(value)
        inner = (b"\x28" + varint(v)) if v >= 0 else (b"\x30" + varint(int(zigzag(v))))
        return b"\x22" + varint(len(inner)) + inner
    raise TypeError(f"MVT values here are text, whole numbers or booleans, not {value!r}")


@dataclass
class _Values:
    """A layer's keys and its table of values (each column's distinct values in a block of
    their own)."""

    keys: list[str] = field(default_factory=list)
    count: int = 0
    encoded: list[bytes] = field(default_factory=list)

    def codes(self, name: str, column: Sequence[Any]) -> tuple[int, np.ndarray]:
        """The key's index and, per row, its value's index in the table (-1: no value)."""
        if name not in self.keys:
            self.keys.append(name)
        key = self.keys.index(name)
        array = np.empty(len(column), dtype=object)
        array[:] = column
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        values = uniques.tolist()
        if pd.api.types.infer_dtype(values, skipna=False) == "string":
            self.encoded.append(_text_values(values))
        else:
            self.encoded.append(b"".join(map(_other_value, values)))
        out = np.where(codes >= 0, codes + self.count, -1).astype(np.int64)
        self.count += len(values)
        return key, out

    def encode(self) -> bytes:
        keys = b"".join(b"\x1a" + varint(len(k.encode())) + k.encode() for k in self.keys)
        return keys + b"".join(self.encoded)


def _tags(values: _Values, properties: Mapping[str, Sequence[Any]], n: int) -> list:
    """Per property: (key index, value indexes, present mask) for n features."""
    out: list[tuple[int, np.ndarray, np.ndarray]] = []
    if not n:
        return out
    for name, column in properties.items():
        if len(column) != n:
            raise ValueError(f"property {name!r} has {len(column)} values for {n} features")
        key, codes = values.codes(name, column)
        out.append((key, codes, codes >= 0))
    return out


def _point_features(xy: np.ndarray, tags: list) -> bytes:
    """Point features (tile coordinates, one row each) as the layer's ``features`` field."""
    n = len(xy)
    if not n:
        return b""
    zx, zy = zigzag(xy[:, 0]), zigzag(xy[:, 1])
    tag_len = np.zeros(n, dtype=np.int64)
    for key, codes, present in tags:
        tag_len += np.where(present, varint_lengths(np.array([key]))[0], 0)
        tag_len += _field_lengths(np.maximum(codes, 0), present)
    geom_len = 1 + varint_lengths(zx) + varint_lengths(zy)
    has_tags = tag_len > 0
    feature_len = (
        np.where(has_tags, 1 + varint_lengths(tag_len) + tag_len, 0)
        + 2
        + 1
        + varint_lengths(geom_len)
        + geom_len
    )
    rows = _Rows(n)
    rows.byte(0x12)  # Layer.features
    rows.varint(feature_len)
    rows.byte(0x12, has_tags)  # Feature.tags (packed)
    rows.varint(tag_len, has_tags)
    for key, codes, present in tags:
        rows.varint(np.full(n, key), present)
        rows.varint(np.maximum(codes, 0), present)
    rows.byte(0x18)  # Feature.type
    rows.byte(POINT)
    rows.byte(0x22)  # Feature.geometry (packed)
    rows.varint(geom_len)
    rows.byte((1 << 3) | _MOVE_TO)
    rows.varint(zx)
    rows.varint(zy)
    return rows.join()


def _ring_commands(coords: np.ndarray, cursor: np.ndarray, closed: bool) -> list[np.ndarray]:
    """MoveTo, LineTo (and ClosePath) for one line or ring, from the pen's position."""
    keep = np.ones(len(coords), bool)
    keep[1:] = (np.diff(coords, axis=0) != 0).any(axis=1)  # no zero-length LineTo
    pts = coords[keep]
    if closed and len(pts) > 1 and (pts[-1] == pts[0]).all():
        pts = pts[:-1]  # ClosePath draws the closing edge
    if len(pts) < (3 if closed else 2):
        return []
    deltas = np.diff(np.vstack([cursor, pts]), axis=0)
    cursor[:] = pts[-1]
    z = zigzag(deltas).reshape(-1)
    out = [
        np.array([(1 << 3) | _MOVE_TO], dtype=np.uint64),
        z[:2],
        np.array([((len(pts) - 1) << 3) | _LINE_TO], dtype=np.uint64),
        z[2:],
    ]
    if closed:
        out.append(np.array([(1 << 3) | _CLOSE_PATH], dtype=np.uint64))
    return out


def _parts(geometry: BaseGeometry) -> list[BaseGeometry]:
    return list(shapely.get_parts(geometry))


def geometry_commands(geometry: BaseGeometry) -> tuple[int, np.ndarray] | None:
    """(MVT geometry type, command integers) of a geometry in tile coordinates whose
    polygons' exterior rings have positive area in those coordinates; None if nothing is
    left to draw."""
    kind = shapely.get_type_id(geometry)
    cursor = np.zeros(2, dtype=np.int64)
    commands: list[np.ndarray] = []
    if kind in (0, 4):  # (multi)point
        pts = shapely.get_coordinates(geometry).astype(np.int64)
        if not len(pts):
            return None
        deltas = np.diff(np.vstack([cursor, pts]), axis=0)
        head = np.array([(len(pts) << 3) | _MOVE_TO], dtype=np.uint64)
        return POINT, np.concatenate([head, zigzag(deltas).reshape(-1)])
    if kind in (1, 5):  # (multi)linestring
        for part in _parts(geometry):
            commands += _ring_commands(_ring(part), cursor, closed=False)
        kind_out = LINESTRING
    elif kind in (3, 6):  # (multi)polygon
        for part in _parts(geometry):
            exterior = _ring_commands(_ring(part.exterior), cursor, closed=True)
            if not exterior:  # collapsed: its holes go with it
                continue
            commands += exterior
            for ring in part.interiors:
                commands += _ring_commands(_ring(ring), cursor, closed=True)
        kind_out = POLYGON
    else:
        return None
    if not commands:
        return None
    return kind_out, np.concatenate(commands)


def _ring(ring: BaseGeometry) -> np.ndarray:
    return shapely.get_coordinates(ring).astype(np.int64)


def _shape_features(shapes: Sequence[BaseGeometry], tags: list) -> bytes:
    out = []
    for i, geometry in enumerate(shapes):
        encoded = geometry_commands(geometry)
        if encoded is None:
            continue
        kind, commands = encoded
        packed = b"".join(varint(int(c)) for c in commands)
        tag_values = []
        for key, codes, present in tags:
            if present[i]:
                tag_values += [key, int(codes[i])]
        body = b""
        if tag_values:
            tag_bytes = b"".join(varint(t) for t in tag_values)
            body += b"\x12" + varint(len(tag_bytes)) + tag_bytes
        body += b"\x18" + varint(kind) + b"\x22" + varint(len(packed)) + packed
        out.append(b"\x12" + varint(len(body)) + body)
    return b"".join(out)


def encode_layer(
    name: str,
    *,
    points: np.ndarray | None = None,
    point_properties: Mapping[str, Sequence[Any]] | None = None,
    shapes: Sequence[BaseGeometry] = (),
    shape_properties: Mapping[str, Sequence[Any]] | None = None,
    extent: int = EXTENT,
) -> bytes:
    """One MVT layer (a ``Tile.layers`` field, ready to concatenate with others) holding
    point features at ``points`` ((n, 2) integer tile coordinates) and line or polygon
    features ``shapes`` (in tile coordinates, see :func:`geometry_commands`), each with
    its properties as columns (``None`` leaves a property out of that feature). An empty
    layer encodes as nothing."""
    values = _Values()
    xy = np.zeros((0, 2), dtype=np.int64) if points is None else np.asarray(points, np.int64)
    point_tags = _tags(values, point_properties or {}, len(xy))
    shape_tags = _tags(values, shape_properties or {}, len(shapes))
    features = _point_features(xy, point_tags) + _shape_features(shapes, shape_tags)
    if not features:
        return b""
    encoded_name = name.encode()
    body = (
        b"\x78\x02"  # version 2
        + b"\x0a"
        + varint(len(encoded_name))
        + encoded_name
        + features
        + values.encode()
        + b"\x28"
        + varint(extent)
    )
    return b"\x1a" + varint(len(body)) + body
