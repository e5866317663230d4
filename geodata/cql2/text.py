"""CQL2 text (``filter-lang=cql2-text``) read into the :mod:`geodata.cql2.ast` tree.

The grammar (``grammar.lark``) follows the CQL2 1.0 BNF; lark's LALR parser reads it
with an explicit stack and builds the tree as it goes (no recursion, no parse tree), so
the cost of a filter is linear in its length, which is capped before parsing starts.
GDAL's ``ILIKE`` (case-insensitive LIKE) is read as well.

>>> parse("year_from >= 1800 AND CASEI(title) LIKE 'casa%'").name
'and'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from geodata.cql2.ast import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_VERTICES,
    FilterError,
    GeometryValue,
    Interval,
    Op,
    Property,
    check_characters,
    instant,
    number,
    op,
    parse_date,
    parse_timestamp,
)

SPATIAL_FUNCTIONS = (
    "S_INTERSECTS", "S_EQUALS", "S_DISJOINT", "S_TOUCHES", "S_WITHIN", "S_OVERLAPS",
    "S_CROSSES", "S_CONTAINS",
)  # fmt: skip
TEMPORAL_FUNCTIONS = (
    "T_AFTER", "T_BEFORE", "T_CONTAINS", "T_DISJOINT", "T_DURING", "T_EQUALS", "T_FINISHEDBY",
    "T_FINISHES", "T_INTERSECTS", "T_MEETS", "T_METBY", "T_OVERLAPPEDBY", "T_OVERLAPS",
    "T_STARTEDBY", "T_STARTS",
)  # fmt: skip
_WORDS = (
    "OR", "AND", "NOT", "TRUE", "FALSE", "LIKE", "ILIKE", "BETWEEN", "IN", "IS", "NULL",
    "CASEI", "ACCENTI", "DATE", "TIMESTAMP", "INTERVAL", "S_DWITHIN", "POINT", "LINESTRING",
    "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "BBOX",
)  # fmt: skip
# Reserved words (any case) and the terminal each becomes.
KEYWORDS = {
    **{w: w for w in _WORDS},
    **{f: "SPATIAL" for f in SPATIAL_FUNCTIONS},
    **{f: "TEMPORAL" for f in TEMPORAL_FUNCTIONS},
}
_COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _keyword(token: Token) -> Token:
    kind = KEYWORDS.get(token.upper())
    return token if kind is None else Token(kind, token.upper(), token.start_pos)


def _string(token: Token) -> str:
    body = token[1:-1]
    # CQL2 escapes a quote by doubling it or with a backslash; other backslashes stay
    # (they escape LIKE wildcards).
    return body.replace("''", "'").replace("\\'", "'")


def _coord(x: Any, y: Any) -> tuple[float, float]:
    return (float(number(x)), float(number(y)))


def _vertices(n: int) -> None:
    if n > MAX_VERTICES:
        raise FilterError(f"a geometry has more than {MAX_VERTICES} points; simplify it")


@v_args(inline=True)
class _Build(Transformer):
    """Callbacks run by the parser as it reduces each rule (children already built)."""

    def or_(self, a, _, b):
        return (
            op("or", a, b) if not (isinstance(a, Op) and a.name == "or") else op("or", *a.args, b)
        )

    def and_(self, a, _, b):
        return (
            op("and", a, b)
            if not (isinstance(a, Op) and a.name == "and")
            else op("and", *a.args, b)
        )

    def not_(self, _, a):
        return op("not", a)

    def true(self, _):
        return True

    def false(self, _):
        return False

    def compare(self, a, comparison, b):
        return op(_COMPARISONS[str(comparison)], a, b)

    def like(self, a, _, pattern):
        return op("like", a, pattern)

    def not_like(self, a, _n, _l, pattern):
        return op("not", op("like", a, pattern))

    def ilike(self, a, _, pattern):
        return op("like", op("casei", a), op("casei", pattern))

    def not_ilike(self, a, _n, _l, pattern):
        return op("not", self.ilike(a, None, pattern))

    def between(self, a, _b, low, _a, high):
        return op("between", a, low, high)

    def not_between(self, a, _n, _b, low, _a, high):
        return op("not", op("between", a, low, high))

    def in_(self, a, _, *items):
        return op("in", a, tuple(items))

    def not_in(self, a, _n, _i, *items):
        return op("not", op("in", a, tuple(items)))

    def is_null(self, a, _i, _n):
        return op("isNull", a)

    def is_not_null(self, a, _i, _n, _null):
        return op("not", op("isNull", a))

    def spatial(self, name, a, b):
        return op(str(name).lower(), a, b)

    def dwithin(self, _, a, b, distance, units=None):
        return op("s_dwithin", a, b, distance, *([str(units)] if units else []))

    def temporal(self, name, a, b):
        return op(str(name).lower(), a, b)

    def property(self, name):
        text = str(name)
        return Property(text[1:-1] if text.startswith('"') else text)

    def string(self, token):
        return _string(token)

    def number(self, token):
        return number(token)

    def casei(self, _, a):
        return op("casei", a)

    def accenti(self, _, a):
        return op("accenti", a)

    def date(self, _, text):
        return parse_date(_string(text))

    def timestamp(self, _, text):
        return parse_timestamp(_string(text))

    def function(self, name, *args):
        return op(str(name).lower(), *(a for a in args if a is not None))

    def interval(self, _, start, end):
        def end_of(value):
            return value if isinstance(value, Property) else instant(value)

        return Interval(end_of(start), end_of(end))

    # -- geometry literals (coordinates as given; validity is checked later) ----------
    def coord(self, x, y):
        return _coord(x, y)

    def coords(self, *points):
        _vertices(len(points))
        return list(points)

    def rings(self, *rings):
        _vertices(sum(len(r) for r in rings))
        return list(rings)

    def point(self, _, xy):
        return GeometryValue(shapely.Point(xy))

    def linestring(self, _, points):
        return GeometryValue(_shape(lambda: shapely.LineString(points)))

    def polygon(self, _, rings):
        return GeometryValue(_shape(lambda: shapely.Polygon(rings[0], rings[1:])))

    def multipoint(self, _, *points):
        _vertices(len(points))
        return GeometryValue(shapely.MultiPoint(list(points)))

    def multilinestring(self, _, lines):
        return GeometryValue(_shape(lambda: shapely.MultiLineString(lines)))

    def multipolygon(self, _, *polygons):
        _vertices(sum(len(r) for rings in polygons for r in rings))
        return GeometryValue(
            _shape(lambda: shapely.MultiPolygon([shapely.Polygon(r[0], r[1:]) for r in polygons]))
        )

    def collection(self, _, *members):
        shape = shapely.GeometryCollection([m.shape for m in members])
        _vertices(int(shapely.get_num_coordinates(shape)))
        return GeometryValue(shape)

    def bbox(self, _, *numbers):
        values = [float(number(n)) for n in numbers]
        if len(values) == 6:  # with heights: the lower and upper corner of a box
            values = [values[0], values[1], values[3], values[4]]
        return GeometryValue(shapely.box(*values))


def _shape(make):  # type: ignore[no-untyped-def]
    try:
        return make()
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise FilterError(f"a geometry cannot be built: {exc}") from None


_PARSER = Lark(
    (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8"),
    parser="lalr",
    lexer="basic",
    transformer=_Build(),
    lexer_callbacks={"IDENT": _keyword},
    maybe_placeholders=False,
)


def _prescan(text: str) -> None:
    """Refuse, before parsing, a filter too long or nested too deep in parentheses."""
    if len(text) > MAX_LENGTH:
        raise FilterError(
            f"the filter is {len(text)} characters long; the limit is {MAX_LENGTH}",
            code="filter_too_large",
        )
    check_characters(text)
    depth, quoted, limit = 0, False, MAX_DEPTH + 10  # geometries nest a few more
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
            if depth > limit:
                raise FilterError(
                    f"the filter nests parentheses more than {limit} deep",
                    code="filter_too_deep",
                )
        elif ch == ")":
            depth -= 1


def _where(text: str, exc: UnexpectedInput) -> str:
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None:
        token = getattr(exc, "token", None)
        pos = getattr(token, "start_pos", None)
    if pos is None or isinstance(exc, UnexpectedEOF):
        return "the filter ends too early; is a bracket or quote left open?"
    found = text[pos : pos + 20]
    return f"cannot read the CQL2 text at character {pos + 1} ({found!r})"


def parse(text: str) -> Any:
    """The tree of a CQL2 text filter; :class:`FilterError` saying where it breaks."""
    _prescan(text)
    try:
        return _PARSER.parse(text)
    except VisitError as exc:
        if isinstance(exc.orig_exc, FilterError):
            raise exc.orig_exc from None
        raise FilterError(f"cannot read the CQL2 text: {exc.orig_exc}") from None
    except FilterError:
        raise
    except (UnexpectedCharacters, UnexpectedInput) as exc:
        raise FilterError(_where(text, exc), code="unreadable_filter") from None
