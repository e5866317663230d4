"""The moderation pages for facilitators (and admins): the queue, each place's review
page with its history, and the forms behind their buttons.

Pending places with their map, stories, photos, duplicate hints and the contributor's
details (visible here only); publish, reject or hide with a reason the contributor
reads through their edit link, correct title/category/stories, attach cultural-protocol
labels, publish many at once. Plain HTML forms: they work without JavaScript, which
only draws the small maps. The JSON API is :mod:`web.routes.moderation_api`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Form, Query, Request
from shapely.geometry import mapping
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from geodata import audit, moderation, narrative_additions
from geodata.errors import HeritageError
from geodata.protocols import LABEL_TYPES
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from web.auth import FACILITATOR_PAGE, SignedIn
from web.basemap import page_background
from web.dependencies import get_settings, get_store, get_vocabulary
from web.flag_notes import flag_notes_for
from web.i18n import N_, localised_message, translate_problem, translations
from web.language_choice import request_language
from web.page_language import format_number
from web.routes.accounts import staff_page
from web.routes.moderation_api import PAGE_SIZE, parse_status, queue_context
from web.settings import Settings
from web.voice_view import voice_view

router = APIRouter(tags=["moderation"])


# ---------------------------------------------------------------------------
# The pages (plain HTML forms: they work without JavaScript)
# ---------------------------------------------------------------------------


def _back(next_url: str | None, default: str = "/moderation") -> str:
    if next_url and next_url.startswith("/moderation") and not next_url.startswith("//"):
        return next_url
    return default


def _said(request: Request, message: str) -> str:
    """``message`` in the language of the person who sent the form."""
    return translations(request_language(request)).gettext(message)


def _problem(request: Request, exc: HeritageError) -> str:
    return localised_message(exc, request_language(request))


def _done(next_url: str | None, message: str, error: bool = False) -> Response:
    target = _back(next_url)
    joiner = "&" if "?" in target else "?"
    key = "error" if error else "done"
    return RedirectResponse(f"{target}{joiner}{urlencode({key: message})}", status_code=303)


@router.get("/moderation", response_class=HTMLResponse, summary="The moderation queue page")
def queue_page(
    request: Request,
    status: str = Query("pending", max_length=20),
    workshop: str | None = Query(None, max_length=40),
    neighbourhood: str | None = Query(None, max_length=10),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    done: str | None = Query(None, max_length=300),
    error: str | None = Query(None, max_length=300),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> HTMLResponse:
    hood = int(neighbourhood) if neighbourhood and neighbourhood.isdecimal() else None
    problem = None
    try:
        items, total = moderation.queue(
            store,
            status=parse_status(status),
            workshop=workshop or None,
            neighbourhood_id=hood,
            limit=PAGE_SIZE,
            offset=offset,
        )
    except HeritageError as exc:
        items, total, problem = [], 0, localised_message(exc, request_language(request))
    context = {
        **queue_context(
            request,
            status=status,
            offset=offset,
            total=total,
            done=done,
            error=error or problem,
        ),
        "items": items,
        "workshop": (workshop or "").upper(),
        "workshops": store.workshops(),
        "neighbourhood": hood,
        "neighbourhoods": store.neighbourhoods(),
        "names": {n.id: n.name for n in store.neighbourhoods()},
        "vocabulary": vocabulary,
        "background": page_background(settings),
        "geojson": lambda item: orjson.dumps(mapping(item.place.geometry)).decode(),
        "note": flag_notes_for(request_language(request)),
    }
    return staff_page(request, "moderation.html", context, who)


@router.get(
    "/moderation/places/{place_id}", response_class=HTMLResponse, summary="A place's review page"
)
def place_page(
    request: Request,
    place_id: str,
    done: str | None = Query(None, max_length=300),
    error: str | None = Query(None, max_length=300),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> HTMLResponse:
    item = moderation.queue_item(store, place_id)
    context = {
        "item": item,
        "history": audit.history(store, place_id),
        "voices": [voice_view(r) for r in store.recordings(place_id)],
        "additions": narrative_additions.place_review(store, item.place),
        "versions": audit.versions(store, place_id),
        "vocabulary": vocabulary,
        "label_types": LABEL_TYPES,
        "labels": {label.label_id: label for label in item.labels},
        "names": {n.id: n.name for n in store.neighbourhoods()},
        "done": done,
        "error": error,
        "background": page_background(settings),
        "here": f"/moderation/places/{place_id}",
        "geojson": lambda i: orjson.dumps(mapping(i.place.geometry)).decode(),
        "note": flag_notes_for(request_language(request)),
    }
    return staff_page(request, "moderation_place.html", context, who)


@router.post(
    "/moderation/places/{place_id}/publish",
    summary="Publish a place (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_publish(
    request: Request,
    place_id: str,
    next: str | None = Form(None, max_length=2000),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    try:
        place = moderation.publish(store, place_id, who.actor)
    except HeritageError as exc:
        return _done(next, _problem(request, exc), error=True)
    return _done(next, _said(request, N_("Published “{title}”.")).format(title=place.title))


@router.post(
    "/moderation/places/{place_id}/reject",
    summary="Reject or hide a place (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_reject(
    request: Request,
    place_id: str,
    reason: str = Form("", max_length=2000),
    next: str | None = Form(None, max_length=2000),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    try:
        place = moderation.reject(store, place_id, who.actor, reason or None)
    except HeritageError as exc:
        return _done(next, _problem(request, exc), error=True)
    taken_off = _said(request, N_("Took “{title}” off the public map; the contributor sees why."))
    return _done(next, taken_off.format(title=place.title))


@router.post(
    "/moderation/publish",
    summary="Publish the chosen places (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_bulk_publish(
    request: Request,
    ids: list[str] = Form(default_factory=list, max_length=moderation.MAX_BULK),
    next: str | None = Form(None, max_length=2000),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    try:
        published = moderation.publish_many(store, ids, who.actor)
    except HeritageError as exc:
        return _done(next, _problem(request, exc), error=True)
    language = request_language(request)
    n = len(published)
    message = translations(language).ngettext("Published {n} place.", "Published {n} places.", n)
    return _done(next, message.format(n=format_number(n, language)))


@router.post(
    "/moderation/places/{place_id}/edit",
    summary="Correct a place (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_edit(
    request: Request,
    place_id: str,
    title: str = Form(max_length=1000),
    category: str = Form(max_length=100),
    narrative_language: list[str] = Form(default_factory=list, max_length=20),
    narrative_text: list[str] = Form(default_factory=list, max_length=20),
    narrative_provenance: list[str] = Form(default_factory=list, max_length=20),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    here = f"/moderation/places/{place_id}"
    narratives = [
        {"language": lang, "text": text, "provenance": prov}
        for lang, text, prov in zip(
            narrative_language, narrative_text, narrative_provenance, strict=False
        )
    ]
    try:
        moderation.edit(
            store, place_id, who.actor, vocabulary,
            title=title, category=category, narratives=narratives,
        )  # fmt: skip
    except HeritageError as exc:
        return _done(here, _problem(request, exc), error=True)
    return _done(here, _said(request, N_("Saved; the earlier version is kept in the history.")))


@router.post(
    "/moderation/places/{place_id}/labels",
    summary="Set protocol labels (form)",
    status_code=303,
    response_class=RedirectResponse,
)
async def form_labels(
    request: Request,
    place_id: str,
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    """Ticked ``label_id`` boxes, each with its ``text_<id>`` and optional ``url_<id>``."""
    form = await request.form()
    chosen = [v for v in form.getlist("label_id") if isinstance(v, str)][: len(LABEL_TYPES)]

    def field(name: str) -> str | None:
        value = form.get(name)
        return value if isinstance(value, str) else None

    items = [
        {"label_id": key, "text": field(f"text_{key}") or "", "url": field(f"url_{key}")}
        for key in chosen
    ]
    language = request_language(request)
    return await run_in_threadpool(_save_labels, store, place_id, who, items, language)


def _save_labels(
    store: PlaceStore, place_id: str, who: SignedIn, items: list[dict[str, Any]], language: str
) -> Response:
    here = f"/moderation/places/{place_id}"
    try:
        moderation.set_labels(store, place_id, who.actor, items)
    except HeritageError as exc:
        problems = [translate_problem(p, language).message for p in exc.problems]
        detail = "; ".join(problems) or localised_message(exc, language)
        return _done(here, detail, error=True)
    n = len(items)
    saved = translations(language).ngettext("Saved {n} label.", "Saved {n} labels.", n)
    return _done(here, saved.format(n=format_number(n, language)))
