"""Query parameters of the OGC API – Features endpoints: parsing, and the 400 the standard
asks for when one is unknown or unusable."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request

from geodata.crs import CRS84, OutsideCRS, bbox_to_crs84
from geodata.errors import FieldProblem, HeritageError
from geodata.io.export_filter import BBox, find_neighbourhood, parse_bbox, parse_timestamp
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.vocabulary import Vocabulary


class BadParameter(HeritageError):
    """A query parameter OGC API – Features clients must get a 400 for; the problem names
    it (``parameter``) in its ``errors``."""

    code = "invalid_parameter"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        parameter: str | None = None,
        problems: list[FieldProblem] | None = None,
    ) -> None:
        if parameter is not None and not problems:
            problems = [FieldProblem(parameter, self.code, message)]
        super().__init__(message, problems=problems)


# Taken by every resource: the interface language of its HTML page (the language picker).
ALWAYS_ALLOWED = {"lang"}


def check_params(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed - ALWAYS_ALLOWED)
    if unknown:
        message = (
            f"unknown parameter {', '.join(unknown)}; this resource takes "
            f"{', '.join(sorted(allowed))}"
        )
        raise BadParameter(
            message, problems=[FieldProblem(name, "unknown_parameter", message) for name in unknown]
        )


def wants_html(request: Request) -> bool:
    """``f=html|json`` decides; otherwise the Accept header (JSON unless HTML comes first)."""
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise BadParameter(f"f must be json or html, not {f!r}", parameter="f")
        return f == "html"
    accept = request.headers.get("accept", "").lower()
    html_at, json_at = accept.find("text/html"), accept.find("json")
    return html_at != -1 and (json_at == -1 or html_at < json_at)


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """An RFC 3339 instant or interval (``..`` or empty for an open end) as [since, until)."""
    try:
        if "/" not in text:
            t = parse_timestamp(text)
            return t, t + timedelta(microseconds=1)
        start, end = text.split("/", 1)
        since = None if start in ("", "..") else parse_timestamp(start)
        last = None if end in ("", "..") else parse_timestamp(end)
    except ValueError as exc:
        raise BadParameter(f"datetime: {exc}", parameter="datetime") from None
    if since is None and last is None:
        raise BadParameter("datetime: an interval needs at least one end", parameter="datetime")
    if since is not None and last is not None and since > last:
        raise BadParameter("datetime: the interval ends before it starts", parameter="datetime")
    return since, (last + timedelta(microseconds=1)) if last is not None else None


def int_param(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number, not {raw!r}", parameter=name) from None
    if value < minimum:
        raise BadParameter(f"{name} must be at least {minimum}", parameter=name)
    if value > 2**31 - 1:  # beyond what either database takes as an offset
        raise BadParameter(f"{name} must be at most {2**31 - 1}", parameter=name)
    return value


def _bbox_in(text: str, bbox_crs: str) -> BBox:
    """A bbox given in ``bbox_crs`` (in its axis order) as the CRS84 box enclosing it."""
    if bbox_crs == CRS84:
        return parse_bbox(text)
    parts = [p.strip() for p in text.split(",")]
    try:
        corners = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text[:200]!r} is not four numbers") from None
    if len(corners) != 4 or not all(math.isfinite(v) for v in corners):
        raise ValueError(
            "give four finite numbers separated by commas: the lower corner, then the upper "
            "one, each in the axis order of bbox-crs"
        )
    if corners[0] > corners[2] or corners[1] > corners[3]:
        raise ValueError("the lower corner comes first, then the upper one")
    try:
        enclosing = bbox_to_crs84((corners[0], corners[1], corners[2], corners[3]), bbox_crs)
        return parse_bbox(",".join(repr(float(v)) for v in enclosing))
    except OutsideCRS as exc:
        raise ValueError(exc.message) from None
    except ValueError:
        raise ValueError("the box lies outside the area bbox-crs is defined for") from None


def items_filter(
    request: Request, store: PlaceStore, vocabulary: Vocabulary, bbox_crs: str = CRS84
) -> PlaceFilter:
    """The store filter for an items request's bbox (given in ``bbox_crs``), datetime and
    property filters."""
    q = request.query_params
    values: dict[str, Any] = {}
    if (bbox := q.get("bbox")) is not None:
        try:
            values["bbox"] = _bbox_in(bbox, bbox_crs)
        except ValueError as exc:
            raise BadParameter(f"bbox: {exc}", parameter="bbox") from None
    if (when := q.get("datetime")) is not None:
        values["since"], values["until"] = parse_datetime(when)
    if (hood := q.get("neighbourhood")) is not None:
        try:
            values["neighbourhood_id"] = find_neighbourhood(hood, store.neighbourhoods())
        except ValueError as exc:
            raise BadParameter(f"neighbourhood: {exc}", parameter="neighbourhood") from None
    if (category := q.get("category")) is not None:
        keys = [k.strip() for k in category.split(",") if k.strip()]
        unknown = [k for k in keys if k not in vocabulary]
        if unknown or not keys:
            raise BadParameter(
                f"category: unknown {', '.join(unknown) or 'empty value'}; use "
                f"{', '.join(vocabulary.keys())}",
                parameter="category",
            )
        values["category"] = keys[0] if len(keys) == 1 else keys
    return PlaceFilter(**values)
