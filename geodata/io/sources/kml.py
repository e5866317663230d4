"""KML and KMZ, as Google My Maps exports them: each ``Placemark``'s ``name`` is the
title and its ``description`` (HTML) the narrative, tags removed and entities decoded;
the folder (My Maps layer) holding it is the layer a ``--map category.NAME=KEY`` turns
into a category key; ``ExtendedData`` fields are kept under their names.

A KMZ is a zip holding ``doc.kml``: its entries and its uncompressed size are capped,
whatever the zip's headers claim, and the XML is parsed with document types refused
(:mod:`.safe_xml`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from geodata.errors import SourceError
from geodata.io.sources import safe_xml
from geodata.io.sources.base import LAYER, SourceRead, number
from geodata.io.sources.generic import SourceFeatures
from geodata.text import html_to_text

NAME = "kml"
EXPECTS = "a KML document (<kml>) or a KMZ zip holding doc.kml"

MAX_KMZ_ENTRIES = 1000
MAX_KML_BYTES = 64 * 1024 * 1024  # uncompressed


def sniff(path: Path, head: bytes) -> bool:
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                return any(n.lower().endswith(".kml") for n in zf.namelist()[:MAX_KMZ_ENTRIES])
        except (zipfile.BadZipFile, OSError):
            return False
    return b"<kml" in head


def _kml_bytes(path: Path) -> bytes:
    """The KML of a .kml file, or of the main .kml entry of a KMZ (read at most
    MAX_KML_BYTES, so a zip bomb is refused whatever its headers say)."""
    label = str(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":
        if path.stat().st_size > MAX_KML_BYTES:
            raise SourceError(f"{label}: is over {MAX_KML_BYTES // 2**20} MB of KML")
        return path.read_bytes()
    try:
        with zipfile.ZipFile(path) as zf:
            entries = zf.infolist()
            if len(entries) > MAX_KMZ_ENTRIES:
                raise SourceError(
                    f"{label}: a KMZ of {len(entries):,} entries is refused; "
                    f"the limit is {MAX_KMZ_ENTRIES:,}"
                )
            if sum(e.file_size for e in entries) > 4 * MAX_KML_BYTES:
                raise SourceError(f"{label}: the KMZ unpacks to too much data; refused")
            kmls = [e for e in entries if e.filename.lower().endswith(".kml")]
            if not kmls:
                raise SourceError(f"{label}: the KMZ holds no .kml document")
            main = next((e for e in kmls if e.filename.lower() == "doc.kml"), kmls[0])
            with zf.open(main) as fh:
                data = fh.read(MAX_KML_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        raise SourceError(f"{label}: is not a readable KMZ ({exc})") from None
    if len(data) > MAX_KML_BYTES:
        raise SourceError(
            f"{label}: {main.filename} unpacks to over {MAX_KML_BYTES // 2**20} MB; refused"
        )
    return data


def _coordinates(text: str | None) -> list[list[Any]]:
    out = []
    for tuple_ in (text or "").split():
        parts = tuple_.split(",")
        out.append([number(parts[0]), number(parts[1]) if len(parts) > 1 else None])
    return out


def _geometry(element: ET.Element) -> dict[str, Any] | None:
    tag = element.tag
    if tag == "Point":
        coords = _coordinates(safe_xml.text_of(element, "coordinates"))
        return {"type": "Point", "coordinates": coords[0] if coords else []}
    if tag == "LineString":
        return {
            "type": "LineString",
            "coordinates": _coordinates(safe_xml.text_of(element, "coordinates")),
        }
    if tag == "Polygon":
        rings = [
            _coordinates(safe_xml.text_of(ring, "coordinates"))
            for boundary in element
            if boundary.tag in ("outerBoundaryIs", "innerBoundaryIs")
            for ring in boundary.iter("LinearRing")
        ]
        return {"type": "Polygon", "coordinates": rings}
    if tag == "MultiGeometry":
        parts = [g for g in (_geometry(child) for child in element) if g]
        return {"type": "GeometryCollection", "geometries": parts}
    return None


_GEOMETRY_TAGS = ("Point", "LineString", "Polygon", "MultiGeometry")


def _placemark(element: ET.Element, folder: str | None) -> tuple[Any, dict[str, Any]]:
    props: dict[str, Any] = {}
    for data in element.iter("Data"):
        if data.get("name"):
            props[data.get("name")] = safe_xml.text_of(data, "value")
    for data in element.iter("SimpleData"):
        if data.get("name"):
            props[data.get("name")] = "".join(data.itertext()).strip() or None
    name = safe_xml.text_of(element, "name")
    if name is not None:
        props["title"] = name
    description = safe_xml.text_of(element, "description")
    if description is not None:
        props["narrative"] = html_to_text(description)
    if folder is not None:
        props[LAYER] = folder
    geometry = next((_geometry(c) for c in element if c.tag in _GEOMETRY_TAGS), None)
    return geometry, props


def read(path: Path, geopoint: str | None = None) -> SourceRead:
    """The features of ``path`` (``geopoint``: only for the XLSForm readers)."""
    root = safe_xml.parse(_kml_bytes(path), str(path))
    if root.tag != "kml":
        raise SourceError(f"{path}: is not a KML document (its root is <{root.tag}>)")
    geoms: list[Any] = []
    props: list[dict[str, Any]] = []
    ids: list[str | None] = []

    def walk(element: ET.Element, folder: str | None) -> None:
        for child in element:
            if child.tag == "Folder":
                walk(child, safe_xml.text_of(child, "name") or folder)
            elif child.tag == "Document":
                walk(child, folder)
            elif child.tag == "Placemark":
                geometry, p = _placemark(child, folder)
                geoms.append(geometry)
                props.append(p)
                ids.append(child.get("id") or None)

    walk(root, None)
    return SourceRead(SourceFeatures(geoms, props, ids))
