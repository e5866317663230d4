"""The OpenAPI 3.0 definition of the OGC API – Features endpoints (conformance class
``oas30``): FastAPI's own document is OpenAPI 3.1, which OGC clients do not read."""

from __future__ import annotations

from typing import Any

from geodata.vocabulary import Vocabulary

OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10


def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
        **extra,
    }


PARAMETERS: dict[str, dict[str, Any]] = {
    "f": _param(
        "f",
        "The representation: json (GeoJSON/JSON) or html.",
        {"type": "string", "enum": ["json", "html"]},
    ),
    "bbox": _param(
        "bbox",
        "Only features whose public location meets this box: min longitude, min latitude, "
        "max longitude, max latitude (WGS84, CRS84), or the lower and upper corner in the "
        "CRS bbox-crs names.",
        {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
    ),
    "datetime": _param(
        "datetime",
        "Only places recorded at this instant or in this interval (RFC 3339, '..' for an "
        "open end), e.g. 2024-01-01T00:00:00Z/.. ",
        {"type": "string"},
    ),
    "limit": _param(
        "limit",
        f"How many features per page (1 to {MAX_LIMIT}; larger values are read as {MAX_LIMIT}).",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    "offset": _param(
        "offset",
        "How many features to skip (the next links set it).",
        {"type": "integer", "minimum": 0, "default": 0},
    ),
    "neighbourhood": _param("neighbourhood", "Neighbourhood id, name or code.", {"type": "string"}),
}


def _responses(media: dict[str, str], description: str) -> dict[str, Any]:
    content = {
        m: {"schema": {"type": "object"} if m != "text/html" else {"type": "string"}}
        for m in media.values()
    }
    return {
        "200": {"description": description, "content": content},
        "400": {
            "description": "A parameter has a value that cannot be used.",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        },
        "404": {
            "description": "There is no such resource.",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        },
    }


def _get(
    summary: str,
    op: str,
    params: list[str],
    media: dict[str, str],
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "operationId": op,
            "tags": ["OGC API – Features"],
            "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params]
            + (extra or []),
            "responses": _responses(media, summary),
        }
    }


def crs_parameters(offered: list[str]) -> dict[str, dict[str, Any]]:
    """``crs`` and ``bbox-crs`` (OGC API – Features Part 2), naming the CRS on offer."""
    schema = {"type": "string", "format": "uri", "enum": offered, "default": offered[0]}
    return {
        "crs": _param(
            "crs",
            "The CRS of the features' coordinates, in its own axis order (EPSG:4326 latitude "
            "first, CRS84 longitude first); the answer's Content-Crs header names it.",
            schema,
        ),
        "bbox-crs": _param(
            "bbox-crs",
            "The CRS the bbox is given in, in its own axis order (default CRS84).",
            schema,
        ),
    }


def openapi_document(
    base: str, vocabulary: Vocabulary, version: str, offered: list[str]
) -> dict[str, Any]:
    """The definition of everything under ``base`` (the ``/ogc`` landing page's URL);
    ``offered`` lists the CRS the features can be read in (CRS84 first)."""
    json_html = {"json": "application/json", "html": "text/html"}
    geo = {"json": "application/geo+json", "html": "text/html"}
    category = _param(
        "category",
        "Category key(s), comma-separated.",
        {"type": "array", "items": {"type": "string", "enum": vocabulary.keys()}},
    )
    feature_id = {
        "name": "featureId",
        "in": "path",
        "required": True,
        "description": "The feature's stable id.",
        "schema": {"type": "string"},
    }
    paths: dict[str, Any] = {
        "/": _get("Landing page", "getLandingPage", ["f"], json_html),
        "/conformance": _get("Conformance classes", "getConformance", ["f"], json_html),
        "/api": _get(
            "This API definition",
            "getApi",
            ["f"],
            {"json": OPENAPI_MEDIA_TYPE, "html": "text/html"},
        ),
        "/collections": _get("Feature collections", "getCollections", ["f"], json_html),
    }
    for cid, title in (("places", "Heritage places"), ("neighbourhoods", "Neighbourhoods")):
        filters = ["neighbourhood"]
        extra = [category] if cid == "places" else []
        paths[f"/collections/{cid}"] = _get(
            f"{title}: description", f"describe_{cid}", ["f"], json_html
        )
        paths[f"/collections/{cid}/items"] = _get(
            f"{title}: features",
            f"get_{cid}_features",
            ["f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", *filters],
            geo,
            extra,
        )
        paths[f"/collections/{cid}/items/{{featureId}}"] = _get(
            f"{title}: one feature", f"get_{cid}_feature", ["f", "crs"], geo, [feature_id]
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Heritage Atlas – OGC API – Features",
            "version": version,
            "description": "Published heritage places (open-data consent only, no personal "
            "data, sensitive locations generalised or left out) and neighbourhoods.",
            "license": {"name": "Each place carries its own licence"},
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {"parameters": {**PARAMETERS, **crs_parameters(offered)}},
    }
