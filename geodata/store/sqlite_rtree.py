"""Bulk loading of an SQLite R*Tree: pack every box with Sort-Tile-Recursive and write the
tree's nodes straight into the virtual table's shadow tables.

SQLite's rtree module inserts one entry at a time (choose a leaf, split, reinsert), about
10 µs an entry however the entries are ordered: for a 100,000-place import that was a
quarter of the whole time. Packing the same boxes and writing the nodes takes a tenth of
that, and the packed tree is fuller (nodes at capacity, not two thirds), so queries read
fewer nodes.

What is written is the rtree module's on-disk format, described at the top of SQLite's
``ext/rtree/rtree.c`` and kept stable as part of the file format. GDAL's GeoPackage driver
bulk-loads its R*Trees the same way (``sqlite_rtree_bulk_load.c``). The format:

* ``<name>_node(nodeno, data)``: node 1 is the root; every node's blob has the root's
  length. A blob starts with the tree's depth (root only; 2 bytes, big-endian) and the
  number of entries (2 bytes); then each entry: a 64-bit big-endian id (a rowid in a leaf,
  a child's node number above) and the box as big-endian float32s ``minx, maxx, miny,
  maxy``.
* ``<name>_parent(nodeno, parentnode)`` for every node but the root.
* ``<name>_rowid(rowid, nodeno)``: the leaf holding each entry.

The tests check trees written here with SQLite's own ``rtreecheck()``.
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np

# Outward rounding of a double to float32 exactly as rtree.c's rtreeValueDown/Up do, so a
# packed entry holds the very box the module would have stored for the same row.
_TOWARDS_ZERO = 1.0 - 1.0 / 8388608.0
_AWAY_FROM_ZERO = 1.0 + 1.0 / 8388608.0
_ENTRY = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])
# Repack when there are at most this many entries already indexed per new one. Measured
# (commit included; 16 KiB pages, 32 MiB cache): to 1,000,000 entries, adding 25,000 took
# 1.91 s through the module and 1.55 s repacked, 50,000 took 2.58 s and 1.64 s; to
# 200,000, adding 20,000 took 0.45 s and 0.29 s, adding 5,000 took 0.23 s and 0.29 s.
REPACK_RATIO = 20


def outward_float32(boxes: np.ndarray) -> np.ndarray:
    """Boxes ``(n, 4)`` of doubles in ``minx, maxx, miny, maxy`` order as float32, each
    minimum rounded down and each maximum up (a float32 box always covers the double one)."""
    d = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    f = d.astype(np.float32)
    out = f.copy()
    lo, hi = d[:, 0::2], d[:, 1::2]
    flo, fhi = f[:, 0::2], f[:, 1::2]
    down = flo > lo
    up = fhi < hi
    out[:, 0::2] = np.where(
        down, (lo * np.where(lo < 0, _AWAY_FROM_ZERO, _TOWARDS_ZERO)).astype(np.float32), flo
    )
    out[:, 1::2] = np.where(
        up, (hi * np.where(hi < 0, _TOWARDS_ZERO, _AWAY_FROM_ZERO)).astype(np.float32), fhi
    )
    return out


def _even_split(total: int, parts: int) -> np.ndarray:
    """``parts`` sizes summing to ``total`` that differ by at most one."""
    sizes = np.full(parts, total // parts, dtype=np.int64)
    sizes[: total % parts] += 1
    return sizes


def _str_order(boxes: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort-Tile-Recursive: the order in which to lay ``boxes`` out and the size of each
    node they fill. Nodes hold equal shares (no node below the module's minimum fill of a
    third), in vertical slices of about sqrt(nodes) nodes each, sorted by y within a slice.
    """
    n = len(boxes)
    nodes = math.ceil(n / capacity)
    sizes = _even_split(n, nodes)
    slices = math.ceil(math.sqrt(nodes))
    slice_nodes = _even_split(nodes, slices)
    slice_ends = np.cumsum(sizes)[np.cumsum(slice_nodes) - 1]
    cx = boxes[:, 0].astype(np.float64) + boxes[:, 1]
    cy = boxes[:, 2].astype(np.float64) + boxes[:, 3]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(cx, kind="stable")] = np.arange(n)
    slice_of = np.searchsorted(slice_ends, rank, side="right")
    return np.lexsort((cy, slice_of)), sizes


def pack(rowids: np.ndarray, boxes: np.ndarray, capacity: int) -> list[tuple[np.ndarray, ...]]:
    """The levels of a packed tree, leaves first: ``(ids, boxes, sizes)`` per level, where
    ``ids``/``boxes`` are the level's entries in node order and ``sizes`` the entries per
    node. The ids of an upper level are positions of nodes in the level below."""
    levels = []
    ids, level_boxes = np.asarray(rowids, dtype=np.int64), np.asarray(boxes, dtype=np.float32)
    while True:
        if len(ids) <= capacity:
            levels.append((ids, level_boxes, np.array([len(ids)], dtype=np.int64)))
            return levels
        order, sizes = _str_order(level_boxes, capacity)
        ids, level_boxes = ids[order], level_boxes[order]
        levels.append((ids, level_boxes, sizes))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        parent_boxes = np.empty((len(sizes), 4), dtype=np.float32)
        parent_boxes[:, 0::2] = np.minimum.reduceat(level_boxes[:, 0::2], starts)
        parent_boxes[:, 1::2] = np.maximum.reduceat(level_boxes[:, 1::2], starts)
        ids, level_boxes = np.arange(len(sizes), dtype=np.int64), parent_boxes


def write_packed(
    conn: sqlite3.Connection, table: str, rowids: np.ndarray, boxes: np.ndarray
) -> None:
    """Replace the whole content of the rtree ``table`` with a tree packed from ``rowids``
    and float32 ``boxes`` (see :func:`outward_float32`). Runs in the caller's transaction."""
    root = f"SELECT length(data) FROM {table}_node WHERE nodeno = 1"
    (node_size,) = conn.execute(root).fetchone()
    capacity = (node_size - 4) // _ENTRY.itemsize
    levels = pack(rowids, boxes, capacity)
    # Number the nodes from the root down: the root is 1, as the module requires.
    counts = [len(sizes) for _, _, sizes in levels]
    first = {}
    next_no = 1
    for depth in range(len(levels) - 1, -1, -1):
        first[depth] = next_no
        next_no += counts[depth]
    nodes, parents = [], []
    for depth, (ids, level_boxes, sizes) in enumerate(levels):
        entries = np.empty(len(ids), dtype=_ENTRY)
        entries["id"] = ids if depth == 0 else ids + first[depth - 1]
        entries["box"] = level_boxes
        raw = entries.tobytes()
        blobs = np.zeros((len(sizes), node_size), dtype=np.uint8)
        blobs[:, 2:4] = np.frombuffer(sizes.astype(">u2").tobytes(), dtype=np.uint8).reshape(-1, 2)
        if depth == len(levels) - 1:
            blobs[0, 0:2] = np.frombuffer(np.array([depth], dtype=">u2").tobytes(), np.uint8)
        ends = np.cumsum(sizes)
        for j, (end, size) in enumerate(zip(ends.tolist(), sizes.tolist(), strict=True)):
            start = end - size
            blobs[j, 4 : 4 + size * _ENTRY.itemsize] = np.frombuffer(
                raw, np.uint8, size * _ENTRY.itemsize, start * _ENTRY.itemsize
            )
        base = first[depth]
        nodes.extend((base + j, blobs[j].tobytes()) for j in range(len(sizes)))
        if depth < len(levels) - 1:
            # Each node's parent: the node above holding its number as an entry.
            above_ids, _, above_sizes = levels[depth + 1]
            holder = np.repeat(np.arange(len(above_sizes)), above_sizes)
            parent_of = np.empty(len(sizes), dtype=np.int64)
            parent_of[above_ids] = holder + first[depth + 1]
            parents.extend(zip(range(base, base + len(sizes)), parent_of.tolist(), strict=True))
    leaf_ids, _, leaf_sizes = levels[0]
    leaf_of = np.repeat(np.arange(len(leaf_sizes)) + first[0], leaf_sizes)
    by_rowid = np.argsort(leaf_ids, kind="stable")
    conn.execute(f"DELETE FROM {table}_node")
    conn.execute(f"DELETE FROM {table}_parent")
    conn.execute(f"DELETE FROM {table}_rowid")
    conn.executemany(f"INSERT INTO {table}_node (nodeno, data) VALUES (?, ?)", nodes)
    conn.executemany(f"INSERT INTO {table}_parent (nodeno, parentnode) VALUES (?, ?)", parents)
    conn.executemany(
        f"INSERT INTO {table}_rowid (rowid, nodeno) VALUES (?, ?)",
        zip(leaf_ids[by_rowid].tolist(), leaf_of[by_rowid].tolist(), strict=True),
    )


def read_entries(conn: sqlite3.Connection, table: str) -> tuple[np.ndarray, np.ndarray]:
    """Every entry of the rtree ``table`` as (rowids, float32 boxes), read from its leaf
    nodes (a fraction of the time a scan of the virtual table takes)."""
    blobs = conn.execute(
        f"SELECT data FROM {table}_node WHERE nodeno IN (SELECT nodeno FROM {table}_rowid)"
    ).fetchall()
    ids, boxes = [], []
    for (blob,) in blobs:
        count = int.from_bytes(blob[2:4], "big")
        entries = np.frombuffer(blob, _ENTRY, count, 4)
        ids.append(entries["id"])
        boxes.append(entries["box"])
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty((0, 4), dtype=np.float32)
    return np.concatenate(ids).astype(np.int64), np.concatenate(boxes).astype(np.float32)


def add_packed(conn: sqlite3.Connection, table: str, rowids: np.ndarray, boxes: np.ndarray) -> None:
    """Add entries (``boxes`` as doubles, ``minx, maxx, miny, maxy``) by repacking the whole
    tree with them."""
    old_ids, old_boxes = read_entries(conn, table)
    write_packed(
        conn,
        table,
        np.concatenate((old_ids, np.asarray(rowids, dtype=np.int64))),
        np.concatenate((old_boxes, outward_float32(boxes))),
    )
