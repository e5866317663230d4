"""A public place's own page, ``/places/{id}``: a stable address to share.

The same rule as the map popups decides which places have one (published, consent to
publish, not withdrawn: :func:`geodata.privacy.public_filter`), and
:func:`geodata.privacy.public_view` decides what of them it shows. Every other id, well
formed or not, gets the same 404 page, so the page never tells whether a place exists.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from geodata.errors import NotFound
from geodata.place_attachments import Media
from geodata.privacy import PublicPlace, public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.story_credits import story_origins
from geodata.vocabulary import Vocabulary
from mapping.place_map import place_map_data
from web.dependencies import get_settings, get_store, get_vocabulary
from web.i18n import direction, gettext_for
from web.language_choice import LANGUAGES, request_language
from web.place_meta import PageLinks, PagePhoto, json_ld, json_ld_script, open_graph
from web.place_view import LICENCE_URLS, excerpt, period_words, stories
from web.public_url import public_base_url
from web.routes.maps import map_options, neighbourhood_url
from web.security import csp_nonce
from web.settings import Settings
from web.templating import templates
from web.voice_view import public_voices

router = APIRouter(tags=["maps"])
PATH = "/places/{place_id}"
# Ids this service makes (and client-made UUIDs); anything else is a 404 at once.
_PLACE_ID = re.compile(r"[A-Za-z0-9_.~-]{1,100}")
_STORY = re.compile(r"[A-Za-z0-9-]{1,35}")


def place_page_url(place_id: str) -> str:
    """The page's path on this service."""
    return PATH.format(place_id=place_id)


def public_place(store: PlaceStore, place_id: str, grid_m: float) -> PublicPlace | None:
    """The place as the public may see it, or None if it is not public (or not at all)."""
    if not _PLACE_ID.fullmatch(place_id):
        return None
    found = list(store.list(public_filter(PlaceFilter(ids=[place_id]), "map"), limit=1))
    if not found:
        return None
    labels = store.protocol_labels([place_id]).get(place_id, ())
    return public_view(found[0], grid_m, protocol_labels=labels)


def _headers(language: str) -> dict[str, str]:
    # Revalidated on every view: a withdrawn place must leave at once.
    return {
        "Cache-Control": "no-cache",
        "Content-Language": language,
        "Vary": "Accept-Language, Cookie",
    }


def _common(language: str) -> dict[str, Any]:
    return {
        "_": gettext_for(language),
        "lang": language,
        "dir": direction(language),
        "languages": LANGUAGES,
    }


def _not_found(request: Request, language: str) -> Response:
    """The one answer for every place that is not public, whatever the reason."""
    return templates.TemplateResponse(
        request,
        "place_missing.html",
        _common(language),
        status_code=404,
        headers=_headers(language),
    )


def _photos(media: list[Media], title: str) -> list[PagePhoto]:
    return [
        PagePhoto(
            url=f"/media/{m.id}",
            thumb=f"/media/{m.id}/thumbnail",
            width=m.width,
            height=m.height,
            thumb_width=m.thumb_width,
            thumb_height=m.thumb_height,
            alt=m.caption or title,
            caption=m.caption,
        )
        for m in media
    ]


def _neighbourhood(store: PlaceStore, place: PublicPlace) -> tuple[str, str] | None:
    """The neighbourhood's name and the path of its map."""
    if place.neighbourhood_id is None:
        return None
    try:
        hood = store.neighbourhood(place.neighbourhood_id)
    except NotFound:
        return None
    return hood.name, neighbourhood_url(hood.id)


@router.get(
    PATH,
    response_class=HTMLResponse,
    summary="A public place's own page: its stories, photos, map and licence",
    responses={404: {"description": "no public place has this id", "content": {"text/html": {}}}},
)
def place_page(
    request: Request,
    place_id: str,
    story: str | None = None,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    """``?story=pt`` puts that language's version first; otherwise the reader's own."""
    language = request_language(request)
    place = public_place(store, place_id, settings.privacy_grid_m)
    if place is None:
        return _not_found(request, language)
    _ = gettext_for(language)
    wanted = story if story and _STORY.fullmatch(story) else language
    origins = story_origins(store.audit_events(place_id=place.id), place.narratives)
    added = {a.id: a for a in store.narrative_additions(place_id=place.id, status="published")}
    told = stories(place, origins, wanted, language, _, added)
    photos = _photos(store.media(place.id), place.title)
    base = public_base_url(request, settings)
    hood = _neighbourhood(store, place)
    links = PageLinks(
        base, base + place_page_url(place.id), (hood[0], base + hood[1]) if hood else None
    )
    options = map_options(settings, language)
    map_data = place_map_data(place, vocabulary, options)
    open_data = store.count(public_filter(PlaceFilter(ids=[place.id]), "open_data")) > 0
    category = vocabulary[place.category].label(language) if place.category in vocabulary else None
    context = {
        **_common(language),
        "place": place,
        "stories": told,
        "description": excerpt(told[0].text) if told else None,
        "photos": photos,
        "voices": public_voices(store, place.id),
        "category": category or place.category,
        "period": period_words(place, _),
        "neighbourhood": hood,
        "licence_url": LICENCE_URLS.get(place.licence),
        "open_data": open_data,
        "map_json": orjson.dumps(map_data).decode() if map_data else None,
        "page_url": links.page,
        "open_graph": open_graph(place, told, photos, links, language, list(LANGUAGES)),
        "json_ld": json_ld_script(json_ld(place, told, photos, links)),
        "nonce": csp_nonce(request),
        "add_url": place_page_url(place.id) + "/add",
    }
    return templates.TemplateResponse(
        request, "place_page.html", context, headers=_headers(language)
    )
