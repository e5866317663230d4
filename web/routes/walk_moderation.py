"""The walk moderation pages for facilitators (and admins): the queue of proposed walks,
each walk's review page with its history, and the forms behind their buttons (publish,
reject or hide with a reason, ask the proposer for changes).

Each walk is previewed as the public would get it: the map drawing of its route and
numbered stops, its title, introduction and chapters in every language with their
provenance, and a warning for each stop the public no longer sees. Plain HTML forms
with the staff pages' CSRF token: they work without JavaScript. The JSON API is
:mod:`web.routes.walks_api`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from geodata import walk_lifecycle
from geodata.errors import HeritageError
from geodata.store.base import PlaceStore
from geodata.walks import Walk
from mapping.features import language_name
from web.auth import FACILITATOR_PAGE, SignedIn
from web.dependencies import get_store
from web.i18n import N_, localised_message
from web.language_choice import request_language
from web.routes.accounts import staff_page
from web.routes.moderation import _done, _said
from web.routes.moderation_api import PAGE_SIZE, parse_status, queue_context
from web.walk_review import original, walk_reviews

router = APIRouter(tags=["moderation"])
QUEUE = "/moderation/walks"


def _context(request: Request, **values: Any) -> dict[str, Any]:
    language = request_language(request)

    def named(tag: str) -> str:
        name = language_name(tag, language)
        return name[:1].upper() + name[1:]

    return {"language_name": named, "original": original, **values}


@router.get(QUEUE, response_class=HTMLResponse, summary="The walks moderation queue page")
def queue_page(
    request: Request,
    status: str = Query("pending", max_length=20),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    done: str | None = Query(None, max_length=300),
    error: str | None = Query(None, max_length=300),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> HTMLResponse:
    problem = None
    walks: list[Walk] = []
    total = 0
    try:
        chosen = str(parse_status(status))
        walks, total = (
            store.walks(chosen, limit=PAGE_SIZE, offset=offset),
            store.count_walks(chosen),
        )
    except HeritageError as exc:
        problem = localised_message(exc, request_language(request))
    context = _context(
        request,
        reviews=walk_reviews(store, walks),
        **queue_context(
            request,
            status=status,
            offset=offset,
            total=total,
            done=done,
            error=error or problem,
        ),
    )
    return staff_page(request, "moderation_walks.html", context, who)


@router.get(QUEUE + "/{walk_id}", response_class=HTMLResponse, summary="A walk's review page")
def walk_page(
    request: Request,
    walk_id: str,
    done: str | None = Query(None, max_length=300),
    error: str | None = Query(None, max_length=300),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> HTMLResponse:
    walk = store.get_walk(walk_id)  # NotFound: the 404 page
    context = _context(
        request,
        review=walk_reviews(store, [walk])[0],
        history=walk_lifecycle.history(store, walk_id),
        done=done,
        error=error,
        here=f"{QUEUE}/{walk_id}",
    )
    return staff_page(request, "moderation_walk.html", context, who)


def _outcome(
    request: Request, next_url: str | None, act: Callable[[], Walk], message: str
) -> Response:
    """Back to the page the form was on, saying what ``act`` did (``message``, with the
    walk's title) or why it could not."""
    try:
        walk = act()
    except HeritageError as exc:
        problem = localised_message(exc, request_language(request))
        return _done(next_url or QUEUE, problem, error=True)
    title = original(walk.titles).text
    return _done(next_url or QUEUE, _said(request, message).format(title=title))


@router.post(
    QUEUE + "/{walk_id}/publish",
    summary="Publish a walk (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_publish(
    request: Request,
    walk_id: str,
    next: str | None = Form(None, max_length=2000),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    return _outcome(
        request, next, lambda: walk_lifecycle.publish(store, walk_id, who.actor),
        N_("Published the walk “{title}”."),
    )  # fmt: skip


@router.post(
    QUEUE + "/{walk_id}/reject",
    summary="Reject or hide a walk (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_reject(
    request: Request,
    walk_id: str,
    reason: str = Form("", max_length=2000),
    next: str | None = Form(None, max_length=2000),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    return _outcome(
        request, next, lambda: walk_lifecycle.reject(store, walk_id, who.actor, reason or None),
        N_("Kept the walk “{title}” off the public pages; its proposer sees why."),
    )  # fmt: skip


@router.post(
    QUEUE + "/{walk_id}/request-changes",
    summary="Ask the proposer to change a walk (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_request_changes(
    request: Request,
    walk_id: str,
    message: str = Form("", max_length=2000),
    next: str | None = Form(None, max_length=2000),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    return _outcome(
        request, next,
        lambda: walk_lifecycle.request_changes(store, walk_id, who.actor, message or None),
        N_("Asked for changes to “{title}”; its proposer reads your message."),
    )  # fmt: skip
