"""Text search in SQLite: the FTS5 trigram index over places' folded texts.

The folded texts (``search_title``, ``search_body``; see :mod:`geodata.search`) are
written with every place into the external-content FTS5 table ``places_search``
(migration 0010): new rows by the store's insert paths (``sqlite_bulk.SEARCH_NEW``),
changes and deletions by triggers. A search is three queries, each answered in order by
an index and cut at the limit (see :mod:`geodata.search`): titles starting with the
query by the B-tree on ``search_title``; other titles, then narratives, by the FTS5
index, which lists its matches in rowid order (its third column, ``search_voices``, holds
the transcripts of public recordings: migration 0013). A query's patterns of three characters
or more go to the index as quoted strings (so nothing a person types is FTS5 syntax);
shorter ones (a one-letter word at a word start, " r") are checked on the rows found.
"""

from __future__ import annotations

from typing import Any

import orjson

from geodata.models import Place
from geodata.search import MIN_PATTERN, capped, parse_query, prefix_range, search_columns
from geodata.store.base import PlaceFilter
from geodata.store.records import COLUMNS, places_from_rows

_SELECT = ", ".join(f"p.{c}" for c in COLUMNS)
_BACKFILL_BATCH = 2000


def fts_string(pattern: str) -> str:
    """An FTS5 string: the pattern quoted, any double quote doubled."""
    return '"' + pattern.replace('"', '""') + '"'


class SearchMixin:
    """:meth:`PlaceStore.search` for :class:`~geodata.store.sqlite.SQLiteStore`."""

    conn: Any
    _where: Any
    _exact_bbox: Any

    def search(self, text: str, flt: PlaceFilter | None = None, *, limit: int = 20) -> list[Place]:
        query = parse_query(text)
        n = capped(limit)
        if query is None or not n:
            return []
        joins, where, params = self._where(flt)
        low, high = prefix_range(query)
        indexed = " AND ".join(fts_string(p) for p in query.patterns if len(p) >= MIN_PATTERN)
        short = [p for p in query.patterns if len(p) < MIN_PATTERN]
        in_title = " AND ".join("instr(p.search_title, ?) > 0" for _ in query.patterns)
        found = self._found(  # titles starting with the query, by the B-tree on them
            f"SELECT {_SELECT} FROM places p INDEXED BY places_search_title{joins} "
            "WHERE p.search_title >= ? AND "
            f"p.search_title < ? AND {where} ORDER BY p.search_title, p.rid LIMIT ?",
            [low, high, *params], n, flt,
        )  # fmt: skip
        if len(found) < n:  # other titles holding every word, oldest first
            found += self._found(
                f"SELECT {_SELECT} FROM places_search s JOIN places p ON p.rid = s.rowid{joins} "
                f"WHERE s.places_search MATCH ? AND {in_title} AND NOT (p.search_title >= ? "
                f"AND p.search_title < ?) AND {where} ORDER BY s.rowid LIMIT ?",
                [f"search_title : ({indexed})", *query.patterns, low, high, *params],
                n - len(found), flt,
            )  # fmt: skip
        if len(found) < n:  # the others: matched through narratives or transcripts, oldest
            anywhere = "".join(  # first
                " AND (instr(p.search_title, ?) > 0 OR instr(p.search_body, ?) > 0 "
                "OR instr(p.search_voices, ?) > 0)"
                for _ in short
            )
            found += self._found(
                f"SELECT {_SELECT} FROM places_search s JOIN places p ON p.rid = s.rowid{joins} "
                f"WHERE s.places_search MATCH ?{anywhere} AND NOT ({in_title}) AND {where} "
                "ORDER BY s.rowid LIMIT ?",
                [indexed, *(p for p in short for _ in range(3)), *query.patterns, *params],
                n - len(found), flt,
            )  # fmt: skip
        return found

    def _found(self, sql: str, args: list[Any], n: int, flt: PlaceFilter | None) -> list[Place]:
        """The first ``n`` places a query (ending in ``LIMIT ?``) lists; with a bounding
        box, read on past those the exact test drops."""
        boxed = flt is not None and flt.bbox is not None
        cur = self.conn.execute(sql, [*args, -1 if boxed else n])
        found: list[Place] = []
        while len(found) < n and (rows := cur.fetchmany(n)):
            found += self._exact_bbox(places_from_rows(rows), flt)
        cur.close()
        return found[:n]

    def _index_missing_search(self) -> None:
        """Fold the titles and narratives of places written before migration 0010 (the
        update trigger puts them in the index)."""
        last = 0
        while rows := self.conn.execute(
            "SELECT rid, title, narratives FROM places WHERE rid > ? AND search_title IS NULL "
            "ORDER BY rid LIMIT ?",
            (last, _BACKFILL_BATCH),
        ).fetchall():
            titles, bodies = search_columns(
                [r[1] for r in rows], [[n["text"] for n in orjson.loads(r[2])] for r in rows]
            )
            self.conn.executemany(
                "UPDATE places SET search_title = ?, search_body = ? WHERE rid = ?",
                [(t, b, r[0]) for t, b, r in zip(titles, bodies, rows, strict=True)],
            )
            last = rows[-1][0]

    def optimize_search_index(self) -> None:
        """Merge the index into one segment, leaving out every entry of deleted rows (after
        an erasure, so no trace of an erased title stays in it)."""
        self.conn.execute("INSERT INTO places_search (places_search) VALUES ('optimize')")

    def compact(self) -> None:
        self.optimize_search_index()  # before the file is rewritten from live pages
        super().compact()  # type: ignore[misc]
