"""PostGIS connections: the URL, the pool, a thread's transaction and read snapshot.

Connections come from a ``psycopg_pool.ConnectionPool`` in autocommit mode. Outside a
transaction every call borrows one and each write commits before it returns (with
``synchronous_commit=on``, so an acknowledged write survives a crash). Inside
:meth:`PostGISConnections.transaction` the thread keeps one connection until the outer
block ends; a nested block, and every write method, runs in a savepoint so a failed write
never poisons the outer transaction.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from geodata.errors import HeritageError, InvalidInput
from geodata.models import Neighbourhood

URL_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgis://", "postgres://")


_OUR_OPTIONS = ("schema", "pool_size")


class DatabaseUnavailable(HeritageError):
    """PostgreSQL cannot be reached, or every pooled connection stayed busy too long."""

    code = "database_unavailable"
    status = 503


def parse_url(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string, and this store's own options, from a database URL.

    Accepts ``postgresql://``, ``postgresql+psycopg://`` and ``postgis://``. Two query
    parameters are ours, the rest go to libpq: ``schema=name`` puts every table in that
    schema (created on migrate), ``pool_size=N`` caps the connections one process opens.
    """
    scheme = next((s for s in URL_SCHEMES if url.startswith(s)), None)
    if scheme is None:
        raise InvalidInput(
            f"a PostgreSQL URL starts with one of {', '.join(URL_SCHEMES)}",
            code="bad_database_url",
        )
    parts = urlsplit("postgresql://" + url.removeprefix(scheme))
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in _OUR_OPTIONS and v}
    rest = urlencode([(k, v) for k, v in query if k not in _OUR_OPTIONS])
    if "pool_size" in ours and not (ours["pool_size"].isdigit() and int(ours["pool_size"]) > 0):
        raise InvalidInput("pool_size in the database URL must be a positive whole number",
                           code="bad_database_url")  # fmt: skip
    return urlunsplit(parts._replace(query=rest)), ours


class PostGISConnections:
    """The pool and each thread's connection: the base of
    :class:`~geodata.store.postgis.PostGISStore`."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.conninfo, options = parse_url(url)
        self.schema = options.get("schema")
        self.timeout = timeout
        self._local = threading.local()
        self._kept_neighbourhoods: tuple[str, list[Neighbourhood]] | None = None
        # Cursor names say which store declared them (pg_stat_activity shows the FETCHes).
        self.cursor_prefix = f"places_{secrets.token_hex(4)}_"
        self.pool = ConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=int(options.get("pool_size", 10)),
            open=True,
            # One cheap round trip per checkout: a connection the server dropped (restart,
            # failover) is replaced instead of failing the request that drew it (a single
            # read skips it and is tried again instead: see _read).
            check=self._check,
            kwargs={"autocommit": True},
            configure=self._configure,
            name="heritage-atlas",
        )

    def _configure(self, conn: psycopg.Connection) -> None:
        # UTC so timestamptz values read back as the UTC instants the models hold;
        # synchronous_commit on whatever the server default, so a commit is on disk.
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute("SET synchronous_commit = on")
        # No JIT compilation: the costs PostGIS declares for its functions make the planner
        # compile queries that run in milliseconds, and compiling took longer than running
        # (a vector tile of 6,000 places: 160 ms of 220; a map's cluster grid: 72 ms
        # against 25 ms without, EXPLAIN ANALYZE on 100,000 places).
        conn.execute("SET jit = off")
        if self.schema:
            conn.execute(
                sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema))
            )

    @contextmanager
    def _borrow(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; a clear error instead of PoolTimeout when none comes."""
        try:
            conn = self.pool.getconn(timeout=self.timeout)
        except PoolTimeout:
            raise DatabaseUnavailable(self._why_unavailable()) from None
        try:
            yield conn
        except psycopg.DataError as exc:
            # PostgreSQL text cannot hold U+0000 (SQLite can): a lookup or a write with one
            # is bad input, on whichever path it came in (a URL, a JSON string...).
            if "NUL" not in str(exc):
                raise
            raise InvalidInput(
                "the text contains the invisible NUL character (U+0000); remove it",
                code="control_character",
            ) from None
        finally:
            self.pool.putconn(conn)  # the pool rolls back anything left open

    def _check(self, conn: psycopg.Connection) -> None:
        if not getattr(self._local, "unchecked", False):
            ConnectionPool.check_connection(conn)

    def _read(
        self, query: str, params: Sequence[Any] = (), *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        """The rows of one read-only statement in one round trip: the pool's check of the
        connection is skipped, and the statement runs once more on a checked connection
        if the server had dropped that one (it changes nothing, so running it again is
        safe). In this thread's transaction, on its connection."""
        held = self._held
        if held is not None:
            return held.cursor(binary=binary).execute(query, params).fetchall()
        self._local.unchecked = True
        try:
            with self._borrow() as conn:
                self._local.unchecked = False
                try:
                    return conn.cursor(binary=binary).execute(query, params).fetchall()
                except psycopg.OperationalError:
                    if not conn.closed:  # the statement failed, not the connection
                        raise
        finally:
            self._local.unchecked = False
        with self._borrow() as conn:  # the pool replaces the dropped one
            return conn.cursor(binary=binary).execute(query, params).fetchall()

    def _why_unavailable(self) -> str:
        try:
            psycopg.connect(self.conninfo, connect_timeout=5).close()
        except psycopg.Error as exc:
            # The first line names the failure ("... failed: Connection refused"); libpq's
            # later lines are hints.
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"cannot connect to the PostgreSQL database: {reason}"
        return (
            f"no database connection became free within {self.timeout:g} s "
            f"(pool of {self.pool.max_size}); the server is overloaded"
        )

    @property
    def _held(self) -> psycopg.Connection | None:
        """The connection of this thread's open transaction, if any."""
        return getattr(self._local, "conn", None)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """This thread's transaction connection, or a pooled one for a single statement."""
        held = self._held
        if held is not None:
            yield held
        else:
            with self._borrow() as conn:
                yield conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        held = self._held
        if held is not None:
            with held.transaction():  # a savepoint inside the outer transaction
                yield
            return
        with self._borrow() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield
            finally:
                self._local.conn = None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """The thread's reads on one connection, in a read-only REPEATABLE READ
        transaction: one pool checkout instead of one per statement, and the store's
        versions read once, with BEGIN, in the same round trip. Within it the
        neighbourhoods come from memory while their version holds, and protocol labels
        are not looked up while there are none."""
        if self._held is not None:
            yield
            return
        with self._borrow() as conn:
            # No parameters: the simple query protocol takes both statements at once.
            cur = conn.execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                "SELECT name, version FROM store_versions"
            )
            cur.nextset()
            self._local.versions = dict(cur.fetchall())
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = self._local.versions = None
                conn.execute("COMMIT")  # after a failed statement this rolls back

    def _snapshot_version(self, name: str) -> str | None:
        """The version of ``name`` read when this thread's snapshot began (None outside)."""
        versions = getattr(self._local, "versions", None)
        return versions.get(name) if versions else None

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection]:
        with self.transaction():
            yield self._held  # type: ignore[misc]

    def _fetchall(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return conn.execute(query, params).fetchall()

    def _fetchone(self, query: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._connection() as conn:
            return conn.execute(query, params).fetchone()

    def close(self) -> None:
        self.pool.close()
