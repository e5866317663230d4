"""The PostgreSQL + PostGIS backend: GiST-indexed geometry, pooled connections, streaming.

Connections come from a ``psycopg_pool.ConnectionPool`` in autocommit mode. Outside a
transaction every call borrows one and each write commits before it returns (with
``synchronous_commit=on``, so an acknowledged write survives a crash). Inside
:meth:`PostGISStore.transaction` the thread keeps one connection until the outer block
ends, as :class:`~geodata.store.sqlite.SQLiteStore` does; a nested block, and every
write method, runs in a savepoint so a failed write never poisons the outer transaction.
Lists and export rows stream from a server-side (named) cursor, a batch at a time.

The URL may carry ``?schema=name`` (every table in that schema) and ``?pool_size=N``.
Migrations live in ``migrations/postgis``, one file per SQLite migration with the same
number and name; ``migrate()`` applies them under an advisory lock, so processes starting
together apply each once. Contributions, accounts and reports are mixins in the
``postgis_*`` modules beside this one.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import psycopg
import shapely
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout
from shapely.geometry.base import BaseGeometry

from geodata.errors import Conflict, HeritageError, InvalidInput, NotFound
from geodata.models import Neighbourhood, NewPlaces, Place, Workshop, utcnow
from geodata.store.base import PlaceFilter, PlaceStore, near_box
from geodata.store.postgis_accounts import AccountsAuditMixin
from geodata.store.postgis_contributions import ContributionsMixin
from geodata.store.postgis_recordings import RecordingsMixin
from geodata.store.postgis_reports import ReportsMixin
from geodata.store.postgis_search import SearchMixin
from geodata.store.postgis_sql import (
    COPY,
    INSERT,
    PLACE_SELECT,
    UPDATE,
    place_order,
    place_where,
    stored_row,
    use_icu,
)
from geodata.store.postgis_tiles import TilesMixin
from geodata.store.records import (
    WORKSHOP_COLUMNS,
    Shared,
    iso,
    neighbourhoods_from_rows,
    new_place_columns,
    place_row,
    place_rows,
    places_from_rows,
    stored_heads,
    workshop_from_row,
)

# 0006_export: places gained public_feature; 0009_feature_languages: heads gained a
# property. Databases from before the later of them get their heads encoded again.
# (Main has 0008_login_throttle; this branch skips the number, harmlessly.)
_HEADS_MIGRATION = 9
URL_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgis://", "postgres://")
_OUR_OPTIONS = ("schema", "pool_size")
_BATCH = 2000
_ANALYZE_AFTER = 10_000
# Any constant works; it only has to be the same in every process migrating this database.
_MIGRATION_LOCK = 0x4E52_4154_4C41  # "HERITAGE ATLAS", roughly
_cursor_names = itertools.count()


class DatabaseUnavailable(HeritageError):
    """PostgreSQL cannot be reached, or every pooled connection stayed busy too long."""

    code = "database_unavailable"
    status = 503


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, SQL) for every PostGIS migration shipped with the package, in order."""
    folder = resources.files("geodata.store") / "migrations" / "postgis"
    out = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, name = entry.name.removesuffix(".sql").split("_", 1)
            out.append((int(version), name, entry.read_text(encoding="utf-8")))
    return sorted(out)


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


def _batches(items: Iterable[Place], size: int) -> Iterator[list[Place]]:
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


class PostGISStore(
    SearchMixin,
    ContributionsMixin,
    RecordingsMixin,
    AccountsAuditMixin,
    ReportsMixin,
    TilesMixin,
    PlaceStore,
):
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
            # failover) is replaced instead of failing the request that drew it.
            check=ConnectionPool.check_connection,
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

    # -- connections and transactions -----------------------------------------
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

    def migrate(self) -> None:
        with self._write() as conn:
            # Two processes starting together: the second waits here, then finds no work.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            if self.schema:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer "
                "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL "
                "DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            upgraded = False
            for version, name, script in migrations():
                if version not in done:
                    conn.execute(script)  # type: ignore[arg-type] - our own trusted files
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (version, name),
                    )
                    upgraded = True
            if done and _HEADS_MIGRATION not in done:
                self._store_missing_heads(conn)
            if done and upgraded:  # places written before 0010_search (or by an older
                self._index_missing_search(conn)  # version) have no search text yet
            icu = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')"
            ).fetchone()
            use_icu(bool(icu and icu[0]))

    @staticmethod
    def _store_missing_heads(conn: psycopg.Connection) -> None:
        """Encode the feature heads of places written before migration 0009 (or 0006)."""
        last = 0
        while rows := conn.execute(
            f"SELECT p.rid, {PLACE_SELECT} FROM places p WHERE p.rid > %s AND "
            "p.public_feature IS NULL AND p.sensitivity = 'public' ORDER BY p.rid LIMIT 2000",
            (last,),
        ).fetchall():
            heads = stored_heads([r[1:] for r in rows])
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE places SET public_feature = %s WHERE rid = %s",
                    [(head, r[0]) for head, r in zip(heads, rows, strict=True)],
                )
            last = rows[-1][0]

    def schema_version(self) -> int:
        row = self._fetchone("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return row[0] if row else 0

    def reset_for_tests(self) -> None:
        """Empty every table (the schema stays migrated); for test fixtures only."""
        with self._write() as conn:
            # A connection some earlier test left open must not make this wait forever.
            conn.execute("SET LOCAL lock_timeout = '20s'")
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename NOT IN ('schema_migrations', 'spatial_ref_sys')"
                )
            ]
            if tables:
                conn.execute(
                    sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                        sql.SQL(", ").join(sql.Identifier(t) for t in tables)
                    )
                )

    def close(self) -> None:
        self.pool.close()

    def compact(self) -> None:
        """Rewrite the tables an erasure deletes from, so no dead copy of a row remains.

        ``VACUUM FULL`` writes each table anew and holds an exclusive lock while it does:
        run it after an erasure, not in the middle of a workshop. Outside a transaction.
        """
        with self._borrow() as conn:  # autocommit: VACUUM refuses to run in a transaction
            conn.execute(
                "VACUUM FULL places, place_edit_tokens, place_flags, media, "
                "place_protocol_labels, audit_log, idempotency_keys"
            )

    # -- places ----------------------------------------------------------------
    def add(self, place: Place) -> Place:
        with self._write() as conn:
            cur = conn.execute(
                INSERT + " ON CONFLICT (id) DO NOTHING", stored_row(place_row(place))
            )
            if cur.rowcount == 0:
                raise Conflict(f"a place with id {place.id} already exists")
        return place

    def add_many(self, places: Iterable[Place]) -> int:
        return self._copy_batches(
            place_rows(batch, _ewkb_hex([p.geometry for p in batch]))
            for batch in _batches(places, _BATCH)
        )

    def add_new(self, batches: Iterable[NewPlaces]) -> int:
        """A bulk import's places COPYed from their columns (no Place per row)."""
        return self._copy_batches(
            _column_rows(new_place_columns(part, _ewkb_hex(part.geometries)))
            for batch in batches
            for part in (batch[k : k + _BATCH] for k in range(0, len(batch), _BATCH))
        )

    def _copy_batches(self, batches: Iterable[Iterable[Sequence[Any]]]) -> int:
        """COPY batches of rows (in ``records.ROW_COLUMNS`` order) in one transaction."""
        n = 0
        try:
            with self._write() as conn:
                for rows in batches:
                    with conn.cursor().copy(COPY) as copy:
                        for row in rows:
                            copy.write_row(stored_row(row))
                            n += 1
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(
                "a place with one of these ids already exists; nothing was added"
            ) from exc
        if n >= _ANALYZE_AFTER and self._held is None:
            self.analyze()  # a fresh bulk load has no statistics yet: plans would be blind
        return n

    def get(self, place_id: str) -> Place:
        row = self._fetchone(f"SELECT {PLACE_SELECT} FROM places p WHERE p.id = %s", (place_id,))
        if row is None:
            raise NotFound(f"there is no place {place_id}")
        return places_from_rows([row])[0]

    def update(self, place: Place, *, expected_version: int | None = None) -> Place:
        with self._write() as conn:
            # FOR UPDATE: a concurrent update waits, then sees the new version.
            row = conn.execute(
                "SELECT version FROM places WHERE id = %s FOR UPDATE", (place.id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"there is no place {place.id}")
            if expected_version is not None and row[0] != expected_version:
                raise Conflict(
                    f"place {place.id} was changed by someone else (version {row[0]}"
                    f", you had {expected_version}); reload it and try again"
                )
            version, updated_at = place.version, place.updated_at
            place.version = row[0] + 1
            place.updated_at = utcnow()
            try:
                conn.execute(UPDATE, (*stored_row(place_row(place))[1:], place.id))
            except BaseException:
                place.version, place.updated_at = version, updated_at
                raise
        return place

    def delete(self, place_id: str) -> None:
        with self._write() as conn:
            if conn.execute("DELETE FROM places WHERE id = %s", (place_id,)).rowcount == 0:
                raise NotFound(f"there is no place {place_id}")

    @staticmethod
    def _list_query(
        flt: PlaceFilter | None, limit: int | None, offset: int, columns: str = PLACE_SELECT
    ) -> tuple[str, list[Any]]:
        """The SELECT behind :meth:`list` (and exports) and its parameters."""
        where, params = place_where(flt)
        query = f"SELECT {columns} FROM places p WHERE {where} ORDER BY {place_order(flt)}"
        if limit is not None or offset:
            query += " LIMIT %s OFFSET %s"
            params = [*params, limit, offset]
        return query, params

    def _batches_of_rows(
        self, query: str, params: list[Any], batch_size: int, limit: int | None
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in batches: one plain query for a page, else a server-side cursor."""
        if limit is not None and limit <= batch_size:
            # One page: a plain query is one round trip, a cursor would be three.
            if rows := self._fetchall(query, params):
                yield rows
            return
        held = self._held
        if held is not None:
            yield from self._stream(held, query, params, batch_size)
            return
        with self._borrow() as conn, conn.transaction():
            yield from self._stream(conn, query, params, batch_size)

    def _stream(
        self,
        conn: psycopg.Connection,
        query: str,
        params: list[Any],
        batch_size: int,
        binary: bool = False,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows from a server-side cursor, a batch at a time: constant memory for exports
        (``binary``: bytea arrives as it is, not as hex text to decode)."""
        name = f"{self.cursor_prefix}{next(_cursor_names)}"
        with conn.cursor(name=name, binary=binary) as cur:
            cur.execute(query, params)
            while rows := cur.fetchmany(batch_size):
                yield rows

    def list(
        self, flt: PlaceFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> Iterator[Place]:
        query, params = self._list_query(flt, limit, offset)
        for rows in self._batches_of_rows(query, params, _BATCH, limit):
            yield from places_from_rows(rows)

    def latest_with_story(self, flt: PlaceFilter | None = None, *, limit: int = 6) -> list[Place]:
        # Newest first: the (status, created_at) index walked backwards stops after ``limit``.
        where, params = place_where(flt)
        rows = self._fetchall(
            f"SELECT {PLACE_SELECT} FROM places p WHERE {where} "
            "AND jsonb_array_length(p.narratives) > 0 "
            "ORDER BY p.created_at DESC, p.rid DESC LIMIT %s",
            [*params, limit],
        )
        return places_from_rows(rows)

    def places_near(
        self,
        geometry: BaseGeometry,
        radius_m: float,
        flt: PlaceFilter | None = None,
        *,
        limit: int = 200,
    ) -> list[tuple[Place, float]]:
        where, params = place_where(dataclasses.replace(flt, bbox=None) if flt else None)
        # The degree box lets the GiST index choose candidates (a geography cast cannot);
        # ST_DWithin on the sphere, as the default implementation measures, decides.
        rows = self._fetchall(
            f"WITH q AS (SELECT ST_GeomFromWKB(%s, 4326) AS g) "
            f"SELECT {PLACE_SELECT}, "
            f"ST_Distance(p.geom::geography, q.g::geography, false) AS distance_m "
            f"FROM places p, q WHERE p.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) "
            f"AND ST_DWithin(p.geom::geography, q.g::geography, %s, false) AND {where} "
            f"ORDER BY distance_m, p.rid LIMIT %s",
            [shapely.to_wkb(geometry), *near_box(geometry, radius_m), radius_m, *params, limit],
        )
        places = places_from_rows([r[:-1] for r in rows])
        return [(p, float(r[-1])) for p, r in zip(places, rows, strict=True)]

    def explain(
        self, flt: PlaceFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> str:
        """PostgreSQL's plan for ``list(flt, limit=..., offset=...)``, as EXPLAIN prints it.

        A streamed list is explained as the cursor it declares: PostgreSQL plans a cursor
        for its first rows (``cursor_tuple_fraction``), so its plan can differ from a SELECT.
        """
        query, params = self._list_query(flt, limit, offset)
        if limit is None or limit > _BATCH:
            query = f"DECLARE explained CURSOR FOR {query}"
        with self._connection() as conn, conn.transaction():
            rows = conn.execute(f"EXPLAIN {query}", params).fetchall()
        return "\n".join(r[0] for r in rows)

    def analyze(self) -> None:
        """Refresh the planner's statistics (after a bulk import, before autovacuum does)
        and file the search indexes' pending entries (see ``merge_search_index``)."""
        with self._connection() as conn:
            conn.execute("ANALYZE places")
        self.merge_search_index()

    def set_neighbourhood_ids(self, assignments: Iterable[tuple[str, int | None]]) -> None:
        pairs = list(assignments)
        with self._write() as conn:
            # One statement over two arrays instead of a round trip per place.
            conn.execute(
                "UPDATE places p SET neighbourhood_id = a.nid "
                "FROM unnest(%s::text[], %s::integer[]) AS a(id, nid) WHERE p.id = a.id",
                ([pid for pid, _ in pairs], [nid for _, nid in pairs]),
            )

    def assign_neighbourhoods_in_db(self, place_ids: Sequence[str] | None = None) -> int:
        """Set each place's neighbourhood in the database; return how many places changed.

        Same rule as :func:`geodata.neighbourhoods.assign_neighbourhoods`: a point goes to
        the lowest-id neighbourhood containing it; a route or an area to the one it
        overlaps most (geodesic length or area of ``ST_Intersection``), ties to the
        lowest id; a place outside every neighbourhood gets none. ``place_ids`` limits it.
        """
        scope, params = ("", []) if place_ids is None else ("AND p.id = ANY(%s)", [list(place_ids)])
        with self._write() as conn:
            cur = conn.execute(
                f"""
                UPDATE places p SET neighbourhood_id = best.nid
                FROM places q LEFT JOIN LATERAL (
                    SELECT n.id AS nid FROM neighbourhoods n
                    WHERE ST_Intersects(q.geom, n.geom)
                    ORDER BY CASE
                        WHEN ST_Dimension(q.geom) = 0 OR ST_CoveredBy(q.geom, n.geom)
                            THEN 'Infinity'::float8
                        WHEN ST_Dimension(q.geom) = 2
                            THEN ST_Area(ST_Intersection(q.geom, n.geom)::geography)
                        ELSE ST_Length(ST_Intersection(q.geom, n.geom)::geography)
                    END DESC, n.id
                    LIMIT 1) best ON TRUE
                WHERE p.rid = q.rid {scope}
                  AND p.neighbourhood_id IS DISTINCT FROM best.nid""",
                params,
            )
            return cur.rowcount

    def reassign_neighbourhoods(self) -> int:
        return self.assign_neighbourhoods_in_db()

    # -- neighbourhoods ------------------------------------------------------------
    def replace_neighbourhoods(
        self, items: Sequence[tuple[str, BaseGeometry, str | None]]
    ) -> list[Neighbourhood]:
        with self._write() as conn:
            conn.execute(
                "UPDATE places SET neighbourhood_id = NULL WHERE neighbourhood_id IS NOT NULL"
            )
            conn.execute("DELETE FROM neighbourhoods")
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO neighbourhoods (id, name, code, geom) "
                    "VALUES (%s, %s, %s, ST_GeomFromWKB(%s, 4326))",
                    [
                        (i, name, code, shapely.to_wkb(g))
                        for i, (name, g, code) in enumerate(items, start=1)
                    ],
                )
        return self.neighbourhoods()

    def places_version(self) -> tuple[str, datetime | None]:
        row = self._fetchone("SELECT version, changed_at FROM store_versions WHERE name = 'places'")
        if row is None:  # emptied by hand: fall back to reading every place
            return super().places_version()
        return row[0], row[1]

    def neighbourhoods_version(self) -> str:
        row = self._fetchone("SELECT version FROM store_versions WHERE name = 'neighbourhoods'")
        if row is None:  # emptied by hand: fall back to reading every polygon
            return super().neighbourhoods_version()
        # The database and schema as well: one process may open several stores.
        return f"postgis:{self.conninfo}:{self.schema}:{row[0]}"

    def neighbourhoods(self) -> list[Neighbourhood]:
        version = self._snapshot_version("neighbourhoods")
        kept = self._kept_neighbourhoods
        if version is not None and kept is not None and kept[0] == version:
            return list(kept[1])
        rows = self._fetchall(
            "SELECT id, name, code, ST_AsBinary(geom) FROM neighbourhoods ORDER BY id"
        )
        hoods = neighbourhoods_from_rows(rows)
        if version is not None:  # read in the snapshot that read the version: they agree
            self._kept_neighbourhoods = (version, hoods)
        return list(hoods)

    # -- workshops -------------------------------------------------------------------
    def add_workshop(self, workshop: Workshop) -> Workshop:
        workshop.code = workshop.code.upper()
        with self._write() as conn:
            cur = conn.execute(
                f"INSERT INTO workshops ({WORKSHOP_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s) ON CONFLICT (code) DO NOTHING",
                (
                    workshop.code,
                    workshop.title,
                    workshop.neighbourhood_id,
                    iso(workshop.starts_at),
                    iso(workshop.ends_at),
                    str(workshop.moderation),
                    orjson.dumps(workshop.languages).decode(),
                    workshop.created_by,
                    iso(workshop.created_at),
                ),
            )
            if cur.rowcount == 0:
                raise Conflict(f"the join code {workshop.code} is already taken")
        return workshop

    _WORKSHOP_SELECT = WORKSHOP_COLUMNS.replace("languages", "languages::text")

    def get_workshop(self, code: str) -> Workshop:
        row = self._fetchone(
            f"SELECT {self._WORKSHOP_SELECT} FROM workshops WHERE code = %s",
            (code.strip().upper(),),
        )
        if row is None:
            raise NotFound(f"there is no workshop with the code {code!r}")
        return workshop_from_row(row)

    def workshops(self) -> list[Workshop]:
        rows = self._fetchall(
            f"SELECT {self._WORKSHOP_SELECT} FROM workshops ORDER BY created_at DESC"
        )
        return [workshop_from_row(r) for r in rows]


def _ewkb_hex(geometries: Sequence[BaseGeometry]) -> list[str]:
    """EWKB hex: it carries the SRID the geometry column demands."""
    return shapely.to_wkb(shapely.set_srid(geometries, 4326), hex=True, include_srid=True).tolist()


def _column_rows(columns: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows from columns (``records.new_place_columns``), shared values repeated."""
    n = len(columns[0])
    return zip(
        *(itertools.repeat(c.value, n) if isinstance(c, Shared) else c for c in columns),
        strict=True,
    )
