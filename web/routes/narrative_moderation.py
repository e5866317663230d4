"""Moderating the memories and translations residents add to places: a queue page with
publish / reject-or-hide forms (plain HTML, no JavaScript needed), and the same as JSON
under ``/api/moderation/narratives``. Facilitators and admins only; the contributor's
contact shows here and nowhere else. A translation whose original changed since it was
made is marked out of date."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Form, Query
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from geodata import narrative_additions
from geodata.errors import HeritageError
from geodata.models import NarrativeAddition
from geodata.narrative_additions import ReviewItem
from geodata.store.base import PlaceStore
from web.auth import FACILITATOR, FACILITATOR_PAGE, SignedIn
from web.dependencies import get_store
from web.i18n import localised_message
from web.language_choice import request_language
from web.routes.accounts import staff_page
from web.routes.moderation import _done
from web.routes.moderation_api import PAGE_SIZE, parse_status, queue_context

router = APIRouter(tags=["moderation"])
QUEUE = "/moderation/narratives"


def addition_json(a: NarrativeAddition) -> dict[str, Any]:
    """An addition with everything stored about it, its contributor's contact included."""
    return {
        "id": a.id,
        "place_id": a.place_id,
        "kind": str(a.kind),
        "text": a.text,
        "language": a.language,
        "provenance": str(a.provenance),
        "author": a.author,
        "contact": a.contributor_contact,
        "status": str(a.status),
        "reason": a.reason,
        "translates": a.translates,
        "translates_hash": a.translates_hash,
        "translates_version": a.translates_version,
        "consent_given_at": a.consent_given_at.isoformat(),
        "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
    }


def item_json(item: ReviewItem) -> dict[str, Any]:
    """An addition as moderators see it, with its place's title and whether (for a
    translation) the story it translates changed since."""
    return {
        **addition_json(item.addition),
        "place_title": item.place.title,
        "out_of_date": item.translation is not None and not item.translation.current,
    }


def _json(body: Any) -> Response:
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


# ---------------------------------------------------------------------------
# The page and its forms
# ---------------------------------------------------------------------------


@router.get(QUEUE, response_class=HTMLResponse, summary="Added memories and translations")
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
    try:
        items, total = narrative_additions.review_queue(
            store, parse_status(status), limit=PAGE_SIZE, offset=offset
        )
    except HeritageError as exc:
        items, total, problem = [], 0, localised_message(exc, request_language(request))
    context = {
        "items": items,
        **queue_context(
            request,
            status=status,
            offset=offset,
            total=total,
            done=done,
            error=error or problem,
        ),
    }
    return staff_page(request, "moderation_narratives.html", context, who)


@router.post(
    QUEUE + "/{addition_id}/publish",
    summary="Publish an added memory or translation (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_publish(
    addition_id: str,
    next: str | None = Form(None, max_length=2000),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    try:
        narrative_additions.publish(store, addition_id, who.actor)
    except HeritageError as exc:
        return _done(next or QUEUE, exc.message, error=True)
    return _done(next or QUEUE, "Published it on the place's page.")


@router.post(
    QUEUE + "/{addition_id}/reject",
    summary="Reject or hide an added memory or translation (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_reject(
    addition_id: str,
    reason: str = Form("", max_length=2000),
    next: str | None = Form(None, max_length=2000),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    try:
        narrative_additions.reject(store, addition_id, who.actor, reason or None)
    except HeritageError as exc:
        return _done(next or QUEUE, exc.message, error=True)
    return _done(next or QUEUE, "Kept it off the place's page.")


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------

api = APIRouter(prefix="/api/moderation/narratives", tags=["moderation"])


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000, description="why, for the record")


@api.get("", summary="Added memories and translations in one status, oldest first")
def api_queue(
    status: str = Query("pending", max_length=20),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
) -> Response:
    items, total = narrative_additions.review_queue(
        store, parse_status(status), limit=PAGE_SIZE, offset=offset
    )
    return _json({"total": total, "items": [item_json(i) for i in items]})


def _answer(store: PlaceStore, addition_id: str) -> Response:
    addition = store.narrative_addition(addition_id)
    place = store.get(addition.place_id)
    state = narrative_additions.translation_state(place.narratives, addition)
    return _json(item_json(ReviewItem(addition, place, state)))


@api.post("/{addition_id}/publish", summary="Publish an added memory or translation")
def api_publish(
    addition_id: str, who: SignedIn = Depends(FACILITATOR), store: PlaceStore = Depends(get_store)
) -> Response:
    narrative_additions.publish(store, addition_id, who.actor)
    return _answer(store, addition_id)


@api.post("/{addition_id}/reject", summary="Reject (or hide) an added memory or translation")
def api_reject(
    addition_id: str,
    body: ReasonIn,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
) -> Response:
    narrative_additions.reject(store, addition_id, who.actor, body.reason)
    return _answer(store, addition_id)
