"""OGC API – Features Part 3 (Filtering) on the items of ``places``: ``filter`` in CQL2
text or JSON (``filter-lang``, ``filter-crs``), a query parameter per queryable, and the
``sortby`` and ``properties`` parameters. Every problem is a 400 naming its parameter.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qsl

import shapely
from fastapi import Request

from geodata.cql2 import cql2_json, text
from geodata.cql2.ast import FilterError, Property, check_characters, op
from geodata.features import PROPERTIES
from geodata.filter_nodes import All, Filter, Spatial
from geodata.filters import compile_filter
from geodata.queryables import QUERYABLES, sortables
from geodata.store.base import PlaceFilter
from web.routes.ogc_crs import requested_crs

CONFORMANCE_FILTER = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
]
# "cql-text" is the name drafts of Part 3 (and GDAL's OAPIF driver) use for CQL2 text.
FILTER_LANGUAGES = ("cql2-text", "cql2-json", "cql-text")
# Queryables that are also query parameters of their own (equality), besides category
# and neighbourhood, which the items took before (category: a list; neighbourhood: an id,
# name or code).
QUERYABLE_PARAMETERS = (
    "id", "title", "neighbourhood_id", "language", "period", "year_from", "year_to",
    "licence", "attribution",
)  # fmt: skip
FILTER_PARAMETERS = {
    "filter", "filter-lang", "filter-crs", "sortby", "properties", *QUERYABLE_PARAMETERS,
}  # fmt: skip


def _tree(request: Request) -> Any | None:
    """The parsed ``filter`` and the queryable parameters, joined by AND."""
    q = request.query_params
    parts: list[Any] = []
    raw = q.get("filter")
    language = q.get("filter-lang", "cql2-text")
    if language not in FILTER_LANGUAGES:
        message = f"{language[:40]!r} is not a filter language here; use cql2-text or cql2-json"
        raise FilterError(message, parameter="filter-lang", code="unknown_filter_lang")
    if raw is not None:
        if not raw.strip():
            raise FilterError("the filter is empty")
        if "\ufffd" in raw:
            _strict_utf8(request)
        parts.append(cql2_json.parse(raw) if language == "cql2-json" else text.parse(raw))
    for name in QUERYABLE_PARAMETERS:
        value = q.get(name)
        if value is None:
            continue
        if QUERYABLES[name].kind == "integer":
            try:
                parsed: Any = int(value)
            except ValueError:
                raise FilterError(f"{value[:40]!r} is not a whole number", parameter=name) from None
            if abs(parsed) > 2**53:
                raise FilterError(f"{value[:40]} is out of range", parameter=name)
        else:
            try:
                check_characters(value)
            except FilterError as exc:
                raise FilterError(exc.problems[0].message, parameter=name) from None
            parsed = value
        parts.append(op("=", Property(name), parsed))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else op("and", *parts)


def _strict_utf8(request: Request) -> None:
    """Refuse a filter whose bytes were not UTF-8 (the server read them as U+FFFD)."""
    raw = request.scope.get("query_string", b"").decode("latin-1")
    try:
        parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise FilterError("the filter is not UTF-8 text", code="unreadable_filter") from None


def sort_order(request: Request) -> tuple[tuple[str, bool], ...] | None:
    """``sortby=+title,-year_from``: (queryable, descending) pairs, or None."""
    raw = request.query_params.get("sortby")
    if raw is None:
        return None
    order: list[tuple[str, bool]] = []
    for part in raw.split(","):
        term = part.strip()
        descending = term.startswith("-")
        name = term.lstrip("+-").strip()
        if name not in sortables():
            message = (
                f"{name[:40]!r} is not a property features can be sorted by; use "
                f"{', '.join(sortables())}, each with + (ascending, the default) or -"
            )
            raise FilterError(message, parameter="sortby", code="unknown_sort_property")
        if any(n == name for n, _ in order):
            raise FilterError(f"{name} is named twice", parameter="sortby")
        order.append((name, descending))
    return tuple(order)


def selected_properties(request: Request) -> list[str] | None:
    """``properties=title,category``: the properties each feature keeps, or None (all)."""
    raw = request.query_params.get("properties")
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in PROPERTIES]
    if unknown:
        message = (
            f"{', '.join(repr(n[:40]) for n in unknown[:5])} not among the properties; use "
            f"{', '.join(PROPERTIES)}"
        )
        raise FilterError(message, parameter="properties", code="unknown_property")
    return names


def with_filter(
    request: Request, flt: PlaceFilter, offered: list[str], grid_m: float
) -> PlaceFilter:
    """``flt`` narrowed by the request's filter, queryable parameters and sort order.

    With a sort order, a ``bbox`` becomes part of the filter (the public location meets
    it, as the bbox means), so the store sorts every match at once."""
    tree = _tree(request)
    order = sort_order(request)
    where: Filter | None = None
    if tree is not None:
        # The CRS of the geometries in the filter (a 400 naming filter-crs if not offered).
        crs = requested_crs(request, "filter-crs", offered)
        where = compile_filter(tree, filter_crs=crs, grid_m=grid_m)
    else:
        requested_crs(request, "filter-crs", offered)
    if order is not None and flt.bbox is not None:
        box = Spatial("s_intersects", shapely.box(*flt.bbox), grid_m)
        where = Filter(box if where is None else All((box, where.root)))
        flt = dataclasses.replace(flt, bbox=None)
    return dataclasses.replace(flt, where=where, order=order)


def keep_properties(feature: dict[str, Any], names: list[str]) -> dict[str, Any]:
    properties = feature.get("properties") or {}
    return {**feature, "properties": {k: v for k, v in properties.items() if k in names}}
