"""OGC API – Features Part 2 (Coordinate Reference Systems by Reference): which CRS the
collections offer, the ``crs`` and ``bbox-crs`` parameters, and the ``Content-Crs``
header that says which one an answer is in."""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import Request

from geodata.crs import CRS84, epsg_uri, supported_crs
from geodata.errors import FieldProblem
from web.routes.ogc_params import BadParameter
from web.settings import Settings

CONFORMANCE_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
# Short forms people type (EPSG:3763, [EPSG:3763], OGC:CRS84), read as the URIs they name.
_SHORT = re.compile(r"\[?(EPSG|OGC):(\d+|CRS84)\]?", re.IGNORECASE)


def offered_crs(settings: Settings) -> list[str]:
    """The CRS every collection can be read in (CRS84 first), as URIs."""
    return supported_crs(settings.extra_crs)


def _uri(text: str) -> str:
    short = _SHORT.fullmatch(text.strip())
    if short is None:
        return text.strip()
    authority, code = short.group(1).upper(), short.group(2).upper()
    if authority == "OGC" and code == "CRS84":
        return CRS84
    return epsg_uri(int(code)) if authority == "EPSG" and code.isdigit() else text


def requested_crs(request: Request, name: str, offered: Sequence[str]) -> str:
    """The CRS URI the ``name`` parameter (``crs`` or ``bbox-crs``) asks for; CRS84 when
    absent; a 400 naming the parameter when it is not one of ``offered``."""
    raw = request.query_params.get(name)
    if raw is None:
        return CRS84
    uri = _uri(raw)
    if uri not in offered:
        message = f"{name}: {raw[:200]!r} is not offered here; use one of {', '.join(offered)}"
        raise BadParameter(message, problems=[FieldProblem(name, "unknown_crs", message)])
    return uri


def content_crs(uri: str) -> dict[str, str]:
    """The ``Content-Crs`` header of an answer whose coordinates are in ``uri``."""
    return {"Content-Crs": f"<{uri}>"}
