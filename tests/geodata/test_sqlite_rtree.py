"""The packed R*Tree (geodata.store.sqlite_rtree) against SQLite's own rtree module.

A tree written by the packer must be one the module accepts (``rtreecheck``), hold the
very entries the module would have stored, answer box queries the same, and go on working
when the module itself inserts, moves and deletes entries afterwards.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import shapely

from geodata.models import Place, Status
from geodata.store.base import PlaceFilter
from geodata.store.sqlite_rtree import add_packed, outward_float32, read_entries, write_packed

SCHEMA = "CREATE VIRTUAL TABLE t USING rtree (id, minx, maxx, miny, maxy)"


def _boxes(n: int, seed: int = 0) -> np.ndarray:
    """Random boxes (minx, maxx, miny, maxy) around Lisbon: points and small extents."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-9.5, -8.9, n)
    y = rng.uniform(38.5, 38.9, n)
    w = np.where(rng.random(n) < 0.5, 0.0, rng.exponential(0.002, n))
    h = np.where(w == 0, 0.0, rng.exponential(0.002, n))
    return np.column_stack([x, x + w, y, y + h])


def _module_tree(ids: np.ndarray, boxes: np.ndarray) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(SCHEMA)
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
        [(i, *b) for i, b in zip(ids.tolist(), boxes.tolist(), strict=True)],
    )
    return conn


def _packed_tree(ids: np.ndarray, boxes: np.ndarray) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(SCHEMA)
    write_packed(conn, "t", ids, outward_float32(boxes))
    return conn


def _check(conn: sqlite3.Connection) -> None:
    assert conn.execute("SELECT rtreecheck('t')").fetchone()[0] == "ok"


def _all(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT * FROM t ORDER BY id").fetchall()


def _window(conn: sqlite3.Connection, w: tuple[float, float, float, float]) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM t WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ? ORDER BY id",
        w,
    )
    return [r[0] for r in rows]


@pytest.mark.parametrize("n", [0, 1, 50, 51, 52, 1000, 2602, 30_000])
def test_packed_tree_is_valid_and_holds_what_the_module_would(n):
    ids = np.arange(1, n + 1) * 3  # rowids need not be contiguous
    boxes = _boxes(n, seed=n)
    packed, module = _packed_tree(ids, boxes), _module_tree(ids, boxes)
    _check(packed)
    assert _all(packed) == _all(module)
    rng = np.random.default_rng(1)
    for _ in range(40):
        x, y = rng.uniform(-9.5, -8.9), rng.uniform(38.5, 38.9)
        w = (x, x + rng.exponential(0.05), y, y + rng.exponential(0.05))
        window = (w[0], w[1], w[2], w[3])
        assert _window(packed, window) == _window(module, window)


def test_every_node_but_the_root_is_at_least_a_third_full():
    """The module merges away nodes under a third full when it deletes from them; a packed
    tree starts with none."""
    conn = _packed_tree(np.arange(1, 10_001), _boxes(10_000))
    size = conn.execute("SELECT length(data) FROM t_node WHERE nodeno = 1").fetchone()[0]
    capacity = (size - 4) // 24
    counts = [
        int.from_bytes(blob[2:4], "big")
        for (blob,) in conn.execute("SELECT data FROM t_node WHERE nodeno > 1")
    ]
    assert min(counts) >= capacity // 3
    assert sum(counts) >= 10_000  # every entry placed (plus the internal ones)


def test_outward_rounding_matches_the_module_exactly():
    tricky = np.array(
        [
            [-9.139_999_999_9, -9.139_999_999_9, 38.710_000_000_1, 38.710_000_000_1],
            [0.1, 0.1, -0.1, -0.1],
            [1e-40, 1e-40, -1e-40, -1e-40],  # subnormal: the module cannot round outward
            [-180.0, 180.0, -90.0, 90.0],  # exactly representable
            [1 / 3, 2 / 3, -1 / 3, -1 / 7],
        ]
    )
    ids = np.arange(1, len(tricky) + 1)
    assert _all(_packed_tree(ids, tricky)) == _all(_module_tree(ids, tricky))
    normal = np.delete(tricky, 2, axis=0)
    f = outward_float32(normal)
    assert (f[:, 0::2] <= normal[:, 0::2]).all() and (f[:, 1::2] >= normal[:, 1::2]).all()


def test_the_module_goes_on_working_after_a_packed_write():
    """Inserts, moves and enough deletes to empty whole nodes, in the same transaction as
    the write and afterwards; every query checked against the boxes kept in Python."""
    ids, boxes = np.arange(1, 5001), _boxes(5000)
    model = dict(zip(ids.tolist(), outward_float32(boxes).tolist(), strict=True))
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(SCHEMA)
    conn.execute("BEGIN")
    _window(conn, (-9.5, -8.9, 38.5, 38.9))  # the module has read the old, empty root
    write_packed(conn, "t", ids, outward_float32(boxes))
    assert len(_window(conn, (-9.5, -8.9, 38.5, 38.9))) == 5000
    conn.execute("INSERT INTO t VALUES (9001, -9.25, -9.125, 38.625, 38.75)")
    model[9001] = [-9.25, -9.125, 38.625, 38.75]
    conn.execute("COMMIT")
    conn.execute("UPDATE t SET minx = -9.0, maxx = -8.9375 WHERE id BETWEEN 100 AND 400")
    for i in range(100, 401):
        model[i][0:2] = [-9.0, -8.9375]
    conn.execute("DELETE FROM t WHERE id % 3 <> 0 AND id < 4000")
    model = {i: b for i, b in model.items() if i % 3 == 0 or i >= 4000}
    _check(conn)
    rng = np.random.default_rng(2)
    for _ in range(40):
        x, y = rng.uniform(-9.5, -8.9), rng.uniform(38.5, 38.9)
        w = (x, x + rng.exponential(0.05), y, y + rng.exponential(0.05))
        hit = [i for i, b in model.items() if b[1] >= w[0] and b[0] <= w[1]]
        expected = sorted(i for i in hit if model[i][3] >= w[2] and model[i][2] <= w[3])
        assert _window(conn, w) == expected


def test_read_entries_gives_back_what_was_packed(tmp_path):
    ids, boxes = np.arange(1, 3001) * 7, _boxes(3000)
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute(SCHEMA)
    write_packed(conn, "t", ids, outward_float32(boxes))
    got_ids, got_boxes = read_entries(conn, "t")
    order = np.argsort(got_ids)
    assert np.array_equal(got_ids[order], ids)
    assert np.array_equal(got_boxes[order], outward_float32(boxes))
    add_packed(conn, "t", np.array([1, 2]), np.array([[-9.1, -9.0, 38.7, 38.8]] * 2))
    _check(conn)
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 3002


def _places(n: int, seed: int) -> list[Place]:
    rng = np.random.default_rng(seed)
    pts = shapely.points(rng.uniform(-9.2, -9.1, n), rng.uniform(38.7, 38.8, n))
    return [Place(p, f"p{i}", [], "building", status=Status.PUBLISHED) for i, p in enumerate(pts)]


def test_store_bulk_adds_pack_the_tree_and_small_ones_use_the_module(sqlite_store, monkeypatch):
    """A large import into a small store repacks; a small one into a large store goes
    through the module; either way the tree is valid and box queries are exact."""
    from geodata.store import sqlite_rtree

    repacked: list[int] = []
    real = sqlite_rtree.add_packed

    def spy(conn, table, rowids, boxes):
        repacked.append(len(rowids))
        real(conn, table, rowids, boxes)

    monkeypatch.setattr(sqlite_rtree, "add_packed", spy)
    conn = sqlite_store.conn
    sqlite_store.add_many(_places(3000, 1))
    packed_nodes = conn.execute("SELECT count(*) FROM places_rtree_node").fetchone()[0]
    assert packed_nodes == 59 + 2 + 1  # 3000 entries in 59 full leaves, two nodes, the root
    sqlite_store.add_many(_places(100, 2))  # 100 next to 3000: the module's inserts
    sqlite_store.add_many(_places(2000, 3))  # 2000 next to 3100: repacked again
    assert repacked == [3000, 2000]
    assert conn.execute("SELECT rtreecheck('places_rtree')").fetchone()[0] == "ok"
    assert sqlite_store.integrity_check() == "ok"
    every = list(sqlite_store.list())
    assert len(every) == 5100
    window = (-9.17, 38.72, -9.13, 38.76)
    box = shapely.box(*window)
    expected = sorted(p.id for p in every if p.geometry.intersects(box))
    assert sorted(p.id for p in sqlite_store.list(PlaceFilter(bbox=window))) == expected


def test_a_refused_packed_write_falls_back_to_the_module(sqlite_store, monkeypatch):
    """An SQLite built to keep shadow tables read-only refuses the direct writes: whatever
    the packer wrote is rolled back and the module indexes the places instead."""
    from geodata.store import sqlite_rtree

    real = sqlite_rtree.write_packed

    def refused(conn, table, rowids, boxes):
        real(conn, table, rowids[:10], boxes[:10])  # a part written, then refused
        raise sqlite3.OperationalError(f"table {table}_rowid may not be modified")

    monkeypatch.setattr(sqlite_rtree, "write_packed", refused)
    sqlite_store.add_many(_places(500, 4))
    conn = sqlite_store.conn
    assert conn.execute("SELECT rtreecheck('places_rtree')").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM places_rtree").fetchone()[0] == 500
    assert sqlite_store.count(PlaceFilter(bbox=(-9.2, 38.7, -9.1, 38.8))) == 500
