"""Neighbourhoods: importing their boundaries, and assigning places to them.

Assignment rule: a point belongs to the neighbourhood that contains it (on a shared
boundary, the one with the lowest id). A route or an area belongs to the
neighbourhood it overlaps most: the longest stretch of route, the largest share of
area. A place outside every neighbourhood has none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.errors import Rejection, SourceError
from geodata.geometry_rules import M_PER_DEG_LAT, M_PER_DEG_LON
from geodata.models import Neighbourhood

NAME_FIELD_GUESSES = ("name", "Name", "NAME", "nome", "NOME", "nom", "NOM", "title")


@dataclass
class NeighbourhoodImport:
    """What reading a boundary file gave: the polygons to store, and what was refused."""

    items: list[tuple[str, BaseGeometry, str | None]]
    repaired: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    source_crs: str | None = None


def read_vector_file(path: str | Path) -> gpd.GeoDataFrame:
    """Read any vector file GDAL knows (GeoJSON, GeoPackage, zipped Shapefile...).

    Raises SourceError with a one-line reason when the file is missing or not vector data.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read this"
        raise SourceError(
            f"{path}: cannot be read as vector data ({_gdal_reason(exc, path)})"
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise SourceError(f"{path}: has no geometry column")
    return gdf


def _gdal_reason(exc: Exception, path: Path) -> str:
    """GDAL's first sentence, without the path it repeats."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.replace(f"'{path}'", "the file").replace(str(path), "the file")
    return re.split(r"\.[;\s]", text)[0].rstrip(".")


def to_wgs84(gdf: gpd.GeoDataFrame, path: str | Path) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 from whatever CRS the file declares.

    A file with no CRS is taken as longitude/latitude only if its coordinates fit.
    """
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds if len(gdf) else (0, 0, 0, 0)
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise SourceError(
                f"{path}: declares no coordinate reference system and its "
                "coordinates are not longitude/latitude; add a .prj or CRS"
            )
        return gdf.set_crs(4326)
    if gdf.crs.to_epsg() != 4326:
        return gdf.to_crs(4326)
    return gdf


def _pick_field(gdf: gpd.GeoDataFrame, wanted: str | None, path: str | Path) -> str:
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if wanted is not None:
        if wanted not in columns:
            raise SourceError(
                f"{path}: has no field {wanted!r}; its fields are "
                f"{', '.join(map(str, columns)) or 'none'}"
            )
        return wanted
    for guess in NAME_FIELD_GUESSES:
        if guess in columns:
            return guess
    for c in columns:
        if pd.api.types.is_string_dtype(gdf[c]) or gdf[c].dtype == object:
            return c
    raise SourceError(
        f"{path}: no text field to name the neighbourhoods by; choose one with --name-field"
    )


def read_neighbourhoods(
    path: str | Path, name_field: str | None = None, code_field: str | None = None
) -> NeighbourhoodImport:
    """Read neighbourhood polygons from a vector file, repaired or refused with the reason."""
    gdf = read_vector_file(path)
    source_crs = gdf.crs.to_string() if gdf.crs is not None else None
    gdf = to_wgs84(gdf, path)
    name_col = _pick_field(gdf, name_field, path)
    code_col = _pick_field(gdf, code_field, path) if code_field else None
    result = NeighbourhoodImport(items=[], source_crs=source_crs)
    geoms = gdf.geometry.values
    valid = shapely.is_valid(np.asarray(geoms))
    for i, (geom, ok) in enumerate(zip(geoms, valid, strict=True)):
        raw_name = gdf[name_col].iloc[i]
        name = "" if raw_name is None or pd.isna(raw_name) else str(raw_name).strip()
        label = name or f"feature {i + 1}"
        if not name:
            result.rejected.append(
                Rejection(i, None, "no_name", f"{label}: the field {name_col!r} is empty")
            )
            continue
        if geom is None or geom.is_empty:
            result.rejected.append(Rejection(i, name, "empty", f"{label}: has no geometry"))
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            result.rejected.append(
                Rejection(i, name, "not_polygon", f"{label}: is a {geom.geom_type}, not an area")
            )
            continue
        if not ok:
            reason = shapely.is_valid_reason(geom)
            fixed = shapely.make_valid(geom)
            parts = [
                p
                for p in shapely.get_parts(fixed)
                if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty
            ]
            fixed = shapely.union_all(parts) if parts else None
            if fixed is None or fixed.is_empty or fixed.area < 0.5 * geom.area:
                result.rejected.append(
                    Rejection(
                        i,
                        name,
                        "invalid_polygon",
                        f"{label}: its outline is invalid ({reason}) and cannot be repaired",
                    )
                )
                continue
            result.repaired.append(f"{label}: repaired an invalid outline ({reason})")
            geom = fixed
        geom = shapely.orient_polygons(geom)
        code = None
        if code_col is not None and not pd.isna(gdf[code_col].iloc[i]):
            code = str(gdf[code_col].iloc[i])
        result.items.append((name, geom, code))
    return result


def _measure(geoms: np.ndarray) -> np.ndarray:
    """Length for routes, area for areas, in local metres (only compared, never shown)."""

    def metric(c: np.ndarray) -> np.ndarray:
        out = np.empty_like(c)
        out[:, 0] = c[:, 0] * M_PER_DEG_LON * np.cos(np.radians(c[:, 1]))
        out[:, 1] = c[:, 1] * M_PER_DEG_LAT
        return out

    projected = shapely.transform(geoms, metric)
    return np.where(
        shapely.get_dimensions(geoms) == 2, shapely.area(projected), shapely.length(projected)
    )


def assign_neighbourhoods(
    geometries: Sequence[BaseGeometry] | np.ndarray, neighbourhoods: Sequence[Neighbourhood]
) -> list[int | None]:
    """The neighbourhood id of each geometry (None outside all), by a geopandas spatial join.

    >>> assign_neighbourhoods([], [])
    []
    """
    geoms = np.asarray(geometries, dtype=object)
    n = len(geoms)
    if n == 0 or not neighbourhoods:
        return [None] * n
    places = gpd.GeoDataFrame({"idx": np.arange(n)}, geometry=gpd.GeoSeries(geoms, crs=4326))
    hoods = gpd.GeoDataFrame(
        {"nid": [nb.id for nb in neighbourhoods]},
        geometry=[nb.geometry for nb in neighbourhoods],
        crs=4326,
    )
    # The places on the indexed side, the few neighbourhoods as queries: each outline is
    # prepared once and tested against the places its box holds. The other way round
    # (a query per place) took twice as long for 100,000 points.
    joined = gpd.sjoin(hoods, places, how="inner", predicate="intersects")
    out = np.full(n, -1, dtype=np.int64)
    if joined.empty:
        return [None] * n
    idx = joined["idx"].to_numpy()
    nid = joined["nid"].to_numpy()
    order = np.lexsort((nid, idx))
    idx, nid = idx[order], nid[order]
    first = np.unique(idx, return_index=True)[1]
    out[idx[first]] = nid[first]
    # Routes and areas touching several neighbourhoods go to the largest overlap.
    counts = np.bincount(idx, minlength=n)
    multi = (counts > 1) & (shapely.get_dimensions(geoms) > 0)
    if multi.any():
        sel = multi[idx]
        m_idx, m_nid = idx[sel], nid[sel]
        nb_geom = dict(zip(hoods["nid"], hoods.geometry.values, strict=True))
        overlap = _measure(
            shapely.intersection(geoms[m_idx], np.array([nb_geom[k] for k in m_nid]))
        )
        frame = pd.DataFrame({"idx": m_idx, "nid": m_nid, "overlap": overlap})
        best = frame.sort_values(["idx", "overlap", "nid"], ascending=[True, False, True])
        best = best.drop_duplicates("idx")
        out[best["idx"].to_numpy()] = best["nid"].to_numpy()
    return [None if v < 0 else int(v) for v in out]
