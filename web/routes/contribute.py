"""The resident's form: ``/contribute`` (and ``?workshop=CODE``), and the private edit page.

One page that works without JavaScript: a plain POST with latitude/longitude fields,
errors shown next to their fields, the edit link on the next page. With JavaScript
(``contribute.js``) the same form gains a map to tap and draw on and posts to the
JSON API instead. Both paths end in the same domain checks.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from geodata import contributions
from geodata.errors import InvalidInput, NotFound
from geodata.media import PhotoError, store_photo
from geodata.models import utcnow
from geodata.schemas import LICENCES, PlaceSubmission, Problem, validation_problems
from geodata.store.base import PlaceStore
from geodata.voices import Taken, drop, keep_recording
from web.contribute_form import (
    STORY_LANGUAGES,
    busy_errors,
    busy_page,
    csrf_ok,
    form_context,
    form_errors,
    form_expired,
    form_photo,
    render_form,
)
from web.form_submission import (
    form_values,
    geometry_from_form,
    merge_problems,
    properties_from_form,
)
from web.i18n import N_, TEMPLATES, field_problems, gettext_for
from web.language_choice import request_language
from web.middleware import CSRF_FIELD
from web.photo_slots import PhotosBusy
from web.rate_limits import RateLimited, count_join_code, peek_submission, with_join_code
from web.routes.audio import recording_json
from web.routes.media import processed_upload
from web.routes.new_place_voice import (
    form_voice,
    take_form_voice,
    upload_fingerprint,
    voice_details,
    voice_not_kept,
)
from web.settings import Settings
from web.submission_acceptance import accept_submission

router = APIRouter(include_in_schema=False)


NOT_OPEN = N_(
    "This workshop code is not open for contributions right now. Your place will be sent "
    "on its own."
)


def _workshop_notice(request: Request, code: str | None, _: Any) -> tuple[str | None, str | None]:
    """(code to attach, sentence to show) for ``?workshop=CODE``; RateLimited when this
    client has tried too many codes that do not work.

    A wrong code and a workshop that is shut or not open yet get the same sentence, after
    the same lookup, so the page tells nobody which codes exist.
    """
    if not code:
        return None, None
    try:
        workshop = request.app.state.store.get_workshop(code)
    except NotFound:
        workshop = None
    open_now = workshop is not None and workshop.is_open(utcnow())
    count_join_code(request, works=open_now)
    if workshop is None or not open_now:
        return None, _(NOT_OPEN)
    return workshop.code, _("You are adding to the workshop “{title}”.").format(
        title=workshop.title
    )


def _story_language(language: str) -> str:
    """The story language the form starts with: the reader's own, tag and all (a story
    written on the ``zh-Hans`` interface is most likely in simplified Chinese)."""
    return language if language.split("-")[0] in STORY_LANGUAGES else "pt"


def _blank_values(language: str, workshop: str | None) -> dict[str, Any]:
    return {
        "narrative_language": _story_language(language),
        "translation_language": "en" if language != "en" else "pt",
        "translation_provenance": "community_translation",
        "licence": LICENCES[0],
        "sensitivity": "public",
        "category": "",
        "workshop": workshop or "",
        "submission_id": uuid.uuid4().hex,
    }


@router.get("/contribute")
async def contribute_page(request: Request, workshop: str | None = None) -> Response:
    language = request_language(request)
    _ = gettext_for(language)
    status, retry = 200, None
    try:
        code, notice = await run_in_threadpool(_workshop_notice, request, workshop, _)
    except RateLimited as exc:
        code, notice = None, _(TEMPLATES["too_many_codes"])
        status, retry = 429, exc.retry_after
    context = await run_in_threadpool(
        form_context,
        request,
        language,
        _blank_values(language, code),
        {},
        workshop_notice=notice,
        workshop_code=code,
    )
    response = render_form(
        request, "contribute.html", context, status, set_language="lang" in request.query_params
    )
    if retry is not None:
        response.headers["Retry-After"] = str(retry)
    return response


# ---------------------------------------------------------------------------
# The plain (no JavaScript) submission
# ---------------------------------------------------------------------------


def _handle_submission(
    request: Request,
    values: dict[str, Any],
    photo: bytes | None,
    caption: str | None,
    voice: UploadFile | None = None,
) -> dict[str, Any]:
    """Check and store a plain-form submission; raise InvalidInput with every problem.

    A recording sent with it is checked (and stripped) before the place is stored, so a
    refused one leaves neither; it is kept once the place is."""
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    problems: list[Problem] = []
    geometry = geometry_from_form(values, problems)
    props = properties_from_form(values, problems)
    details = voice_details(values, problems) if voice is not None else None
    processed = []
    taken: list[Taken] = []

    def prepare() -> contributions.PreparedPlace:
        try:
            submission = PlaceSubmission.model_validate(
                {"type": "Feature", "geometry": geometry, "properties": props}, strict=False
            )
        except ValidationError as exc:
            raise InvalidInput(
                "check the form", problems=[*problems, *validation_problems(exc)]
            ) from None
        index = contributions.project_index(store, settings.project_margin_m)
        try:
            prepared = contributions.prepare_submission(
                store, submission, index, request.app.state.vocabulary
            )
        except InvalidInput as exc:
            raise InvalidInput("check the form", problems=merge_problems(problems, exc)) from None
        if problems:
            raise InvalidInput("check the form", problems=list(problems))
        if photo is not None:
            # Decoding is the costly part: only for a form that is right otherwise, from
            # a client within its limit (the place itself is counted when it is stored).
            peek_submission(request, prepared.place.workshop)
            try:
                processed.append(processed_upload(request, photo))
            except PhotoError as exc:
                raise InvalidInput("check the form", problems=list(exc.problems)) from None
        if voice is not None:
            peek_submission(request, prepared.place.workshop)
            taken.append(take_form_voice(request, voice))
        return prepared

    key = values.get("submission_id") or None
    fingerprint = hashlib.sha256(
        orjson.dumps({k: v for k, v in sorted(values.items()) if k != CSRF_FIELD})
        + (photo or b"")
        + upload_fingerprint(voice)
    ).hexdigest()
    try:
        accepted = accept_submission(
            request,
            key if key and len(key) >= 8 else None,
            fingerprint,
            lambda: with_join_code(request, values.get("workshop"), prepare),
        )
        receipt = accepted.receipt
        if processed and not accepted.replayed:
            store_photo(store, settings.media_path, receipt["id"], processed[0], caption)
        if taken and details is not None and not accepted.replayed:
            kept = keep_recording(store, settings.media_path, taken.pop(), receipt["id"], details)
            receipt["recording"] = recording_json(kept.recording)
    finally:
        for left in taken:  # refused, replayed, or the place not stored: nothing stays
            drop(left)
    return receipt


@router.post("/contribute")
async def contribute_submit(request: Request) -> Response:
    try:
        form = await request.form(max_files=2, max_fields=60)
    except ClientDisconnect:
        return Response(status_code=400)  # no one is listening; the parser kept nothing
    try:
        return await _answer(request, form)
    finally:
        await form.close()  # a spooled recording goes at once


async def _answer(request: Request, form: FormData) -> Response:
    language = request_language(request)
    values = form_values(form)
    voice = form_voice(form)
    if not csrf_ok(request, form):
        errors = voice_not_kept(form_expired(language), voice, language)
        context = await run_in_threadpool(form_context, request, language, values, errors)
        return render_form(request, "contribute.html", context, status=403)
    photo, caption = form_photo(form)
    try:
        receipt = await run_in_threadpool(
            _handle_submission, request, values, photo, caption, voice
        )
    except RateLimited as exc:
        errors = voice_not_kept(form_errors(field_problems(exc), language), voice, language)
        context = await run_in_threadpool(form_context, request, language, values, errors)
        response = render_form(request, "contribute.html", context, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except PhotosBusy as exc:
        errors = voice_not_kept(busy_errors(exc, language), voice, language)
        context = await run_in_threadpool(form_context, request, language, values, errors)
        return busy_page(render_form(request, "contribute.html", context, status=503), exc)
    except InvalidInput as exc:
        errors = voice_not_kept(form_errors(field_problems(exc), language), voice, language)
        context = await run_in_threadpool(form_context, request, language, values, errors)
        return render_form(request, "contribute.html", context, status=exc.status)
    context = await run_in_threadpool(form_context, request, language, {}, {}, receipt=receipt)
    return render_form(request, "contribute_done.html", context, status=201)
