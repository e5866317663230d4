"""The embedded SQLite backend: WAL, an R*Tree over bounding boxes, WKB geometry.

Each thread gets its own connection (FastAPI runs sync endpoints in a thread pool);
WAL lets readers go on while one writer commits, and ``synchronous=FULL`` makes a
commit durable before it returns, so an acknowledged write survives a crash.
Migrations, filters, neighbourhoods, workshops, contributions, accounts, exports, search
and tiles are mixins in the ``sqlite_*`` modules beside this one.
"""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import box

from geodata.errors import Conflict, NotFound
from geodata.models import NewPlaces, Place, utcnow
from geodata.store import sqlite_bulk, sqlite_functions
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.base_tiles import GridCell
from geodata.store.filter_sql import SQLITE, order_sql
from geodata.store.records import (
    COLUMNS,
    ROW_COLUMNS,
    new_place_columns,
    place_row,
    place_rows,
    places_from_rows,
)
from geodata.store.sqlite_accounts import AccountsAuditMixin
from geodata.store.sqlite_contributions import ContributionsMixin
from geodata.store.sqlite_export import ExportMixin
from geodata.store.sqlite_migrations import MigrationsMixin
from geodata.store.sqlite_narrative_additions import NarrativeAdditionsMixin
from geodata.store.sqlite_neighbourhoods import NeighbourhoodsMixin
from geodata.store.sqlite_place_filter import PlaceFilterMixin
from geodata.store.sqlite_recordings import RecordingsMixin
from geodata.store.sqlite_search import SearchMixin
from geodata.store.sqlite_sync import SyncMixin
from geodata.store.sqlite_tiles import TilesMixin
from geodata.store.sqlite_walks import WalksMixin
from geodata.store.sqlite_workshops import WorkshopsMixin

_SELECT = ", ".join(f"p.{c}" for c in COLUMNS)
_INSERT = (
    f"INSERT INTO places ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('?' for _ in ROW_COLUMNS)})"
)
_BATCH = 5000  # rows per staged batch: fewer hand-overs, a small first batch to wait for
_READ_BATCH = 2000  # places decoded at a time when listing


class SQLiteStore(
    WalksMixin,
    ExportMixin,
    SearchMixin,
    TilesMixin,
    ContributionsMixin,
    RecordingsMixin,
    SyncMixin,
    AccountsAuditMixin,
    NarrativeAdditionsMixin,
    NeighbourhoodsMixin,
    WorkshopsMixin,
    PlaceFilterMixin,
    MigrationsMixin,
    PlaceStore,
):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # One writer at a time within this process. Threads queue on this lock at once,
        # where SQLite's busy handler would make them sleep in growing steps (up to
        # 100 ms each) - the difference between a p99 of milliseconds and of a second.
        self._writer = threading.Lock()

    # -- connections and transactions -----------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """A new connection, set up like every other (autocommit; WAL; FULL sync)."""
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        # 16 KiB pages for a new database (an existing one keeps its own): a bulk import
        # writes fewer, fuller pages; 100,000 places were stored about 12 % faster than with
        # 4 KiB (best of 3: 1.32 s against 1.51 s).
        conn.execute("PRAGMA page_size=16384")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MiB: bulk imports touch many pages
        # Reads map the file instead of copying each 16 KiB page out of the OS cache: the
        # 6,000 places of a dense vector tile, scattered over the table, were read in
        # half the CPU time (15 ms against 35 ms on 100,000 places).
        conn.execute("PRAGMA mmap_size=268435456")
        sqlite_functions.register(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self.conn
        if self._local.depth:
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        # IMMEDIATE takes the write lock up front: no deadlock upgrading a read later.
        with self._writer:
            conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._local.depth = 0

    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    def backup(self, dest: str | Path) -> None:
        """Write a consistent copy of the database to ``dest`` with SQLite's online backup
        API (in WAL mode readers and writers go on meanwhile). The copy is written beside
        ``dest``, checked with ``PRAGMA integrity_check``, then moved into place."""
        dest = Path(dest)
        partial = dest.with_name(f".{dest.name}.partial")
        partial.unlink(missing_ok=True)
        try:
            copy = sqlite3.connect(partial)
            try:
                self.conn.backup(copy)
                verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
            if verdict != "ok":
                raise OSError(f"the backup copy failed its integrity check: {verdict}")
            partial.replace(dest)
        finally:
            partial.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # -- places ----------------------------------------------------------------
    def add(self, place: Place) -> Place:
        try:
            with self.transaction():
                cur = self.conn.execute(_INSERT, place_row(place))
                self.conn.execute(sqlite_bulk.INDEX_NEW, (cur.lastrowid - 1,))
                self.conn.execute(sqlite_bulk.SEARCH_NEW, (cur.lastrowid - 1,))
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"a place with id {place.id} already exists") from exc
        return place

    def add_many(self, places: Iterable[Place]) -> int:
        return self._insert_places(
            list(zip(*place_rows(batch), strict=True)) for batch in _batches(places, _BATCH)
        )

    def add_new(self, batches: Iterable[NewPlaces]) -> int:
        return self._insert_places(
            new_place_columns(batch[k : k + _BATCH])
            for batch in batches
            for k in range(0, len(batch), _BATCH)
        )

    def _insert_places(self, batches: Iterable[Sequence[Any]]) -> int:
        """Insert batches of rows given as columns in one transaction, then index them
        (see :mod:`geodata.store.sqlite_bulk`)."""
        conn = self.conn
        try:
            with self.transaction():
                last_rid = conn.execute("SELECT coalesce(max(rid), 0) FROM places").fetchone()[0]
                bounds = sqlite_bulk.insert_batches(conn, batches)
                if len(bounds):
                    sqlite_bulk.index_new(conn, last_rid, bounds)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"one of the places has an id that already exists ({exc})") from exc
        return len(bounds)

    def get(self, place_id: str) -> Place:
        row = self.conn.execute(
            f"SELECT {_SELECT} FROM places p WHERE p.id = ?", (place_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"there is no place {place_id}")
        return places_from_rows([row])[0]

    def update(self, place: Place, *, expected_version: int | None = None) -> Place:
        with self.transaction():
            row = self.conn.execute(
                "SELECT version FROM places WHERE id = ?", (place.id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"there is no place {place.id}")
            if expected_version is not None and row[0] != expected_version:
                raise Conflict(
                    f"place {place.id} was changed by someone else (version {row[0]}"
                    f", you had {expected_version}); reload it and try again"
                )
            place.version = row[0] + 1
            place.updated_at = utcnow()
            values = place_row(place)
            sets = ", ".join(f"{c} = ?" for c in ROW_COLUMNS[1:])
            self.conn.execute(f"UPDATE places SET {sets} WHERE id = ?", (*values[1:], place.id))
        return place

    def delete(self, place_id: str) -> None:
        with self.transaction():
            cur = self.conn.execute("DELETE FROM places WHERE id = ?", (place_id,))
            if cur.rowcount == 0:
                raise NotFound(f"there is no place {place_id}")

    def list(
        self, flt: PlaceFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> Iterator[Place]:
        joins, where, params = self._where(flt)
        sql = f"SELECT {_SELECT} FROM places p{joins} WHERE {where} ORDER BY {_order(flt)}"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params = [*params, -1 if limit is None else limit, offset]
        cur = self.conn.execute(sql, params)
        while rows := cur.fetchmany(_READ_BATCH):
            yield from self._exact_bbox(places_from_rows(rows), flt)

    def latest_with_story(self, flt: PlaceFilter | None = None, *, limit: int = 6) -> list[Place]:
        # Newest first: the (status, created_at) index walked backwards stops after ``limit``.
        joins, where, params = self._where(flt)
        sql = (
            f"SELECT {_SELECT} FROM places p{joins} WHERE {where} "
            "AND json_array_length(p.narratives) > 0 ORDER BY p.created_at DESC, p.rid DESC LIMIT ?"
        )
        rows = self.conn.execute(sql, [*params, limit]).fetchall()
        return self._exact_bbox(places_from_rows(rows), flt)

    def _count_version(self) -> str | None:
        if self.conn.in_transaction and not getattr(self._local, "snapshot", False):
            return None  # this transaction's own writes may yet be rolled back
        # Updates and deletions bump the counter (triggers); inserts raise max(rid).
        row = self.conn.execute(
            "SELECT (SELECT max(rid) FROM places), version FROM store_versions "
            "WHERE name = 'places'"
        ).fetchone()
        return None if row is None else f"{row[0]}:{row[1]}"

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        conn, local = self.conn, self._local
        if conn.in_transaction:  # already inside one: it is the snapshot
            yield
            return
        conn.execute("BEGIN")  # deferred: the snapshot is taken by the first read
        local.snapshot = True
        try:
            yield
        finally:
            local.snapshot = False
            if conn.in_transaction:
                conn.execute("COMMIT")

    def _count(self, flt: PlaceFilter | None) -> int:
        return self._count_up_to(flt, None)  # type: ignore[return-value]

    def _count_up_to(self, flt: PlaceFilter | None, most: int | None) -> int | None:
        joins, where, params = self._where(flt)
        cap = [] if most is None else [most + 1]
        limit = "" if most is None else " LIMIT ?"
        if flt is None or flt.bbox is None:
            n = self.conn.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM places p{joins} WHERE {where}{limit})",
                [*params, *cap],
            ).fetchone()[0]
            return n if most is None or n <= most else None
        # Points are counted in SQL; only routes and areas need the exact test.
        n = self.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM places p{joins} WHERE {where} "
            f"AND p.geom_type = 'Point'{limit})",
            [*params, *cap],
        ).fetchone()[0]
        area = box(*flt.bbox)
        cur = self.conn.execute(
            f"SELECT p.geom FROM places p{joins} WHERE {where} AND p.geom_type != 'Point'",
            params,
        )
        while (most is None or n <= most) and (rows := cur.fetchmany(500)):
            n += int(shapely.intersects(area, shapely.from_wkb([r[0] for r in rows])).sum())
        cur.close()
        return n if most is None or n <= most else None

    def counts_by_neighbourhood(self, flt: PlaceFilter | None = None) -> dict[int | None, int]:
        joins, where, params = self._where(flt)
        rows = self.conn.execute(
            f"SELECT p.neighbourhood_id, count(*) FROM places p{joins} WHERE {where} "
            "GROUP BY p.neighbourhood_id",
            params,
        ).fetchall()
        return {nid: n for nid, n in rows}

    def cluster_grid(self, flt: PlaceFilter | None, cell_deg: float) -> list[GridCell]:
        if not cell_deg > 0:
            raise ValueError("cell_deg must be positive")
        joins, where, params = self._where(flt)
        if flt is not None and flt.bbox is not None and self._bbox_holds_many(flt.bbox):
            # When most rows match, one R*Tree lookup per row costs more than reading the
            # bounds columns of the rows the other filters select (1M places: 5 s vs 1 s).
            joins, where, params = self._where(dataclasses.replace(flt, bbox=None))
            minx, miny, maxx, maxy = flt.bbox
            where += " AND p.maxx >= ? AND p.minx <= ? AND p.maxy >= ? AND p.miny <= ?"
            params = [*params, minx, maxx, miny, maxy]
        # floor() without relying on SQLite's optional math functions: CAST truncates
        # toward zero, so step one down for negative non-integers (west, south).
        cell = "CAST({v} AS INTEGER) - ({v} < CAST({v} AS INTEGER))"
        sql = (
            f"SELECT {cell.format(v='cx / ?')} AS col, {cell.format(v='cy / ?')} AS row_, "
            "count(*), avg(cx), avg(cy) FROM (SELECT (p.minx + p.maxx) / 2 AS cx, "
            f"(p.miny + p.maxy) / 2 AS cy FROM places p{joins} WHERE {where}) "
            "GROUP BY col, row_"
        )
        rows = self.conn.execute(sql, [float(cell_deg)] * 6 + params).fetchall()
        return [GridCell(col=r[0], row=r[1], count=r[2], lon=r[3], lat=r[4]) for r in rows]

    _MANY = 50_000

    def _bbox_holds_many(self, bbox: tuple[float, float, float, float]) -> bool:
        """Whether at least ``_MANY`` bounding boxes meet ``bbox`` (the R*Tree alone, which
        is compact, answers this quickly and stops counting there)."""
        minx, miny, maxx, maxy = bbox
        n = self.conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM places_rtree WHERE maxx >= ? AND minx <= ? "
            "AND maxy >= ? AND miny <= ? LIMIT ?)",
            (minx, maxx, miny, maxy, self._MANY),
        ).fetchone()[0]
        return n >= self._MANY

    # -- neighbourhoods ------------------------------------------------------------

    # -- workshops -------------------------------------------------------------------


def _order(flt: PlaceFilter | None) -> str:
    return order_sql(flt.order or () if flt else (), SQLITE)


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch
