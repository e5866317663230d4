"""Text search in SQLite: the FTS5 trigram index over places' folded texts.

The folded texts (``search_title``, ``search_body``; see :mod:`geodata.search`) are
written with every place into the external-content FTS5 table ``places_search``
(migration 0010): new rows by the store's insert paths (``sqlite_bulk.SEARCH_NEW``),
changes and deletions by triggers. A query's patterns of three characters or
more go to the index as quoted strings (so nothing a person types is FTS5 syntax);
shorter ones (a one-letter word at a word start, " r") are checked on the rows found.
"""

from __future__ import annotations

from typing import Any

import orjson

from geodata.models import Place
from geodata.search import MIN_PATTERN, capped, parse_query, search_columns
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
        if query is None or not capped(limit):
            return []
        joins, where, params = self._where(flt)
        indexed = [p for p in query.patterns if len(p) >= MIN_PATTERN]
        short = [p for p in query.patterns if len(p) < MIN_PATTERN]
        in_title = " AND ".join("instr(p.search_title, ?) > 0" for _ in query.patterns)
        checks = "".join(
            " AND (instr(p.search_title, ?) > 0 OR instr(p.search_body, ?) > 0)" for _ in short
        )
        sql = (
            f"SELECT {_SELECT}, CASE WHEN p.search_title = ? THEN 0 "
            f"WHEN substr(p.search_title, 1, ?) = ? THEN 1 WHEN {in_title} THEN 2 ELSE 3 END "
            f"AS tier FROM places_search s JOIN places p ON p.rid = s.rowid{joins} "
            f"WHERE s.places_search MATCH ?{checks} AND {where} "
            "ORDER BY tier, length(p.search_title), p.rid LIMIT ?"
        )
        args = [
            query.phrase,
            len(query.phrase),
            query.phrase,
            *query.patterns,
            " AND ".join(fts_string(p) for p in indexed),
            *(p for p in short for _ in range(2)),
            *params,
            # A bounding box is exact only after the check below: read on until enough.
            -1 if flt is not None and flt.bbox is not None else capped(limit),
        ]
        cur = self.conn.execute(sql, args)
        found: list[Place] = []
        while len(found) < capped(limit) and (rows := cur.fetchmany(capped(limit))):
            found += self._exact_bbox(places_from_rows([r[:-1] for r in rows]), flt)
        cur.close()
        return found[: capped(limit)]

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
