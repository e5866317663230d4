"""Voices for a walk's stops, as plain forms: ``/walks/{id}/voices?token=…`` (the link
given with the walk's private key) lists each stop with its recordings and adds one to
the stop chosen, from a file or recorded in the browser (``static/voice.js``), or
removes one. It works without JavaScript; uploads are read as the API reads them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect
from starlette.responses import RedirectResponse, Response

from geodata import walk_lifecycle
from geodata.errors import HeritageError, InvalidInput, NotFound
from geodata.schemas import Problem
from geodata.store.base import PlaceStore
from geodata.voices import remove_recording
from geodata.walk_views import shown_places
from geodata.walk_voices import stop_place_id
from geodata.walks import Walk
from mapping.features import choose_narrative
from web.contribute_form import csrf_ok, error_list, form_csrf_token, form_expired, render_form
from web.i18n import gettext_for
from web.language_choice import request_language
from web.middleware import CSRF_FIELD
from web.routes.audio import DETAIL_FIELDS, read_upload, sent_values
from web.routes.contribute_voice import voice_errors
from web.routes.walk_audio import store_stop_upload
from web.routes.walks import page_context
from web.voice_view import voice_view

router = APIRouter(include_in_schema=False)
TEMPLATE = "walk_voices.html"


def _context(
    request: Request, language: str, walk: Walk | None, token: str, **extra: Any
) -> dict[str, Any]:
    context = {
        **page_context(request, language),
        "walk": walk,
        "token": token,
        "csrf_token": form_csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "errors": {},
        "sent": {},
        **extra,
    }
    context["error_list"] = error_list(context["errors"])
    if walk is None:
        return context
    store: PlaceStore = request.app.state.store
    title = choose_narrative(walk.titles, language)
    places = shown_places(store, [s.place_id for s in walk.stops])
    voices = store.walk_recordings(walk.id)
    context["title"] = title.text if title else walk.id
    context["status"] = str(walk.status)
    context["stops"] = [
        {
            "number": n,
            "title": places[s.place_id].title if s.place_id in places else None,
            "voices": [voice_view(r) for r in voices.get(s.place_id, [])],
        }
        for n, s in enumerate(walk.stops, start=1)
    ]
    return context


def _problem_page(request: Request, language: str, exc: HeritageError) -> Response:
    _ = gettext_for(language)
    message = (
        _("This link is not valid. Use the private key you were given when you proposed the walk.")
        if exc.status in (401, 403)
        else _("There is no such walk.")
    )
    context = _context(request, language, None, "", problem_message=message)
    return render_form(request, TEMPLATE, context, status=exc.status)


def _load(request: Request, walk_id: str, token: str | None) -> Walk:
    return walk_lifecycle.check_walk_token(request.app.state.store, walk_id, token)


@router.get("/walks/{walk_id}/voices")
async def walk_voices_page(request: Request, walk_id: str, token: str | None = None) -> Response:
    language = request_language(request)
    try:
        walk = await run_in_threadpool(_load, request, walk_id, token)
    except HeritageError as exc:
        return await run_in_threadpool(_problem_page, request, language, exc)
    notice = request.query_params.get("done")
    context = await run_in_threadpool(_context, request, language, walk, token or "", notice=notice)
    return render_form(request, TEMPLATE, context)


def _act(request: Request, walk: Walk, form: FormData) -> str:
    action = str(form.get("action") or "add")
    store = request.app.state.store
    if action.startswith("remove:"):
        item = store.get_recording(action.removeprefix("remove:"))
        if item.walk_id != walk.id:
            raise NotFound(f"walk {walk.id} has no recording {item.id}")
        remove_recording(store, request.app.state.settings.media_path, item)
        return "voice_removed"
    try:
        number = int(str(form.get("stop") or ""))
        stop_place_id(walk, number)
    except (ValueError, NotFound):
        message = "choose the stop the recording is for"
        raise InvalidInput(
            message, code="choose_stop", problems=[Problem("stop", "choose_stop", message)]
        ) from None
    upload, details = read_upload(form)
    store_stop_upload(request, walk, number, upload.file, details)
    return "voice_added"


@router.post("/walks/{walk_id}/voices")
async def walk_voices_submit(request: Request, walk_id: str) -> Response:
    language = request_language(request)
    try:
        form = await request.form(max_files=1, max_fields=12)
    except ClientDisconnect:
        return Response(status_code=400)  # no one is listening; the parser kept nothing
    try:
        token = str(form.get("token") or "")
        try:
            walk = await run_in_threadpool(_load, request, walk_id, token)
        except HeritageError as exc:
            return await run_in_threadpool(_problem_page, request, language, exc)

        async def page(errors: dict[str, list[str]], status: int) -> Response:
            sent = sent_values(form, (*DETAIL_FIELDS, "stop"))
            context = await run_in_threadpool(
                _context, request, language, walk, token, errors=errors, sent=sent
            )
            return render_form(request, TEMPLATE, context, status=status)

        if not csrf_ok(request, form):
            return await page(form_expired(language), 403)
        try:
            outcome = await run_in_threadpool(_act, request, walk, form)
        except HeritageError as exc:
            return await page(voice_errors(exc, language), exc.status)
        return RedirectResponse(
            f"/walks/{walk_id}/voices?token={token}&done={outcome}#voices",
            status_code=303,
            headers={"Referrer-Policy": "no-referrer"},
        )
    finally:
        await form.close()
