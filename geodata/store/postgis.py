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
together apply each once. Connections, migrations, neighbourhoods, workshops,
contributions, accounts, reports, search and tiles are mixins in the ``postgis_*``
modules beside this one.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.errors import Conflict, NotFound
from geodata.models import NewPlaces, Place, utcnow
from geodata.store.base import PlaceFilter, PlaceStore, near_box
from geodata.store.postgis_accounts import AccountsAuditMixin
from geodata.store.postgis_connections import PostGISConnections
from geodata.store.postgis_contributions import ContributionsMixin
from geodata.store.postgis_migrations import MigrationsMixin
from geodata.store.postgis_narrative_additions import NarrativeAdditionsMixin
from geodata.store.postgis_neighbourhoods import NeighbourhoodsMixin
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
)
from geodata.store.postgis_sync import SyncMixin
from geodata.store.postgis_tiles import TilesMixin
from geodata.store.postgis_walks import WalksMixin
from geodata.store.postgis_workshops import WorkshopsMixin
from geodata.store.records import (
    WORKSHOP_COLUMNS,
    Shared,
    new_place_columns,
    place_row,
    place_rows,
    places_from_rows,
)

_BATCH = 2000
_ANALYZE_AFTER = 10_000
_cursor_names = itertools.count()


def _batches(items: Iterable[Place], size: int) -> Iterator[list[Place]]:
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


class PostGISStore(
    WalksMixin,
    SearchMixin,
    ContributionsMixin,
    RecordingsMixin,
    SyncMixin,
    AccountsAuditMixin,
    ReportsMixin,
    TilesMixin,
    NarrativeAdditionsMixin,
    NeighbourhoodsMixin,
    WorkshopsMixin,
    MigrationsMixin,
    PostGISConnections,
    PlaceStore,
):
    # -- connections and transactions -----------------------------------------

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

    # -- neighbourhoods ------------------------------------------------------------

    # -- workshops -------------------------------------------------------------------

    _WORKSHOP_SELECT = WORKSHOP_COLUMNS.replace("languages", "languages::text")


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
