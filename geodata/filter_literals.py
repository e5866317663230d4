"""CQL2 literals as the stores compare them: geometries in CRS84 (S_DWITHIN as the area
within its distance), dates and times as the bounds of temporal functions, language tags
in lower case (see :mod:`geodata.filters` for what each means)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geodata.cql2.ast import (
    DateValue,
    FilterError,
    GeometryValue,
    Interval,
    Op,
    Property,
    TimestampValue,
    instant,
)
from geodata.filter_nodes import (
    DAY_MAX,
    DAY_MIN,
    TIME_MAX,
    TIME_MIN,
    Column,
    Operand,
    Value,
    day_key,
)

MAX_DISTANCE_M = 50_000.0  # S_DWITHIN: beyond this a bbox says as much


def is_geometry_property(node: Any) -> bool:
    return isinstance(node, Property) and node.name == "geometry"


def transform_array(t: Transformer, xy: Any) -> Any:
    x, y = t.transform(xy[:, 0], xy[:, 1])
    out = np.column_stack([x, y])
    if not np.isfinite(out).all():
        raise FilterError(
            "the geometry lies outside the area filter-crs is defined for", parameter="filter"
        )
    return out


def distance(args: tuple[Any, ...]) -> float:
    distance = args[0]
    if isinstance(distance, bool) or not isinstance(distance, (int, float)):
        raise FilterError("the distance of S_DWITHIN is a number of metres")
    units = args[1] if len(args) > 1 else "m"
    if not isinstance(units, str) or units.lower() not in (
        "m", "meter", "meters", "metre", "metres",
    ):  # fmt: skip
        raise FilterError("S_DWITHIN measures in metres (units m, meters or metres)")
    if not 0 <= distance <= MAX_DISTANCE_M:
        raise FilterError(f"the distance of S_DWITHIN is 0 to {MAX_DISTANCE_M:.0f} metres")
    return float(distance)


def within_distance(geometry: BaseGeometry, metres: float) -> BaseGeometry:
    """The area within ``metres`` of ``geometry``, measured in an azimuthal equidistant
    projection centred on it (off by well under 1 % within 50 km), in CRS84: both stores
    then test the same area, so S_DWITHIN matches the same places on each."""
    if metres == 0:
        return geometry
    centre = geometry.centroid
    local = Transformer.from_crs(
        "OGC:CRS84",
        f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m",
        always_xy=True,
    )
    there = shapely.transform(geometry, lambda xy: transform_array(local, xy))
    area = there.buffer(metres, quad_segs=16)
    back = Transformer.from_crs(local.target_crs, "OGC:CRS84", always_xy=True)
    return shapely.make_valid(shapely.transform(area, lambda xy: transform_array(back, xy)))


def as_instant(operand: Operand) -> Operand:
    """A timestamp operand: a date or a string holding one is read as its first moment."""
    if isinstance(operand, Column):
        return operand
    value = operand.value
    if isinstance(value, datetime):
        return operand
    if isinstance(value, date):
        return Value(datetime.combine(value, time(), UTC))
    if isinstance(value, str):
        try:
            found = instant(value)
        except FilterError:
            raise FilterError(f"{value[:40]!r} is not a date or a timestamp") from None
        if found is None:
            raise FilterError("'..' is an open end of an interval, not a time")
        if isinstance(found, DateValue):
            return Value(datetime.combine(found.value, time(), UTC))
        return Value(found.value)
    raise FilterError(f"{str(value)[:40]!r} is not a time")


def temporal_bounds(node: Any, subject: str) -> tuple[Any, Any]:
    """A temporal literal as the (start, end) the store compares ``subject`` with."""
    if isinstance(node, Interval):
        if isinstance(node.start, Property) or isinstance(node.end, Property):
            raise FilterError("compare the period with a date, timestamp or interval")
        start, _ = _instant_bounds(node.start, subject, low=True)
        _, end = _instant_bounds(node.end, subject, low=False)
        if start is not None and end is not None and start > end:
            raise FilterError("the interval ends before it starts")
        return start, end
    if isinstance(node, (DateValue, TimestampValue)):
        return _instant_bounds(node, subject, low=True)
    raise FilterError(f"{str(node)[:40]!r} is not a date, a timestamp or an interval")


def _instant_bounds(node: Any, subject: str, low: bool) -> tuple[Any, Any]:
    if node is None:  # an open end
        if subject == "years":
            return (DAY_MIN, DAY_MIN) if low else (DAY_MAX, DAY_MAX)
        return (TIME_MIN, TIME_MIN) if low else (TIME_MAX, TIME_MAX)
    if subject == "years":
        day = node.value.astimezone(UTC).date() if isinstance(node, TimestampValue) else node.value
        return day_key(day), day_key(day)
    if isinstance(node, TimestampValue):
        return node.value, node.value
    first = datetime.combine(node.value, time(), UTC)
    return first, datetime.combine(node.value, time.max, UTC)


def language_tag(value: Any) -> str:
    from geodata.errors import InvalidInput
    from geodata.text import check_language

    if not isinstance(value, str):
        raise FilterError("compare language with a language tag such as 'pt'")
    try:
        return check_language(value).lower()
    except InvalidInput as exc:
        raise FilterError(exc.message) from None


def show(node: Any) -> str:
    """A node as a message names it."""
    if isinstance(node, Property):
        return node.name
    if isinstance(node, Op):
        return f"{node.name.upper()}(...)"
    if isinstance(node, (DateValue, TimestampValue)):
        return node.value.isoformat()
    if isinstance(node, GeometryValue):
        return node.shape.geom_type
    return repr(node)[:40]


def kind_name(kind: str) -> str:
    """A kind of value as a message names it."""
    return {
        "integer": "a number",
        "number": "a number",
        "string": "text",
        "timestamp": "a time",
        "date": "a date",
        "language": "a language",
    }.get(kind, kind)
