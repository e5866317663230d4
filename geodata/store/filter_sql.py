"""Checked CQL2 filters (:class:`geodata.filter_nodes.Filter`) and sort orders as SQL for both
backends: every value a parameter, every column from the fixed map below.

The two dialects differ only where the databases do, and are written so that both match
the same places: text compares byte by byte (PostgreSQL: ``COLLATE "C"``, SQLite's own
BINARY), LIKE is case-sensitive (SQLite: GLOB), CASEI and ACCENTI fold as Python does
(SQLite calls Python; PostgreSQL lowers with ICU and strips the combining accents of
Unicode's NFD form). Spatial functions see a place where the public sees it
(:mod:`geodata.privacy`): SQLite asks Python, PostgreSQL snaps generalised places to the
same grid in SQL; hidden places have no location and match no spatial function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geodata.filter_nodes import (
    All,
    AnyOf,
    Between,
    Column,
    Compare,
    Const,
    Filter,
    InList,
    IsNull,
    Languages,
    Like,
    Node,
    Not,
    Operand,
    Spatial,
    Temporal,
    grid_margin_deg,
)
from geodata.geometry_rules import M_PER_DEG_LAT, M_PER_DEG_LON
from geodata.queryables import QUERYABLES
from geodata.store.records import iso

# The only column expressions a filter or a sort order can reach, by queryable.
COLUMNS = {
    "id": "p.id",
    "title": "p.title",
    "category": "p.category",
    "neighbourhood": "(SELECT n.name FROM neighbourhoods n WHERE n.id = p.neighbourhood_id)",
    "neighbourhood_id": "p.neighbourhood_id",
    "period": "p.period",
    "year_from": "p.year_from",
    "year_to": "p.year_to",
    "licence": "p.licence",
    "attribution": "p.attribution",
    "created_at": "p.created_at",
    "updated_at": "p.updated_at",
}
# A period's first and last day (geodata.filter_nodes.day_key): 1 January and 31 December.
YEARS_START = "(coalesce(p.year_from, p.year_to) * 1000 + 41)"
YEARS_END = "(coalesce(p.year_to, p.year_from) * 1000 + 511)"
SPATIAL_SQL = {
    "s_intersects": "ST_Intersects", "s_equals": "ST_Equals", "s_disjoint": "ST_Disjoint",
    "s_touches": "ST_Touches", "s_within": "ST_Within", "s_overlaps": "ST_Overlaps",
    "s_crosses": "ST_Crosses", "s_contains": "ST_Contains",
}  # fmt: skip
# CQL2's temporal functions over closed intervals: I the place's, J the literal's.
TEMPORAL_SQL = {
    "t_after": "{Is} > {Je}",
    "t_before": "{Ie} < {Js}",
    "t_contains": "{Is} < {Js} AND {Ie} > {Je}",
    "t_disjoint": "({Is} > {Je} OR {Ie} < {Js})",
    "t_during": "{Is} > {Js} AND {Ie} < {Je}",
    "t_equals": "{Is} = {Js} AND {Ie} = {Je}",
    "t_finishedby": "{Is} < {Js} AND {Ie} = {Je}",
    "t_finishes": "{Is} > {Js} AND {Ie} = {Je}",
    "t_intersects": "{Is} <= {Je} AND {Ie} >= {Js}",
    "t_meets": "{Ie} = {Js}",
    "t_metby": "{Is} = {Je}",
    "t_overlappedby": "{Is} > {Js} AND {Is} < {Je} AND {Ie} > {Je}",
    "t_overlaps": "{Is} < {Js} AND {Ie} > {Js} AND {Ie} < {Je}",
    "t_startedby": "{Is} = {Js} AND {Ie} > {Je}",
    "t_starts": "{Is} = {Js} AND {Ie} < {Je}",
}
ACCENTS = "[\u0300-\u036f]"  # the combining accents ACCENTI removes (after NFD)


@dataclass(frozen=True)
class Dialect:
    """How one database spells what a filter needs."""

    name: str  # "sqlite" or "postgis"
    mark: str  # parameter placeholder
    icu: bool = False  # PostgreSQL: lower case with the ICU root collation

    def value(self, kind: str) -> str:
        if self.name == "sqlite":
            return self.mark
        return {"string": "CAST(%s AS text)", "timestamp": "CAST(%s AS timestamptz)"}.get(
            kind, "%s"
        )

    def param(self, value: Any, kind: str) -> Any:
        return iso(value) if kind == "timestamp" and self.name == "sqlite" else value

    def text(self, sql: str) -> str:
        """``sql`` (text) compared or sorted byte by byte."""
        return sql if self.name == "sqlite" else f'({sql}) COLLATE "C"'

    def fold(self, function: str, sql: str, params: list[Any]) -> str:
        if self.name == "sqlite":
            return f"cql2_{function}({sql})"
        if function == "casei":
            return f'lower(({sql}) COLLATE "und-x-icu")' if self.icu else f"lower({sql})"
        params.append(ACCENTS)
        return f"regexp_replace(normalize({sql}, NFD), %s, '', 'g')"


SQLITE = Dialect("sqlite", "?")


def postgis_dialect(icu: bool) -> Dialect:
    return Dialect("postgis", "%s", icu)


def _glob(pattern: str) -> str:
    """A CQL2 LIKE pattern as an SQLite GLOB pattern (case-sensitive, as CQL2 is)."""
    out, chars = [], iter(pattern)
    for c in chars:
        if c == "\\":
            c = next(chars, "\\")
            out.append(f"[{c}]" if c in "*?[" else c)
        elif c == "%":
            out.append("*")
        elif c == "_":
            out.append("?")
        else:
            out.append(f"[{c}]" if c in "*?[" else c)
    return "".join(out)


def _like(pattern: str) -> str:
    """A CQL2 LIKE pattern as a PostgreSQL one with backslash as its escape."""
    out, chars = [], iter(pattern)
    for c in chars:
        if c == "\\":
            c = next(chars, "\\")
            out.append("\\" + c)
        elif c in "%_":
            out.append(c)
        else:
            out.append(c)
    return "".join(out)


class _Translate:
    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.params: list[Any] = []

    def operand(self, operand: Operand, kind: str) -> str:
        if isinstance(operand, Column):
            sql = COLUMNS[operand.name]
        else:
            self.params.append(self.d.param(operand.value, kind))
            sql = self.d.value("string" if operand.functions else kind)
        for function in operand.functions:
            sql = self.d.fold(function, sql, self.params)
        return self.d.text(sql) if kind == "string" else sql

    def node(self, node: Node) -> str:
        d = self.d
        if isinstance(node, Const):
            return "1 = 1" if node.value else "1 = 0"
        if isinstance(node, All | AnyOf):
            joiner = " AND " if isinstance(node, All) else " OR "
            return "(" + joiner.join(self.node(n) for n in node.items) + ")"
        if isinstance(node, Not):
            return f"NOT ({self.node(node.item)})"
        if isinstance(node, Compare):
            left = self.operand(node.left, node.kind)
            right = self.operand(node.right, node.kind)
            return f"{left} {node.op} {right}"
        if isinstance(node, Like):
            if (
                d.name == "sqlite"
                and isinstance(node.operand, Column)
                and (node.operand.functions == ("casei",))
            ):
                return self._casei_like(COLUMNS[node.operand.name], node.pattern)
            left = self.operand(node.operand, "string")
            if d.name == "sqlite":
                self.params.append(_glob(node.pattern))
                return f"{left} GLOB ?"
            self.params.append(_like(node.pattern))
            return f"{left} LIKE %s ESCAPE '\\'"
        if isinstance(node, InList):
            left = self.operand(node.operand, node.kind)
            marks = []
            for v in node.values:
                marks.append(d.value(node.kind))
                self.params.append(d.param(v, node.kind))
            return f"{left} IN ({', '.join(marks)})"
        if isinstance(node, Between):
            left = self.operand(node.operand, node.kind)
            self.params += [node.low, node.high]
            return f"{left} BETWEEN {d.mark} AND {d.mark}"
        if isinstance(node, IsNull):
            return f"{COLUMNS[node.column]} IS NULL"
        if isinstance(node, Languages):
            return self.languages(node)
        if isinstance(node, Spatial):
            return self.spatial(node)
        if isinstance(node, Temporal):
            return self.temporal(node)
        raise TypeError(f"not a filter node: {type(node).__name__}")

    def _casei_like(self, column: str, pattern: str) -> str:
        """SQLite: CASEI(column) LIKE pattern. Text of printable ASCII alone lowers in
        SQLite's own LIKE exactly as in Python, so only other text calls into Python."""
        self.params += [_glob(pattern), _like(pattern)]
        return (
            f"(CASE WHEN {column} GLOB '*[^ -~]*' THEN cql2_casei({column}) GLOB ? "
            f"ELSE {column} LIKE ? ESCAPE '\\' END)"
        )

    def languages(self, node: Languages) -> str:
        tests = []
        for tag in node.tags:
            if self.d.name == "sqlite":
                tests.append("t.tag = ? OR t.tag GLOB ?")
                self.params += [tag, tag + "-*"]
            else:
                tests.append("t.tag = %s OR t.tag LIKE %s")
                self.params += [tag, tag + "-%"]
        where = " OR ".join(tests)
        if self.d.name == "sqlite":
            return (
                "EXISTS (SELECT 1 FROM (SELECT lower(json_extract(j.value, '$.language')) "
                f"AS tag FROM json_each(p.narratives) j) t WHERE {where})"
            )
        return (
            "EXISTS (SELECT 1 FROM (SELECT lower(j->>'language') AS tag "
            f"FROM jsonb_array_elements(p.narratives) j) t WHERE {where})"
        )

    def spatial(self, node: Spatial) -> str:
        if self.d.name == "postgis":
            self.params += [*_grid_params(node.grid_m), node.wkb]
            return f"{SPATIAL_SQL[node.op]}({PUBLIC_GEOMETRY}, ST_GeomFromWKB(%s, 4326))"
        # SQLite: NULL (unknown, so false even under NOT) for a place with no public
        # location; a public point against a box from its stored bounds; Python asked
        # only about places whose stored box meets the geometry's box grown by a grid
        # cell (the R*Tree says which, once per query); the others meet nothing of it.
        whens = ["WHEN p.sensitivity NOT IN ('public', 'generalised') THEN NULL"]
        box = node.box
        if box is not None and node.op in ("s_intersects", "s_disjoint", "s_within"):
            low, high = (">", "<") if node.op == "s_within" else (">=", "<=")
            inside = f"p.minx {low} ? AND p.minx {high} ? AND p.miny {low} ? AND p.miny {high} ?"
            test = f"NOT ({inside})" if node.op == "s_disjoint" else f"({inside})"
            whens.append(f"WHEN p.sensitivity = 'public' AND p.geom_type = 'Point' THEN {test}")
            self.params += [box[0], box[2], box[1], box[3]]
        elsewhere = 1 if node.op == "s_disjoint" else 0
        # A public point outside the geometry's bounds meets nothing of it.
        qminx, qminy, qmaxx, qmaxy = node.geometry.bounds
        whens.append(
            "WHEN p.sensitivity = 'public' AND p.geom_type = 'Point' AND NOT (p.minx >= ? "
            f"AND p.minx <= ? AND p.miny >= ? AND p.miny <= ?) THEN {elsewhere}"
        )
        self.params += [qminx, qmaxx, qminy, qmaxy]
        minx, miny, maxx, maxy = _grown(node)
        whens.append(
            "WHEN p.rid IN (SELECT rid FROM places_rtree WHERE maxx >= ? AND minx <= ? "
            "AND maxy >= ? AND miny <= ?) THEN cql2_spatial(?, ?, p.geom, p.sensitivity, ?)"
        )
        self.params += [minx, maxx, miny, maxy, node.op, node.wkb, node.grid_m]
        return f"(CASE {' '.join(whens)} ELSE {elsewhere} END)"

    def temporal(self, node: Temporal) -> str:
        kind = "number" if node.subject == "years" else "timestamp"
        if node.subject == "years":
            start, end = YEARS_START, YEARS_END
        else:
            start = end = COLUMNS[node.subject]
        template = TEMPORAL_SQL[node.op]
        out, i = [], 0
        while i < len(template):  # each placeholder in turn, its parameter in order
            if template[i] == "{":
                j = template.index("}", i)
                key = template[i + 1 : j]
                if key in ("Is", "Ie"):
                    out.append(start if key == "Is" else end)
                else:
                    out.append(self.d.value(kind))
                    self.params.append(self.d.param(node.start if key == "Js" else node.end, kind))
                i = j + 1
            else:
                out.append(template[i])
                i += 1
        return "(" + "".join(out) + ")"

    def prefilter(self, flt: Filter) -> list[str]:
        """PostGIS: a GiST-friendly box test for each box every match lies in."""
        clauses = []
        for box in filter_boxes(flt):
            clauses.append("p.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
            self.params += list(box)
        return clauses


def filter_boxes(flt: Filter) -> list[tuple[float, float, float, float]]:
    """Boxes (min lon, min lat, max lon, max lat) that the stored bounding box of every
    place the filter matches meets: one per spatial function joined by AND at the top
    (S_DISJOINT aside), grown by a grid cell, since a generalised place is seen at most
    that far from where it is stored. A store can select candidates by its spatial index."""
    return [_grown(node) for node in flt.spatial() if node.op != "s_disjoint"]


def _grown(node: Spatial) -> tuple[float, float, float, float]:
    """The geometry's bounding box grown by a grid cell."""
    minx, miny, maxx, maxy = node.geometry.bounds
    m = grid_margin_deg(node.geometry.bounds, node.grid_m)
    return (minx - m, miny - m, maxx + m, maxy + m)


def _grid_params(grid_m: float) -> list[float]:
    lat_step = grid_m / M_PER_DEG_LAT
    return [lat_step, lat_step, float(grid_m), M_PER_DEG_LON]


# Where the public sees a place (geodata.privacy.public_locations, in SQL): the stored
# geometry if public, the centre of the grid cell holding its representative point if
# generalised (the same arithmetic as privacy.grid_centres, rounded to 6 decimals as it
# does), nothing if hidden. Parameters: lat step twice, grid size, metres per degree.
PUBLIC_GEOMETRY = (
    "CASE p.sensitivity WHEN 'public' THEN p.geom WHEN 'generalised' THEN ("
    "SELECT ST_SetSRID(ST_MakePoint("
    "round(((floor(a.x / c.s) + 0.5::float8) * c.s) * 1000000.0::float8) / 1000000.0::float8, "
    "round(a.lat * 1000000.0::float8) / 1000000.0::float8), 4326) "
    "FROM (SELECT ST_X(g.pt) AS x, (floor(ST_Y(g.pt) / %s) + 0.5::float8) * %s AS lat "
    "FROM (SELECT CASE WHEN ST_GeometryType(p.geom) = 'ST_Point' THEN p.geom "
    "ELSE ST_PointOnSurface(p.geom) END AS pt) g) a, "
    "LATERAL (SELECT %s / (%s * greatest(cos(radians(a.lat)), 1e-6::float8)) AS s) c"
    ") END"
)


def filter_sql(flt: Filter, dialect: Dialect) -> tuple[str, list[Any]]:
    """The WHERE condition of a filter (over ``places p``) and its parameters. On PostGIS
    it starts with box tests the GiST index serves; SQLite joins its R*Tree on
    :func:`filter_boxes` itself."""
    t = _Translate(dialect)
    clauses = t.prefilter(flt) if dialect.name == "postgis" else []
    clauses.append(t.node(flt.root))
    return " AND ".join(clauses), t.params


def order_sql(order: Sequence[tuple[str, bool]], dialect: Dialect) -> str:
    """``ORDER BY`` terms for (queryable, descending) pairs, then oldest first; empty
    values last either way."""
    terms = []
    for name, descending in order:
        q = QUERYABLES[name]
        if not q.sortable:
            raise ValueError(f"{name} is not sortable")
        sql = COLUMNS[name]
        if q.kind == "string":
            sql = dialect.text(sql)
        terms.append(f"{sql} {'DESC' if descending else 'ASC'} NULLS LAST")
    return ", ".join([*terms, "p.rid"])
