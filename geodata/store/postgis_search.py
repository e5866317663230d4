"""Text search in PostGIS: pg_trgm GIN indexes over places' folded texts.

The folded texts (``search_title``, ``search_body``; see :mod:`geodata.search`) are
written with every place (they are columns of the shared row). A search is three
queries, each cut at the limit (see :mod:`geodata.search`): titles starting with the
query, in the order of a B-tree on ``search_title COLLATE "C"``; other titles, then
narratives, oldest first, where each pattern of the query becomes a ``LIKE
'%pattern%'`` the trigram indexes answer (or, for a word in half the places, the
planner walks the places in order and stops at the limit). Patterns are bound
parameters with LIKE's wildcards escaped, so nothing a person types is syntax.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson
import psycopg

from geodata.models import Place
from geodata.search import capped, parse_query, prefix_range, search_columns
from geodata.store.base import PlaceFilter
from geodata.store.postgis_sql import PLACE_SELECT, place_where
from geodata.store.records import places_from_rows

_BACKFILL_BATCH = 2000
_MERGE_PENDING = (
    "SELECT gin_clean_pending_list(c.oid) FROM pg_class c JOIN pg_namespace n ON "
    "n.oid = c.relnamespace WHERE n.nspname = current_schema() "
    "AND c.relname IN ('places_search_title', 'places_search_body', 'places_search_voices')"
)


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards (and its escape character) taken literally."""
    return "%" + "".join("\\" + c if c in "\\%_" else c for c in text) + "%"


_FEW = 2000  # matches worth sorting; above this many, places may be walked in order
_NEAR = 4 * _FEW  # how far into the places a walk may have to go before its first match


def _by_index(conn: psycopg.Connection, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` read through the trigram indexes (bitmap scans), never by a scan
    of every place nor a walk of them in order, whatever the planner guesses."""
    own = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with conn.pipeline(), conn.transaction():  # one round trip; SET LOCAL ends with it
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_indexscan = off")
        cur = conn.execute(sql, params)
        if not own:  # a savepoint in a caller's transaction: put them back for what follows
            conn.execute("SET LOCAL enable_seqscan TO DEFAULT")
            conn.execute("SET LOCAL enable_indexscan TO DEFAULT")
    return cur.fetchall()


def _oldest(
    conn: psycopg.Connection, where: str, params: list[Any], n: int
) -> list[tuple[Any, ...]]:
    """The ``n`` oldest places matching ``where``, as :data:`PLACE_SELECT` rows.

    Asked for in one query (``ORDER BY rid LIMIT n``), the planner guesses how many
    places match: when it thinks many do, it walks the places in order until it meets
    ``n`` of them, and a word it overrates costs a walk through the whole table
    (100,000 places: 20 ms for 680 matches). So the trigram indexes are asked first for
    at most :data:`_FEW` + 1 matches. When those are all, the oldest are picked from
    them. When there are more, the places are walked in order if the matches begin near
    the start (their first lies within :data:`_NEAR` places: matches so common are met
    at once), else every match is read through the indexes and sorted (a town named in
    the stories of 12,000 places from the 36,000th on: 20 ms instead of 70).
    """
    probe = _by_index(conn, f"SELECT p.rid FROM places p WHERE {where} LIMIT %s",
                      [*params, _FEW + 1])  # fmt: skip
    if len(probe) <= _FEW:
        oldest = sorted(r[0] for r in probe)[:n]
        if not oldest:
            return []
        return conn.execute(
            f"SELECT {PLACE_SELECT} FROM places p WHERE p.rid = ANY(%s) ORDER BY p.rid",
            [oldest],
        ).fetchall()
    sql = f"SELECT {PLACE_SELECT} FROM places p WHERE {where} ORDER BY p.rid LIMIT %s"
    if min(r[0] for r in probe) <= _NEAR:
        return conn.execute(sql, [*params, n]).fetchall()
    return _by_index(conn, sql, [*params, n])


class SearchMixin:
    """:meth:`PlaceStore.search` for :class:`~geodata.store.postgis.PostGISStore`."""

    _fetchall: Callable[..., list[tuple[Any, ...]]]
    _connection: Callable[[], contextlib.AbstractContextManager[psycopg.Connection]]

    def search(self, text: str, flt: PlaceFilter | None = None, *, limit: int = 20) -> list[Place]:
        query = parse_query(text)
        n = capped(limit)
        if query is None or not n:
            return []
        where, params = place_where(flt)
        low, high = prefix_range(query)
        likes = [like_pattern(p) for p in query.patterns]
        in_title = " AND ".join("p.search_title LIKE %s" for _ in likes)
        anywhere = " AND ".join(  # search_voices: transcripts of public recordings (0013)
            "(p.search_title LIKE %s OR (p.search_body <> '' AND p.search_body LIKE %s) "
            "OR (p.search_voices <> '' AND p.search_voices LIKE %s))"
            for _ in likes
        )
        with self._connection() as conn:  # one connection for the three queries
            found = conn.execute(  # titles starting with the query, by the B-tree on them
                f'SELECT {PLACE_SELECT} FROM places p WHERE p.search_title COLLATE "C" >= %s '
                f'AND p.search_title COLLATE "C" < %s AND {where} '
                'ORDER BY p.search_title COLLATE "C", p.rid LIMIT %s',
                [low, high, *params, n],
            ).fetchall()
            if len(found) < n:  # other titles holding every word, oldest first
                found += _oldest(
                    conn,
                    f'{in_title} AND NOT (p.search_title COLLATE "C" >= %s AND '
                    f'p.search_title COLLATE "C" < %s) AND {where}',
                    [*likes, low, high, *params],
                    n - len(found),
                )
            if len(found) < n:  # the others: matched through their narratives, oldest first
                found += _oldest(
                    conn,
                    f"{anywhere} AND NOT ({in_title}) AND {where}",
                    [*(like for like in likes for _ in range(3)), *likes, *params],
                    n - len(found),
                )
        return places_from_rows(found)

    def merge_search_index(self) -> None:
        """File the trigram indexes' pending entries into the indexes proper. GIN's fast
        update keeps new entries in a list that every search reads through until a
        vacuum (or the list's size limit) files them; after a bulk import the list is
        full, and searches were several times slower (100,000 places) until this ran."""
        self._fetchall(_MERGE_PENDING)

    @staticmethod
    def _index_missing_search(conn: psycopg.Connection) -> None:
        """Fold the titles and narratives of places written before migration 0010."""
        last = 0
        while rows := conn.execute(
            "SELECT rid, title, narratives::text FROM places WHERE rid > %s AND "
            "search_title IS NULL ORDER BY rid LIMIT %s",
            (last, _BACKFILL_BATCH),
        ).fetchall():
            titles, bodies = search_columns(
                [r[1] for r in rows], [[n["text"] for n in orjson.loads(r[2])] for r in rows]
            )
            conn.execute(
                "UPDATE places p SET search_title = f.title, search_body = f.body FROM "
                "unnest(%s::bigint[], %s::text[], %s::text[]) AS f(rid, title, body) "
                "WHERE p.rid = f.rid",
                ([r[0] for r in rows], titles, bodies),
            )
            last = rows[-1][0]
        conn.execute(_MERGE_PENDING)
