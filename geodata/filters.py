"""CQL2 filters checked against the queryables and made ready for a store: every name a
queryable, every value of the right type, geometries in CRS84, temporal values as the
bounds the stores compare.

:func:`compile_filter` turns a parsed CQL2 tree (:mod:`geodata.cql2`) into a
:class:`Filter`, a small tree the stores translate into parameterised SQL
(:mod:`geodata.store.filter_sql`). It refuses, with a :class:`FilterError` naming the
problem, a property that is not a queryable (personal data, status, exact locations are
not), a comparison of mismatched types (``title > 5``), a function it does not know, a
geometry that is invalid or outside its CRS.

Temporal functions (CQL2 ``T_*``) compare the period of a place, ``INTERVAL(year_from,
year_to)``, day by day: a year is the days from 1 January to 31 December, so the period
1950-1959 is the closed interval [1950-01-01, 1959-12-31]; a place with one year only is
that year; a place with neither matches no temporal function (nor its negation). A
``DATE`` is one day, a ``TIMESTAMP`` the UTC day holding it, ``'..'`` an open end. The
recording times ``created_at`` and ``updated_at`` are instants, compared to the
microsecond (a ``DATE`` then spans its whole UTC day).
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.cql2.ast import (
    DateValue,
    FilterError,
    GeometryValue,
    Interval,
    Op,
    Property,
    TimestampValue,
)
from geodata.crs import CRS84, transformer
from geodata.filter_literals import (
    as_instant,
    distance,
    is_geometry_property,
    kind_name,
    language_tag,
    show,
    temporal_bounds,
    transform_array,
    within_distance,
)
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
    Value,
    fold,
)
from geodata.queryables import QUERYABLES, UnknownQueryable, queryable

COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
# CASEI / ACCENTI of a property, story languages and spatial functions, in all: each is
# work per place, not an index lookup (4 of them over 100,000 places: under a second of
# CPU on SQLite, which calls Python for each).
MAX_ROW_FUNCTIONS = 4
SPATIAL = ("s_intersects", "s_equals", "s_disjoint", "s_touches", "s_within", "s_overlaps",
           "s_crosses", "s_contains")  # fmt: skip
# Swapping the arguments of these spatial functions gives their partner; the others are
# symmetric.
_SPATIAL_SWAP = {"s_within": "s_contains", "s_contains": "s_within"}
TEMPORAL = ("t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals",
            "t_finishedby", "t_finishes", "t_intersects", "t_meets", "t_metby",
            "t_overlappedby", "t_overlaps", "t_startedby", "t_starts")  # fmt: skip
_TEMPORAL_SWAP = {
    "t_after": "t_before", "t_before": "t_after", "t_contains": "t_during",
    "t_during": "t_contains", "t_finishedby": "t_finishes", "t_finishes": "t_finishedby",
    "t_meets": "t_metby", "t_metby": "t_meets", "t_overlappedby": "t_overlaps",
    "t_overlaps": "t_overlappedby", "t_startedby": "t_starts", "t_starts": "t_startedby",
}  # fmt: skip
TEXT_FUNCTIONS = ("casei", "accenti")


# -- checking ------------------------------------------------------------------------
class _Checker:
    def __init__(self, filter_crs: str, grid_m: float) -> None:
        self.filter_crs = filter_crs
        self.grid_m = grid_m
        self.row_functions = 0

    def _costly(self, n: int = 1) -> None:
        """Count work the database does per place (CASEI / ACCENTI of a property, a story
        language, a spatial function), which a filter may ask for only so often."""
        self.row_functions += n
        if self.row_functions > MAX_ROW_FUNCTIONS:
            raise FilterError(
                f"the filter uses CASEI, ACCENTI, language and spatial functions more than "
                f"{MAX_ROW_FUNCTIONS} times in all; combine them (IN, one geometry)",
                code="filter_too_costly",
            )

    def condition(self, node: Any) -> Node:
        if isinstance(node, bool):
            return Const(node)
        if not isinstance(node, Op):
            raise FilterError(f"{show(node)} is not a condition; compare it with something")
        name, args = node.name, node.args
        if name in ("and", "or"):
            if len(args) < 2:
                raise FilterError(f"{name} needs at least two conditions")
            items = tuple(self.condition(a) for a in args)
            return All(items) if name == "and" else AnyOf(items)
        if name == "not":
            self._arity(node, 1)
            return Not(self.condition(args[0]))
        if name in COMPARISONS:
            self._arity(node, 2)
            return self.compare(name, args[0], args[1])
        if name == "like":
            self._arity(node, 2)
            return self.like(args[0], args[1])
        if name == "in":
            self._arity(node, 2)
            return self.in_list(args[0], args[1])
        if name == "between":
            self._arity(node, 3)
            return self.between(*args)
        if name == "isNull":
            self._arity(node, 1)
            return self.is_null(args[0])
        if name in SPATIAL or name == "s_dwithin":
            return self.spatial(node)
        if name in TEMPORAL:
            self._arity(node, 2)
            return self.temporal(name, args[0], args[1])
        if name in TEXT_FUNCTIONS:
            raise FilterError(f"{name.upper()}(...) is a value, not a condition")
        raise FilterError(
            f"the function or operator {name[:40]!r} is not supported here",
            code="unsupported_function",
        )

    @staticmethod
    def _arity(node: Op, n: int) -> None:
        if len(node.args) != n:
            raise FilterError(f"{node.name} takes {n} argument{'s' if n > 1 else ''}")

    # operands -------------------------------------------------------------------------
    def _queryable(self, prop: Property) -> str:
        try:
            q = queryable(prop.name)
        except UnknownQueryable as exc:
            raise FilterError(
                exc.message, code="private_property" if exc.private else "unknown_property"
            ) from None
        return q.name

    def operand(self, node: Any) -> tuple[Operand, str]:
        """A scalar operand and its kind: string, integer, number, timestamp, language."""
        functions: list[str] = []
        while isinstance(node, Op) and node.name in TEXT_FUNCTIONS:
            if len(node.args) != 1:
                raise FilterError(f"{node.name.upper()} takes one argument")
            functions.insert(0, node.name)
            node = node.args[0]
        if isinstance(node, Property):
            name = self._queryable(node)
            kind = QUERYABLES[name].kind
            self._costly(len(functions))
            if kind == "geometry":
                raise FilterError(
                    "geometry can only be used in a spatial function such as S_INTERSECTS"
                )
            result: tuple[Operand, str] = (Column(name, tuple(functions)), kind)
        elif isinstance(node, str):
            result = (Value(node, tuple(functions)), "string")
        elif isinstance(node, bool):
            raise FilterError("no queryable is true or false; compare a property instead")
        elif isinstance(node, (int, float)):
            result = (Value(node), "number")
        elif isinstance(node, TimestampValue):
            result = (Value(node.value), "timestamp")
        elif isinstance(node, DateValue):
            result = (Value(node.value), "date")
        elif isinstance(node, Op):
            raise FilterError(
                f"the function {node.name[:40]!r} is not supported here",
                code="unsupported_function",
            )
        else:
            raise FilterError(f"{show(node)} cannot be compared")
        if functions and result[1] not in ("string",):
            raise FilterError(f"{functions[-1].upper()} applies to text only")
        return result

    def compare(self, op: str, a: Any, b: Any) -> Node:
        (left, lk), (right, rk) = self.operand(a), self.operand(b)
        if "language" in (lk, rk):
            return self._languages(op, left, lk, right, rk)
        kind = self._common(lk, rk, left, right, f"{show(a)} {op} {show(b)}")
        if kind == "timestamp":
            left, right = as_instant(left), as_instant(right)
        return Compare(op, left, right, kind)

    @staticmethod
    def _common(lk: str, rk: str, left: Operand, right: Operand, what: str) -> str:
        numbers = ("integer", "number")
        if lk in numbers and rk in numbers:
            return "number"
        if lk == rk == "string":
            return "string"
        stamps = {lk, rk}
        if "timestamp" in stamps and stamps <= {"timestamp", "date", "string"}:
            # A date, or a string holding a date or time (GDAL sends them so), is read as
            # the instant it names (a date: its first moment, UTC).
            for operand, kind in ((left, lk), (right, rk)):
                if kind == "string" and isinstance(operand, Value):
                    as_instant(operand)
            if isinstance(left, Column) and isinstance(right, Column) and lk != rk:
                raise FilterError(f"cannot compare {what}: they are of different types")
            return "timestamp"
        raise FilterError(
            f"cannot compare {what}: {kind_name(lk)} with {kind_name(rk)}",
            code="type_mismatch",
        )

    def _languages(self, op: str, left: Operand, lk: str, right: Operand, rk: str) -> Node:
        if op not in ("=", "<>"):
            raise FilterError("language takes = , <>, IN and NOT IN only")
        value = right if lk == "language" else left
        if not isinstance(value, Value) or {lk, rk} != {"language", "string"}:
            raise FilterError("compare language with a language tag such as 'pt'")
        self._costly()
        found = Languages((language_tag(value.value),))
        return found if op == "=" else Not(found)

    def like(self, a: Any, pattern: Any) -> Node:
        operand, kind = self.operand(a)
        if kind not in ("string",):
            raise FilterError(f"LIKE compares text; {show(a)} is {kind_name(kind)}")
        value, vkind = self.operand(pattern)
        if not isinstance(value, Value) or vkind != "string":
            raise FilterError("the pattern of LIKE is a text literal such as 'Casa%'")
        text = value.value
        for function in value.functions:
            text = fold(function, text)
        return Like(operand, text)

    def in_list(self, a: Any, items: Any) -> Node:
        if not isinstance(items, tuple) or not items:
            raise FilterError("IN takes a list of values")
        operand, kind = self.operand(a)
        if kind == "language":
            tags = tuple(language_tag(v) for v in items if isinstance(v, str))
            if len(tags) != len(items):
                raise FilterError("compare language with language tags such as 'pt'")
            self._costly()
            return Languages(tags)
        values = []
        for item in items:
            value, vkind = self.operand(item)
            if not isinstance(value, Value):
                raise FilterError("the list of IN holds literal values")
            common = self._common(kind, vkind, operand, value, f"{show(a)} IN (...)")
            values.append(as_instant(value).value if common == "timestamp" else value.value)
        if kind == "timestamp":
            operand = as_instant(operand)
        return InList(operand, tuple(values), "number" if kind == "integer" else kind)

    def between(self, a: Any, low: Any, high: Any) -> Node:
        operand, kind = self.operand(a)
        bounds = []
        for node in (low, high):
            value, vkind = self.operand(node)
            if not isinstance(value, Value) or vkind != "number":
                raise FilterError("BETWEEN takes two numbers")
            bounds.append(value.value)
        if kind != "integer":
            raise FilterError(f"BETWEEN compares numbers; {show(a)} is {kind_name(kind)}")
        return Between(operand, bounds[0], bounds[1], "number")

    def is_null(self, a: Any) -> Node:
        if not isinstance(a, Property):
            raise FilterError("IS NULL applies to a property")
        name = self._queryable(a)
        if QUERYABLES[name].kind in ("geometry", "language"):
            raise FilterError(f"{name} cannot be tested for null")
        return IsNull(name)

    # spatial --------------------------------------------------------------------------
    def spatial(self, node: Op) -> Node:
        name, args = node.name, node.args
        if name == "s_dwithin":
            if len(args) not in (3, 4):
                raise FilterError("S_DWITHIN takes a geometry, a geometry and a distance")
        else:
            self._arity(node, 2)
        a, b = args[0], args[1]
        if is_geometry_property(b) and not is_geometry_property(a):
            a, b = b, a
            name = _SPATIAL_SWAP.get(name, name)
        if not is_geometry_property(a):
            if isinstance(a, Property):
                self._queryable(a)
                raise FilterError(f"{a.name} is not a geometry; spatial functions take geometry")
            raise FilterError(f"{name.upper()} compares the property geometry with a geometry")
        if not isinstance(b, GeometryValue):
            raise FilterError(f"the second argument of {name.upper()} is a geometry literal")
        geometry = self.geometry(b.shape)
        if name == "s_dwithin":
            geometry = within_distance(geometry, distance(args[2:]))
            name = "s_intersects"
        self._costly()
        return Spatial(name, geometry, self.grid_m)

    def geometry(self, shape: BaseGeometry) -> BaseGeometry:
        """A literal in the filter's CRS as a valid CRS84 geometry."""
        if shape.is_empty:
            raise FilterError("the geometry is empty")
        if self.filter_crs != CRS84:
            t = transformer(self.filter_crs, CRS84)
            shape = shapely.transform(shape, lambda xy: transform_array(t, xy))
        coords = shapely.get_coordinates(shape)
        if not (
            coords[:, 0].min() >= -180 and coords[:, 0].max() <= 180
            and coords[:, 1].min() >= -90 and coords[:, 1].max() <= 90
        ):  # fmt: skip
            raise FilterError(
                "the geometry lies outside longitude -180..180 and latitude -90..90 "
                "(is it in another CRS? name it with filter-crs)"
            )
        if not shape.is_valid:
            raise FilterError(f"the geometry is not valid: {shapely.is_valid_reason(shape)}")
        if shape.geom_type == "GeometryCollection":
            # Its point set, one member per dimension: overlapping members would make
            # some databases' spatial functions fail (a "side location conflict").
            shape = shapely.union_all(shapely.get_parts(shape))
        return shape

    # temporal -------------------------------------------------------------------------
    def temporal(self, name: str, a: Any, b: Any) -> Node:
        subject = self._subject(a)
        if subject is None:
            subject = self._subject(b)
            if subject is None:
                raise FilterError(
                    f"{name.upper()} compares INTERVAL(year_from, year_to), created_at or "
                    "updated_at with a date, timestamp or interval"
                )
            a, b = b, a
            name = _TEMPORAL_SWAP.get(name, name)
        start, end = temporal_bounds(b, subject)
        return Temporal(name, subject, start, end)

    def _subject(self, node: Any) -> str | None:
        if isinstance(node, Interval):
            ends = (node.start, node.end)
            if all(isinstance(e, Property) for e in ends):
                names = tuple(self._queryable(e) for e in ends)  # type: ignore[arg-type]
                if names != ("year_from", "year_to"):
                    raise FilterError(
                        "the period of a place is INTERVAL(year_from, year_to); no other "
                        "interval of properties is known"
                    )
                return "years"
            if any(isinstance(e, Property) for e in ends):
                raise FilterError("an interval is of two properties or of two instants")
            return None
        if isinstance(node, Property):
            name = self._queryable(node)
            if name in ("created_at", "updated_at"):
                return name
            if name in ("year_from", "year_to"):
                raise FilterError(
                    "temporal functions take the whole period: INTERVAL(year_from, year_to)"
                )
            raise FilterError(f"{name} is not a time; temporal functions take times")
        return None


def compile_filter(tree: Any, *, filter_crs: str = CRS84, grid_m: float) -> Filter:
    """The checked :class:`Filter` of a parsed CQL2 tree, geometries read in ``filter_crs``
    (a CRS URI) and generalised locations on a ``grid_m`` metre grid."""
    return Filter(_Checker(filter_crs, grid_m).condition(tree))
