"""PostGIS side of counting, aggregating and exporting places: all of it in the database.

Mixed into :class:`~geodata.store.postgis.PostGISStore`; the semantics match
:class:`~geodata.store.sqlite.SQLiteStore` method for method (with ``bbox`` always
exact, since ``ST_Intersects`` tests the shapes themselves).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from geodata.store.base import PlaceFilter
from geodata.store.base_exports import (
    FeatureBatch,
    FeaturePage,
    PlaceSummary,
    assemble_features,
)
from geodata.store.base_tiles import GridCell
from geodata.store.counts import MISSING, CountCache
from geodata.store.postgis_sql import (
    EXPORT_SELECT,
    FEATURE_PAGE_SELECT,
    place_order,
    place_where,
)


class ReportsMixin:
    """Counts, grids, summaries and export rows; needs PostGISStore's connection helpers."""

    _fetchone: Callable[..., tuple[Any, ...] | None]
    _fetchall: Callable[..., list[tuple[Any, ...]]]
    _list_query: Callable[..., tuple[str, list[Any]]]
    _batches_of_rows: Callable[..., Iterator[list[tuple[Any, ...]]]]
    _stream: Callable[..., Iterator[list[tuple[Any, ...]]]]
    _borrow: Callable[[], contextlib.AbstractContextManager[Any]]
    _read: Callable[..., list[tuple[Any, ...]]]
    _held: Any
    _snapshot_version: Callable[[str], str | None]
    _counts: CountCache

    def _count(self, flt: PlaceFilter | None) -> int:
        where, params = place_where(flt)
        row = self._fetchone(f"SELECT count(*) FROM places p WHERE {where}", params)
        return row[0] if row else 0

    def _count_up_to(self, flt: PlaceFilter | None, most: int) -> int | None:
        where, params = place_where(flt)
        row = self._fetchone(
            f"SELECT count(*) FROM (SELECT FROM places p WHERE {where} LIMIT %s) c",
            [*params, most + 1],
        )
        n = row[0] if row else 0
        return n if n <= most else None

    def export_page(
        self, flt: PlaceFilter | None, *, limit: int, offset: int = 0, most: int | None = None
    ) -> tuple[int | None, list[tuple[Any, ...]]]:
        # A bbox is a new count at every pan of a map: count the matches and take the page
        # from the same pass (the matching rids, sorted; the page's rows looked up by rid),
        # instead of a count and then a page that would find the same matches again.
        # (Rid order only: a sortby's page comes the usual way.)
        version = self._count_version()
        key = ("up_to", most, repr(flt))
        if (
            most is None
            or flt is None
            or flt.bbox is None
            or flt.order
            or (self._counts.get(key, version) is not MISSING)
        ):
            return super().export_page(flt, limit=limit, offset=offset, most=most)  # type: ignore[misc]
        where, params = place_where(flt)
        rows = self._fetchall(
            f"WITH m AS MATERIALIZED (SELECT p.rid FROM places p WHERE {where} LIMIT %s), "
            "c AS (SELECT count(*) AS n FROM m) "
            f"SELECT c.n, {EXPORT_SELECT} FROM c LEFT JOIN LATERAL (SELECT q.* FROM places q "
            "JOIN (SELECT rid FROM m ORDER BY rid LIMIT %s OFFSET %s) k ON q.rid = k.rid "
            "WHERE c.n <= %s) p ON TRUE ORDER BY p.rid",
            [*params, most + 1, limit, offset, most],
        )
        n = rows[0][0] if rows[0][0] <= most else None
        self._counts.put(key, version, n)
        if n is None:  # counting stopped: the page comes the usual way, the count now kept
            return super().export_page(flt, limit=limit, offset=offset, most=most)  # type: ignore[misc]
        return n, [r[1:] for r in rows if r[1] is not None]

    def export_feature_page(
        self,
        flt: PlaceFilter | None,
        *,
        limit: int,
        offset: int = 0,
        most: int | None = None,
        absent: PlaceFilter | None = None,
    ) -> FeaturePage | None:
        # One statement, one round trip, one snapshot: the page (a row beyond it tells
        # whether more follow), then from the same state a bbox's count (new at every pan
        # of a map, so counted here, stopping past ``most``) or the places version that
        # the count kept for the filter must match, and whether ``absent`` finds a place.
        flt = flt or PlaceFilter()
        where, params = place_where(flt)
        order = place_order(flt)
        ctes, cte_params, count = "", [], "NULL::bigint"
        if flt.bbox is not None:
            # The matches found once on the spatial index (as export_page does), counted.
            cap = "" if most is None else " LIMIT %s"
            ctes = f"m AS MATERIALIZED (SELECT p.rid FROM places p WHERE {where}{cap}), "
            cte_params = [*params, *([] if most is None else [most + 1])]
            count = "(SELECT count(*) FROM m)"
        if flt.bbox is not None and not flt.order:
            # The page from those matches, in rid order; past ``most`` of them, from a
            # scan in that order (every match then, not only the first found).
            page = "SELECT rid, rid AS ord FROM m ORDER BY rid LIMIT %s OFFSET %s"
            page_params: list[Any] = [limit + 1, offset]
            if most is not None:
                page = (
                    "(SELECT rid, rid AS ord FROM m WHERE (SELECT count(*) FROM m) <= %s "
                    "ORDER BY rid LIMIT %s OFFSET %s) UNION ALL (SELECT p.rid, p.rid FROM "
                    f"places p WHERE {where} AND (SELECT count(*) FROM m) > %s "
                    "ORDER BY p.rid LIMIT %s OFFSET %s)"
                )
                page_params = [most, limit + 1, offset, *params, most, limit + 1, offset]
        else:
            page = (
                f"SELECT p.rid, row_number() OVER (ORDER BY {order}) AS ord FROM places p "
                f"WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s"
            )
            page_params = [*params, limit + 1, offset]
        absent_where, absent_params = place_where(absent) if absent else ("FALSE", [])
        query = (
            f"WITH {ctes}page AS ({page}) "
            f"SELECT c.*, page.ord, {FEATURE_PAGE_SELECT} FROM (SELECT {count} AS n, "
            f"EXISTS (SELECT FROM places p WHERE {absent_where}) AS blocked, "
            "(SELECT version FROM store_versions WHERE name = 'places') AS version) c "
            "LEFT JOIN (page JOIN places p ON p.rid = page.rid LEFT JOIN neighbourhoods n "
            "ON n.id = p.neighbourhood_id) ON TRUE ORDER BY page.ord"
        )
        rows = self._read(query, [*cte_params, *page_params, *absent_params], binary=True)
        n, blocked, version = rows[0][:3]
        if blocked:
            return None
        if flt.bbox is None:
            key = ("all", repr(flt)) if most is None else ("up_to", most, repr(flt))
            n = self._counts.get(key, version)
            if n is MISSING:  # not kept for this state: the caller counts in a snapshot
                return None
        elif most is not None and n > most:
            n = None
        found = [(r[4], r[5], r[6], r[7], None if r[8] is None else r[8:]) for r in rows
                 if r[3] is not None]  # fmt: skip
        return FeaturePage(n, found if n is None else found[:limit])

    def _count_version(self) -> str | None:
        if (version := self._snapshot_version("places")) is not None:
            return version
        # Statement triggers bump it in the writing transaction itself: inside one, the
        # version read is that transaction's own and is never seen again if it rolls back.
        row = self._fetchone("SELECT version FROM store_versions WHERE name = 'places'")
        return row[0] if row else None

    def counts_by_neighbourhood(self, flt: PlaceFilter | None = None) -> dict[int | None, int]:
        return {nid: n for (nid,), n in self._grouped(("p.neighbourhood_id",), flt).items()}

    def category_counts(self, flt: PlaceFilter | None = None) -> dict[tuple[int | None, str], int]:
        return self._grouped(("p.neighbourhood_id", "p.category"), flt)  # type: ignore[return-value]

    def licence_counts(self, flt: PlaceFilter | None = None) -> dict[tuple[str, str | None], int]:
        return self._grouped(("p.licence", "p.attribution"), flt)  # type: ignore[return-value]

    def _grouped(self, columns: tuple[str, ...], flt: PlaceFilter | None) -> dict[tuple, int]:
        where, params = place_where(flt)
        keys = ", ".join(columns)
        rows = self._fetchall(
            f"SELECT {keys}, count(*) FROM places p WHERE {where} GROUP BY {keys}", params
        )
        return {tuple(r[:-1]): r[-1] for r in rows}

    def story_languages(self, flt: PlaceFilter | None = None) -> dict[str, int]:
        where, params = place_where(flt)
        rows = self._fetchall(
            "SELECT lower(j->>'language'), count(*) FROM places p, "
            f"jsonb_array_elements(p.narratives) j WHERE {where} GROUP BY 1",
            params,
        )
        return {tag: n for tag, n in rows if tag}

    def summary(self, flt: PlaceFilter | None = None) -> PlaceSummary:
        where, params = place_where(flt)
        # ST_XMin and friends read the coordinates (exact), not the float4 index boxes.
        row = self._fetchone(
            "SELECT count(*), min(ST_XMin(p.geom)), min(ST_YMin(p.geom)), "
            "max(ST_XMax(p.geom)), max(ST_YMax(p.geom)), min(p.created_at), "
            f"max(p.created_at), max(p.updated_at) FROM places p WHERE {where}",
            params,
        )
        assert row is not None  # an aggregate always returns one row
        bbox = None if row[1] is None else (row[1], row[2], row[3], row[4])
        return PlaceSummary(row[0], bbox, row[5], row[6], row[7])

    def cluster_grid(self, flt: PlaceFilter | None, cell_deg: float) -> list[GridCell]:
        if not cell_deg > 0:
            raise ValueError("cell_deg must be positive")
        where, params = place_where(flt)
        # Box centres from the geometry itself (exact doubles, like SQLite's bounds columns).
        rows = self._fetchall(
            "SELECT floor(cx / %s)::bigint AS col, floor(cy / %s)::bigint AS row, "
            "count(*), avg(cx), avg(cy) FROM (SELECT (ST_XMin(p.geom) + ST_XMax(p.geom)) / 2 "
            "AS cx, (ST_YMin(p.geom) + ST_YMax(p.geom)) / 2 AS cy FROM places p "
            f"WHERE {where}) c GROUP BY 1, 2",
            [float(cell_deg), float(cell_deg), *params],
        )
        return [GridCell(int(c), int(r), n, float(x), float(y)) for c, r, n, x, y in rows]

    def export_rows(
        self,
        flt: PlaceFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        batch_size: int = 1000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        # The bbox test is exact in SQL, so LIMIT and OFFSET count real matches as they are.
        query, params = self._list_query(flt, limit, offset, EXPORT_SELECT)
        yield from self._batches_of_rows(query, params, batch_size, limit)

    def export_features(
        self,
        flt: PlaceFilter | None,
        tails: Mapping[int | None, bytes],
        *,
        batch_size: int = 5000,
    ) -> Iterator[FeatureBatch]:
        if flt is not None and flt.bbox is not None:
            raise ValueError("export_features takes no bbox: use export_rows")
        columns = (
            "p.id, p.public_feature, p.neighbourhood_id, p.licence, p.attribution, "
            "EXISTS (SELECT 1 FROM place_protocol_labels l WHERE l.place_id = p.id)"
        )
        query, params = self._list_query(flt, None, 0, columns)
        held = self._held
        with contextlib.ExitStack() as stack:
            if held is None:
                conn = stack.enter_context(self._borrow())
                stack.enter_context(conn.transaction())
                # One snapshot for the features and the rows read again for the pending.
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            else:
                conn = held

            def fetch(ids: list[str]) -> list[tuple[Any, ...]]:
                return conn.execute(
                    f"SELECT {EXPORT_SELECT} FROM places p WHERE p.id = ANY(%s) ORDER BY p.rid",
                    (ids,),
                ).fetchall()

            for rows in self._stream(conn, query, params, batch_size, binary=True):
                yield assemble_features(rows, tails, fetch)
