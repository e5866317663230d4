"""The resident's form page, shared by the new-place and edit pages: what it shows (story
languages, categories, the map's bounds and background, CSRF token), how it is answered, and how
problems land next to their fields."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import orjson
import shapely
from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from geodata import contributions
from geodata.errors import FieldProblem
from geodata.schemas import LICENCES
from geodata.store.base import PlaceStore
from web.basemap import page_background
from web.i18n import direction, gettext_for, translate_problem
from web.language_choice import LANGUAGE_COOKIE, LANGUAGES
from web.middleware import CSRF_COOKIE, CSRF_FIELD, csrf_token_valid, issue_csrf_token
from web.photo_slots import PhotosBusy
from web.settings import Settings
from web.templating import templates

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
    # a recording sent with a new place: problems already named after its fields
    **{
        name: name
        for name in ("voice", "voice_scope", "voice_title", "voice_transcript", "voice_language")
    },
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


def csrf_secret(request: Request) -> bytes:
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


def neighbourhood_bounds(request: Request) -> bytes:
    """The box around every neighbourhood, as JSON, for the map to open on (the
    background draws the outlines themselves: :mod:`mapping.orientation`)."""
    store: PlaceStore = request.app.state.store
    index = contributions.project_index(store, request.app.state.settings.project_margin_m)
    cached = getattr(index, "bounds_json", None)
    if cached is None:
        bounds = (
            shapely.total_bounds([n.geometry for n in index.neighbourhoods]).tolist()
            if index.neighbourhoods
            else None
        )
        cached = orjson.dumps({"bbox": bounds})
        index.bounds_json = cached  # type: ignore[attr-defined]
    return cached


def form_csrf_token(request: Request) -> str:
    """The CSRF token a form carries: the browser's own while it is valid, else a new one."""
    token = request.cookies.get(CSRF_COOKIE)
    secret = csrf_secret(request)
    if not csrf_token_valid(secret, token, token):
        token = issue_csrf_token(secret)
    return token


def error_list(errors: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """(field, message) pairs for the form's error summary."""
    return [(name, message) for name, messages in errors.items() for message in messages]


def form_context(
    request: Request,
    language: str,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    **extra: Any,
) -> dict[str, Any]:
    _ = gettext_for(language)
    settings: Settings = request.app.state.settings
    categories = [(c.key, c.label(language)) for c in request.app.state.vocabulary]
    token = form_csrf_token(request)
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
        "error_list": error_list(errors),
        "csrf_token": token,
        "csrf_field": CSRF_FIELD,
        "background": page_background(settings),
        "map_bounds": neighbourhood_bounds(request).decode(),
        **extra,
    }


def render_form(
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


def form_errors(problems: list[FieldProblem], language: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(form_field(p.field), []).append(translate_problem(p, language).message)
    return out


def form_photo(form: FormData) -> tuple[bytes | None, str | None]:
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        return upload.file.read(), (str(form.get("caption") or "").strip() or None)
    return None, None


def busy_errors(exc: PhotosBusy, language: str) -> dict[str, list[str]]:
    """'Busy, send it again' next to the photo field."""
    return form_errors([FieldProblem("file", exc.code, exc.message)], language)


def busy_page(response: Response, exc: PhotosBusy) -> Response:
    response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def csrf_ok(request: Request, form: FormData) -> bool:
    submitted = form.get(CSRF_FIELD)
    return csrf_token_valid(
        csrf_secret(request),
        request.cookies.get(CSRF_COOKIE),
        submitted if isinstance(submitted, str) else None,
    )


def form_expired(language: str) -> dict[str, list[str]]:
    return form_errors(
        [
            FieldProblem(
                "form",
                "form_expired",
                "the form expired or was sent from elsewhere; check it and send it again",
            )
        ],
        language,
    )
