"""The tiles' part of the OGC API definition (``/ogc/api``, OpenAPI 3.0): the tile
matrix sets, and each collection's tilesets, TileJSON and tiles."""

from __future__ import annotations

from typing import Any

from geodata.tilematrix import MAX_ZOOM, TILE_MATRIX_SET
from web.i18n import N_
from web.routes.ogc_tiles import JSON, MVT, TITLES

ONE_REPRESENTATION = N_("The representation: {value}.")
ZOOM_LEVELS = N_("The zoom level, 0 to {max}.")
# The second halves of the tiles' summaries ("Heritage places: tilesets").
SUMMARY_WORDS = (N_("tilesets"), N_("tileset"), N_("a vector tile"))


def _query_f(value: str) -> dict[str, Any]:
    return {
        "name": "f",
        "in": "query",
        "required": False,
        "description": ONE_REPRESENTATION.format(value=value),
        "schema": {"type": "string", "enum": [value]},
    }


def _path(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}  # fmt: skip


def _operation(
    summary: str, op: str, params: list[dict[str, Any]], media: str, schema: dict[str, Any]
) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"type": "object"}}}
    responses: dict[str, Any] = {
        "200": {"description": summary, "content": {media: {"schema": schema}}},
        "400": {"description": "A parameter has a value that cannot be used.", "content": problem},
        "404": {"description": "There is no such resource.", "content": problem},
    }
    if media == MVT:
        responses["304"] = {"description": "Not modified (If-None-Match)"}
    return {"get": {"summary": summary, "operationId": op, "tags": ["OGC API – Tiles"],
                    "parameters": params, "responses": responses}}  # fmt: skip


def openapi_paths() -> dict[str, Any]:
    """The tiles' paths for the OGC API definition (relative to ``/ogc``)."""
    obj, binary = {"type": "object"}, {"type": "string", "format": "binary"}
    json_f = _query_f("json")
    tms_id = _path("tileMatrixSetId", N_("The tile matrix set."),
                   {"type": "string", "enum": [TILE_MATRIX_SET]})  # fmt: skip
    paths: dict[str, Any] = {
        "/tileMatrixSets": _operation(
            N_("Tile matrix sets"), "getTileMatrixSetsList", [json_f], JSON, obj
        ),
        "/tileMatrixSets/{tileMatrixSetId}": _operation(
            N_("One tile matrix set"), "getTileMatrixSet", [tms_id, json_f], JSON, obj
        ),
    }
    tile_params = [
        _path("tileMatrix", ZOOM_LEVELS.format(max=MAX_ZOOM), {"type": "string"}),
        _path("tileRow", N_("The row, from 0 at the top."), {"type": "integer", "minimum": 0}),
        _path("tileCol", N_("The column, from 0 at the left."), {"type": "integer", "minimum": 0}),
        _query_f("mvt"),
    ]
    for cid, title in TITLES.items():
        base = f"/collections/{cid}/tiles"
        paths[base] = _operation(f"{title}: tilesets", f"get_{cid}_tilesets", [json_f], JSON, obj)
        paths[base + "/{tileMatrixSetId}"] = _operation(
            f"{title}: tileset", f"get_{cid}_tileset", [tms_id, json_f], JSON, obj
        )
        paths[base + "/{tileMatrixSetId}/tilejson.json"] = _operation(
            f"{title}: TileJSON 3.0.0", f"get_{cid}_tilejson", [tms_id, json_f], JSON, obj
        )
        paths[base + "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"] = _operation(
            f"{title}: a vector tile", f"get_{cid}_tile", [tms_id, *tile_params], MVT, binary
        )
    return paths
