"""Walk pages: ``/walks`` lists the published walks, ``/walks/{id}`` tells one as a
step-through story map (the map follows the text stop by stop; without JavaScript it is
an ordered list beside a static map; as on every map, a list of the stops in view is
beside it for keyboards and screen readers), ``/walks/{id}/print`` as a leaflet.

Which walks and stops the public sees is :mod:`geodata.walk_views`; every walk that is
not public gets the same 404 page, so the page never tells whether a walk exists.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from geodata.errors import NotFound
from geodata.store.base import PlaceStore
from geodata.walk_views import PublicWalk, public_walks
from geodata.walk_voices import public_walk_with_voices
from mapping.places_list import places_list_html, skip_link_html
from mapping.walk_map import static_walk_svg, walk_listing, walk_map_data
from web.dependencies import get_settings, get_store
from web.i18n import direction, gettext_for
from web.language_choice import LANGUAGES, request_language
from web.place_view import excerpt
from web.public_url import public_base_url
from web.routes.maps import map_options
from web.routes.workshops import qr_code
from web.security import csp_nonce
from web.settings import Settings
from web.templating import templates
from web.walk_view import EDITORIAL, walk_view

router = APIRouter(tags=["walks"])
PAGE_SIZE = 50
_WALK_ID = re.compile(r"wk_[A-Za-z0-9_-]{1,40}")


def find_public_walk(store: PlaceStore, walk_id: str) -> PublicWalk | None:
    """The walk as the public may see it, each stop with the recordings anyone may hear
    there, or None (not public, or not at all)."""
    if not _WALK_ID.fullmatch(walk_id):
        return None
    try:
        walk = store.get_walk(walk_id)
    except NotFound:
        return None
    return public_walk_with_voices(store, walk)


def page_context(request: Request, language: str) -> dict[str, Any]:
    return {
        "_": gettext_for(language),
        "lang": language,
        "dir": direction(language),
        "languages": LANGUAGES,
        "nonce": csp_nonce(request),
    }


def page_headers(language: str) -> dict[str, str]:
    # Revalidated on every view: a withdrawn walk (or stop) must leave at once.
    return {
        "Cache-Control": "no-cache",
        "Content-Language": language,
        "Vary": "Accept-Language, Cookie",
    }


def not_found(request: Request, language: str) -> Response:
    return templates.TemplateResponse(
        request, "walk_missing.html", page_context(request, language), status_code=404,
        headers=page_headers(language),
    )  # fmt: skip


def neighbourhood_names(store: PlaceStore) -> dict[int, str]:
    return {n.id: n.name for n in store.neighbourhoods()}


@router.get("/walks", response_class=HTMLResponse, summary="The published walks")
def walks_page(
    request: Request,
    page: int = Query(1, ge=1, le=1000),
    store: PlaceStore = Depends(get_store),
) -> Response:
    language = request_language(request)
    _ = gettext_for(language)
    walks = public_walks(
        store, store.walks("published", limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    )
    names = neighbourhood_names(store)
    views = [walk_view(w, language, _, names) for w in walks[:PAGE_SIZE]]
    context = {
        **page_context(request, language),
        "walks": views,
        "page": page,
        "more": len(walks) > PAGE_SIZE,
    }
    return templates.TemplateResponse(
        request, "walks.html", context, headers=page_headers(language)
    )


def render_walk(
    request: Request, template: str, walk_id: str, store: PlaceStore, settings: Settings,
    **extra: Any,
) -> Response:  # fmt: skip
    """A walk's page (the story map, or its print leaflet) in the reader's language."""
    language = request_language(request)
    walk = find_public_walk(store, walk_id)
    if walk is None:
        return not_found(request, language)
    _ = gettext_for(language)
    view = walk_view(walk, language, _, neighbourhood_names(store))
    options = map_options(settings, language)
    context = {
        **page_context(request, language),
        "walk": view,
        "editorial_note": _(EDITORIAL),
        "map_json": orjson.dumps(walk_map_data(walk, options)).decode(),
        "static_map": static_walk_svg(walk, view.title.text),
        "places_list": places_list_html(walk_listing(walk), options),
        "skip_link": skip_link_html(options),
        **extra,
    }
    return templates.TemplateResponse(request, template, context, headers=page_headers(language))


@router.get(
    "/walks/{walk_id}",
    response_class=HTMLResponse,
    summary="A walk as a step-through story map",
    responses={404: {"description": "no public walk has this id", "content": {"text/html": {}}}},
)
def walk_page(
    request: Request,
    walk_id: str,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    return render_walk(request, "walk_page.html", walk_id, store, settings)


@router.get(
    "/walks/{walk_id}/print",
    response_class=HTMLResponse,
    summary="A walk as an A4 leaflet: overview map, numbered stops, a QR code per stop",
    responses={404: {"description": "no public walk has this id", "content": {"text/html": {}}}},
)
def walk_print(
    request: Request,
    walk_id: str,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    base = public_base_url(request, settings)
    return render_walk(request, "walk_print.html", walk_id, store, settings, qr=_qr_codes(base),
                       excerpt=excerpt, walk_url=f"{base}/walks/{walk_id}")  # fmt: skip


def _qr_codes(base: str) -> Any:
    """For the template: a place id -> an inline SVG QR code of its page's address."""

    def qr(place_id: str) -> str:
        return qr_code(base + f"/places/{place_id}").svg_inline(scale=3, omitsize=True)

    return qr
