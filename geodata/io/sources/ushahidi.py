"""Ushahidi report exports, as CSV or GeoJSON: the v2 columns (``INCIDENT TITLE``,
``INCIDENT DATE``, ``DESCRIPTION``, ``CATEGORY``, ``LATITUDE``/``LONGITUDE``) and the
v3 platform's as far as they are known here, untested against a real v3 export
(``Post ID``, ``Title``, ``Description``, ``Post date``, ``Categories``, a location
field's ``.lat``/``.lon`` columns).

Each report's title is the title; its description (entities decoded, stray tags
removed, the text otherwise as written) the narrative, credited to the report and its
post date; its first category the layer a ``--map category.NAME=KEY`` turns into a
category key, and all its categories tags.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from geodata.errors import SourceError
from geodata.io.sources.base import LAYER, SourceRead, csv_header, csv_rows, decode_text, point
from geodata.io.sources.generic import SourceFeatures
from geodata.text import html_to_text

NAME = "ushahidi"
EXPECTS = "an Ushahidi CSV or GeoJSON with INCIDENT TITLE or Post ID and Title columns"

_TITLE = ("INCIDENT TITLE", "Title", "Post title")
_DESCRIPTION = ("DESCRIPTION", "Description", "Post content", "Content")
_DATE = ("INCIDENT DATE", "Post date", "Post Date", "Post date (UTC)", "Created (UTC)")
_CATEGORY = ("CATEGORY", "Categories", "Category")
_ID = ("#", "Post ID", "ID")
_LAT = ("LATITUDE", "Latitude", "lat")
_LON = ("LONGITUDE", "Longitude", "lon")
_DATE_FORMATS = ("%m/%d/%y %H:%M", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def sniff(path: Path, head: bytes) -> bool:
    if b"INCIDENT TITLE" in head:
        return True
    columns = set(csv_header(head))
    return {"Post ID", "Title"} <= columns or {"Post ID", "Survey"} <= columns


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        if row.get(n) not in (None, ""):
            return row[n]
    return None


def _posted(value: Any) -> str | None:
    """The post date as ISO 8601 (the text as it is when it is in no known format)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


def _location_columns(fields: list[str]) -> tuple[str | None, str | None]:
    lat = next((f for f in _LAT if f in fields), None)
    lon = next((f for f in _LON if f in fields), None)
    if lat is None:  # v3: a location field "NAME.lat" / "NAME.lon"
        lat = next((f for f in fields if f.lower().endswith(".lat")), None)
        lon = next((f for f in fields if f.lower().endswith((".lon", ".lng"))), None)
    return lon, lat


def _normalised(props: dict[str, Any]) -> dict[str, Any]:
    out = dict(props)
    title = _first(props, _TITLE)
    out["title"] = html_to_text(str(title)) if title is not None else None
    description = _first(props, _DESCRIPTION)
    if description is not None:
        out["narrative"] = html_to_text(str(description))
    posted = _posted(_first(props, _DATE))
    out["narrative_source"] = f"Ushahidi report, posted {posted}" if posted else "Ushahidi report"
    categories = [c.strip() for c in str(_first(props, _CATEGORY) or "").split(",") if c.strip()]
    if categories:
        out[LAYER] = categories[0]
        out["tags"] = categories
    return out


def read(path: Path, geopoint: str | None = None) -> SourceRead:
    """The features of ``path`` (``geopoint``: only for the XLSForm readers)."""
    label = str(path)
    data = path.read_bytes()
    if data.lstrip()[:1] in (b"{", b"["):
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise SourceError(f"{label}: is not valid JSON ({exc})") from None
        features = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(features, list):
            raise SourceError(f"{label}: is not a GeoJSON FeatureCollection")
        geoms, props, ids = [], [], []
        for f in features:
            f = f if isinstance(f, dict) else {}
            p = f.get("properties") if isinstance(f.get("properties"), dict) else {}
            geoms.append(f.get("geometry"))
            props.append(_normalised(p))
            ids.append(str(_first(p, _ID) or f.get("id") or "") or None)
    else:
        fields, rows = csv_rows(decode_text(data, label), label)
        lon, lat = _location_columns(fields)
        if lon is None or lat is None:
            raise SourceError(
                f"{label}: has no LATITUDE/LONGITUDE (or location .lat/.lon) columns; "
                "export the reports with their locations"
            )
        geoms = [point(r.get(lon), r.get(lat)) for r in rows]
        props = [_normalised({k: v for k, v in r.items() if k not in (lon, lat)}) for r in rows]
        ids = [str(_first(r, _ID) or "") or None for r in rows]
    return SourceRead(
        SourceFeatures(geoms, props, ids),
        option_defaults={"narrative_source_field": "narrative_source"},
    )
