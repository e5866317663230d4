"""CQL2 JSON (``filter-lang=cql2-json``) read into the :mod:`geodata.cql2.ast` tree.

The document is decoded, then measured without recursion (nesting, number of members,
coordinates) before it is walked, so an enormous or deeply nested one costs no more than
reading it.

>>> parse('{"op": ">", "args": [{"property": "year_from"}, 1800]}').name
'>'
"""

from __future__ import annotations

from typing import Any

import orjson
import shapely
from shapely.geometry import shape

from geodata.cql2.ast import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    MAX_VERTICES,
    FilterError,
    GeometryValue,
    Interval,
    Property,
    check_characters,
    instant,
    op,
    parse_date,
    parse_timestamp,
)

# An operator nests two JSON levels ({"op", "args": [...]}); a geometry's coordinates a
# few more (a multipolygon four).
MAX_JSON_DEPTH = 2 * MAX_DEPTH + 6
_GEOMETRY_TYPES = {
    "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
    "GeometryCollection",
}  # fmt: skip


def _measure(doc: Any) -> None:
    """Refuse a document nested too deep or holding too many values (iteratively)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    members = numbers = 0
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise FilterError(
                f"the CQL2 JSON nests more than {MAX_JSON_DEPTH} levels deep",
                code="filter_too_deep",
            )
        if isinstance(value, dict):
            members += 1
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers += 1
        else:
            members += 1
        if members > MAX_NODES * 2 or numbers > MAX_VERTICES * 3:
            raise FilterError("the CQL2 JSON is too large", code="filter_too_large")


def _geometry(value: dict[str, Any]) -> GeometryValue:
    kind = value.get("type")
    if kind not in _GEOMETRY_TYPES:
        raise FilterError(f"{str(kind)[:40]!r} is not a GeoJSON geometry type")
    _numbers_only(value)
    try:
        geometry = shape(value)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            shapely.errors.GEOSException) as exc:  # fmt: skip
        raise FilterError(f"the {kind} cannot be read: {str(exc)[:120]}") from None
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES:
        raise FilterError(f"a geometry has more than {MAX_VERTICES} points; simplify it")
    if shapely.get_coordinate_dimension(geometry) != 2:
        raise FilterError("give geometries with two coordinates per point")
    return GeometryValue(geometry)


def _numbers_only(geometry: dict[str, Any]) -> None:
    """Coordinates are numbers (shapely would read "38" as 38.0), nested in lists."""
    stack: list[Any] = [geometry.get("coordinates", [])]
    stack += [g for g in geometry.get("geometries", []) if isinstance(g, dict)]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") not in _GEOMETRY_TYPES:
                raise FilterError("a geometry collection holds something other than geometries")
            stack.append(item.get("coordinates", []))
            stack += [g for g in item.get("geometries", []) if isinstance(g, dict)]
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise FilterError("coordinates are numbers, such as [-9.14, 38.71]")


def _bbox(values: Any) -> GeometryValue:
    if (
        not isinstance(values, list)
        or len(values) not in (4, 6)
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    ):
        raise FilterError("a bbox is a list of four (or six) numbers")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    return GeometryValue(shapely.box(*[float(v) for v in values]))


def _interval_end(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"property"}:
        return _walk(value)
    if not isinstance(value, str):
        raise FilterError("an interval's ends are dates, timestamps, '..' or properties")
    return instant(value)


def _walk(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        if value is None:
            raise FilterError("null is not a value a filter can use; use isNull")
        return value
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise FilterError(f"the number {value} is out of range")
        return value
    if isinstance(value, str):
        check_characters(value)
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return tuple(_walk(v) for v in value)
    if not isinstance(value, dict):
        raise FilterError("the CQL2 JSON holds a value of an unknown kind")
    if "op" in value:
        name, args = value["op"], value.get("args")
        if not isinstance(name, str) or not isinstance(args, list) or set(value) != {"op", "args"}:
            raise FilterError('an operation is {"op": NAME, "args": [...]}')
        if name in ("in",) and len(args) == 2 and isinstance(args[1], list):
            return op("in", _walk(args[0]), tuple(_walk(v) for v in args[1]))
        return op(name, *(_walk(a) for a in args))
    if set(value) == {"property"} and isinstance(value["property"], str):
        check_characters(value["property"])
        return Property(value["property"])
    if set(value) == {"date"} and isinstance(value["date"], str):
        return parse_date(value["date"])
    if set(value) == {"timestamp"} and isinstance(value["timestamp"], str):
        return parse_timestamp(value["timestamp"])
    if set(value) == {"interval"} and isinstance(value["interval"], list):
        ends = value["interval"]
        if len(ends) != 2:
            raise FilterError("an interval has two ends")
        return Interval(_interval_end(ends[0]), _interval_end(ends[1]))
    if set(value) == {"bbox"}:
        return _bbox(value["bbox"])
    if "type" in value and ("coordinates" in value or "geometries" in value):
        return _geometry(value)
    keys = ", ".join(sorted(map(str, value)))[:80]
    raise FilterError(f"cannot read a CQL2 JSON object with the members {keys}")


def parse(text: str) -> Any:
    """The tree of a CQL2 JSON filter; :class:`FilterError` saying what is wrong."""
    if len(text) > MAX_LENGTH:
        raise FilterError(
            f"the filter is {len(text)} characters long; the limit is {MAX_LENGTH}",
            code="filter_too_large",
        )
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise FilterError(f"the filter is not JSON: {exc}", code="unreadable_filter") from None
    _measure(doc)
    return _walk(doc)
