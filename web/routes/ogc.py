"""OGC API – Features (Part 1: Core, GeoJSON, HTML, OpenAPI 3.0) under ``/ogc``.

Three collections: ``places`` (the open-data places, exactly as in the downloads: one
privacy path, :mod:`geodata.io.export`), ``neighbourhoods`` (with place counts) and
``walks`` (:mod:`web.routes.ogc_walks`).
Queries go to the store's filters and spatial index; JSON or HTML is chosen by ``f=``
or the Accept header. Bad parameters get a 400 problem+json, as the standard asks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.crs import projection
from geodata.errors import NotFound
from geodata.io import geojson
from geodata.io.export import public_batches, public_page
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.vocabulary import Vocabulary
from web.dependencies import get_settings, get_store, get_vocabulary
from web.i18n import gettext_for
from web.language_choice import request_language
from web.public_url import public_base_url
from web.routes import ogc_walks
from web.routes.ogc_collection_metadata import collection_metadata
from web.routes.ogc_common import (
    COLLECTIONS,
    GEOJSON,
    HTML,
    JSON,
    Urls,
    html_page,
    json_answer,
    known_collection,
    swap_self,
)
from web.routes.ogc_crs import CONFORMANCE_CRS, content_crs, offered_crs, requested_crs
from web.routes.ogc_filter import (
    CONFORMANCE_FILTER,
    FILTER_PARAMETERS,
    keep_properties,
    selected_properties,
    with_filter,
)
from web.routes.ogc_openapi import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    OPENAPI_MEDIA_TYPE,
    openapi_document,
    parameter_description,
)
from web.routes.ogc_params import (
    check_params,
    int_param,
    items_filter,
    wants_html,
)
from web.routes.ogc_schema import CONFORMANCE_SCHEMA
from web.routes.ogc_tiles import TILES_CONFORMANCE, landing_links
from web.routes.ogc_tiles_openapi import openapi_paths
from web.settings import Settings

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    CONFORMANCE_CRS,
    *TILES_CONFORMANCE,
    *CONFORMANCE_FILTER,
    CONFORMANCE_SCHEMA,
]
# What each route answers, for the app's OpenAPI document (JSON or HTML by f= or Accept).
_JSON_OR_HTML = {"responses": {200: {"content": {JSON: {}, HTML: {}}}}}
_GEOJSON_OR_HTML = {"responses": {200: {"content": {GEOJSON: {}, HTML: {}}}}}
# numberMatched of a filtered query is left out (the standard makes it optional) when more
# places than this match: counting stops there, so a filter never costs a full scan.
COUNT_MOST = 10_000
_COMMON = {"f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "neighbourhood"}
ITEM_PARAMS = {
    "places": _COMMON | {"category"} | FILTER_PARAMETERS,
    "neighbourhoods": _COMMON,
    "walks": ogc_walks.ITEM_PARAMS,
}


@router.get("", summary="Landing page", **_JSON_OR_HTML)
@router.get("/", include_in_schema=False)
def landing(request: Request, settings: Settings = Depends(get_settings)) -> Response:
    check_params(request, {"f"})
    url = Urls(request, settings)
    links = [
        *url.pair("", "This document"),
        {
            "href": url("/api", f="json"),
            "rel": "service-desc",
            "type": OPENAPI_MEDIA_TYPE,
            "title": "The API definition (OpenAPI 3.0)",
        },
        {
            "href": url("/api", f="html"),
            "rel": "service-doc",
            "type": HTML,
            "title": "The API documentation",
        },
        {
            "href": url("/conformance", f="json"),
            "rel": "conformance",
            "type": JSON,
            "title": "Conformance classes",
        },
        {
            "href": url("/collections", f="json"),
            "rel": "data",
            "type": JSON,
            "title": "Collections",
        },
        *landing_links(url()),
    ]
    body = {
        "title": "Heritage Atlas",
        "description": "Participatory heritage mapping: open data as OGC API – Features.",
        "links": links,
    }
    if wants_html(request):
        return html_page(request, "ogc_landing.html", {**body, "links": swap_self(links)})
    return json_answer(body)


@router.get("/conformance", summary="Conformance classes", **_JSON_OR_HTML)
def conformance(request: Request, settings: Settings = Depends(get_settings)) -> Response:
    check_params(request, {"f"})
    url = Urls(request, settings)
    body = {"conformsTo": CONFORMANCE, "links": url.pair("/conformance", "Conformance")}
    if wants_html(request):
        return html_page(request, "ogc_conformance.html", {**body, "root": url()})
    return json_answer(body)


@router.get(
    "/api",
    summary="The API definition (OpenAPI 3.0)",
    responses={200: {"content": {OPENAPI_MEDIA_TYPE: {}, HTML: {}}}},
)
def api(
    request: Request,
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    check_params(request, {"f"})
    url = Urls(request, settings)
    doc = openapi_document(url(), vocabulary, request.app.version, offered_crs(settings))
    doc["paths"].update(openapi_paths())
    if wants_html(request):
        describe = partial(parameter_description, gettext=gettext_for(request_language(request)))
        return html_page(request, "ogc_api.html", {"doc": doc, "root": url(), "describe": describe})
    return json_answer(doc, OPENAPI_MEDIA_TYPE)


@router.get("/collections", summary="The feature collections", **_JSON_OR_HTML)
def collections(
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    check_params(request, {"f"})
    url = Urls(request, settings)
    body = {
        "links": url.pair("/collections", "Collections"),
        "crs": offered_crs(settings),  # Part 2: every CRS some collection offers
        "collections": [collection_metadata(store, url, cid, settings) for cid in COLLECTIONS],
    }
    if wants_html(request):
        return html_page(request, "ogc_collections.html", {**body, "root": url()})
    return json_answer(body)


@router.get("/collections/{collection_id}", summary="One collection", **_JSON_OR_HTML)
def collection(
    collection_id: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    cid = known_collection(collection_id)
    check_params(request, {"f"})
    body = collection_metadata(store, Urls(request, settings), cid, settings)
    if wants_html(request):
        return html_page(
            request, "ogc_collection.html", {"c": body, "root": Urls(request, settings)()}
        )
    return json_answer(body)


def _page_links(
    url: Urls, cid: str, request: Request, offset: int, limit: int, more: bool
) -> list[dict]:
    params = {k: v for k, v in request.query_params.items() if k not in ("f", "offset", "limit")}
    path = f"/collections/{cid}/items"
    links = url.pair(path, "This page", GEOJSON, limit=limit, offset=offset or None, **params)
    if more:
        links.append(
            {
                "href": url(path, f="json", limit=limit, offset=offset + limit, **params),
                "rel": "next",
                "type": GEOJSON,
                "title": "Next page",
            }
        )
    if offset > 0:
        links.append(
            {
                "href": url(
                    path, f="json", limit=limit, offset=max(0, offset - limit) or None, **params
                ),
                "rel": "prev",
                "type": GEOJSON,
                "title": "Previous page",
            }
        )
    links.append(
        {
            "href": url(f"/collections/{cid}", f="json"),
            "rel": "collection",
            "type": JSON,
            "title": "The collection",
        }
    )
    return links


@router.get(
    "/collections/{collection_id}/items", summary="Features of a collection", **_GEOJSON_OR_HTML
)
def items(
    collection_id: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    cid = known_collection(collection_id)
    check_params(request, ITEM_PARAMS[cid])
    html = wants_html(request)
    limit = min(int_param(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0)
    offered = offered_crs(settings)
    crs = requested_crs(request, "crs", offered)
    flt = (
        PlaceFilter()
        if cid == "walks"
        else items_filter(request, store, vocabulary, requested_crs(request, "bbox-crs", offered))
    )
    project = projection(crs)  # None for CRS84: the features as encoded for every download
    url = Urls(request, settings)
    matched: int | None
    keep = None
    if cid == "places":
        flt = with_filter(request, flt, offered, settings.privacy_grid_m)
        keep = selected_properties(request)
        # The whole collection is counted exactly (once per version of the places); a
        # filter's count stops past COUNT_MOST matches, so no filter costs a full scan.
        most = None if flt == PlaceFilter() else COUNT_MOST
        with store.snapshot():  # the count and the page from one state of the store
            matched, batches, more = public_page(
                store, flt, limit=limit, offset=offset, grid_m=settings.privacy_grid_m,
                count_most=most,
            )  # fmt: skip
        returned = sum(len(b) for b in batches)
        encoded = b",".join(geojson.encode_features(b, project) for b in batches)
    else:
        if cid == "walks":
            base = public_base_url(request, settings)
            features = ogc_walks.walk_features(store, base, project)
        else:
            features, _ = geojson.neighbourhood_features(store, flt, vocabulary.keys(), project)
        matched = len(features)
        page = features[offset : offset + limit]
        returned = len(page)
        more = offset + returned < matched
        encoded = orjson.dumps(page)[1:-1]
    links = _page_links(url, cid, request, offset, limit, more)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    members: dict[str, Any] = {} if matched is None else {"numberMatched": matched}
    members.update(numberReturned=returned, timeStamp=stamp, links=links)
    if keep is not None:  # only the properties asked for
        page = [keep_properties(f, keep) for f in orjson.loads(b"[" + encoded + b"]")]
        encoded = orjson.dumps(page)[1:-1]
    body = b'{"type":"FeatureCollection","features":[' + encoded + b"]," + orjson.dumps(members)[1:]
    if html:
        doc = orjson.loads(body)
        context = {
            "c": {"id": cid, "title": COLLECTIONS[cid][0]},
            "doc": doc,
            "links": swap_self(links),
            "root": url(),
            "offset": offset,
        }
        return html_page(request, "ogc_items.html", context)
    return Response(body, media_type=GEOJSON, headers=content_crs(crs))


@router.get(
    "/collections/{collection_id}/items/{feature_id}", summary="One feature", **_GEOJSON_OR_HTML
)
def item(
    collection_id: str,
    feature_id: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    cid = known_collection(collection_id)
    check_params(request, {"f", "crs"})
    crs = requested_crs(request, "crs", offered_crs(settings))
    project = projection(crs)
    missing = NotFound(f"there is no feature {feature_id!r} in {cid}")
    if cid == "places":
        batches = [
            b
            for b in public_batches(
                store, PlaceFilter(ids=[feature_id]), grid_m=settings.privacy_grid_m
            )
            if len(b)
        ]
        if not batches or batches[0].ids[0] != feature_id:
            raise missing
        feature = orjson.loads(geojson.encode_feature(batches[0], project))
    elif cid == "walks":
        found = [
            f
            for f in ogc_walks.walk_features(store, public_base_url(request, settings), project)
            if f["id"] == feature_id
        ]
        if not found:
            raise missing
        feature = found[0]
    else:
        features, _ = geojson.neighbourhood_features(
            store, PlaceFilter(), vocabulary.keys(), project
        )
        found = [f for f in features if str(f["id"]) == feature_id]
        if not found:
            raise missing
        feature = found[0]
    url = Urls(request, settings)
    path = f"/collections/{cid}/items/{feature_id}"
    feature["links"] = [
        *url.pair(path, "This feature", GEOJSON),
        {
            "href": url(f"/collections/{cid}", f="json"),
            "rel": "collection",
            "type": JSON,
            "title": "The collection",
        },
    ]
    if wants_html(request):
        context = {
            "c": {"id": cid, "title": COLLECTIONS[cid][0]},
            "feature": feature,
            "links": swap_self(feature["links"]),
            "root": url(),
        }
        return html_page(request, "ogc_item.html", context)
    return json_answer(feature, GEOJSON, content_crs(crs))
