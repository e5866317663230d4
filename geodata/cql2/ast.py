"""The expression tree both CQL2 encodings (text and JSON) are read into, and the limits
that keep reading one cheap.

The tree follows CQL2 JSON: an :class:`Op` per operator or function (``"and"``, ``"="``,
``"like"``, ``"s_intersects"``, ``"casei"``...) whose arguments are other nodes or plain
values (``str``, ``int``, ``float``, ``bool``, a ``tuple`` for the list of ``IN``). Each
:class:`Op` knows its depth and size when it is made, so a tree too deep or too large is
refused while it is being read, before anything walks it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry

from geodata.errors import FieldProblem, HeritageError

MAX_LENGTH = 8000  # characters of a filter (text or JSON)
MAX_DEPTH = 20  # operators nested in one another
MAX_NODES = 200  # operators, properties and values in one filter
MAX_VERTICES = 1000  # coordinates of one geometry
MAX_INTEGER = 2**53  # integers beyond this are not numbers a filter needs


class FilterError(HeritageError):
    """A filter that cannot be used; ``parameter`` names the query parameter at fault."""

    code = "invalid_filter"
    status = 400

    def __init__(self, message: str, *, parameter: str = "filter", code: str | None = None):
        code = code or self.code
        super().__init__(
            f"{parameter}: {message}",
            code=code,
            problems=[FieldProblem(parameter, code, message)],
        )
        self.parameter = parameter


@dataclass(frozen=True)
class Property:
    """A reference to a queryable by name."""

    name: str


@dataclass(frozen=True)
class DateValue:
    value: date


@dataclass(frozen=True)
class TimestampValue:
    value: datetime  # always UTC


Instant = DateValue | TimestampValue


@dataclass(frozen=True)
class Interval:
    """``INTERVAL(start, end)``: each end an instant, a property or None (``'..'``)."""

    start: Instant | Property | None
    end: Instant | Property | None


@dataclass(frozen=True)
class GeometryValue:
    """A geometry literal, its coordinates as given (in the filter's CRS, its axis order)."""

    shape: BaseGeometry


@dataclass(frozen=True)
class Op:
    """An operator or function applied to its arguments."""

    name: str
    args: tuple[Any, ...]
    depth: int = field(default=1, compare=False)
    size: int = field(default=1, compare=False)


def _measure(value: Any) -> tuple[int, int]:
    if isinstance(value, Op):
        return value.depth, value.size
    if isinstance(value, tuple):
        depth, size = 0, 0
        for item in value:
            d, s = _measure(item)
            depth, size = max(depth, d), size + s
        return depth, size
    return 0, 1


def op(name: str, *args: Any) -> Op:
    """An :class:`Op`, refused with a :class:`FilterError` when the tree it tops would be
    nested deeper than :data:`MAX_DEPTH` or hold more than :data:`MAX_NODES` nodes."""
    depth, size = _measure(args)
    if depth + 1 > MAX_DEPTH:
        raise FilterError(
            f"the expression nests operators more than {MAX_DEPTH} deep; write it flatter",
            code="filter_too_deep",
        )
    if size + 1 > MAX_NODES:
        raise FilterError(
            f"the expression has more than {MAX_NODES} terms; split it into simpler requests",
            code="filter_too_large",
        )
    return Op(name, args, depth + 1, size + 1)


def check_characters(text: str) -> None:
    """Refuse text no database can hold: NUL, and lone surrogates (not Unicode text)."""
    if "\x00" in text:
        raise FilterError("the filter holds a NUL character", code="unreadable_filter")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FilterError(
            "the filter is not valid Unicode text", code="unreadable_filter"
        ) from None


def number(text: str) -> int | float:
    """A numeric literal as int or float; FilterError when it is not a usable number."""
    digits = text.lstrip("+-")
    if len(digits) > 40:
        raise FilterError(f"the number {text[:20]}... is too long")
    if re.fullmatch(r"\d+", digits):
        value: int | float = int(text)
        if abs(value) > MAX_INTEGER:
            raise FilterError(f"the number {text} is out of range")
        return value
    value = float(text)
    if not math.isfinite(value):
        raise FilterError(f"the number {text} is out of range")
    return value


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")


def parse_date(text: str) -> DateValue:
    """``YYYY-MM-DD`` (CQL2's fullDate)."""
    if not _DATE.fullmatch(text):
        raise FilterError(f"{text[:40]!r} is not a date; write it as YYYY-MM-DD")
    try:
        return DateValue(date.fromisoformat(text))
    except ValueError:
        raise FilterError(f"{text!r} is not a date in the calendar") from None


def parse_timestamp(text: str) -> TimestampValue:
    """``YYYY-MM-DDTHH:MM:SS[.fff]Z`` (an offset such as +01:00 is read too), as UTC."""
    if not _TIMESTAMP.fullmatch(text, 0):
        raise FilterError(f"{text[:40]!r} is not a timestamp; write it as YYYY-MM-DDTHH:MM:SSZ")
    head, _, rest = text.partition(".")
    if rest:  # Python reads six decimals at most; more say nothing a record holds
        fraction = re.match(r"\d+", rest).group()  # type: ignore[union-attr]
        text = f"{head}.{fraction[:6].ljust(6, '0')}{rest[len(fraction) :]}"
    try:
        return TimestampValue(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC))
    except ValueError:
        raise FilterError(f"{text!r} is not a time in the calendar") from None
    except OverflowError:  # an offset that moves it past year 1 or 9999
        raise FilterError(f"{text!r} is out of range") from None


def instant(text: str) -> Instant | None:
    """An interval end given as text: a date, a timestamp, or ``'..'`` (open) as None."""
    if text == "..":
        return None
    return parse_date(text) if len(text) == 10 else parse_timestamp(text)
