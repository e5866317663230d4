"""Reading features (geometry + properties) from GeoJSON, CSV and any file GDAL reads:
the importer's own formats, read when no community tool's export is recognised."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geodata.errors import SourceError
from geodata.neighbourhoods import read_vector_file, to_wgs84

LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
_WGS84_CRS_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
}


@dataclass
class SourceFeatures:
    """Features read from a file: parallel lists of geometries and property dicts.

    A geometry is a GeoJSON mapping (unchecked, straight from the file) or a shapely
    geometry (from GDAL, already reprojected to EPSG:4326); ``ids`` names each feature
    for reports.
    """

    geometries: list[Any]
    properties: list[dict[str, Any]]
    ids: list[str | None]

    def __len__(self) -> int:
        return len(self.geometries)


def _geojson_id(feature: dict, props: dict) -> str | None:
    for value in (feature.get("id"), props.get("id"), props.get("osm_id")):
        if value not in (None, ""):
            return str(value)
    return None


def read_geojson_bytes(data: bytes, label: str = "input") -> SourceFeatures | None:
    """Features of a GeoJSON FeatureCollection (or single Feature) held in memory.

    Returns None when the document declares a CRS other than longitude/latitude, so the
    caller can read it through GDAL, which reprojects.
    """
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{label}: is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise SourceError(f"{label}: is not a GeoJSON object")
    crs = doc.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name")
        if name and name not in _WGS84_CRS_NAMES:
            return None
    if doc.get("type") == "Feature":
        features = [doc]
    elif doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
        features = doc["features"]
    else:
        raise SourceError(f"{label}: is not a GeoJSON FeatureCollection or Feature")
    geoms, props, ids = [], [], []
    for f in features:
        if not isinstance(f, dict):
            f = {}
        p = f.get("properties")
        p = p if isinstance(p, dict) else {}
        geoms.append(f.get("geometry"))
        props.append(p)
        ids.append(_geojson_id(f, p))
    return SourceFeatures(geoms, props, ids)


def _number(text: str) -> Any:
    try:
        return float(text)
    except (TypeError, ValueError):
        return text  # left as text: validation says "coordinates must be numbers"


def read_csv_bytes(data: bytes, label: str = "input") -> SourceFeatures:
    """Points from a CSV with longitude/latitude columns (lon/lng/longitude/x, lat/latitude/y)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{label}: is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = reader.fieldnames or []
    lower = {f.lower().strip(): f for f in fields}
    lon = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in LAT_NAMES if n in lower), None)
    if lon is None or lat is None:
        raise SourceError(
            f"{label}: a CSV needs longitude and latitude columns (named lon/lat "
            f"or longitude/latitude); its columns are {', '.join(fields) or 'none'}"
        )
    geoms, props, ids = [], [], []
    try:
        for row in reader:
            geoms.append({"type": "Point", "coordinates": [_number(row[lon]), _number(row[lat])]})
            p = {k: v for k, v in row.items() if k not in (lon, lat) and k is not None}
            props.append(p)
            ids.append(p.get("id") or None)
    except csv.Error as exc:
        raise SourceError(f"{label}: is not a readable CSV ({exc})") from None
    return SourceFeatures(geoms, props, ids)


def read_with_gdal(path: Path) -> SourceFeatures:
    gdf = to_wgs84(read_vector_file(path), path)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    frame = gdf[columns].astype(object).where(pd.notna(gdf[columns]), None)
    props = frame.to_dict("records")
    geoms: list[BaseGeometry | None] = list(gdf.geometry.values)
    ids = [str(p["id"]) if p.get("id") not in (None, "") else None for p in props]
    return SourceFeatures(geoms, props, ids)


def read_features(path: str | Path) -> SourceFeatures:
    """Features of a GeoJSON, CSV, GeoPackage, zipped Shapefile or other vector file."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        features = read_geojson_bytes(path.read_bytes(), str(path))
        if features is not None:
            return features
    elif suffix == ".csv":
        return read_csv_bytes(path.read_bytes(), str(path))
    return read_with_gdal(path)
