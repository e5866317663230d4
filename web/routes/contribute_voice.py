"""Voices on the private edit page: ``POST /contribute/edit/{id}/audio`` adds a recording
(a file, or one just recorded in the browser and put in the same file field by
``static/voice.js``) or removes one - plain forms, working without JavaScript."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect
from starlette.responses import RedirectResponse, Response

from geodata.errors import FieldProblem, HeritageError, NotFound
from geodata.voices import remove_recording
from web.contribute_form import csrf_ok, form_expired, render_form
from web.i18n import translate_problem
from web.language_choice import request_language
from web.routes.audio import read_upload, sent_values, store_upload
from web.routes.contribute_edit import edit_context, edit_problem, load_for_edit

router = APIRouter(include_in_schema=False)
# API field -> the voice form's field, where its message is shown.
VOICE_FIELDS = {
    "file": "voice",
    "scope": "voice_scope",
    "title": "voice_title",
    "transcript": "voice_transcript",
    "transcript_language": "voice_language",
    "stop": "voice_stop",  # a walk's voices: the stop it is for
}


def voice_errors(exc: HeritageError, language: str) -> dict[str, list[str]]:
    problems = exc.problems or [FieldProblem("file", exc.code, exc.message)]
    out: dict[str, list[str]] = {}
    for p in problems:
        field = VOICE_FIELDS.get(p.field, "voice")
        out.setdefault(field, []).append(translate_problem(p, language).message)
    return out


def _act(request: Request, place_id: str, form: FormData) -> str:
    action = str(form.get("action") or "add")
    if action.startswith("remove:"):
        store = request.app.state.store
        item = store.get_recording(action.removeprefix("remove:"))
        if item.place_id != place_id or item.walk_id is not None:  # a walk stop's: its walk's
            raise NotFound(f"place {place_id} has no recording {item.id}")
        remove_recording(store, request.app.state.settings.media_path, item)
        return "voice_removed"
    upload, details = read_upload(form)
    store_upload(request, place_id, upload.file, details)
    return "voice_added"


@router.post("/contribute/edit/{place_id}/audio")
async def voice_submit(request: Request, place_id: str) -> Response:
    language = request_language(request)
    try:
        form = await request.form(max_files=1, max_fields=10)
    except ClientDisconnect:
        return Response(status_code=400)  # no one is listening; the parser kept nothing
    try:
        token = str(form.get("token") or "")
        try:
            place = await run_in_threadpool(load_for_edit, request, place_id, token)
        except HeritageError as exc:
            return await run_in_threadpool(edit_problem, request, language, exc)

        async def page(errors: dict[str, list[str]], status: int) -> Response:
            sent: dict[str, Any] = sent_values(form)
            context = await run_in_threadpool(
                edit_context, request, language, place, token, None, errors, voice_values=sent
            )
            return render_form(request, "contribute_edit.html", context, status=status)

        if not csrf_ok(request, form):
            return await page(form_expired(language), 403)
        try:
            outcome = await run_in_threadpool(_act, request, place_id, form)
        except HeritageError as exc:
            return await page(voice_errors(exc, language), exc.status)
        return RedirectResponse(
            f"/contribute/edit/{place_id}?token={token}&done={outcome}#voices",
            status_code=303,
            headers={"Referrer-Policy": "no-referrer"},
        )
    finally:
        await form.close()
