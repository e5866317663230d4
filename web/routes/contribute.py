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
from starlette.responses import RedirectResponse, Response

from geodata import contributions
from geodata.errors import FieldProblem, HeritageError, InvalidInput, NotFound
from geodata.media import PhotoLimits, check_room, process_photo, store_photo
from geodata.models import Place, Status, utcnow
from geodata.schemas import LICENCES, PlacePatch, PlaceSubmission, Problem, validation_problems
from geodata.store.base import PlaceStore
from web.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    direction,
    gettext_for,
    request_language,
    translate_problem,
)
from web.middleware import CSRF_COOKIE, CSRF_FIELD, csrf_token_valid, issue_csrf_token
from web.routes.media import photo_limits
from web.routes.places import RateLimited, accept_submission, edit_url
from web.settings import Settings
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
TEXT_FIELDS = (
    "title",
    "narrative",
    "narrative_language",
    "translation",
    "translation_language",
    "translation_provenance",
    "category",
    "period",
    "year_from",
    "year_to",
    "tags",
    "contributor_name",
    "contributor_contact",
    "display_name",
    "licence",
    "sensitivity",
    "workshop",
    "latitude",
    "longitude",
    "geometry",
    "caption",
    "submission_id",
)
CHECKBOXES = ("consent_publish", "consent_open_data", "consent_research")


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


def _csrf_secret(request: Request) -> bytes:
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


def _workshop_notice(request: Request, code: str | None, _: Any) -> tuple[str | None, str | None]:
    """(code to attach, sentence to show) for ``?workshop=CODE``."""
    if not code:
        return None, None
    try:
        workshop = request.app.state.store.get_workshop(code)
    except NotFound:
        return None, _(
            "There is no workshop with the code {code}. Your place will be sent on its own."
        ).format(code=code[:20])
    if not workshop.is_open(utcnow()):
        return None, _(
            "The workshop “{title}” is not open now. Your place will be sent on its own."
        ).format(title=workshop.title)
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
    secret = _csrf_secret(request)
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
    code, notice = await run_in_threadpool(_workshop_notice, request, workshop, _)
    context = await run_in_threadpool(
        _context,
        request,
        language,
        _blank_values(language, code),
        {},
        workshop_notice=notice,
        workshop_code=code,
    )
    return _render(request, "contribute.html", context, set_language="lang" in request.query_params)


# ---------------------------------------------------------------------------
# The plain (no JavaScript) submission
# ---------------------------------------------------------------------------


def _values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: str(form.get(k) or "") for k in TEXT_FIELDS if not isinstance(form.get(k), UploadFile)
    }
    for box in CHECKBOXES:
        values[box] = form.get(box) is not None
    return values


def _number(text: str, where: str, problems: list[Problem], *, integer: bool) -> Any:
    text = text.strip().replace(",", ".") if not integer else text.strip()
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        code = "int_parsing" if integer else "coordinates_not_numbers"
        message = (
            "give a whole number, such as 1960"
            if integer
            else "latitude and longitude must be numbers, such as 38.7101 and -9.1402"
        )
        problems.append(Problem(where, code, message))
        return None


def _geometry_from_form(values: Mapping[str, Any], problems: list[Problem]) -> Any:
    drawn = values.get("geometry", "").strip()
    if drawn:
        try:
            return orjson.loads(drawn)
        except orjson.JSONDecodeError:
            problems.append(
                Problem(
                    "geometry",
                    "bad_coordinates",
                    "the shape drawn on the map could not be read; draw it again",
                )
            )
            return None
    lat = _number(values.get("latitude", ""), "geometry", problems, integer=False)
    lon = _number(values.get("longitude", ""), "geometry", problems, integer=False)
    if problems and problems[-1].field == "geometry":
        return None
    if lat is None or lon is None:
        problems.append(
            Problem(
                "geometry",
                "no_location",
                "put the place on the map: tap it, or give its latitude and longitude",
            )
        )
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _properties_from_form(
    values: Mapping[str, Any], problems: list[Problem], partial: bool = False
) -> dict[str, Any]:
    narratives = [
        {
            "text": values.get("narrative", ""),
            "language": values.get("narrative_language", ""),
            "provenance": "original",
        }
    ]
    if values.get("translation", "").strip():
        narratives.append(
            {
                "text": values["translation"],
                "language": values.get("translation_language", ""),
                "provenance": values.get("translation_provenance") or "community_translation",
            }
        )
    props: dict[str, Any] = {
        "title": values.get("title", ""),
        "narratives": narratives,
        "category": values.get("category", ""),
        "period": values.get("period") or None,
        "year_from": _number(
            values.get("year_from", ""), "properties.year_from", problems, integer=True
        ),
        "year_to": _number(values.get("year_to", ""), "properties.year_to", problems, integer=True),
        "tags": [t.strip() for t in values.get("tags", "").split(",") if t.strip()],
        "contributor": {
            "name": values.get("contributor_name") or None,
            "contact": values.get("contributor_contact") or None,
            "display_name": values.get("display_name") or None,
        },
        "consent": {
            "publish": values.get("consent_publish", False),
            "open_data": values.get("consent_open_data", False),
            "research": values.get("consent_research", False),
        },
        "licence": values.get("licence") or LICENCES[0],
        "sensitivity": values.get("sensitivity") or "public",
    }
    if not partial:
        props["workshop"] = values.get("workshop") or None
    return props


def _merge(first: list[Problem], exc: InvalidInput) -> list[FieldProblem]:
    """Form-level problems, plus the domain's for fields the form did not already fault."""
    faulted = {p.field for p in first}
    return [*first, *(p for p in exc.problems if p.field not in faulted)]


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
    geometry = _geometry_from_form(values, problems)
    props = _properties_from_form(values, problems)
    limits = photo_limits(settings)
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
        found = list(problems)
        try:
            prepared = contributions.prepare_submission(
                store, submission, index, request.app.state.vocabulary
            )
        except InvalidInput as exc:
            found = _merge(problems, exc)
            prepared = None
        if photo is not None:
            try:
                processed.append(process_photo(photo, limits))
            except HeritageError as exc:
                found.append(Problem("file", exc.code, exc.message))
        if found or prepared is None:
            raise InvalidInput("check the form", problems=found)
        return prepared

    key = values.get("submission_id") or None
    fingerprint = hashlib.sha256(
        orjson.dumps({k: v for k, v in sorted(values.items()) if k != CSRF_FIELD}) + (photo or b"")
    ).hexdigest()
    accepted = accept_submission(
        request, key if key and len(key) >= 8 else None, fingerprint, prepare
    )
    receipt = accepted.receipt
    if processed and not accepted.replayed:
        store_photo(store, settings.media_path, receipt["id"], processed[0], caption)
    return receipt


def _csrf_ok(request: Request, form: FormData) -> bool:
    submitted = form.get(CSRF_FIELD)
    return csrf_token_valid(
        _csrf_secret(request),
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
    values = _values(form)
    if not _csrf_ok(request, form):
        context = await run_in_threadpool(
            _context, request, language, values, _form_expired(language)
        )
        return _render(request, "contribute.html", context, status=403)
    photo, caption = _photo(form)
    try:
        receipt = await run_in_threadpool(_handle_submission, request, values, photo, caption)
    except RateLimited as exc:
        errors = {"form": [exc.message]}
        context = await run_in_threadpool(_context, request, language, values, errors)
        return _render(request, "contribute.html", context, status=429)
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


# ---------------------------------------------------------------------------
# The private edit page
# ---------------------------------------------------------------------------


def _values_of(place: Place) -> dict[str, Any]:
    original = next(
        (n for n in place.narratives if str(n.provenance) == "original"),
        place.narratives[0] if place.narratives else None,
    )
    translation = next((n for n in place.narratives if n is not original), None)
    point = place.geometry if place.geometry.geom_type == "Point" else None
    return {
        "title": place.title,
        "narrative": original.text if original else "",
        "narrative_language": original.language if original else "",
        "translation": translation.text if translation else "",
        "translation_language": translation.language if translation else "en",
        "translation_provenance": str(translation.provenance)
        if translation
        else "community_translation",
        "category": place.category,
        "period": place.period or "",
        "year_from": "" if place.year_from is None else str(place.year_from),
        "year_to": "" if place.year_to is None else str(place.year_to),
        "tags": ", ".join(place.tags),
        "contributor_name": place.contributor_name or "",
        "contributor_contact": place.contributor_contact or "",
        "display_name": place.display_name or "",
        "licence": place.licence,
        "sensitivity": str(place.sensitivity),
        "workshop": place.workshop or "",
        "latitude": f"{point.y:.6f}" if point else "",
        "longitude": f"{point.x:.6f}" if point else "",
        "geometry": orjson.dumps(mapping(place.geometry)).decode(),
        "consent_publish": place.consent.publish,
        "consent_open_data": place.consent.open_data,
        "consent_research": place.consent.research,
    }


def _edit_context(
    request: Request,
    language: str,
    place: Place,
    token: str,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    return _context(
        request,
        language,
        values or _values_of(place),
        errors or {},
        place=place,
        token=token,
        photos=store.media(place.id),
        edit_link=edit_url(request, settings, place.id, token),
        status=str(place.status),
        **extra,
    )


def _edit_problem(request: Request, language: str, exc: HeritageError) -> Response:
    _ = gettext_for(language)
    context = _context(request, language, {}, {}, problem=exc, place=None)
    context["problem_message"] = (
        _(
            "This edit link is not valid. Use the private link you were given when you "
            "submitted the place."
        )
        if exc.status in (401, 403)
        else _("There is no such place.")
    )
    return _render(request, "contribute_done.html", context, status=exc.status)


def _load_for_edit(request: Request, place_id: str, token: str | None) -> Place:
    return contributions.check_edit_token(request.app.state.store, place_id, token)


@router.get("/contribute/edit/{place_id}")
async def edit_page(request: Request, place_id: str, token: str | None = None) -> Response:
    language = request_language(request)
    try:
        place = await run_in_threadpool(_load_for_edit, request, place_id, token)
    except HeritageError as exc:
        return await run_in_threadpool(_edit_problem, request, language, exc)
    notice = request.query_params.get("done")
    context = await run_in_threadpool(
        _edit_context, request, language, place, token or "", notice=notice
    )
    return _render(request, "contribute_edit.html", context)


def _save_edit(request: Request, place: Place, values: dict[str, Any]) -> None:
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    problems: list[Problem] = []
    geometry = _geometry_from_form(values, problems)
    props = _properties_from_form(values, problems, partial=True)
    try:
        patch = PlacePatch.model_validate({"geometry": geometry, "properties": props}, strict=False)
    except ValidationError as exc:
        raise InvalidInput(
            "check the form", problems=[*problems, *validation_problems(exc)]
        ) from None
    index = contributions.project_index(store, settings.project_margin_m)
    try:
        prepared = contributions.apply_patch(
            store, place, patch, index, request.app.state.vocabulary
        )
    except InvalidInput as exc:
        raise InvalidInput("check the form", problems=_merge(problems, exc)) from None
    if problems:
        raise InvalidInput("check the form", problems=list(problems))
    contributions.save_patch(store, prepared, None)


def _add_edit_photo(
    request: Request, place: Place, photo: bytes | None, caption: str | None
) -> None:
    settings: Settings = request.app.state.settings
    store: PlaceStore = request.app.state.store
    if photo is None:
        raise InvalidInput(
            "choose a photo", problems=[Problem("file", "required", "choose a photo to send")]
        )
    limits: PhotoLimits = photo_limits(settings)
    try:
        check_room(store, place.id, limits)
        processed = process_photo(photo, limits)
    except HeritageError as exc:
        raise InvalidInput(exc.message, problems=[Problem("file", exc.code, exc.message)]) from None
    store_photo(store, settings.media_path, place.id, processed, caption)


def _edit_action(request: Request, place_id: str, form: FormData) -> str:
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    token = str(form.get("token") or "")
    place = _load_for_edit(request, place_id, token)
    action = str(form.get("action") or "save")
    if place.status == Status.WITHDRAWN and action != "withdraw":
        raise contributions.Withdrawn("this place was withdrawn and can no longer be changed")
    if action == "withdraw":
        if form.get("confirm_withdraw") is None:
            raise InvalidInput(
                "tick the box to confirm",
                problems=[
                    Problem(
                        "confirm_withdraw",
                        "required",
                        "tick the box to confirm you want to withdraw this place",
                    )
                ],
            )
        contributions.withdraw(store, place, settings.media_path)
        return "withdrawn"
    if action == "photo":
        photo, caption = _photo(form)
        _add_edit_photo(request, place, photo, caption)
        return "photo_added"
    if action.startswith("remove_photo:"):
        item = store.get_media(action.removeprefix("remove_photo:"))
        if item.place_id != place.id:
            raise NotFound("no such photo")
        from geodata.media import remove_photo

        remove_photo(store, settings.media_path, item)
        return "photo_removed"
    _save_edit(request, place, _values(form))
    return "saved"


@router.post("/contribute/edit/{place_id}")
async def edit_submit(request: Request, place_id: str) -> Response:
    language = request_language(request)
    form = await request.form(max_files=1, max_fields=60)
    token = str(form.get("token") or "")
    try:
        place = await run_in_threadpool(_load_for_edit, request, place_id, token)
    except HeritageError as exc:
        return await run_in_threadpool(_edit_problem, request, language, exc)
    if not _csrf_ok(request, form):
        context = await run_in_threadpool(
            _edit_context, request, language, place, token, _values(form), _form_expired(language)
        )
        return _render(request, "contribute_edit.html", context, status=403)
    try:
        outcome = await run_in_threadpool(_edit_action, request, place_id, form)
    except InvalidInput as exc:
        errors = _errors(exc.problems or [FieldProblem("form", exc.code, exc.message)], language)
        # After a failed withdrawal or photo the details form was not the one sent.
        values = None if "confirm_withdraw" in errors or "photo" in errors else _values(form)
        context = await run_in_threadpool(
            _edit_context, request, language, place, token, values, errors
        )
        return _render(request, "contribute_edit.html", context, status=422)
    except HeritageError as exc:
        errors = {
            "form": [
                translate_problem(FieldProblem("form", exc.code, exc.message), language).message
            ]
        }
        context = await run_in_threadpool(
            _edit_context, request, language, place, token, None, errors
        )
        return _render(request, "contribute_edit.html", context, status=exc.status)
    return RedirectResponse(
        f"/contribute/edit/{place_id}?token={token}&done={outcome}",
        status_code=303,
        headers={"Referrer-Policy": "no-referrer"},
    )
