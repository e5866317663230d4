"""The proposer's private page of a walk, ``/walks/{id}/edit?token=...`` (the link the
proposal's answer gave them, like a place's edit link): the walk's status, what the
moderators said (a rejection's reason, the changes they asked for), the stops the public
no longer sees, a form to revise it (and its open-data consent), and withdrawal.

Withdrawal takes the walk off every page and output at once (a 404 everywhere) and
erases the proposer's name and contact; the audit trail records it. Plain forms with
the residents' CSRF token: they work without JavaScript.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from geodata import contributions, walk_lifecycle
from geodata.errors import FieldProblem, HeritageError, InvalidInput
from geodata.models import Provenance, Status
from geodata.schemas import Problem
from geodata.store.base import PlaceStore
from geodata.walk_checks import MAX_STOPS, WalkSubmission, prepare_walk
from geodata.walk_views import hidden_stops, shown_places
from geodata.walks import Walk
from web.contribute_form import csrf_ok, form_expired
from web.i18n import translate_problem
from web.language_choice import request_language
from web.routes.walk_form import (
    ROWS,
    form_problems,
    proposal,
    render_walk_form,
    stop_rows,
)
from web.routes.walks import not_found
from web.routes.walks_api import walk_edit_url
from web.walk_review import original

router = APIRouter(tags=["walks"])
PAGE = "walk_edit.html"


def form_values(walk: Walk) -> dict[str, str] | None:
    """The walk in the form's fields; None when the form cannot hold it (texts in several
    languages, a route drawn by its proposer, the atlas's own walks): the API revises
    those."""
    texts = [*walk.titles, *walk.introductions, *(c for s in walk.stops for c in s.chapters)]
    languages = {n.language for n in texts}
    if len(languages) != 1 or walk.route is not None or walk.editorial:
        return None
    if any(n.provenance != Provenance.ORIGINAL or n.source for n in texts):
        return None
    values = {
        "title": walk.titles[0].text,
        "introduction": walk.introductions[0].text,
        "language": walk.titles[0].language,
        "display_name": walk.display_name or "",
        "contact": walk.contributor_contact or "",
        "open_data": "yes" if walk.consent.open_data else "",
    }
    for i, stop in enumerate(walk.stops):
        values[f"stop_{i}_place"] = stop.place_id
        values[f"stop_{i}_text"] = stop.chapters[0].text if stop.chapters else ""
    return values


def _rows(walk: Walk) -> int:
    return min(MAX_STOPS, max(ROWS, len(walk.stops) + 2))


def _page(
    request: Request, language: str, walk: Walk, token: str, *,
    values: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
    status: int = 200, done: str | None = None,
) -> Response:  # fmt: skip
    store: PlaceStore = request.app.state.store
    places = shown_places(store, [s.place_id for s in walk.stops])
    editable = form_values(walk)
    return render_walk_form(
        request, PAGE, language, values or editable or {}, errors or {}, status,
        rows=_rows(walk), private=True, walk=walk, title=original(walk.titles), token=token,
        link=walk_edit_url(request, walk.id, token), editable=editable is not None,
        note=walk_lifecycle.moderator_note(store, walk),
        hidden=[h.position for h in hidden_stops(store, walk, places)], done=done,
    )  # fmt: skip


def _refused(request: Request, language: str, exc: HeritageError) -> Response:
    if exc.status == 404:
        return not_found(request, language)
    return render_walk_form(request, PAGE, language, {}, {}, exc.status, private=True, walk=None)


def _owned(request: Request, walk_id: str, token: str | None) -> Walk:
    return walk_lifecycle.check_walk_token(request.app.state.store, walk_id, token)


@router.get(
    "/walks/{walk_id}/edit",
    response_class=HTMLResponse,
    summary="The proposer's private page of a walk (with the edit token)",
)
async def private_page(request: Request, walk_id: str, token: str | None = None) -> Response:
    language = request_language(request)
    try:
        walk = await run_in_threadpool(_owned, request, walk_id, token)
    except HeritageError as exc:
        return await run_in_threadpool(_refused, request, language, exc)
    done = request.query_params.get("done")
    return await run_in_threadpool(_page, request, language, walk, token or "", done=done)


def _confirm_problem() -> InvalidInput:
    return InvalidInput(
        "tick the box to confirm",
        problems=[
            Problem(
                "confirm_withdraw",
                "required",
                "tick the box to confirm you want to withdraw this walk",
            )
        ],
    )


def _act(request: Request, walk: Walk, form: FormData, language: str) -> str:
    """Do what the form asks; the outcome's name for the page's notice."""
    store: PlaceStore = request.app.state.store
    if form.get("action") == "withdraw":
        if form.get("confirm_withdraw") is None:
            raise _confirm_problem()
        walk_lifecycle.withdraw(store, walk, request.app.state.settings.media_path)
        return "withdrawn"
    if walk.status == Status.WITHDRAWN:
        raise walk_lifecycle.WithdrawnWalk("this walk was withdrawn and can no longer be changed")
    if form_values(walk) is None:
        raise InvalidInput("this walk can only be revised through the API (PUT /api/walks/{id})")
    body: dict[str, Any] = proposal(form, language, consented=True)
    # What the form does not ask for stays as it was.
    body["contributor"]["name"] = walk.contributor_name
    body["consent"]["research"] = walk.consent.research
    submission = WalkSubmission.model_validate_json(orjson.dumps(body))
    index = contributions.project_index(store, request.app.state.settings.project_margin_m)
    walk_lifecycle.revise(store, walk, prepare_walk(store, submission, index.rules))
    return "saved"


@router.post(
    "/walks/{walk_id}/edit",
    response_class=HTMLResponse,
    summary="Revise or withdraw a walk (the private page's forms)",
)
async def private_submit(request: Request, walk_id: str) -> Response:
    language = request_language(request)
    form = await request.form(max_files=0, max_fields=2 * MAX_STOPS + 20, max_part_size=64 * 1024)
    token = str(form.get("token") or "")
    try:
        walk = await run_in_threadpool(_owned, request, walk_id, token)
    except HeritageError as exc:
        return await run_in_threadpool(_refused, request, language, exc)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not csrf_ok(request, form):
        return await run_in_threadpool(
            lambda: _page(request, language, walk, token, values=values,
                          errors=form_expired(language), status=403)
        )  # fmt: skip
    try:
        outcome = await run_in_threadpool(_act, request, walk, form, language)
    except InvalidInput as exc:
        errors = form_problems(exc, stop_rows(form), language)
        kept = None if "confirm_withdraw" in errors else values  # the other form was sent
        return await run_in_threadpool(
            lambda: _page(request, language, walk, token, values=kept, errors=errors, status=422)
        )
    except HeritageError as exc:
        problem = FieldProblem("form", exc.code, exc.message)
        errors = {"form": [translate_problem(problem, language).message]}
        status = exc.status
        return await run_in_threadpool(
            lambda: _page(request, language, walk, token, errors=errors, status=status)
        )
    return RedirectResponse(
        f"/walks/{walk_id}/edit?token={token}&done={outcome}",
        status_code=303,
        headers={"Referrer-Policy": "no-referrer"},
    )
