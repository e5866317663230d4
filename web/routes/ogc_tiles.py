"""OGC API – Tiles (vector tiles, Mapbox Vector Tile) for the ``places``,
``neighbourhoods`` and ``walks`` collections, in the WebMercatorQuad tile matrix set,
with a TileJSON 3.0.0 document for MapLibre and QGIS: the tile matrix sets, each
collection's tilesets, its tileset's metadata and its TileJSON.

Tiles hold what the OGC items hold (open-data places, generalised ones at their grid
cell, hidden ones never; the public walks' routes), built by :mod:`mapping.tiles` and
served by :mod:`web.routes.ogc_vector_tile`; what each route checks of its request is
:mod:`web.routes.ogc_tile_requests`.
"""

from __future__ import annotations

import html
import math
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.io.export import coarse_bbox
from geodata.privacy import public_filter
from geodata.store.base import PlaceStore
from geodata.tilematrix import MAX_ZOOM, TILE_MATRIX_SET, tile_matrix_set
from geodata.walk_tiles import WALK_TILE_KINDS
from mapping.options import MapOptions
from web.dependencies import get_settings, get_store
from web.public_url import public_base_url
from web.routes.export import dataset_info
from web.routes.ogc_tile_requests import (
    checked_format,
    checked_tile_matrix_set,
    checked_tileset,
    open_walks,
    walks_version,
)
from web.settings import Settings

router = APIRouter(prefix="/ogc", tags=["OGC API – Tiles"])
MVT = "application/vnd.mapbox-vector-tile"
JSON = "application/json"
FORMAT_VERSION = "1"  # bump when what a tile holds changes: new ETags for everyone
_SPEC = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
TILES_CONFORMANCE = [
    _SPEC + name
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt", "oas30")
] + [
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
_REL = "http://www.opengis.net/def/rel/ogc/1.0/"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TILE_PATH = (
    "/collections/{cid}/tiles/" + TILE_MATRIX_SET + "/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
)
TITLES = {"places": "Heritage places", "neighbourhoods": "Neighbourhoods", "walks": "Walks"}
_MVT_TYPES = {"string": "String", "integer": "Number", "boolean": "Boolean"}
_FIELDS = {
    "places": {
        "id": "String",
        "title": "String",
        "category": "String",
        "neighbourhood": "String",
        "year_from": "Number",
        "year_to": "Number",
        "location_generalised": "Boolean",
        "cluster": "Boolean",
        "count": "Number",
        "label": "String",
    },
    "neighbourhoods": {"id": "Number", "name": "String", "code": "String", "places": "Number"},
    "walks": {
        **{name: _MVT_TYPES[kind] for name, kind in WALK_TILE_KINDS.items()},
        "cluster": "Boolean",
        "count": "Number",
        "label": "String",
    },
}
_JSON_TYPES = {"String": "string", "Number": "integer", "Boolean": "boolean"}
_JSON_ANSWER = {"responses": {200: {"content": {JSON: {}}}, 404: {"description": "Not found"}}}


def landing_links(root: str) -> list[dict[str, Any]]:
    """What the ``/ogc`` landing page links to for tiles."""
    return [
        {
            "href": f"{root}/tileMatrixSets?f=json",
            "rel": _REL + "tiling-schemes",
            "type": JSON,
            "title": "Tile matrix sets (tiling schemes)",
        }
    ]


def collection_links(root: str, cid: str) -> list[dict[str, Any]]:
    """What a collection links to for its vector tiles."""
    return [
        {
            "href": f"{root}/collections/{cid}/tiles?f=json",
            "rel": _REL + "tilesets-vector",
            "type": JSON,
            "title": f"{TITLES[cid]}: vector tiles",
        }
    ]


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON)


def _root(request: Request, settings: Settings) -> str:
    return public_base_url(request, settings) + "/ogc"


def tile_options(settings: Settings) -> MapOptions:
    return MapOptions(
        k=settings.privacy_k,
        grid_m=settings.privacy_grid_m,
        max_features=settings.tile_max_features,
    )


@router.get("/tileMatrixSets", summary="The tile matrix sets tiles are offered in", **_JSON_ANSWER)
def tile_matrix_sets(request: Request, settings: Settings = Depends(get_settings)) -> Response:
    checked_format(request, "json")
    root = _root(request, settings)
    tms = tile_matrix_set()
    href = f"{root}/tileMatrixSets/{TILE_MATRIX_SET}?f=json"
    return _json(
        {
            "links": [{"href": f"{root}/tileMatrixSets?f=json", "rel": "self", "type": JSON}],
            "tileMatrixSets": [
                {
                    "id": TILE_MATRIX_SET,
                    "title": tms.title,
                    "uri": str(tms.uri),
                    "crs": CRS_3857,
                    "links": [{"href": href, "rel": "self", "type": JSON, "title": tms.title}],
                }
            ],
        }
    )


@router.get("/tileMatrixSets/{tile_matrix_set_id}", summary="One tile matrix set", **_JSON_ANSWER)
def tile_matrix_set_definition(
    tile_matrix_set_id: str, request: Request, settings: Settings = Depends(get_settings)
) -> Response:
    checked_tile_matrix_set(tile_matrix_set_id)
    checked_format(request, "json")
    body = tile_matrix_set().model_dump(mode="json", exclude_none=True)
    href = f"{_root(request, settings)}/tileMatrixSets/{TILE_MATRIX_SET}?f=json"
    body["links"] = [{"href": href, "rel": "self", "type": JSON}]
    return _json(body)


def _tileset_links(root: str, cid: str) -> list[dict[str, Any]]:
    base = f"{root}/collections/{cid}/tiles/{TILE_MATRIX_SET}"
    return [
        {"href": f"{base}?f=json", "rel": "self", "type": JSON, "title": "This tileset"},
        {
            "href": f"{root}/tileMatrixSets/{TILE_MATRIX_SET}?f=json",
            "rel": _REL + "tiling-scheme",
            "type": JSON,
            "title": f"The {TILE_MATRIX_SET} tile matrix set",
        },
        {
            "href": root + TILE_PATH.format(cid=cid),
            "rel": "item",
            "type": MVT,
            "templated": True,
            "title": f"{TITLES[cid]}: a vector tile",
        },
        {
            "href": f"{base}/tilejson.json",
            "rel": "describedby",
            "type": JSON,
            "title": "TileJSON 3.0.0 (MapLibre, QGIS)",
        },
        {
            "href": f"{root}/collections/{cid}?f=json",
            "rel": "collection",
            "type": JSON,
            "title": "The collection",
        },
    ]


def _bounds(request: Request, store: PlaceStore, cid: str) -> list[float]:
    """The collection's extent, widened to a 0.01° grid (as the OGC collection says)."""
    if cid == "places":
        box = store.summary(public_filter(None, "open_data")).bbox
    elif cid == "walks":
        box = open_walks(request, store, walks_version(store)).bounds
    else:
        shapes = [n.geometry.bounds for n in store.neighbourhoods()]
        box = None
        if shapes:
            box = (
                min(b[0] for b in shapes),
                min(b[1] for b in shapes),
                max(b[2] for b in shapes),
                max(b[3] for b in shapes),
            )
    return coarse_bbox(box) or [-180.0, -85.0511, 180.0, 85.0511]


def _tileset_summary(root: str, cid: str) -> dict[str, Any]:
    return {
        "title": f"{TITLES[cid]} (vector tiles)",
        "dataType": "vector",
        "crs": CRS_3857,
        "tileMatrixSetURI": str(tile_matrix_set().uri),
        "links": _tileset_links(root, cid),
    }


@router.get(
    "/collections/{collection_id}/tiles", summary="A collection's vector tilesets", **_JSON_ANSWER
)
def tilesets(
    collection_id: str, request: Request, settings: Settings = Depends(get_settings)
) -> Response:
    cid = checked_tileset(request, collection_id, None, "json")
    root = _root(request, settings)
    return _json(
        {
            "links": [
                {"href": f"{root}/collections/{cid}/tiles?f=json", "rel": "self", "type": JSON},
                {"href": f"{root}/collections/{cid}?f=json", "rel": "collection", "type": JSON},
            ],
            "tilesets": [_tileset_summary(root, cid)],
        }
    )


@router.get(
    "/collections/{collection_id}/tiles/{tile_matrix_set_id}",
    summary="A collection's vector tileset: its tiles' URL template, layers and limits",
    **_JSON_ANSWER,
)
def tileset(
    collection_id: str,
    tile_matrix_set_id: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    cid = checked_tileset(request, collection_id, tile_matrix_set_id, "json")
    minx, miny, maxx, maxy = _bounds(request, store, cid)
    fields = _FIELDS[cid]
    layer = {
        "id": cid,
        "title": TITLES[cid],
        "dataType": "vector",
        "minTileMatrix": "0",
        "maxTileMatrix": str(MAX_ZOOM),
        "propertiesSchema": {
            "type": "object",
            "properties": {k: {"type": _JSON_TYPES[v]} for k, v in fields.items()},
        },
    }
    body = {
        **_tileset_summary(_root(request, settings), cid),
        "boundingBox": {"lowerLeft": [minx, miny], "upperRight": [maxx, maxy], "crs": CRS84},
        "tileMatrixSetLimits": [
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": 2**z - 1,
                "minTileCol": 0,
                "maxTileCol": 2**z - 1,
            }
            for z in range(MAX_ZOOM + 1)
        ],
        "layers": [layer],
    }
    return _json(body)


@router.get(
    "/collections/{collection_id}/tiles/{tile_matrix_set_id}/tilejson.json",
    summary="TileJSON 3.0.0 for a collection's vector tiles (MapLibre, QGIS)",
    **_JSON_ANSWER,
)
def tilejson(
    collection_id: str,
    tile_matrix_set_id: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    cid = checked_tileset(request, collection_id, tile_matrix_set_id, "json")
    root = _root(request, settings)
    template = root + TILE_PATH.format(cid=cid).format(
        tileMatrix="{z}", tileRow="{y}", tileCol="{x}"
    )
    bounds = _bounds(request, store, cid)
    width = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1e-6)
    info = dataset_info(settings)
    body = {
        "tilejson": "3.0.0",
        "name": TITLES[cid],
        "description": f"{TITLES[cid]} of {info.title}, as vector tiles (OGC API – Tiles).",
        # TileJSON attribution is HTML, which map clients insert as it is.
        "attribution": html.escape(f"{info.attribution} ({info.licence})"),
        "scheme": "xyz",
        "tiles": [template],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "center": [
            round((bounds[0] + bounds[2]) / 2, 6),
            round((bounds[1] + bounds[3]) / 2, 6),
            max(0, min(MAX_ZOOM, math.floor(math.log2(360 / width)))),
        ],
        "vector_layers": [
            {
                "id": cid,
                "description": TITLES[cid],
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
                "fields": _FIELDS[cid],
            }
        ],
    }
    response = _json(body)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
