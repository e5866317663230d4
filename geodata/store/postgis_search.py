"""Text search in PostGIS: pg_trgm GIN indexes over places' folded texts.

The folded texts (``search_title``, ``search_body``; see :mod:`geodata.search`) are
written with every place (they are columns of the shared row). Each pattern of a query
becomes a ``LIKE '%pattern%'`` the trigram indexes answer; the pattern is a bound
parameter with LIKE's wildcards escaped, so nothing a person types is syntax.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import psycopg

from geodata.models import Place
from geodata.search import capped, parse_query, search_columns
from geodata.store.base import PlaceFilter
from geodata.store.postgis_sql import PLACE_SELECT, place_where
from geodata.store.records import places_from_rows

_BACKFILL_BATCH = 2000


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards (and its escape character) taken literally."""
    return "%" + "".join("\\" + c if c in "\\%_" else c for c in text) + "%"


class SearchMixin:
    """:meth:`PlaceStore.search` for :class:`~geodata.store.postgis.PostGISStore`."""

    _fetchall: Callable[..., list[tuple[Any, ...]]]

    def search(self, text: str, flt: PlaceFilter | None = None, *, limit: int = 20) -> list[Place]:
        query = parse_query(text)
        if query is None or not capped(limit):
            return []
        where, params = place_where(flt)
        likes = [like_pattern(p) for p in query.patterns]
        in_title = " AND ".join("p.search_title LIKE %s" for _ in likes)
        anywhere = " AND ".join("(p.search_title LIKE %s OR p.search_body LIKE %s)" for _ in likes)
        rows = self._fetchall(
            f"SELECT {PLACE_SELECT}, CASE WHEN p.search_title = %s THEN 0 "
            f"WHEN starts_with(p.search_title, %s) THEN 1 WHEN {in_title} THEN 2 ELSE 3 END "
            f"AS tier FROM places p WHERE {anywhere} AND {where} "
            "ORDER BY tier, length(p.search_title), p.rid LIMIT %s",
            [
                query.phrase,
                query.phrase,
                *likes,
                *(like for like in likes for _ in range(2)),
                *params,
                capped(limit),
            ],
        )
        return places_from_rows([r[:-1] for r in rows])

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
