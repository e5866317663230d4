"""SQLite side of vector tiles, mixed into :class:`~geodata.store.sqlite.SQLiteStore`: the
rows a tile draws, read with the columns it needs and nothing else (the encoding itself
is :mod:`geodata.tile_layers`, in Python)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import shapely
from shapely.geometry import box

from geodata.store.base import PlaceFilter


class TilesMixin:
    """``tile_rows`` in one query; needs SQLiteStore's connection and ``_where``."""

    conn: sqlite3.Connection
    _where: Callable[[PlaceFilter | None], tuple[str, str, list[Any]]]

    def tile_rows(self, flt: PlaceFilter) -> list[tuple[Any, ...]]:
        joins, where, params = self._where(flt)
        rows = self.conn.execute(
            "SELECT p.id, p.geom, p.title, p.category, n.name, p.year_from, p.year_to, "
            f"p.geom_type FROM places p{joins} LEFT JOIN neighbourhoods n "
            f"ON n.id = p.neighbourhood_id WHERE {where}",
            params,
        ).fetchall()
        others = [i for i, r in enumerate(rows) if r[7] != "Point"]
        if flt.bbox is not None and others:
            # The R*Tree compared bounding boxes: routes and areas need the exact test.
            hits = shapely.intersects(
                box(*flt.bbox), shapely.from_wkb([rows[i][1] for i in others])
            )
            misses = {i for i, hit in zip(others, hits.tolist(), strict=True) if not hit}
            rows = [r for i, r in enumerate(rows) if i not in misses]
        return [r[:7] for r in rows]
