"""GPX 1.0/1.1 files: waypoints (``wpt``) become points and tracks (each ``trkseg``)
and routes (``rte``) lines, each with its ``name`` as the title and ``desc`` (else
``cmt``) as the narrative; a waypoint's ``type`` is the layer a
``--map category.NAME=KEY`` turns into a category key. The usual geometry rules apply,
so a track of more points than a route may have is refused, naming the limit.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from geodata.errors import SourceError
from geodata.io.sources import safe_xml
from geodata.io.sources.base import LAYER, SourceRead, number
from geodata.io.sources.generic import SourceFeatures

NAME = "gpx"
EXPECTS = "a GPX document (<gpx> with wpt, trk or rte)"
MAX_GPX_BYTES = 64 * 1024 * 1024


def sniff(path: Path, head: bytes) -> bool:
    return b"<gpx" in head


def _position(element: ET.Element) -> list[Any]:
    return [number(element.get("lon")), number(element.get("lat"))]


def _props(element: ET.Element) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for tag in ("name", "desc", "cmt", "type", "sym", "src"):
        value = safe_xml.text_of(element, tag)
        if value is not None:
            props[tag] = value
    if "name" in props:
        props["title"] = props["name"]
    narrative = props.get("desc") or props.get("cmt")
    if narrative:
        props["narrative"] = narrative
    if "type" in props:
        props[LAYER] = props["type"]
    link = element.find("link")
    if link is not None and link.get("href"):
        props["link"] = link.get("href")
    return props


def read(path: Path, geopoint: str | None = None) -> SourceRead:
    """The features of ``path`` (``geopoint``: only for the XLSForm readers)."""
    if path.stat().st_size > MAX_GPX_BYTES:
        raise SourceError(f"{path}: is over {MAX_GPX_BYTES // 2**20} MB of GPX")
    root = safe_xml.parse(path.read_bytes(), str(path))
    if root.tag != "gpx":
        raise SourceError(f"{path}: is not a GPX document (its root is <{root.tag}>)")
    geoms: list[Any] = []
    props: list[dict[str, Any]] = []
    for wpt in root.iter("wpt"):
        geoms.append({"type": "Point", "coordinates": _position(wpt)})
        props.append(_props(wpt))
    for trk in root.iter("trk"):
        segments = trk.findall("trkseg")
        for n, seg in enumerate(segments, 1):
            p = _props(trk)
            if len(segments) > 1 and "title" in p:
                p["title"] = f"{p['title']} ({n}/{len(segments)})"
            geoms.append(
                {"type": "LineString", "coordinates": [_position(pt) for pt in seg.iter("trkpt")]}
            )
            props.append(p)
    for rte in root.iter("rte"):
        geoms.append(
            {"type": "LineString", "coordinates": [_position(pt) for pt in rte.iter("rtept")]}
        )
        props.append(_props(rte))
    return SourceRead(SourceFeatures(geoms, props, [None] * len(geoms)))
