"""Coordinate reference systems the public outputs can be given in: OGC CRS URIs, cached
pyproj transformers, and reprojection of whole coordinate arrays and boxes at once.

Places are stored, and published by default, in CRS84 (WGS84, longitude first). Another
CRS is produced from the public CRS84 output (rounded as published), never from a stored
position, so no answer says more about a place than the CRS84 one does. Axis order
follows each CRS's definition: EPSG:4326 is latitude first, CRS84 longitude first.

>>> project = projection(epsg_uri(4326))
>>> project(np.array([[-9.14, 38.71]])).tolist()
[[38.71, -9.14]]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geodata.errors import HeritageError
from geodata.features import PRECISION, Projection

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"
# Offered besides CRS84: WGS84 by its EPSG code (latitude first), web maps' Pseudo-Mercator
# and Portugal's national grid (ETRS89 / PT-TM06), which Lisbon's planners work in.
DEFAULT_EPSG = (4326, 3857, 3763)
GEOGRAPHIC_DECIMALS = PRECISION  # degrees: about 10 cm, as the CRS84 output
PROJECTED_DECIMALS = 3  # metres (or feet): a millimetre


class OutsideCRS(HeritageError):
    """Coordinates the requested CRS cannot express (outside where it is defined)."""

    code = "outside_crs"
    status = 400


def epsg_uri(code: int) -> str:
    """The OGC URI of an EPSG CRS, e.g. ``http://www.opengis.net/def/crs/EPSG/0/3763``."""
    return f"{EPSG_PREFIX}{int(code)}"


def check_epsg(code: int) -> None:
    """Raise ValueError unless ``code`` names a two-dimensional geographic or projected
    coordinate reference system PROJ knows (what a map position can be given in)."""
    try:
        crs = CRS.from_epsg(code)
    except CRSError:
        raise ValueError(f"EPSG:{code} is not a coordinate reference system PROJ knows") from None
    if not (crs.is_geographic or crs.is_projected) or len(crs.axis_info) != 2:
        raise ValueError(f"EPSG:{code} ({crs.name}) is not a 2D geographic or projected CRS")


def supported_crs(extra_epsg: Iterable[int] = ()) -> list[str]:
    """CRS84, the default EPSG systems and ``extra_epsg``, as URIs, each once."""
    uris = [CRS84, *(epsg_uri(c) for c in (*DEFAULT_EPSG, *extra_epsg))]
    return list(dict.fromkeys(uris))


@lru_cache(maxsize=64)
def crs_for(uri: str) -> CRS:
    """The pyproj CRS of an OGC URI (CRS84 or an EPSG code); ValueError otherwise."""
    if uri == CRS84:
        return CRS.from_user_input("OGC:CRS84")
    code = uri.removeprefix(EPSG_PREFIX)
    if code == uri or not code.isdigit():
        raise ValueError(f"{uri!r} is not a CRS84 or EPSG CRS URI")
    try:
        return CRS.from_epsg(int(code))
    except CRSError:
        raise ValueError(f"EPSG:{code} is not a coordinate reference system PROJ knows") from None


@lru_cache(maxsize=64)
def transformer(source: str, target: str) -> Transformer:
    """A transformer between two CRS URIs, in their authorities' axis order (pyproj's
    transformers are safe to share between threads)."""
    return Transformer.from_crs(crs_for(source), crs_for(target), always_xy=False)


def _decimals(uri: str) -> int:
    return GEOGRAPHIC_DECIMALS if crs_for(uri).is_geographic else PROJECTED_DECIMALS


@lru_cache(maxsize=64)
def projection(target: str) -> Projection | None:
    """What turns an (n, 2) array of CRS84 coordinates into published ``target`` ones,
    rounded as published; None for CRS84 itself (the output stays as it is).

    The input is rounded first as the CRS84 output is, so the answer in ``target`` is
    exactly the CRS84 answer transformed. Raises :class:`OutsideCRS` for coordinates the
    target cannot express.
    """
    if target == CRS84:
        return None
    t, decimals = transformer(CRS84, target), _decimals(target)

    def project(xy: np.ndarray) -> np.ndarray:
        if not len(xy):
            return np.asarray(xy, dtype=float).reshape(0, 2)
        source = np.round(xy, GEOGRAPHIC_DECIMALS)
        x, y = t.transform(source[:, 0], source[:, 1])
        out = np.column_stack([x, y])
        if not np.isfinite(out).all():
            raise OutsideCRS(
                f"{crs_for(target).name} cannot express some of these positions: they lie "
                "outside the area it is defined for; ask for CRS84 instead"
            )
        return np.round(out, decimals)

    return project


def bbox_to_crs84(bbox: tuple[float, float, float, float], source: str) -> tuple[float, ...]:
    """A box given in ``source`` (in its axis order) as the CRS84 box that encloses it: the
    edges are densified before transforming, so curved edges stay inside the result."""
    if source == CRS84:
        return bbox
    out = transformer(source, CRS84).transform_bounds(*bbox, densify_pts=21)
    if not all(math.isfinite(v) for v in out):
        raise OutsideCRS("the box lies outside the area its CRS is defined for")
    minx, miny, maxx, maxy = out
    if minx > maxx:
        raise OutsideCRS("the box crosses the antimeridian; split it in two")
    return (minx, miny, maxx, maxy)
