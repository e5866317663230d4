"""The walks API: a resident proposes a walk (and gets a private edit token to revise or
withdraw it); facilitators see the queue, with the stops the public no longer sees, and
publish, reject or hide walks with a reason, or ask their proposer for changes.

Bodies are read like a place's (:func:`web.json_body.parse_json`): malformed JSON is
a 400, every broken rule a 422 naming each problem, in the reader's language.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field
from shapely.geometry import mapping
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from geodata import contributions, walk_lifecycle
from geodata.errors import HeritageError, InvalidInput
from geodata.models import Narrative
from geodata.store.base import PlaceStore
from geodata.voices import playable
from geodata.walk_checks import WalkSubmission, prepare_walk
from geodata.walk_views import HiddenStop, hidden_stops, public_walk, shown_places
from geodata.walks import Walk
from web.auth import FACILITATOR, SignedIn
from web.dependencies import get_store
from web.i18n import localised_problem
from web.json_body import parse_json, require_json
from web.language_choice import request_language
from web.public_url import public_base_url
from web.rate_limits import RateLimited, count_submission
from web.routes.audio import recording_json
from web.routes.moderation_api import PAGE_SIZE, STATUSES, ReasonIn, parse_status
from web.routes.places import edit_token_of

router = APIRouter(prefix="/api/walks", tags=["walks"])
staff = APIRouter(prefix="/api/moderation/walks", tags=["moderation"])


class WalkReceipt(BaseModel):
    id: str
    status: str
    edit_token: str
    edit_url: str  # the proposer's private page: status, moderators' words, revise, withdraw
    url: str


def walk_edit_url(request: Request, walk_id: str, token: str) -> str:
    """The private page of a walk's proposer (holds the edit token: shown once)."""
    base = public_base_url(request, request.app.state.settings)
    return f"{base}/walks/{walk_id}/edit?token={token}"


def _texts(items: list[Narrative]) -> list[dict[str, str]]:
    return [n.to_json() for n in items]


def _hidden_json(h: HiddenStop, staff: bool) -> dict[str, Any]:
    if not staff:  # the proposer learns which stop, not what became of others' places
        return {"position": h.position, "place_id": h.place_id}
    return {
        "position": h.position,
        "place_id": h.place_id,
        "title": h.title,
        "code": h.code,
        "status": h.status,
        "sensitivity": h.sensitivity,
        "reason": h.reason,
    }


def walk_json(
    walk: Walk, store: PlaceStore, *, personal: bool, staff: bool = True, owner: bool = False
) -> dict[str, Any]:
    """A walk as its proposer (``personal`` and ``owner``, not ``staff``) or a moderator
    sees it: everything stored, with the stops the public no longer sees (and, for staff,
    why), and the recordings of each stop the reader may hear (a moderator hears no
    archive-only one; the proposer and the backup, ``owner``, hear all)."""
    places = shown_places(store, [s.place_id for s in walk.stops])
    view = public_walk(walk, places, require_published=False)
    note = walk_lifecycle.moderator_note(store, walk)
    voices = store.walk_recordings(walk.id)
    body: dict[str, Any] = {
        "id": walk.id,
        "status": str(walk.status),
        "version": walk.version,
        "titles": _texts(walk.titles),
        "introductions": _texts(walk.introductions),
        "editorial": walk.editorial,
        "stops": [
            {
                "position": i,
                "place_id": s.place_id,
                "chapters": _texts(s.chapters),
                "recordings": [
                    recording_json(r)
                    for r in voices.get(s.place_id, [])
                    if playable(r, staff=staff, owner=owner)
                ],
            }
            for i, s in enumerate(walk.stops, 1)
        ],
        "route": mapping(walk.route) if walk.route is not None else None,
        "length_m": round(view.length_m) if view else None,
        "walking_minutes": view.minutes if view else None,
        "hidden_stops": [_hidden_json(h, staff) for h in hidden_stops(store, walk, places)],
        "licence": walk.licence,
        "consent": {"open_data": walk.consent.open_data, "research": walk.consent.research},
        "rejection_reason": note.text if note and note.kind != "changes_requested" else None,
        "changes_requested": note.text if note and note.kind == "changes_requested" else None,
        "created_at": walk.created_at.isoformat(),
        "updated_at": walk.updated_at.isoformat(),
        "url": f"/walks/{walk.id}",
    }
    if personal:
        body["contributor"] = {
            "name": walk.contributor_name,
            "contact": walk.contributor_contact,
            "display_name": walk.display_name,
        }
    return body


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def _etag(walk: Walk) -> str:
    return f'"{walk.id}-v{walk.version}"'


async def _answer(request: Request, work: Any, *args: Any) -> Response:
    """Run ``work`` in the thread pool; domain errors become localised problem+json."""
    language = request_language(request)
    try:
        return await run_in_threadpool(work, *args)
    except RateLimited as exc:
        return localised_problem(
            exc, language, request.url.path, headers={"Retry-After": str(exc.retry_after)}
        )
    except HeritageError as exc:
        return localised_problem(exc, language, request.url.path)


def _propose(request: Request, body: bytes) -> Response:
    app = request.app
    store: PlaceStore = app.state.store
    submission = parse_json(WalkSubmission, body)
    index = contributions.project_index(store, app.state.settings.project_margin_m)
    walk = prepare_walk(store, submission, index.rules)
    count_submission(request, None)  # a proposal counts against its client's budget
    receipt = walk_lifecycle.save_walk(store, walk)
    answer = WalkReceipt(
        id=walk.id,
        status=str(walk.status),
        edit_token=receipt.edit_token,
        edit_url=walk_edit_url(request, walk.id, receipt.edit_token),
        url=f"/walks/{walk.id}",
    )
    return _json(answer.model_dump(), 201, {"Location": f"/api/walks/{walk.id}"})


@router.post(
    "",
    status_code=201,
    summary="Propose a walk (stops in order, texts in languages, an optional route)",
    response_model=WalkReceipt,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/WalkSubmission"}}
            },
        }
    },
)
async def propose_walk(request: Request) -> Response:
    """The edit token is shown only in this answer; the walk stays pending until a
    facilitator publishes it."""
    try:
        require_json(request)
    except HeritageError as exc:
        return localised_problem(exc, request_language(request), request.url.path)
    return await _answer(request, _propose, request, await request.body())


def _owned(request: Request, walk_id: str) -> Walk:
    return walk_lifecycle.check_walk_token(request.app.state.store, walk_id, edit_token_of(request))


@router.get("/{walk_id}", summary="Your proposed walk, with your edit token")
async def get_own_walk(request: Request, walk_id: str) -> Response:
    def work() -> Response:
        walk = _owned(request, walk_id)
        return _json(
            walk_json(walk, request.app.state.store, personal=True, staff=False, owner=True)
        )

    return await _answer(request, work)


def _revise(request: Request, walk_id: str, body: bytes) -> Response:
    app = request.app
    store: PlaceStore = app.state.store
    walk = _owned(request, walk_id)
    submission = parse_json(WalkSubmission, body)
    index = contributions.project_index(store, app.state.settings.project_margin_m)
    revised = walk_lifecycle.revise(store, walk, prepare_walk(store, submission, index.rules))
    return _json(walk_json(revised, store, personal=True, staff=False, owner=True))


@router.put(
    "/{walk_id}",
    summary="Revise your walk, with your edit token (the whole walk, as when proposing it)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/WalkSubmission"}}
            },
        }
    },
)
async def revise_walk(request: Request, walk_id: str) -> Response:
    """Checked like a new proposal; changed texts, stops or route wait for a facilitator
    again, a change of consent alone does not."""
    try:
        require_json(request)
    except HeritageError as exc:
        return localised_problem(exc, request_language(request), request.url.path)
    return await _answer(request, _revise, request, walk_id, await request.body())


@router.delete("/{walk_id}", summary="Withdraw your walk, with your edit token")
async def withdraw_walk(request: Request, walk_id: str) -> Response:
    """It leaves every page and output at once; your name and contact are erased, and
    the recordings of its stops removed."""

    def work() -> Response:
        app = request.app
        walk = walk_lifecycle.withdraw(
            app.state.store, _owned(request, walk_id), app.state.settings.media_path
        )
        return _json({"id": walk.id, "status": str(walk.status)})

    return await _answer(request, work)


class MessageIn(BaseModel):
    message: str = Field(max_length=2000, description="what to change, for the proposer")


# ---------------------------------------------------------------------------
# Moderation
# ---------------------------------------------------------------------------


def _if_match(value: str | None) -> int | None:
    if not value:
        return None
    head, _, version = value.strip().strip('"').rpartition("-v")
    if not head or not version.isdigit():
        raise InvalidInput(
            'If-Match must be the ETag you read, like "wk_...-v3"', code="bad_if_match"
        )
    return int(version)


@staff.get("", summary="Walks to moderate (facilitators)")
def queue(
    status: str = Query("pending", description="one of " + ", ".join(STATUSES)),
    page: int = Query(1, ge=1, le=10_000),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
) -> Response:
    status = str(parse_status(status))
    walks = store.walks(status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return _json(
        {
            "walks": [walk_json(w, store, personal=True) for w in walks],
            "total": store.count_walks(status),
            "page": page,
        }
    )


@staff.get("/{walk_id}", summary="One walk, as moderators see it")
def one(
    walk_id: str, who: SignedIn = Depends(FACILITATOR), store: PlaceStore = Depends(get_store)
) -> Response:
    walk = store.get_walk(walk_id)
    return _json(walk_json(walk, store, personal=True), headers={"ETag": _etag(walk)})


@staff.post("/{walk_id}/publish", summary="Publish a walk")
def publish(
    walk_id: str,
    if_match: str | None = Header(None, alias="If-Match"),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
) -> Response:
    walk = walk_lifecycle.publish(store, walk_id, who.actor, _if_match(if_match))
    return _json(walk_json(walk, store, personal=True), headers={"ETag": _etag(walk)})


@staff.post("/{walk_id}/reject", summary="Reject (or hide) a walk, with a reason")
def reject(
    walk_id: str,
    body: ReasonIn,
    if_match: str | None = Header(None, alias="If-Match"),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
) -> Response:
    walk = walk_lifecycle.reject(store, walk_id, who.actor, body.reason, _if_match(if_match))
    return _json(walk_json(walk, store, personal=True), headers={"ETag": _etag(walk)})


@staff.post("/{walk_id}/request-changes", summary="Ask a walk's proposer for changes")
def request_changes(
    walk_id: str,
    body: MessageIn,
    if_match: str | None = Header(None, alias="If-Match"),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
) -> Response:
    """A pending walk stays pending; its proposer reads the message on their private page
    (and in ``changes_requested``) until they revise it."""
    walk = walk_lifecycle.request_changes(
        store, walk_id, who.actor, body.message, _if_match(if_match)
    )
    return _json(walk_json(walk, store, personal=True), headers={"ETag": _etag(walk)})


def install(app: Any) -> None:
    """Mount the routes and document the proposal's body in the OpenAPI description."""
    app.include_router(router)
    app.include_router(staff)
    previous = app.openapi

    def openapi() -> dict[str, Any]:
        schema = previous()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        if "WalkSubmission" not in schemas:
            spec = WalkSubmission.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(spec.pop("$defs", {}))
            schemas["WalkSubmission"] = spec
        return schema

    app.openapi = openapi
