"""What a collection's features hold, as JSON Schema (draft 2020-12): the queryables of
``places`` (OGC API – Features Part 3) and the typed properties of each collection's
features (Part 5, Schemas), so that clients such as QGIS see whole numbers as integers,
times as date-times and categories as a closed list with their labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import langcodes

from geodata.models import Neighbourhood, Provenance
from geodata.queryables import QUERYABLES, Queryable
from geodata.vocabulary import Vocabulary
from web.routes.ogc_property_words import (
    NEIGHBOURHOOD_WORDS,
    PLACE_WORDS,
    QUERYABLE_WORDS,
    QUERYABLES_DESCRIPTION,
)

SCHEMA_MEDIA_TYPE = "application/schema+json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
CONFORMANCE_SCHEMA = "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_SCHEMA = "http://www.opengis.net/def/rel/ogc/1.0/schema"
GEOMETRY = {"format": "geometry-any", "$ref": "https://geojson.org/schema/Geometry.json"}


def schema_links(url: Callable[..., str], cid: str, title: str) -> list[dict]:
    """Links to the JSON Schema of the features (Part 5; ``describedby`` is where GDAL
    looks) and, for places, of their queryables (Part 3).

    The ``describedby`` link comes twice, the second time spelt ``describedBy``: link
    relations compare without case (RFC 8288), but GDAL before 3.7 (Debian 12's 3.6, which
    QGIS there uses too) looks for that spelling only, and without the schema it types
    every field by the first ten features (years all empty there: text, and a filter on
    them fails)."""
    feature_schema = {
        "href": url(f"/collections/{cid}/feature-schema"),
        "rel": "describedby",
        "type": SCHEMA_MEDIA_TYPE,
        "title": f"{title}: one GeoJSON feature",
    }
    links = [
        {
            "href": url(f"/collections/{cid}/schema"),
            "rel": REL_SCHEMA,
            "type": SCHEMA_MEDIA_TYPE,
            "title": f"{title}: the properties and their types",
        },
        feature_schema,
        {**feature_schema, "rel": "describedBy"},
    ]
    if cid == "places":
        links.append(
            {
                "href": url(f"/collections/{cid}/queryables"),
                "rel": REL_QUERYABLES,
                "type": SCHEMA_MEDIA_TYPE,
                "title": f"{title}: queryables",
            }
        )
    return links


def _labelled(values: list[tuple[Any, str]], kind: str) -> dict[str, Any]:
    """A closed list of values, each with its label (``oneOf`` of ``const`` and ``title``,
    and the plain ``enum`` for clients that read only that)."""
    return {
        "type": kind,
        "enum": [v for v, _ in values],
        "oneOf": [{"const": v, "title": label} for v, label in values],
    }


def language_name(tag: str, language: str) -> str:
    try:
        return str(langcodes.Language.get(tag).display_name(language))
    except (ValueError, LookupError):
        return tag


def _base(q: Queryable) -> dict[str, Any]:
    kinds = {"string": "string", "integer": "integer", "language": "string"}
    out: dict[str, Any] = QUERYABLE_WORDS[q.name].schema()
    if q.kind == "timestamp":
        out |= {"type": "string", "format": "date-time"}
    elif q.kind == "geometry":
        out |= GEOMETRY
    else:
        out["type"] = kinds[q.kind]
    return out


def property_types(
    vocabulary: Vocabulary,
    neighbourhoods: list[Neighbourhood],
    languages: list[str],
    language: str,
) -> dict[str, dict[str, Any]]:
    """The JSON Schema of every queryable (labels in ``language`` where there are some)."""
    out = {name: _base(q) for name, q in QUERYABLES.items()}
    out["category"] |= _labelled([(c.key, c.label(language)) for c in vocabulary], "string")
    if neighbourhoods:
        out["neighbourhood"]["enum"] = sorted({n.name for n in neighbourhoods})
        out["neighbourhood_id"] |= _labelled([(n.id, n.name) for n in neighbourhoods], "integer")
    if languages:
        out["language"] |= _labelled([(t, language_name(t, language)) for t in languages], "string")
    out["year_from"] |= {"minimum": -10_000, "maximum": 9_999}
    out["year_to"] |= {"minimum": -10_000, "maximum": 9_999}
    return out


def queryables_document(url: str, title: str, types: dict[str, dict[str, Any]]) -> dict:
    """``/collections/places/queryables``: what ``filter`` and the query parameters take."""
    return {
        "$schema": DRAFT,
        "$id": url,
        "type": "object",
        "title": title,
        "description": QUERYABLES_DESCRIPTION,
        "properties": types,
        "additionalProperties": False,
    }


def _string_list(name: str, values: list[str] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string"}
    if values:
        items["enum"] = values
    return {**PLACE_WORDS[name].schema(), "type": "array", "items": items}


def places_schema(url: str, title: str, types: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``/collections/places/schema``: each property of a feature and its type."""

    def same(name: str, **extra: Any) -> dict[str, Any]:
        return {**types[name], **extra}

    narrative = {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "language": {"type": "string", "description": "BCP 47 tag"},
            "provenance": {"type": "string", "enum": [str(p) for p in Provenance]},
            "source": {"type": "string"},
            "licence": {"type": "string"},
        },
        "required": ["text", "language", "provenance"],
    }
    properties = {
        "id": same("id", **{"x-ogc-role": "id"}),
        "geometry": same("geometry", **{"x-ogc-role": "primary-geometry"}),
        "title": same("title"),
        "narratives": {**PLACE_WORDS["narratives"].schema(), "type": "array", "items": narrative},
        "languages": _string_list("languages"),
        "category": same("category"),
        "period": same("period"),
        "year_from": same("year_from"),
        "year_to": same("year_to"),
        "tags": _string_list("tags"),
        "licence": same("licence"),
        "attribution": same("attribution"),
        "consent": _string_list("consent", ["publish", "open_data", "research"]),
        "workshop": {**PLACE_WORDS["workshop"].schema(), "type": "string"},
        "location_generalised": {**PLACE_WORDS["location_generalised"].schema(), "type": "boolean"},
        "created_at": same("created_at"),
        "updated_at": same("updated_at"),
        "version": {**PLACE_WORDS["version"].schema(), "type": "integer", "minimum": 1},
        "neighbourhood_id": same("neighbourhood_id"),
        "neighbourhood": same("neighbourhood"),
        "protocol_labels": _string_list("protocol_labels"),
    }
    return {
        "$schema": DRAFT,
        "$id": url,
        "type": "object",
        "title": title,
        "properties": properties,
    }


def neighbourhoods_schema(
    url: str, title: str, vocabulary: Vocabulary, language: str
) -> dict[str, Any]:
    """``/collections/neighbourhoods/schema``."""
    words = {k: w.schema() for k, w in NEIGHBOURHOOD_WORDS.items()}
    properties: dict[str, Any] = {
        "id": {**words["id"], "type": "integer", "x-ogc-role": "id"},
        "geometry": {**GEOMETRY, **words["geometry"], "x-ogc-role": "primary-geometry"},
        "name": {**words["name"], "type": "string"},
        "code": {**words["code"], "type": "string"},
        "places": {**words["places"], "type": "integer", "minimum": 0},
    }
    for c in vocabulary:
        # "Places: <label>": the HTML page says each half in the reader's language.
        properties[f"places_{c.key}"] = {
            "title": f"{NEIGHBOURHOOD_WORDS['places'].title}: {c.label(language)}",
            "type": "integer",
            "minimum": 0,
        }
    return {
        "$schema": DRAFT,
        "$id": url,
        "type": "object",
        "title": title,
        "properties": properties,
    }


def feature_schema(url: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One GeoJSON feature of a collection whose properties ``schema`` (Part 5) describes:
    what GDAL (and so QGIS) reads through the ``describedby`` link to type its fields."""
    properties = {k: v for k, v in schema["properties"].items() if v.get("x-ogc-role") is None}
    members = schema["properties"]
    return {
        "$schema": DRAFT,
        "$id": url,
        "type": "object",
        "title": schema["title"],
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {k: v for k, v in members["id"].items() if k != "x-ogc-role"},
            "geometry": {k: v for k, v in members["geometry"].items() if k != "x-ogc-role"},
            "properties": {"type": "object", "properties": properties},
        },
    }
