"""What only the PostGIS backend has: the GiST index, server-side cursors, pooled
connections, advisory-locked migrations and neighbourhood assignment in the database.

Runs on the ``store`` fixture restricted to PostGIS: skipped without
``HERITAGE_TEST_POSTGIS_URL``, a failure with ``HERITAGE_REQUIRE_POSTGIS=1``.
"""

from __future__ import annotations

import os
import threading
import uuid

import numpy as np
import psycopg
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geodata.demo import load_demo
from geodata.errors import Conflict
from geodata.models import Narrative, Place, Status
from geodata.neighbourhoods import assign_neighbourhoods
from geodata.store import open_store
from geodata.store.base import PlaceFilter
from geodata.store.base_exports import EXPORT_COLUMNS

pytestmark = [pytest.mark.postgis, pytest.mark.parametrize("backend", ["postgis"], indirect=True)]

URL = os.environ.get("HERITAGE_TEST_POSTGIS_URL", "")


def make_place(geometry, **kw) -> Place:
    return Place(
        geometry=geometry,
        title=kw.pop("title", "Lugar"),
        narratives=[Narrative("Uma história.", "pt")],
        category="building",
        status=kw.pop("status", Status.PUBLISHED),
        **kw,
    )


def grid_of_points(n: int, seed: int = 7) -> list[Place]:
    """``n`` points spread over Lisbon (about 0.1 x 0.1 degrees)."""
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-9.23, -9.09, n)
    ys = rng.uniform(38.69, 38.80, n)
    return [make_place(Point(x, y)) for x, y in zip(xs, ys, strict=True)]


def last_queries() -> dict[int, str]:
    """The last query of every other session on this database, by backend pid."""
    with psycopg.connect(URL, autocommit=True) as conn:
        return dict(
            conn.execute(
                "SELECT pid, query FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND datname = current_database()"
            ).fetchall()
        )


def test_a_small_bbox_query_uses_the_gist_index(store):
    store.add_many(grid_of_points(20_000))  # large enough that a scan would cost more
    store.analyze()
    flt = PlaceFilter(bbox=(-9.15, 38.72, -9.14, 38.73))
    plan = store.explain(flt)
    assert "places_geom" in plan, plan
    assert "st_intersects(geom" in plan, plan  # the exact test after the index's box test
    paged = store.explain(flt, limit=50)
    assert "places_geom" in paged, paged


def test_the_bbox_filter_is_exact_for_routes_and_areas(store):
    # Bounding boxes overlap the query box, the shapes themselves do not.
    diagonal = LineString([(0.0, 0.0), (1.0, 1.0)])
    ring = Polygon(
        [(0, 0), (1, 0), (1, 1), (0, 1)], [[(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)]]
    )
    crossing = LineString([(0.0, 1.0), (1.0, 0.0)])
    for g in (diagonal, ring, crossing):
        store.add(make_place(g))
    query = (0.6, 0.2, 0.8, 0.3)  # below the diagonal, inside the hole, on the crossing line
    got = {p.geometry.wkt for p in store.list(PlaceFilter(bbox=query))}
    assert got == {crossing.wkt}
    assert store.count(PlaceFilter(bbox=query)) == 1
    expected = {g.wkt for g in (diagonal, ring, crossing) if g.intersects(box(*query))}
    assert got == expected


def test_a_long_list_streams_from_a_server_side_cursor(store):
    store.add_many(grid_of_points(5_000))
    places = store.list(PlaceFilter(status="published"))
    first = next(places)  # one batch fetched, the rest waits on the server
    fetching = {
        pid: q
        for pid, q in last_queries().items()
        if q.startswith("FETCH FORWARD") and f'"{store.cursor_prefix}' in q
    }
    assert fetching, "no session is fetching from a named cursor"
    rest = list(places)
    assert len(rest) + 1 == 5_000
    assert first.id not in {p.id for p in rest}
    after = last_queries()
    # Exhausted: the cursor's session moved on (closed it, committed, back in the pool).
    assert all(after.get(pid) != q for pid, q in fetching.items())


def test_an_export_cursor_reads_in_key_order_without_sorting(store):
    store.add_many(grid_of_points(20_000))
    store.analyze()
    plan = store.explain(PlaceFilter(audience="open_data"))
    # Rows come off the primary key in order: the first batch leaves before the last is read.
    assert "places_pkey" in plan and "Sort" not in plan, plan
    assert len(list(store.list(limit=20, offset=19_990))) == 10


def test_a_stream_inside_a_transaction_sees_its_own_writes(store):
    with store.transaction():
        store.add_many(grid_of_points(2_500))
        ids = [p.id for p in store.list()]
        assert len(ids) == 2_500
        for place in store.list(limit=3):
            place.title = "renamed"
            store.update(place)
    assert store.count() == 2_500
    assert sum(p.title == "renamed" for p in store.list()) == 3


def test_a_failed_write_inside_a_transaction_leaves_it_usable(store):
    a, b = make_place(Point(-9.14, 38.71)), make_place(Point(-9.13, 38.72))
    with store.transaction():
        store.add(a)
        with pytest.raises(Conflict):
            store.add(a)  # PostgreSQL would abort the whole transaction without a savepoint
        with pytest.raises(Conflict):
            store.add_many([b, a])
        store.add(b)
    assert {p.id for p in store.list()} == {a.id, b.id}


def test_an_exception_rolls_back_the_outer_transaction_with_every_nested_one(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.add(make_place(Point(-9.14, 38.71)))
        with store.transaction():
            store.add(make_place(Point(-9.13, 38.71)))
        raise RuntimeError("boom")
    assert store.count() == 0


def test_concurrent_writers_share_the_pool_without_losing_a_write(store):
    errors: list[BaseException] = []

    def submit(k: int) -> None:
        try:
            for i in range(25):
                store.add(make_place(Point(-9.2 + k * 0.01, 38.7 + i * 0.001)))
        except BaseException as exc:  # reported below; a thread cannot raise into the test
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count() == 200


def test_stores_starting_at_once_apply_each_migration_once(store):
    schema = f"test_migrate_{uuid.uuid4().hex[:8]}"
    url = f"{URL}{'&' if '?' in URL else '?'}schema={schema}"
    stores, errors = [], []

    def start() -> None:
        try:
            stores.append(open_store(url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=start) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with psycopg.connect(URL, autocommit=True) as conn:
            versions = [
                r[0]
                for r in conn.execute(
                    f'SELECT version FROM "{schema}".schema_migrations ORDER BY version'
                )
            ]
        assert versions == sorted(set(versions)) and versions[0] == 1
        assert stores[0].schema_version() == versions[-1]
        place = make_place(Point(-9.14, 38.71))
        stores[0].add(place)
        assert stores[1].get(place.id).title == place.title
        assert store.count() == 0  # the default schema is untouched
    finally:
        for s in stores:
            s.close()
        with psycopg.connect(URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_neighbourhoods_assigned_in_the_database_match_the_geopandas_join(store):
    load_demo(store)
    parishes = store.neighbourhoods()
    a, b = parishes[0].geometry, parishes[1].geometry
    # A route and an area across parish boundaries, and one outside every parish.
    centre_a, centre_b = a.representative_point(), b.representative_point()
    route = LineString([centre_a.coords[0], centre_b.coords[0]])
    area = shapely.buffer(route, 0.002).envelope
    extra = [make_place(route), make_place(area), make_place(Point(-8.0, 40.0))]
    store.add_many(extra)
    places = list(store.list())
    expected = assign_neighbourhoods([p.geometry for p in places], parishes)
    store.set_neighbourhood_ids((p.id, None) for p in places)
    changed = store.assign_neighbourhoods_in_db()
    got = {p.id: p.neighbourhood_id for p in store.list()}
    assert [got[p.id] for p in places] == expected
    assert changed == sum(e is not None for e in expected)
    assert got[extra[2].id] is None
    assert store.assign_neighbourhoods_in_db() == 0  # nothing left to change
    assert store.assign_neighbourhoods_in_db([extra[0].id]) == 0
    store.set_neighbourhood_ids([(extra[0].id, None), (extra[1].id, parishes[-1].id)])
    assert store.reassign_neighbourhoods() == 2  # what the CLI calls after new boundaries
    assert [p.neighbourhood_id for p in store.list()] == expected


def test_every_url_spelling_opens_the_same_database(store):
    place = make_place(Point(-9.14, 38.71))
    store.add(place)
    rest = URL.split("://", 1)[1]
    for scheme in ("postgresql", "postgresql+psycopg", "postgis"):
        url = f"{scheme}://{rest}"
        if store.schema and "schema=" not in url:  # pytest -n gives each worker a schema
            url += f"{'&' if '?' in url else '?'}schema={store.schema}"
        other = open_store(url)
        try:
            assert other.get(place.id).id == place.id
        finally:
            other.close()


def test_an_unreachable_server_is_a_clear_error_not_a_hang(backend):
    from geodata.store.postgis import PostGISStore
    from geodata.store.postgis_connections import DatabaseUnavailable

    with socket_closed_port() as port:
        s = PostGISStore(f"postgresql://postgres@127.0.0.1:{port}/nowhere", timeout=1.0)
        try:
            with pytest.raises(DatabaseUnavailable, match="cannot connect"):
                s.migrate()
        finally:
            s.close()


class socket_closed_port:
    """A loopback port nothing listens on, for as long as the block runs."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_schema_and_pool_size_are_ours_and_the_rest_goes_to_libpq(backend):
    from geodata.errors import InvalidInput
    from geodata.store.postgis_connections import parse_url

    conninfo, ours = parse_url(
        "postgis://atlas:s3cret@db.internal:6432/heritage?sslmode=require&schema=lisboa&pool_size=4"
    )
    assert conninfo == "postgresql://atlas:s3cret@db.internal:6432/heritage?sslmode=require"
    assert ours == {"schema": "lisboa", "pool_size": "4"}
    with pytest.raises(InvalidInput, match="pool_size"):
        parse_url("postgresql://db/heritage?pool_size=lots")
    with pytest.raises(InvalidInput) as refused:
        parse_url("mysql://atlas:s3cret@db/heritage")
    assert "s3cret" not in refused.value.message  # a refused URL never echoes a password


def test_a_full_pool_is_a_clear_error_after_the_timeout_then_recovers(store):
    from geodata.store.postgis import PostGISStore
    from geodata.store.postgis_connections import DatabaseUnavailable

    store.add_many(grid_of_points(2_500))  # more than one batch: lists stream
    url = f"{URL}{'&' if '?' in URL else '?'}pool_size=2"
    if store.schema:
        url += f"&schema={store.schema}"
    small = PostGISStore(url, timeout=1.0)
    try:
        streams = [small.list() for _ in range(2)]
        for s in streams:
            next(s)  # each open stream holds one of the two connections
        with pytest.raises(DatabaseUnavailable, match="pool of 2"):
            small.count()
        streams[0].close()  # gives its connection back
        assert small.count() == 2_500
        assert small.pool.get_stats()["pool_size"] <= 2
        streams[1].close()
    finally:
        small.close()


def test_reports_and_export_rows_read_the_same_as_on_sqlite(store, sqlite_store):
    import orjson

    from geodata.privacy import public_filter

    load_demo(sqlite_store)
    store.replace_neighbourhoods(
        [(n.name, n.geometry, n.code) for n in sqlite_store.neighbourhoods()]
    )
    store.add_many(sqlite_store.list())  # same ids, timestamps and neighbourhoods
    route = make_place(LineString([(-9.20, 38.70), (-9.10, 38.76)]), title="Rota")
    for s in (store, sqlite_store):
        s.add(route)
    lisbon = (-9.16, 38.70, -9.12, 38.73)
    filters = [
        None,
        public_filter(PlaceFilter(), "open_data"),
        PlaceFilter(bbox=lisbon),
        PlaceFilter(category=["museum", "monument"], title_contains="a"),
    ]
    for flt in filters:
        assert store.summary(flt) == sqlite_store.summary(flt), flt
        assert store.category_counts(flt) == sqlite_store.category_counts(flt), flt
        assert store.licence_counts(flt) == sqlite_store.licence_counts(flt), flt
        assert store.counts_by_neighbourhood(flt) == sqlite_store.counts_by_neighbourhood(flt)
        for page in ({}, {"limit": 7, "offset": 3}, {"limit": 5_000, "batch_size": 50}):
            ours = [r for b in store.export_rows(flt, **page) for r in b]
            theirs = [r for b in sqlite_store.export_rows(flt, **page) for r in b]
            # jsonb spells JSON its own way (spaces, key order): compare what it says.
            json_at = [i for i, c in enumerate(EXPORT_COLUMNS) if c in ("narratives", "tags")]

            def readable(rows, json_at=json_at):
                return [
                    tuple(orjson.loads(v) if i in json_at else v for i, v in enumerate(r))
                    for r in rows
                ]

            assert readable(ours) == readable(theirs), (flt, page)
    grid = {(c.col, c.row): c.count for c in store.cluster_grid(None, 0.01)}
    assert grid == {(c.col, c.row): c.count for c in sqlite_store.cluster_grid(None, 0.01)}


def test_compact_rewrites_the_tables_an_erasure_deletes_from(store):
    place = make_place(Point(-9.14, 38.71), contributor_contact="ana@example.org")
    store.add(place)
    with psycopg.connect(URL, autocommit=True) as conn:

        def files() -> tuple:
            return conn.execute(
                "SELECT pg_relation_filenode(%s::regclass), pg_relation_filenode(%s::regclass)",
                (f"{store.schema or 'public'}.places", f"{store.schema or 'public'}.audit_log"),
            ).fetchone()

        before = files()
        store.delete(place.id)
        store.compact()
        after = files()
    assert all(b != a for b, a in zip(before, after, strict=True))  # new files, old ones gone
    assert store.count() == 0


def test_every_sqlite_migration_has_a_postgis_twin(backend):
    from importlib import resources

    folder = resources.files("geodata.store") / "migrations"
    names = {
        kind: sorted(e.name for e in (folder / kind).iterdir() if e.name.endswith(".sql"))
        for kind in ("sqlite", "postgis")
    }
    assert names["postgis"] == names["sqlite"]  # same numbers and names: one schema history


def test_a_dropped_connection_is_replaced_under_a_page_read_without_a_check(store):
    """A page of features skips the pool's check round trip; when the server has dropped
    the connection (a restart, a failover) the read runs again on a fresh one."""
    from geodata.io.feature_page import public_feature_page
    from geodata.privacy import public_filter

    store.add_many([make_place(Point(-9.14 + i / 1000, 38.71)) for i in range(5)])
    everything = public_filter(None, "open_data")
    store.count(everything)  # kept, so the page is one statement
    pooled = [store.pool.getconn() for _ in range(store.pool.get_stats()["pool_size"])]
    pids = [conn.info.backend_pid for conn in pooled]
    for conn in pooled:
        store.pool.putconn(conn)
    with psycopg.connect(URL, autocommit=True) as admin:  # every connection the pool holds
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", (pids,))
    assert store.export_feature_page(everything, limit=10) is not None
    page = public_feature_page(store, None, limit=3)
    assert (page.matched, page.returned, page.more) == (5, 3, True)
    with store._borrow() as conn:
        assert conn.info.backend_pid not in pids
