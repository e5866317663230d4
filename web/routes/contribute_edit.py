"""The private edit page: ``/contribute/edit/{id}?token=...`` to correct a place, add or
remove photos, or withdraw it - plain forms, working without JavaScript."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from shapely.geometry import mapping
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from geodata import audit, contributions
from geodata.errors import FieldProblem, HeritageError, InvalidInput, NotFound
from geodata.media import check_room, remove_photo, store_photo
from geodata.models import Place, Status
from geodata.schemas import PlacePatch, Problem, validation_problems
from geodata.store.base import PlaceStore
from web.contribute_form import (
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
from web.i18n import gettext_for, translate_problem
from web.language_choice import request_language
from web.photo_slots import PhotosBusy
from web.routes.media import photo_limits, processed_upload
from web.settings import Settings
from web.submission_acceptance import edit_url
from web.voice_view import voice_view

router = APIRouter(include_in_schema=False)


def _values_of(place: Place) -> dict[str, Any]:
    own = [n for n in place.narratives if not n.added]  # not what other residents added
    original = next((n for n in own if str(n.provenance) == "original"), own[0] if own else None)
    translation = next((n for n in own if n is not original), None)
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


def edit_context(
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
    return form_context(
        request,
        language,
        values or _values_of(place),
        errors or {},
        place=place,
        token=token,
        photos=store.media(place.id),
        voices=[voice_view(r) for r in store.recordings(place.id)],
        edit_link=edit_url(request, settings, place.id, token),
        status=str(place.status),
        rejection_reason=audit.rejection_reason(store, place),
        **extra,
    )


def edit_problem(request: Request, language: str, exc: HeritageError) -> Response:
    _ = gettext_for(language)
    context = form_context(request, language, {}, {}, problem=exc, place=None)
    context["problem_message"] = (
        _(
            "This edit link is not valid. Use the private link you were given when you "
            "submitted the place."
        )
        if exc.status in (401, 403)
        else _("There is no such place.")
    )
    return render_form(request, "contribute_done.html", context, status=exc.status)


def load_for_edit(request: Request, place_id: str, token: str | None) -> Place:
    return contributions.check_edit_token(request.app.state.store, place_id, token)


@router.get("/contribute/edit/{place_id}")
async def edit_page(request: Request, place_id: str, token: str | None = None) -> Response:
    language = request_language(request)
    try:
        place = await run_in_threadpool(load_for_edit, request, place_id, token)
    except HeritageError as exc:
        return await run_in_threadpool(edit_problem, request, language, exc)
    notice = request.query_params.get("done")
    context = await run_in_threadpool(
        edit_context, request, language, place, token or "", notice=notice
    )
    return render_form(request, "contribute_edit.html", context)


def _save_edit(request: Request, place: Place, values: dict[str, Any]) -> None:
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    problems: list[Problem] = []
    geometry = geometry_from_form(values, problems)
    props = properties_from_form(values, problems, partial=True)
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
        raise InvalidInput("check the form", problems=merge_problems(problems, exc)) from None
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
    check_room(store, place.id, photo_limits(settings))  # PhotoError: next to the photo field
    processed = processed_upload(request, photo)  # last: the costly part
    store_photo(store, settings.media_path, place.id, processed, caption)


def _edit_action(request: Request, place_id: str, form: FormData) -> str:
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    token = str(form.get("token") or "")
    place = load_for_edit(request, place_id, token)
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
        photo, caption = form_photo(form)
        _add_edit_photo(request, place, photo, caption)
        return "photo_added"
    if action.startswith("remove_photo:"):
        item = store.get_media(action.removeprefix("remove_photo:"))
        if item.place_id != place.id:
            raise NotFound("no such photo")
        remove_photo(store, settings.media_path, item)
        return "photo_removed"
    _save_edit(request, place, form_values(form))
    return "saved"


@router.post("/contribute/edit/{place_id}")
async def edit_submit(request: Request, place_id: str) -> Response:
    language = request_language(request)
    form = await request.form(max_files=1, max_fields=60)
    token = str(form.get("token") or "")
    try:
        place = await run_in_threadpool(load_for_edit, request, place_id, token)
    except HeritageError as exc:
        return await run_in_threadpool(edit_problem, request, language, exc)
    if not csrf_ok(request, form):
        context = await run_in_threadpool(
            edit_context,
            request,
            language,
            place,
            token,
            form_values(form),
            form_expired(language),
        )
        return render_form(request, "contribute_edit.html", context, status=403)
    try:
        outcome = await run_in_threadpool(_edit_action, request, place_id, form)
    except InvalidInput as exc:
        errors = form_errors(
            exc.problems or [FieldProblem("form", exc.code, exc.message)], language
        )
        # After a failed withdrawal or photo the details form was not the one sent.
        values = None if "confirm_withdraw" in errors or "photo" in errors else form_values(form)
        context = await run_in_threadpool(
            edit_context, request, language, place, token, values, errors
        )
        return render_form(request, "contribute_edit.html", context, status=422)
    except PhotosBusy as exc:
        context = await run_in_threadpool(
            edit_context, request, language, place, token, None, busy_errors(exc, language)
        )
        return busy_page(render_form(request, "contribute_edit.html", context, status=503), exc)
    except HeritageError as exc:
        errors = {
            "form": [
                translate_problem(FieldProblem("form", exc.code, exc.message), language).message
            ]
        }
        context = await run_in_threadpool(
            edit_context, request, language, place, token, None, errors
        )
        return render_form(request, "contribute_edit.html", context, status=exc.status)
    return RedirectResponse(
        f"/contribute/edit/{place_id}?token={token}&done={outcome}",
        status_code=303,
        headers={"Referrer-Policy": "no-referrer"},
    )
