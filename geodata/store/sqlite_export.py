"""SQLite side of open-data exports, mixed into :class:`~geodata.store.sqlite.SQLiteStore`:
export rows, the stored GeoJSON features, and the summaries and counts downloads carry
(semantics on :class:`~geodata.store.base.PlaceStore`).

A download of every place reads the table in windows of consecutive rids, and SQLite
itself joins each window's stored feature heads and neighbourhood tails into one string
(``group_concat``) and counts its licences: no Python object per place. Selective filters
stream rows off their index instead, a row per place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
import shapely
from shapely.geometry import box

from geodata.store.base import PlaceFilter
from geodata.store.base_exports import EXPORT_COLUMNS, FeatureBatch, PlaceSummary, assemble_features
from geodata.store.filter_sql import SQLITE, order_sql
from geodata.store.records import parse_iso

_LABELLED = "p.id IN (SELECT place_id FROM place_protocol_labels)"


class ExportMixin:
    """Export rows and stored features; needs SQLiteStore's connections and ``_where``."""

    conn: sqlite3.Connection
    _connect: Callable[[], sqlite3.Connection]
    _where: Callable[[PlaceFilter | None], tuple[str, str, list[Any]]]

    def export_rows(
        self,
        flt: PlaceFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        batch_size: int = 1000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        joins, where, params = self._where(flt)
        # Without a narrowing filter, read the table in rid order: rows stream out as they
        # are read, where an index (status) would first sort every match.
        source = "places p NOT INDEXED" if _unselective(flt) else "places p"
        order = order_sql(flt.order or () if flt else (), SQLITE)
        sql = f"SELECT {_EXPORT_SELECT} FROM {source}{joins} WHERE {where} ORDER BY {order}"
        # With a bbox, routes and areas need an exact test, so limit and offset are counted
        # here; a first page stops early anyway, deeper ones first ask if any such exists.
        exact = (
            flt is not None
            and flt.bbox is not None
            and (
                not offset
                or self.conn.execute(
                    f"SELECT EXISTS (SELECT 1 FROM places p{joins} WHERE {where} "
                    "AND p.geom_type != 'Point')",
                    params,
                ).fetchone()[0]
            )
        )
        if not exact:
            if limit is not None or offset:
                sql += " LIMIT ? OFFSET ?"
                params = [*params, -1 if limit is None else limit, offset]
            cur = self.conn.execute(sql, params)
            while rows := cur.fetchmany(batch_size):
                yield rows
            return
        # The R*Tree has narrowed the candidates; limit and offset count real matches.
        assert flt is not None and flt.bbox is not None
        area, skip, left = box(*flt.bbox), offset, limit
        cur = self.conn.execute(sql, params)
        while (left is None or left > 0) and (rows := cur.fetchmany(batch_size)):
            others = [i for i, r in enumerate(rows) if r[2] != "Point"]
            if others:
                hits = shapely.intersects(area, shapely.from_wkb([rows[i][1] for i in others]))
                misses = {i for i, hit in zip(others, hits.tolist(), strict=True) if not hit}
                rows = [r for i, r in enumerate(rows) if i not in misses]
            if skip:
                rows, skip = rows[skip:], max(0, skip - len(rows))
            if left is not None:
                rows, left = rows[:left], left - min(left, len(rows))
            if rows:
                yield rows

    def summary(self, flt: PlaceFilter | None = None) -> PlaceSummary:
        joins, where, params = self._where(flt)
        row = self.conn.execute(
            "SELECT count(*), min(p.minx), min(p.miny), max(p.maxx), max(p.maxy), "
            f"min(p.created_at), max(p.created_at), max(p.updated_at) FROM places p{joins} "
            f"WHERE {where}",
            params,
        ).fetchone()
        bbox = None if row[1] is None else (row[1], row[2], row[3], row[4])
        stamps = [parse_iso(v) if v else None for v in row[5:]]
        return PlaceSummary(row[0], bbox, *stamps)

    def category_counts(self, flt: PlaceFilter | None = None) -> dict[tuple[int | None, str], int]:
        joins, where, params = self._where(flt)
        rows = self.conn.execute(
            f"SELECT p.neighbourhood_id, p.category, count(*) FROM places p{joins} "
            f"WHERE {where} GROUP BY p.neighbourhood_id, p.category",
            params,
        ).fetchall()
        return {(nid, category): n for nid, category, n in rows}

    def licence_counts(self, flt: PlaceFilter | None = None) -> dict[tuple[str, str | None], int]:
        joins, where, params = self._where(flt)
        rows = self.conn.execute(
            f"SELECT p.licence, p.attribution, count(*) FROM places p{joins} WHERE {where} "
            "GROUP BY p.licence, p.attribution",
            params,
        ).fetchall()
        return {(licence, attribution): n for licence, attribution, n in rows}

    def story_languages(self, flt: PlaceFilter | None = None) -> dict[str, int]:
        joins, where, params = self._where(flt)
        rows = self.conn.execute(
            "SELECT lower(json_extract(j.value, '$.language')), count(*) "
            f"FROM places p{joins}, json_each(p.narratives) j WHERE {where} GROUP BY 1",
            params,
        ).fetchall()
        return {tag: n for tag, n in rows if tag}

    def export_features(
        self,
        flt: PlaceFilter | None,
        tails: Mapping[int | None, bytes],
        *,
        batch_size: int = 5000,
    ) -> Iterator[FeatureBatch]:
        if flt is not None and flt.bbox is not None:
            raise ValueError("export_features takes no bbox: use export_rows")
        if not _unselective(flt):
            yield from self._export_feature_rows(flt, tails, batch_size)
            return
        # A connection of its own: one read snapshot for every window, and a temporary
        # table of tails no other export (interleaved on the same thread) can touch.
        conn = self._connect()
        try:
            conn.execute("CREATE TEMP TABLE tails (nid INTEGER PRIMARY KEY, tail BLOB NOT NULL)")
            conn.executemany(
                "INSERT INTO temp.tails VALUES (?, ?)",
                [(nid, tail) for nid, tail in tails.items() if nid is not None],
            )
            conn.execute("BEGIN")
            yield from self._export_windows(conn, flt, tails.get(None), batch_size)
        finally:
            conn.close()  # ends the read transaction

    def _export_windows(
        self,
        conn: sqlite3.Connection,
        flt: PlaceFilter | None,
        null_tail: bytes | None,
        window: int,
    ) -> Iterator[FeatureBatch]:
        joins, where, params = self._where(flt)
        # Usually no place carries a protocol label: then no place need be looked up.
        labelled = (
            _LABELLED
            if conn.execute("SELECT EXISTS (SELECT 1 FROM place_protocol_labels)").fetchone()[0]
            else "0"
        )
        # A place without a stored head, with protocol labels or in a neighbourhood with
        # no tail is marked PENDING and its id listed. One pass over the window, in rid
        # order (a rowid range scan), also finds whether all its places share a licence.
        feature = "p.public_feature || CASE WHEN p.neighbourhood_id IS NULL THEN ?1 ELSE t.tail END"
        features = (
            f"SELECT count(*), CAST(group_concat(CASE WHEN {labelled} THEN x'00' ELSE "
            f"coalesce({feature}, x'00') END, ',') AS BLOB), json_group_array(p.id) FILTER "
            f"(WHERE p.public_feature IS NULL OR {labelled} OR (p.neighbourhood_id IS NOT "
            "NULL AND t.tail IS NULL)), min(p.licence), max(p.licence), min(p.attribution), "
            "max(p.attribution), count(p.attribution) "
            f"FROM places p{joins} LEFT JOIN temp.tails t ON t.nid = p.neighbourhood_id "
            f"WHERE p.rid > ?2 AND p.rid <= ?3 AND {where}"
        )
        licences = (
            f"SELECT p.licence, p.attribution, count(*) FROM places p{joins} "
            f"WHERE p.rid > ?2 AND p.rid <= ?3 AND {where} GROUP BY 1, 2"
        )
        top = conn.execute("SELECT coalesce(max(rid), 0) FROM places").fetchone()[0]
        for low in range(0, top, window):
            # The filter's own "?" come after ?3 in the text: SQLite numbers them 4, 5...
            args = [null_tail, low, low + window, *params]
            n, body, pending, lic_lo, lic_hi, att_lo, att_hi, with_att = conn.execute(
                features, args
            ).fetchone()
            if not n:
                continue
            if lic_lo == lic_hi and (with_att == 0 or (with_att == n and att_lo == att_hi)):
                counts = {(lic_lo, att_lo): n}
            else:
                rows = conn.execute(licences, args).fetchall()
                counts = {(lic, att): k for lic, att, k in rows}
            ids = orjson.loads(pending)
            rows = _rows_by_id(conn, ids) if ids else []
            yield FeatureBatch(body, rows, n, counts, min(1.0, (low + window) / top))

    def _export_feature_rows(
        self, flt: PlaceFilter | None, tails: Mapping[int | None, bytes], batch_size: int
    ) -> Iterator[FeatureBatch]:
        joins, where, params = self._where(flt)
        cur = self.conn.execute(
            "SELECT p.id, p.public_feature, p.neighbourhood_id, p.licence, p.attribution, "
            f"{_LABELLED} FROM places p{joins} WHERE {where} ORDER BY p.rid",
            params,
        )
        # A second statement on this connection reads the snapshot the open one holds.
        while rows := cur.fetchmany(batch_size):
            yield assemble_features(rows, tails, lambda ids: _rows_by_id(self.conn, ids))


_EXPORT_SELECT = ", ".join(f"p.{c}" for c in EXPORT_COLUMNS)


def _unselective(flt: PlaceFilter | None) -> bool:
    """True when no indexed filter narrows ``flt`` down (status and consent alone do not)."""
    if flt is None:
        return True
    narrowing = (
        flt.bbox,
        flt.neighbourhood_id,
        flt.category,
        flt.workshop,
        flt.since,
        flt.until,
        flt.updated_since,
        flt.ids,
        flt.where,
    )
    return all(v is None for v in narrowing)


def _rows_by_id(conn: sqlite3.Connection, ids: list[str]) -> list[tuple[Any, ...]]:
    """Export rows of these places, in rid order."""
    return conn.execute(
        f"SELECT {_EXPORT_SELECT} FROM places p WHERE p.id IN (SELECT value FROM json_each(?)) "
        "ORDER BY p.rid",
        (orjson.dumps(ids).decode(),),
    ).fetchall()
