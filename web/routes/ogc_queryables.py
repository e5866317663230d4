"""``/ogc/collections/{id}/queryables`` (Features Part 3), ``/ogc/collections/{id}/schema``
(Part 5) and ``/ogc/collections/{id}/feature-schema`` (one GeoJSON feature, for GDAL) as
JSON Schema documents; the first two as pages too (``f=html``)."""

from __future__ import annotations

import threading

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geodata.errors import NotFound
from geodata.privacy import public_filter
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from web.dependencies import get_settings, get_store, get_vocabulary
from web.i18n import N_
from web.language_choice import request_language
from web.routes.ogc_common import COLLECTIONS, HTML, Urls, html_page, known_collection
from web.routes.ogc_params import check_params, wants_html
from web.routes.ogc_schema import (
    SCHEMA_MEDIA_TYPE,
    feature_schema,
    neighbourhoods_schema,
    places_schema,
    property_types,
    queryables_document,
)
from web.routes.ogc_walks import walks_schema
from web.settings import Settings

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])
_SCHEMA_OR_HTML = {"responses": {200: {"content": {SCHEMA_MEDIA_TYPE: {}, HTML: {}}}}}
_languages: dict[tuple[int, str], list[str]] = {}
_lock = threading.Lock()


def _story_languages(store: PlaceStore) -> list[str]:
    """The primary language subtags of the open-data stories (cached until places change)."""
    key = (id(store), store.places_version()[0])
    with _lock:
        if key in _languages:
            return _languages[key]
    counts = store.story_languages(public_filter(None, "open_data"))
    found = sorted({tag.split("-")[0] for tag in counts})
    with _lock:
        _languages.clear()
        _languages[key] = found
    return found


def _types(request: Request, store: PlaceStore, vocabulary: Vocabulary) -> dict:
    return property_types(
        vocabulary, store.neighbourhoods(), _story_languages(store), request_language(request)
    )


def _answer(request: Request, url: Urls, cid: str, doc: dict, what: str) -> Response:
    if wants_html(request):
        context = {"c": {"id": cid, "title": COLLECTIONS[cid][0]}, "doc": doc, "root": url()}
        return html_page(request, "ogc_schema.html", {**context, "what": what})
    return Response(orjson.dumps(doc), media_type=SCHEMA_MEDIA_TYPE)


@router.get(
    "/collections/{collection_id}/queryables",
    summary="What a filter can name (JSON Schema)",
    **_SCHEMA_OR_HTML,
)
def queryables(
    collection_id: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    cid = known_collection(collection_id)
    check_params(request, {"f"})
    if cid != "places":
        raise NotFound(f"{cid} take no filter, so they have no queryables")
    url = Urls(request, settings)
    doc = queryables_document(
        url(f"/collections/{cid}/queryables"),
        COLLECTIONS[cid][0],
        _types(request, store, vocabulary),
    )
    return _answer(request, url, cid, doc, N_("Queryables"))


@router.get(
    "/collections/{collection_id}/schema",
    summary="The properties of the features and their types (JSON Schema)",
    **_SCHEMA_OR_HTML,
)
def schema(
    collection_id: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    cid = known_collection(collection_id)
    check_params(request, {"f"})
    url = Urls(request, settings)
    doc = _schema(request, url, cid, store, vocabulary)
    return _answer(request, url, cid, doc, N_("Schema"))


def _schema(request: Request, url: Urls, cid: str, store: PlaceStore, vocabulary: Vocabulary):
    here, title = url(f"/collections/{cid}/schema"), COLLECTIONS[cid][0]
    if cid == "places":
        return places_schema(here, title, _types(request, store, vocabulary))
    if cid == "walks":
        return walks_schema(here, title)
    return neighbourhoods_schema(here, title, vocabulary, request_language(request))


@router.get(
    "/collections/{collection_id}/feature-schema",
    summary="One GeoJSON feature of the collection (JSON Schema)",
    responses={200: {"content": {SCHEMA_MEDIA_TYPE: {}}}},
)
def one_feature_schema(
    collection_id: str,
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    cid = known_collection(collection_id)
    check_params(request, set())
    url = Urls(request, settings)
    doc = feature_schema(
        url(f"/collections/{cid}/feature-schema"), _schema(request, url, cid, store, vocabulary)
    )
    return Response(orjson.dumps(doc), media_type=SCHEMA_MEDIA_TYPE)
