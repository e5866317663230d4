"""Turning what a planner types (query parameters, command-line options) into a filter.

Every problem is collected and reported at once, each naming its field, so the API can
answer one 422 and the command line one readable line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from geodata.errors import FieldProblem, InvalidInput
from geodata.models import Neighbourhood
from geodata.store.base import PlaceFilter
from geodata.text import check_language
from geodata.vocabulary import Vocabulary

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class ExportQuery:
    """The filters a download or the command line accepts, as the text given."""

    neighbourhood: str | None = None  # id, name or code
    category: str | None = None  # one key or several, comma-separated
    language: str | None = None  # BCP 47 tag
    year_from: int | None = None
    year_to: int | None = None
    since: str | None = None  # ISO 8601 date or date-time: created at or after
    until: str | None = None  # created before
    bbox: str | None = None  # min lon, min lat, max lon, max lat
    workshop: str | None = None  # join code


def parse_bbox(text: str) -> BBox:
    """``"minlon,minlat,maxlon,maxlat"`` in WGS84 degrees; raise ValueError saying why not."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ValueError(
            "give four numbers separated by commas: min longitude, min latitude, "
            "max longitude, max latitude (e.g. -9.15,38.70,-9.13,38.72)"
        )
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"{text!r} is not four numbers") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise ValueError("the numbers must be finite")
    if not (
        -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
    ):
        raise ValueError("longitudes go from -180 to 180 and latitudes from -90 to 90")
    if minx > maxx or miny > maxy:
        raise ValueError("the minimum longitude and latitude come first, then the maximum ones")
    return (minx, miny, maxx, maxy)


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or date-time (UTC unless it says otherwise)."""
    value = text.strip()
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        ts = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date; use ISO 8601 such as 2024-05-01 or 2024-05-01T12:00:00Z"
        ) from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def find_neighbourhood(text: str, neighbourhoods: Sequence[Neighbourhood]) -> int:
    """The id of the neighbourhood named by id, name or code (case-insensitive)."""
    key = text.strip().casefold()
    for n in neighbourhoods:
        if key in (str(n.id), n.name.casefold(), (n.code or "").casefold()):
            return n.id
    known = ", ".join(n.name for n in neighbourhoods[:5]) or "none are loaded"
    raise ValueError(f"there is no neighbourhood {text!r}; give an id, name or code ({known}...)")


def build_filter(
    query: ExportQuery, neighbourhoods: Sequence[Neighbourhood], vocabulary: Vocabulary
) -> PlaceFilter:
    """The store filter for ``query``; raise InvalidInput listing every bad field."""
    problems: list[FieldProblem] = []
    values: dict[str, object] = {}

    def check(field: str, parse, raw) -> None:  # type: ignore[no-untyped-def]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return
        try:
            values[field] = parse(raw)
        except (ValueError, InvalidInput) as exc:
            message = exc.message if isinstance(exc, InvalidInput) else str(exc)
            problems.append(FieldProblem(field, "invalid_" + field, message))

    def categories(text: str) -> list[str]:
        keys = [k.strip() for k in text.split(",") if k.strip()]
        unknown = [k for k in keys if k not in vocabulary]
        if unknown:
            raise ValueError(
                f"unknown category {', '.join(map(repr, unknown))}; use "
                f"{', '.join(vocabulary.keys())}"
            )
        return keys

    def year(raw: object) -> int:
        try:
            y = int(str(raw))
        except ValueError:
            raise ValueError(f"{raw!r} is not a year") from None
        if not -10_000 <= y <= 9_999:
            raise ValueError(f"{y} is not a year between -10000 and 9999")
        return y

    check("neighbourhood", lambda t: find_neighbourhood(t, neighbourhoods), query.neighbourhood)
    check("category", categories, query.category)
    check("language", check_language, query.language)
    check("year_from", year, query.year_from)
    check("year_to", year, query.year_to)
    check("since", parse_timestamp, query.since)
    check("until", parse_timestamp, query.until)
    check("bbox", parse_bbox, query.bbox)
    check("workshop", lambda t: t.strip().upper(), query.workshop)
    y0, y1 = values.get("year_from"), values.get("year_to")
    if isinstance(y0, int) and isinstance(y1, int) and y0 > y1:
        problems.append(FieldProblem("year_to", "invalid_year_to", "year_to is before year_from"))
    t0, t1 = values.get("since"), values.get("until")
    if isinstance(t0, datetime) and isinstance(t1, datetime) and t0 >= t1:
        problems.append(FieldProblem("until", "invalid_until", "until must come after since"))
    if problems:
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise InvalidInput(detail, code="invalid_filter", problems=problems)
    cats = values.get("category")
    return PlaceFilter(
        neighbourhood_id=values.get("neighbourhood"),  # type: ignore[arg-type]
        category=(cats[0] if len(cats) == 1 else cats) if cats else None,  # type: ignore[index,arg-type]
        language=values.get("language"),  # type: ignore[arg-type]
        year_from=values.get("year_from"),  # type: ignore[arg-type]
        year_to=values.get("year_to"),  # type: ignore[arg-type]
        since=values.get("since"),  # type: ignore[arg-type]
        until=values.get("until"),  # type: ignore[arg-type]
        bbox=values.get("bbox"),  # type: ignore[arg-type]
        workshop=values.get("workshop"),  # type: ignore[arg-type]
    )


def describe(query: ExportQuery) -> dict[str, object]:
    """The filters given, for the download's own description of itself."""
    return {k: v for k, v in vars(query).items() if v not in (None, "")}
