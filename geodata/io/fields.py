"""The fields every download carries, with one type each.

One list says what a planner gets whatever the format: GeoJSON and OGC API features,
GeoPackage, CSV, GeoParquet and FlatGeobuf carry these fields, in this order (GeoJSON
keeps its own order of members), each as the nearest type the format has. Years, ids and
versions are integers, the location flag a boolean, times are timestamps (ISO 8601 UTC
text in JSON and CSV), lists are lists where the format has them (GeoJSON, GeoParquet) and
text where it has not (JSON text in GeoPackage and FlatGeobuf, ``;``-separated in CSV,
whose ``.csvt`` sidecar tells GDAL and QGIS the types). ``narratives`` is a list of
``{text, language, provenance[, source, licence]}`` objects (JSON text where the format has
no nesting).
"""

from __future__ import annotations

STRING, INTEGER, BOOLEAN, DATETIME, LIST, JSON = (
    "string", "integer", "boolean", "datetime", "list", "json",
)  # fmt: skip
# (name, kind) of every field besides the geometry, in download order.
FIELDS: tuple[tuple[str, str], ...] = (
    ("id", STRING),
    ("title", STRING),
    ("narratives", JSON),  # a list of {text, language, provenance[, source, licence]}
    ("languages", LIST),  # the narratives' languages, each once, in order
    ("category", STRING),
    ("period", STRING),
    ("year_from", INTEGER),
    ("year_to", INTEGER),
    ("tags", LIST),
    ("licence", STRING),
    ("attribution", STRING),
    ("consent", LIST),
    ("protocol_labels", LIST),
    ("neighbourhood_id", INTEGER),
    ("neighbourhood", STRING),
    ("workshop", STRING),
    ("location_generalised", BOOLEAN),
    ("created_at", DATETIME),
    ("updated_at", DATETIME),
    ("version", INTEGER),
)
KIND = dict(FIELDS)
NAMES = tuple(name for name, _ in FIELDS)
