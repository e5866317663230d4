"""The checked form of a CQL2 filter that the stores translate into SQL
(:mod:`geodata.store.filter_sql`), made by :func:`geodata.filters.compile_filter`.

Every name in it is a queryable (:mod:`geodata.queryables`), every value typed,
geometries in CRS84, temporal bounds as the numbers or instants the stores compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.geometry_rules import M_PER_DEG_LAT, M_PER_DEG_LON

DAY_MIN, DAY_MAX = -(10**9), 10**9  # the open ends of a period, as day keys
TIME_MIN = datetime(1, 1, 1, tzinfo=UTC)
TIME_MAX = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@dataclass(frozen=True)
class Column:
    """A queryable, with CASEI / ACCENTI applied (innermost first)."""

    name: str
    functions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Value:
    value: Any
    functions: tuple[str, ...] = ()


Operand = Column | Value


@dataclass(frozen=True)
class Compare:
    op: str  # one of COMPARISONS
    left: Operand
    right: Operand
    kind: str  # "string", "number" or "timestamp"


@dataclass(frozen=True)
class Like:
    operand: Operand
    pattern: str  # CQL2 pattern: % any run, _ one character, \ escapes the next one


@dataclass(frozen=True)
class InList:
    operand: Operand
    values: tuple[Any, ...]
    kind: str


@dataclass(frozen=True)
class Between:
    operand: Operand
    low: Any
    high: Any
    kind: str


@dataclass(frozen=True)
class IsNull:
    column: str


@dataclass(frozen=True)
class Languages:
    """Places with a story in one of these languages (lower-case BCP 47 tags)."""

    tags: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class Spatial:
    """``op(public location, geometry)``: the place first (arguments already swapped)."""

    op: str
    geometry: BaseGeometry  # CRS84
    grid_m: float  # the grid generalised locations are shown on

    def __repr__(self) -> str:
        # Whole: the stores file counts under a filter's repr, and shapely's own repr of
        # a geometry is cut short (two bisected boxes would share one count).
        return f"Spatial({self.op!r}, {self.wkb.hex()}, {self.grid_m!r})"

    @property
    def wkb(self) -> bytes:
        return shapely.to_wkb(self.geometry)

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        """The geometry's bounds when it is an upright box (a BBOX literal), else None."""
        g = self.geometry
        if g.geom_type != "Polygon" or g.area == 0 or not g.equals(shapely.box(*g.bounds)):
            return None
        return g.bounds


@dataclass(frozen=True)
class Temporal:
    """``op(subject, [start, end])``: the place first; ``subject`` is ``"years"`` (its
    period, bounds as :func:`day_key` numbers) or ``created_at`` / ``updated_at``
    (bounds as UTC datetimes)."""

    op: str
    subject: str
    start: Any
    end: Any


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Const:
    value: bool


Node = (
    Compare | Like | InList | Between | IsNull | Languages | Spatial | Temporal | Not | All
    | AnyOf | Const
)  # fmt: skip


@dataclass(frozen=True)
class Filter:
    """A checked filter: ``root`` as the stores translate it."""

    root: Node

    def spatial(self) -> list[Spatial]:
        """The spatial tests every match must pass (those joined by AND at the top)."""
        found, stack = [], [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, All):
                stack.extend(node.items)
            elif isinstance(node, Spatial):
                found.append(node)
        return found


def day_key(day: date) -> int:
    """A day as an integer that sorts as days do: year * 1000 + month * 40 + day. Years
    give 1 January (``y * 1000 + 41``) and 31 December (``y * 1000 + 511``) without a
    calendar, so the stores compute a period's bounds from its years in SQL."""
    return day.year * 1000 + day.month * 40 + day.day


def grid_margin_deg(bounds: tuple[float, float, float, float], grid_m: float) -> float:
    """How far (degrees) a generalised location may lie from its place's bounding box
    near ``bounds`` (a whole grid cell: the cell centre is at most half of one away)."""
    lat = min(max(abs(bounds[1]), abs(bounds[3])) + 1.0, 89.0)
    return grid_m / (min(M_PER_DEG_LAT, M_PER_DEG_LON) * math.cos(math.radians(lat)))


def fold(function: str, text: str) -> str:
    """CASEI (lower case) or ACCENTI (accents removed) of a text, as the stores apply them."""
    if function == "casei":
        return text.lower()
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not 0x300 <= ord(c) <= 0x36F)
