"""The resident's form: ``/contribute`` (and ``?workshop=CODE``), and the private edit page.

One page that works without JavaScript: a plain POST with latitude/longitude fields,
errors shown next to their fields, the edit link on the next page. With JavaScript
(``contribute.js``) the same form gains a map to tap and draw on and posts to the
JSON API instead. Both paths end in the same domain checks.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
import shapely
from fastapi import APIRouter, Request
from pydantic import ValidationError
from shapely.geometry import mapping
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from geodata import contributions
from geodata.errors import FieldProblem, InvalidInput, NotFound
from geodata.media import PhotoError, store_photo
from geodata.models import utcnow
from geodata.schemas import LICENCES, PlaceSubmission, Problem, validation_problems
from geodata.store.base import PlaceStore
from web.form_submission import (
    form_values,
    geometry_from_form,
    merge_problems,
    properties_from_form,
)
from web.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    N_,
    TEMPLATES,
    direction,
    gettext_for,
    request_language,
    translate_problem,
)
from web.middleware import CSRF_COOKIE, CSRF_FIELD, csrf_token_valid, issue_csrf_token
from web.photo_slots import PhotosBusy
from web.rate_limits import RateLimited, count_join_code, peek_submission, with_join_code
from web.routes.media import processed_upload
from web.settings import Settings
from web.submission_acceptance import accept_submission
from web.templating import templates

router = APIRouter(include_in_schema=False)
# Languages offered for the story (each named in itself); any BCP 47 tag may be typed.
STORY_LANGUAGES = {
    "pt": "Português",
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "es": "Español",
    "it": "Italiano",
    "de": "Deutsch",
    "uk": "Українська",
    "ro": "Română",
    "ru": "Русский",
    "zh": "中文",
    "hi": "हिन्दी",
    "bn": "বাংলা",
    "ne": "नेपाली",
    "ur": "اردو",
    "fa": "فارسی",
    "tr": "Türkçe",
    "kea": "Kabuverdianu",
    "ff": "Fulfulde",
    "wo": "Wolof",
}
# Where each API field's errors are shown in the form.
FIELD_FOR = {
    "geometry": "location",
    "properties.title": "title",
    "properties.narratives.0.text": "narrative",
    "properties.narratives.0.language": "narrative_language",
    "properties.narratives.1.text": "translation",
    "properties.narratives.1.language": "translation_language",
    "properties.narratives.1.provenance": "translation_provenance",
    "properties.narratives": "narrative",
    "properties.category": "category",
    "properties.period": "period",
    "properties.year_from": "year_from",
    "properties.year_to": "year_to",
    "properties.tags": "tags",
    "properties.contributor.name": "contributor_name",
    "properties.contributor.contact": "contributor_contact",
    "properties.contributor.display_name": "display_name",
    "properties.consent.publish": "consent_publish",
    "properties.consent": "consent_publish",
    "properties.licence": "licence",
    "properties.sensitivity": "sensitivity",
    "properties.workshop": "workshop",
    "file": "photo",
    "caption": "caption",
}


def form_field(api_field: str) -> str:
    """The form field an API field's problem belongs next to."""
    parts = api_field.split(".")
    while parts:
        name = FIELD_FOR.get(".".join(parts))
        if name:
            return name
        parts.pop()
    return "form"


# ---------------------------------------------------------------------------
# Page context
# ---------------------------------------------------------------------------


def form_csrf_secret(request: Request) -> bytes:
    settings: Settings = request.app.state.settings
    if settings.secret_key:
        return settings.secret_key.encode()
    secret = getattr(request.app.state, "form_secret", None)
    if secret is None:
        # Kept in the database so every worker signs and checks with the same key; it
        # never changes once made, so holding a copy here is safe.
        secret = request.app.state.store.secret("form-csrf", lambda: secrets.token_bytes(32))
        request.app.state.form_secret = secret
    return secret


def _outlines(request: Request) -> bytes:
    """The neighbourhoods, simplified, for orientation on a map without tiles."""
    store: PlaceStore = request.app.state.store
    index = contributions.project_index(store, request.app.state.settings.project_margin_m)
    cached = getattr(index, "outlines_json", None)
    if cached is None:
        features = [
            {
                "type": "Feature",
                "properties": {"name": n.name},
                "geometry": mapping(shapely.simplify(n.geometry, 0.0002)),
            }
            for n in index.neighbourhoods
        ]
        bounds = (
            shapely.total_bounds([n.geometry for n in index.neighbourhoods]).tolist()
            if index.neighbourhoods
            else None
        )
        # Names come from imported files: "<" escaped so none can close the script element.
        cached = orjson.dumps(
            {"type": "FeatureCollection", "features": features, "bbox": bounds}
        ).replace(b"<", b"\\u003c")
        index.outlines_json = cached  # type: ignore[attr-defined]
    return cached


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


def _context(
    request: Request,
    language: str,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    **extra: Any,
) -> dict[str, Any]:
    _ = gettext_for(language)
    settings: Settings = request.app.state.settings
    categories = [(c.key, c.label(language)) for c in request.app.state.vocabulary]
    token = request.cookies.get(CSRF_COOKIE)
    secret = form_csrf_secret(request)
    if not csrf_token_valid(secret, token, token):
        token = issue_csrf_token(secret)
    error_list = [(name, message) for name, messages in errors.items() for message in messages]
    return {
        "_": _,
        "lang": language,
        "dir": direction(language),
        "languages": LANGUAGES,
        "story_languages": STORY_LANGUAGES,
        "categories": categories,
        "licences": LICENCES,
        "values": values,
        "errors": errors,
        "error_list": error_list,
        "csrf_token": token,
        "csrf_field": CSRF_FIELD,
        "tiles": settings.tiles if settings.tiles_enabled else "",
        "tiles_attribution": settings.tiles_attribution,
        "outlines": _outlines(request).decode(),
        **extra,
    }


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    set_language: bool = False,
) -> Response:
    response = templates.TemplateResponse(
        request,
        name,
        context,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Language": context["lang"],
            "X-Content-Type-Options": "nosniff",
        },
    )
    response.set_cookie(
        CSRF_COOKIE, context["csrf_token"], httponly=True, samesite="strict", max_age=24 * 3600
    )
    if set_language:
        response.set_cookie(
            LANGUAGE_COOKIE, context["lang"], samesite="lax", max_age=365 * 24 * 3600
        )
    return response


def _blank_values(language: str, workshop: str | None) -> dict[str, Any]:
    return {
        "narrative_language": language if language in STORY_LANGUAGES else "pt",
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
        _context,
        request,
        language,
        _blank_values(language, code),
        {},
        workshop_notice=notice,
        workshop_code=code,
    )
    response = _render(
        request, "contribute.html", context, status, set_language="lang" in request.query_params
    )
    if retry is not None:
        response.headers["Retry-After"] = str(retry)
    return response


# ---------------------------------------------------------------------------
# The plain (no JavaScript) submission
# ---------------------------------------------------------------------------


def _errors(problems: list[FieldProblem], language: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(form_field(p.field), []).append(translate_problem(p, language).message)
    return out


def _photo(form: FormData) -> tuple[bytes | None, str | None]:
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        return upload.file.read(), (str(form.get("caption") or "").strip() or None)
    return None, None


def _handle_submission(
    request: Request, values: dict[str, Any], photo: bytes | None, caption: str | None
) -> dict[str, Any]:
    """Check and store a plain-form submission; raise InvalidInput with every problem."""
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    problems: list[Problem] = []
    geometry = geometry_from_form(values, problems)
    props = properties_from_form(values, problems)
    processed = []

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
        return prepared

    key = values.get("submission_id") or None
    fingerprint = hashlib.sha256(
        orjson.dumps({k: v for k, v in sorted(values.items()) if k != CSRF_FIELD}) + (photo or b"")
    ).hexdigest()
    accepted = accept_submission(
        request,
        key if key and len(key) >= 8 else None,
        fingerprint,
        lambda: with_join_code(request, values.get("workshop"), prepare),
    )
    receipt = accepted.receipt
    if processed and not accepted.replayed:
        store_photo(store, settings.media_path, receipt["id"], processed[0], caption)
    return receipt


def busy_errors(exc: PhotosBusy, language: str) -> dict[str, list[str]]:
    """'Busy, send it again' next to the photo field."""
    return _errors([FieldProblem("file", exc.code, exc.message)], language)


def busy_page(response: Response, exc: PhotosBusy) -> Response:
    response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _csrf_ok(request: Request, form: FormData) -> bool:
    submitted = form.get(CSRF_FIELD)
    return csrf_token_valid(
        form_csrf_secret(request),
        request.cookies.get(CSRF_COOKIE),
        submitted if isinstance(submitted, str) else None,
    )


def _form_expired(language: str) -> dict[str, list[str]]:
    return _errors(
        [
            FieldProblem(
                "form",
                "form_expired",
                "the form expired or was sent from elsewhere; check it and send it again",
            )
        ],
        language,
    )


@router.post("/contribute")
async def contribute_submit(request: Request) -> Response:
    language = request_language(request)
    form = await request.form(max_files=1, max_fields=60)
    values = form_values(form)
    if not _csrf_ok(request, form):
        context = await run_in_threadpool(
            _context, request, language, values, _form_expired(language)
        )
        return _render(request, "contribute.html", context, status=403)
    photo, caption = _photo(form)
    try:
        receipt = await run_in_threadpool(_handle_submission, request, values, photo, caption)
    except RateLimited as exc:
        errors = _errors(exc.problems, language) if exc.problems else {"form": [exc.message]}
        context = await run_in_threadpool(_context, request, language, values, errors)
        response = _render(request, "contribute.html", context, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except PhotosBusy as exc:
        context = await run_in_threadpool(
            _context, request, language, values, busy_errors(exc, language)
        )
        return busy_page(_render(request, "contribute.html", context, status=503), exc)
    except InvalidInput as exc:
        context = await run_in_threadpool(
            _context,
            request,
            language,
            values,
            _errors(exc.problems or [FieldProblem("form", exc.code, exc.message)], language),
        )
        return _render(request, "contribute.html", context, status=422)
    context = await run_in_threadpool(_context, request, language, {}, {}, receipt=receipt)
    return _render(request, "contribute_done.html", context, status=201)
