"""How SQLite reads a :class:`~geodata.store.base.PlaceFilter`: the joins, clauses and
parameters of a query, which index should drive it, and the exact bounding-box test."""

from __future__ import annotations

from typing import Any

import orjson
import shapely
from shapely.geometry import box

from geodata.models import (
    Place,
)
from geodata.store.base import PlaceFilter
from geodata.store.filter_sql import SQLITE, filter_boxes, filter_sql
from geodata.store.records import (
    iso,
)


class PlaceFilterMixin:
    """Filters of :class:`~geodata.store.sqlite.SQLiteStore`; needs its connection."""

    def _where(self, flt: PlaceFilter | None) -> tuple[str, str, list[Any]]:
        """FROM-clause joins, WHERE clause and parameters for a filter."""
        if flt is None:
            return "", "1=1", []
        joins, clauses, params = "", [], []
        if flt.bbox is not None:
            minx, miny, maxx, maxy = flt.bbox
            joins = " JOIN places_rtree r ON r.rid = p.rid"
            # R*Tree boxes are float32, rounded outward: recheck on the exact columns.
            clauses += [
                "r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?",
                "p.maxx >= ? AND p.minx <= ? AND p.maxy >= ? AND p.miny <= ?",
            ]
            params += [minx, maxx, miny, maxy] * 2
        # A filter's spatial functions select candidates by the R*Tree too.
        boxes = filter_boxes(flt.where) if flt.where is not None else []
        for minx, miny, maxx, maxy in boxes:
            joins = " JOIN places_rtree r ON r.rid = p.rid"
            clauses.append("r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?")
            params += [minx, maxx, miny, maxy]
        # With a bounding box the R*Tree is the selective index: a unary "+" keeps SQLite
        # from driving the query by the status or category index instead (which scans
        # every published place and is some 30 times slower for a small box).
        plain = "+" if flt.bbox is not None or boxes else ""
        # The sensitivity index finds the few generalised or hidden places; "public" is
        # nearly every place, which the R*Tree or a plain scan reach far sooner.
        wanted = [flt.sensitivity] if isinstance(flt.sensitivity, str) else flt.sensitivity or []
        common = "+" if "public" in [str(v) for v in wanted] else ""
        if wanted and not common:
            if flt.bbox is not None and self._box_holds_fewer(flt):
                common = "+"  # a small box: its R*Tree entries are fewer than those places
            else:  # the term that lets the partial sensitivity index serve
                clauses.append("p.sensitivity <> 'public'")
        for column, value in (
            (plain + "p.category", flt.category),
            (plain + "p.status", flt.status),
            (common + "p.sensitivity", flt.sensitivity),
        ):
            if value is None:
                continue
            if isinstance(value, str):
                clauses.append(f"{column} = ?")
                params.append(str(value))
            else:
                values = [str(v) for v in value]
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params += values
        if flt.neighbourhood_id is not None:
            clauses.append("p.neighbourhood_id = ?")
            params.append(flt.neighbourhood_id)
        if flt.workshop is not None:
            clauses.append("p.workshop = ?")
            params.append(flt.workshop)
        if flt.since is not None:
            clauses.append("p.created_at >= ?")
            params.append(iso(flt.since))
        if flt.until is not None:
            clauses.append("p.created_at < ?")
            params.append(iso(flt.until))
        if flt.updated_since is not None:
            clauses.append("p.updated_at > ?")
            params.append(iso(flt.updated_since))
        if flt.language is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(p.narratives) j WHERE "
                "lower(json_extract(j.value, '$.language')) = ? OR "
                "lower(json_extract(j.value, '$.language')) LIKE ?)"
            )
            lang = flt.language.lower()
            params += [lang, lang + "-%"]
        if flt.audience is not None:
            column = {"map": "consent_publish", "open_data": "consent_open_data"}[flt.audience]
            clauses.append(f"{plain}p.status = 'published' AND p.{column} = 1")
        if flt.year_from is not None:
            clauses.append("coalesce(p.year_to, p.year_from) >= ?")
            params.append(flt.year_from)
        if flt.year_to is not None:
            clauses.append("coalesce(p.year_from, p.year_to) <= ?")
            params.append(flt.year_to)
        if flt.ids is not None:
            clauses.append("p.id IN (SELECT value FROM json_each(?))")
            params.append(orjson.dumps([str(i) for i in flt.ids]).decode())
        if flt.title_contains:
            escaped = flt.title_contains.replace("\\", "\\\\").replace("%", "\\%")
            clauses.append("p.title LIKE ? ESCAPE '\\'")
            params.append("%" + escaped.replace("_", "\\_") + "%")
        if flt.where is not None:
            sql, more = filter_sql(flt.where, SQLITE)
            clauses.append(f"({sql})")
            params += more
        return joins, " AND ".join(clauses) or "1=1", params

    def _box_holds_fewer(self, flt: PlaceFilter) -> bool:
        """Whether ``flt.bbox`` holds fewer places than have ``flt.sensitivity``: then the
        R*Tree, not the sensitivity index, should drive the query. Both counts stop early."""
        assert flt.bbox is not None and flt.sensitivity is not None
        values = [flt.sensitivity] if isinstance(flt.sensitivity, str) else list(flt.sensitivity)
        marks = ", ".join("?" for _ in values)
        rare = self.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM places WHERE sensitivity IN ({marks}) "
            "AND sensitivity <> 'public' LIMIT 100000)",
            [str(v) for v in values],
        ).fetchone()[0]
        minx, miny, maxx, maxy = flt.bbox
        in_box = self.conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM places_rtree WHERE maxx >= ? AND minx <= ? "
            "AND maxy >= ? AND miny <= ? LIMIT ?)",
            (minx, maxx, miny, maxy, rare + 1),
        ).fetchone()[0]
        return in_box <= rare

    def _exact_bbox(self, places: list[Place], flt: PlaceFilter | None) -> list[Place]:
        # Bounding boxes overlap is exact for points; routes and areas get a real test.
        if flt is None or flt.bbox is None:
            return places
        area = box(*flt.bbox)
        return [
            p
            for p in places
            if p.geometry.geom_type == "Point" or shapely.intersects(area, p.geometry)
        ]
