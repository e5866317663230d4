"""Bulk inserts of places into SQLite, for imports: batches of rows given as columns.

Each batch is first written to a temporary staging table (no index, no constraint), then
moved into ``places`` by a single ``INSERT ... SELECT`` on a helper thread. SQLite runs a
statement without holding Python's GIL, so while it files a batch into the table and its
indexes, this thread builds the next batch's rows; on two cores 100,000 places were
stored in 1.0-1.15 s instead of 1.4-1.6 s. (Moving the rows by ``executemany`` from the
helper thread would not overlap: it takes the GIL back after every row.) The connection
is only ever used by one thread at a time: the next batch is staged after the previous
move has finished.

Values a whole batch shares (a bulk import's status, licence, consent, times...) are
written into the move as SQL literals instead of being staged for every row.

The same helper thread puts each batch into the search index (FTS5) as it moves it.
Afterwards the new places go into the R*Tree: packed with every other entry when they
are many next to those indexed already (:mod:`geodata.store.sqlite_rtree`), else through
the rtree module's own inserts.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from geodata.store import sqlite_rtree
from geodata.store.records import ROW_COLUMNS, Shared

_STAGING = "temp.places_staging"
INDEX_NEW = (
    "INSERT INTO places_rtree (rid, minx, maxx, miny, maxy) "
    "SELECT rid, minx, maxx, miny, maxy FROM places WHERE rid > ?"
)
# The search index (FTS5, migration 0010) of rows added after a given rid.
SEARCH_NEW = (
    "INSERT INTO places_search (rowid, search_title, search_body) "
    "SELECT rid, search_title, search_body FROM places WHERE rid > ? AND search_title IS NOT NULL"
)
_BOUNDS = slice(ROW_COLUMNS.index("minx"), ROW_COLUMNS.index("maxy") + 1)


def insert_batches(conn: sqlite3.Connection, batches: Iterable[Sequence[Any]]) -> np.ndarray:
    """Insert batches of rows given as columns (:data:`ROW_COLUMNS` order; a column is a
    sequence or a :class:`Shared` value) within the caller's transaction; return the new
    rows' bounds (``minx, miny, maxx, maxy``), in the order the rows were inserted."""
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_STAGING} AS "
        f"SELECT {', '.join(ROW_COLUMNS)} FROM places WHERE 0"
    )
    bounds: list[np.ndarray] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-bulk") as mover:
        moving: Future[None] | None = None
        for columns in batches:  # the next batch is built here while the last one moves
            bounds.append(np.array(columns[_BOUNDS], dtype=np.float64).T)
            staged, rows, move = _statements(columns)
            if moving is not None:
                moving.result()
            _stage(conn, staged, rows)
            moving = mover.submit(_move, conn, move)
        if moving is not None:
            moving.result()
    return np.concatenate(bounds) if bounds else np.empty((0, 4))


def _move(conn: sqlite3.Connection, move: str) -> None:
    last_rid = conn.execute("SELECT coalesce(max(rid), 0) FROM places").fetchone()[0]
    conn.execute(move)
    conn.execute(SEARCH_NEW, (last_rid,))  # on this thread too: no GIL held meanwhile
    conn.execute(f"DELETE FROM {_STAGING}")


def _stage(conn: sqlite3.Connection, names: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Write ``rows`` (values of the columns ``names``) into the staging table, many rows
    to a statement: SQLite's per-statement work then counts once for all of them (100,000
    rows of 8 values were staged in 0.27 s instead of 0.58 s)."""
    width = len(names)
    per = max(1, min(_ROWS_PER_INSERT, _MAX_VALUES // width))
    row = "(" + ", ".join("?" * width) + ")"
    head = f"INSERT INTO {_STAGING} ({', '.join(names)}) VALUES "
    flat = list(itertools.chain.from_iterable(rows))
    step = per * width  # the values of one full statement
    whole = len(flat) - len(flat) % step
    conn.executemany(
        head + ", ".join([row] * per), (flat[k : k + step] for k in range(0, whole, step))
    )
    if whole < len(flat):  # the last rows, fewer than ``per``
        conn.execute(head + ", ".join([row] * ((len(flat) - whole) // width)), flat[whole:])


_ROWS_PER_INSERT = 50
_MAX_VALUES = 999  # what every SQLite build binds in one statement


def _statements(columns: Sequence[Any]) -> tuple[list[str], Iterable[tuple[Any, ...]], str]:
    """The staged columns, their rows, and the move into ``places`` for one batch."""
    n = len(columns[0])
    picks: dict[int, str] = {}  # what the move takes for each column, where not itself
    staged: list[str] = []
    values: list[Iterable[Any]] = []
    for j, column in enumerate(columns):
        if isinstance(column, Shared):
            value, shared = column.value, True
        else:  # shared when every value is equal and of one type (1 and True are not)
            value = column[0] if n else None
            shared = n > 1 and column.count(value) == n and len(set(map(type, column))) == 1
        literal = sql_literal(value) if shared and n > 1 else None
        if literal is not None:
            picks[j] = literal
            continue
        # A column equal to one staged already (a point's maxx is its minx) is staged once.
        twin = next((k for k, v in enumerate(values) if v is not column and v == column), None)
        if twin is not None and not shared:
            picks[j] = staged[twin]
            continue
        staged.append(ROW_COLUMNS[j])
        values.append(itertools.repeat(value, n) if shared else column)
    picked = ", ".join(picks.get(j, name) for j, name in enumerate(ROW_COLUMNS))
    move = (
        f"INSERT INTO places ({', '.join(ROW_COLUMNS)}) "
        f"SELECT {picked} FROM {_STAGING} ORDER BY rowid"
    )
    return staged, zip(*values, strict=True), move


def sql_literal(value: Any) -> str | None:
    """``value`` as an SQL literal, or None where it is better bound: a float (its text
    could round it), a text holding a NUL, an integer beyond 64 bits, anything else.

    >>> sql_literal("O'Neil"), sql_literal(None), sql_literal(True), sql_literal(0.1)
    ("'O''Neil'", 'NULL', '1', None)
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value) if -(2**63) <= value < 2**63 else None
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def index_new(conn: sqlite3.Connection, last_rid: int, bounds: np.ndarray) -> None:
    """Put the places added after ``last_rid`` (their ``bounds``, ``minx, miny, maxx,
    maxy``) into the R*Tree: by repacking the whole tree when they are many next to those
    indexed already, else with the rtree module's own inserts."""
    n = len(bounds)
    indexed = conn.execute("SELECT count(*) FROM places_rtree_rowid").fetchone()[0]
    # SQLite gives each new row max(rowid) + 1, so the new rids follow ``last_rid``.
    last = conn.execute("SELECT max(rid) FROM places").fetchone()[0]
    if n and n * sqlite_rtree.REPACK_RATIO >= indexed and last == last_rid + n:
        conn.execute("SAVEPOINT repack")
        try:
            rids = np.arange(last_rid + 1, last + 1)
            sqlite_rtree.add_packed(conn, "places_rtree", rids, bounds[:, [0, 2, 1, 3]])
        except sqlite3.DatabaseError:
            # A build of SQLite that keeps shadow tables read-only (SQLITE_DBCONFIG_
            # DEFENSIVE) refuses the direct writes: index the usual way instead.
            conn.execute("ROLLBACK TO repack")
            conn.execute("RELEASE repack")
        else:
            conn.execute("RELEASE repack")
            return
    conn.execute(INDEX_NEW, (last_rid,))
