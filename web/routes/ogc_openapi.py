"""The OpenAPI 3.0 definition of the OGC API – Features endpoints (conformance class
``oas30``): FastAPI's own document is OpenAPI 3.1, which OGC clients do not read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from geodata.features import PROPERTIES
from geodata.queryables import QUERYABLES, sortables
from geodata.tilematrix import MAX_ZOOM
from geodata.vocabulary import Vocabulary
from web.i18n import N_
from web.routes.ogc_filter import FILTER_LANGUAGES, QUERYABLE_PARAMETERS
from web.routes.ogc_property_words import QUERYABLE_WORDS
from web.routes.ogc_tiles_openapi import ONE_REPRESENTATION, ZOOM_LEVELS

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


# Descriptions made from a template (the HTML page fills them in the reader's language).
LIMIT_DESCRIPTION = N_("How many features per page (1 to {max}; larger values are read as {max}).")
QUERYABLE_DESCRIPTION = N_("Only places whose {what} is this value.")


def parameter_description(param: dict[str, Any], gettext: Callable[[str], str]) -> str:
    """A parameter's description in the reader's language (for the API's HTML page)."""
    name = param.get("name")
    if name == "f" and len(param.get("schema", {}).get("enum", ())) == 1:
        return gettext(ONE_REPRESENTATION).format(value=param["schema"]["enum"][0])
    if name == "tileMatrix":
        return gettext(ZOOM_LEVELS).format(max=MAX_ZOOM)
    if name == "limit":
        return gettext(LIMIT_DESCRIPTION).format(max=MAX_LIMIT)
    if name in QUERYABLE_PARAMETERS and param.get("in") == "query":
        title = gettext(QUERYABLE_WORDS[str(name)].title)
        return gettext(QUERYABLE_DESCRIPTION).format(what=title.lower())
    return gettext(param.get("description") or "")


PARAMETERS: dict[str, dict[str, Any]] = {
    "f": _param(
        "f",
        N_("The representation: json (GeoJSON/JSON) or html."),
        {"type": "string", "enum": ["json", "html"]},
    ),
    "bbox": _param(
        "bbox",
        N_(
            "Only features whose public location meets this box: min longitude, min latitude, "
            "max longitude, max latitude (WGS84, CRS84), or the lower and upper corner in the "
            "CRS bbox-crs names."
        ),
        {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
    ),
    "datetime": _param(
        "datetime",
        N_(
            "Only places recorded at this instant or in this interval (RFC 3339, '..' for an "
            "open end), e.g. 2024-01-01T00:00:00Z/.. "
        ),
        {"type": "string"},
    ),
    "limit": _param(
        "limit",
        LIMIT_DESCRIPTION.format(max=MAX_LIMIT),
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    "offset": _param(
        "offset",
        N_("How many features to skip (the next links set it)."),
        {"type": "integer", "minimum": 0, "default": 0},
    ),
    "neighbourhood": _param(
        "neighbourhood", N_("Neighbourhood id, name or code."), {"type": "string"}
    ),
}


def filter_parameters(offered: list[str]) -> dict[str, dict[str, Any]]:
    """OGC API – Features Part 3 (filter, filter-lang, filter-crs), one parameter per
    simple queryable (equality), sortby and properties: the parameters of places' items."""
    sort_terms = [f"{sign}{name}" for name in sortables() for sign in ("", "+", "-")]
    params = {
        "filter": _param(
            "filter",
            N_(
                "A CQL2 expression (text or JSON, as filter-lang says) over the queryables "
                "(see /collections/places/queryables), e.g. year_from >= 1800 AND "
                "CASEI(title) LIKE '%igreja%'. At most 8000 characters, 20 levels of nesting "
                "and 200 terms."
            ),
            {"type": "string", "maxLength": 8000},
            examples={
                name: {"value": value}
                for name, value in (
                    ("comparison", "year_from >= 1800 AND category IN ('museum', 'theatre')"),
                    ("text", "CASEI(title) LIKE '%igreja%' OR ACCENTI(title) = 'Se'"),
                    ("spatial", "S_DWITHIN(geometry, POINT(-9.1393 38.7139), 500)"),
                    (
                        "temporal",
                        "T_INTERSECTS(INTERVAL(year_from, year_to), "
                        "INTERVAL('1900-01-01', '1950-12-31'))",
                    ),
                    ("language", "language = 'pt' AND NOT year_from IS NULL"),
                )
            },
        ),
        "filter-lang": _param(
            "filter-lang",
            N_(
                "The language of filter: cql2-text (the default; cql-text is read as the same) "
                "or cql2-json."
            ),
            {"type": "string", "enum": list(FILTER_LANGUAGES), "default": "cql2-text"},
        ),
        "filter-crs": _param(
            "filter-crs",
            N_("The CRS of the geometries in filter, in its own axis order (default CRS84)."),
            {"type": "string", "format": "uri", "enum": offered, "default": offered[0]},
        ),
        "sortby": _param(
            "sortby",
            N_(
                "Sort by these properties, each prefixed with + (ascending, the default) or - "
                "(descending); empty values come last."
            ),
            {"type": "array", "items": {"type": "string", "enum": sort_terms}},
        ),
        "properties": _param(
            "properties",
            N_("Return only these properties of each feature."),
            {"type": "array", "items": {"type": "string", "enum": list(PROPERTIES)}},
        ),
    }
    for name in QUERYABLE_PARAMETERS:
        q = QUERYABLES[name]
        kind = "integer" if q.kind == "integer" else "string"
        described = QUERYABLE_DESCRIPTION.format(what=QUERYABLE_WORDS[name].title.lower())
        params[name] = _param(name, described, {"type": kind})
    return params


def _responses(media: dict[str, str], description: str) -> dict[str, Any]:
    content = {
        m: {"schema": {"type": "object"} if m != "text/html" else {"type": "string"}}
        for m in media.values()
    }
    return {
        "200": {"description": description, "content": content},
        "400": {
            "description": N_("A parameter has a value that cannot be used."),
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        },
        "404": {
            "description": N_("There is no such resource."),
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
            N_(
                "The CRS of the features' coordinates, in its own axis order (EPSG:4326 latitude "
                "first, CRS84 longitude first); the answer's Content-Crs header names it."
            ),
            schema,
        ),
        "bbox-crs": _param(
            "bbox-crs",
            N_("The CRS the bbox is given in, in its own axis order (default CRS84)."),
            schema,
        ),
    }


# The second halves of the paths' summaries ("Heritage places: features"), which the
# API's HTML page translates piece by piece.
SUMMARY_WORDS = (
    N_("what a filter can name"),
    N_("the properties and their types"),
    N_("one GeoJSON feature"),
    N_("description"),
    N_("features"),
    N_("one feature"),
)


def openapi_document(
    base: str, vocabulary: Vocabulary, version: str, offered: list[str]
) -> dict[str, Any]:
    """The definition of everything under ``base`` (the ``/ogc`` landing page's URL);
    ``offered`` lists the CRS the features can be read in (CRS84 first)."""
    json_html = {"json": "application/json", "html": "text/html"}
    geo = {"json": "application/geo+json", "html": "text/html"}
    category = _param(
        "category",
        N_("Category key(s), comma-separated."),
        {"type": "array", "items": {"type": "string", "enum": vocabulary.keys()}},
    )
    feature_id = {
        "name": "featureId",
        "in": "path",
        "required": True,
        "description": N_("The feature's stable id."),
        "schema": {"type": "string"},
    }
    paths: dict[str, Any] = {
        "/": _get(N_("Landing page"), "getLandingPage", ["f"], json_html),
        "/conformance": _get(N_("Conformance classes"), "getConformance", ["f"], json_html),
        "/api": _get(
            N_("This API definition"),
            "getApi",
            ["f"],
            {"json": OPENAPI_MEDIA_TYPE, "html": "text/html"},
        ),
        "/collections": _get(N_("Feature collections"), "getCollections", ["f"], json_html),
    }
    filtering = filter_parameters(offered)
    schema_media = {"json": "application/schema+json", "html": "text/html"}
    collections = (
        ("places", N_("Heritage places")),
        ("neighbourhoods", N_("Neighbourhoods")),
        ("walks", N_("Walks")),
    )
    for cid, title in collections:
        filters = ["neighbourhood", *(filtering if cid == "places" else [])]
        extra = [category] if cid == "places" else []
        if cid == "places":
            paths[f"/collections/{cid}/queryables"] = _get(
                f"{title}: what a filter can name", f"get_{cid}_queryables", ["f"],
                schema_media,
            )  # fmt: skip
        paths[f"/collections/{cid}/schema"] = _get(
            f"{title}: the properties and their types", f"get_{cid}_schema", ["f"], schema_media
        )
        paths[f"/collections/{cid}/feature-schema"] = _get(
            f"{title}: one GeoJSON feature", f"get_{cid}_feature_schema", [],
            {"json": "application/schema+json"},
        )  # fmt: skip
        paths[f"/collections/{cid}"] = _get(
            f"{title}: description", f"describe_{cid}", ["f"], json_html
        )
        core = ["f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset"]
        paths[f"/collections/{cid}/items"] = _get(
            f"{title}: features",
            f"get_{cid}_features",
            core if cid == "walks" else [*core, *filters],
            geo,
            extra,
        )
        paths[f"/collections/{cid}/items/{{featureId}}"] = _get(
            f"{title}: one feature",
            f"get_{cid}_feature",
            ["f", "crs"],
            geo,
            [feature_id],
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": N_("Heritage Atlas – OGC API – Features"),
            "version": version,
            "description": N_(
                "Published heritage places (open-data consent only, no personal "
                "data, sensitive locations generalised or left out), neighbourhoods and walks."
            ),
            "license": {"name": "Each place carries its own licence"},
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "parameters": {**PARAMETERS, **crs_parameters(offered), **filter_parameters(offered)}
        },
    }
