"""The contribution API: submit a place, then see, correct or withdraw it with its edit token.

Bodies are read and validated here (not by FastAPI's body parsing) so that every
error, malformed JSON included, is problem+json with field errors in the reader's
language. Safe retries (``Idempotency-Key``) and the per-client rate limit keep their
state in the database, so any number of workers can serve one store.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Header, Request
from pydantic import BaseModel
from shapely.geometry import mapping
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from geodata import audit, contributions
from geodata.errors import HeritageError, InvalidInput
from geodata.models import Place
from geodata.place_attachments import Media
from geodata.schemas import NarrativeAdditionIn, PlacePatch, PlaceSubmission
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from web.errors import PROBLEM_SCHEMA, PROBLEM_TYPE
from web.i18n import localised_problem
from web.json_body import parse_json, require_json
from web.language_choice import request_language
from web.photo_slots import PhotosBusy
from web.rate_limits import RateLimited, with_join_code
from web.settings import Settings
from web.submission_acceptance import accept_submission

router = APIRouter(prefix="/api/places", tags=["contributions"])


# Both ways of sending the edit token, as OpenAPI security schemes.
SECURITY_SCHEMES = {
    "EditTokenBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The private edit token: `Authorization: Bearer <token>`",
    },
    "EditTokenHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Edit-Token",
        "description": "The private edit token in an `X-Edit-Token` header",
    },
}
_PROBLEM = {"content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


class SubmissionReceipt(BaseModel):
    id: str
    status: str
    edit_token: str
    edit_url: str
    url: str
    warnings: list[str]


def edit_token_of(request: Request) -> str | None:
    """The edit token from ``Authorization: Bearer`` or ``X-Edit-Token``, if any."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-edit-token") or None


# ---------------------------------------------------------------------------
# Submitting
# ---------------------------------------------------------------------------


def _submit(request: Request, body: bytes, key: str | None) -> Response:
    app = request.app

    def prepare() -> contributions.PreparedPlace:
        submission = parse_json(PlaceSubmission, body)
        index = contributions.project_index(app.state.store, app.state.settings.project_margin_m)
        return with_join_code(
            request,
            submission.properties.workshop,
            lambda: contributions.prepare_submission(
                app.state.store, submission, index, app.state.vocabulary
            ),
        )

    return accept_submission(request, key, hashlib.sha256(body).hexdigest(), prepare).response()


async def _guarded(request: Request, work, *args: Any) -> Response:
    """Run ``work`` in the thread pool; domain errors become localised problem+json."""
    language = request_language(request)
    try:
        return await run_in_threadpool(work, request, *args)
    except RateLimited as exc:
        return localised_problem(
            exc, language, request.url.path, headers={"Retry-After": str(exc.retry_after)}
        )
    except PhotosBusy as exc:
        return localised_problem(
            exc, language, request.url.path, headers={"Retry-After": str(exc.retry_after_s)}
        )
    except contributions.EditTokenRequired as exc:
        return localised_problem(
            exc,
            language,
            request.url.path,
            headers={"WWW-Authenticate": 'Bearer realm="edit token"'},
        )
    except HeritageError as exc:
        return localised_problem(exc, language, request.url.path)


@router.post(
    "",
    status_code=201,
    summary="Submit a place (a GeoJSON Feature); answers with its private edit token",
    response_model=SubmissionReceipt,
    responses={400: _PROBLEM, 413: _PROBLEM, 415: _PROBLEM, 422: _PROBLEM, 429: _PROBLEM},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/geo+json": {
                    "schema": {"$ref": "#/components/schemas/PlaceSubmission"}
                },
                "application/json": {"schema": {"$ref": "#/components/schemas/PlaceSubmission"}},
            },
        }
    },
)
async def submit_place(
    request: Request,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="any unique value (a UUID); a retry with the same key and body gets "
        "the first answer back instead of creating a second place",
    ),
) -> Response:
    """The edit token is shown only in this answer (and its retries): the service keeps
    only its hash. Status is ``pending`` until a moderator publishes the place, or
    ``published`` at once inside a workshop that moderates afterwards."""
    language = request_language(request)
    try:
        require_json(request)
    except HeritageError as exc:
        return localised_problem(exc, language, request.url.path)
    body = await request.body()
    return await _guarded(request, _submit, body, idempotency_key)


# ---------------------------------------------------------------------------
# Seeing, correcting, withdrawing
# ---------------------------------------------------------------------------


def media_json(item: Media) -> dict[str, Any]:
    return {
        "id": item.id,
        "position": item.position,
        "url": f"/media/{item.id}",
        "thumbnail_url": f"/media/{item.id}/thumbnail",
        "mime_type": item.mime_type,
        "width": item.width,
        "height": item.height,
        "caption": item.caption,
    }


def owner_feature(
    place: Place, media: list[Media], vocabulary: Vocabulary, language: str
) -> dict[str, Any]:
    """Everything about a place, personal data included: for its contributor only."""
    category = (
        vocabulary[place.category].label(language)
        if place.category in vocabulary
        else place.category
    )
    return {
        "type": "Feature",
        "id": place.id,
        "geometry": mapping(place.geometry),
        "properties": {
            "title": place.title,
            "narratives": [n.to_json() for n in place.narratives],
            "category": place.category,
            "category_label": category,
            "period": place.period,
            "year_from": place.year_from,
            "year_to": place.year_to,
            "tags": place.tags,
            "contributor": {
                "name": place.contributor_name,
                "contact": place.contributor_contact,
                "display_name": place.display_name,
            },
            "consent": {
                "publish": place.consent.publish,
                "open_data": place.consent.open_data,
                "research": place.consent.research,
                "given_at": place.consent.given_at.isoformat() if place.consent.given_at else None,
            },
            "licence": place.licence,
            "sensitivity": str(place.sensitivity),
            "workshop": place.workshop,
            "status": str(place.status),
            "neighbourhood_id": place.neighbourhood_id,
            "created_at": place.created_at.isoformat(),
            "updated_at": place.updated_at.isoformat(),
            "version": place.version,
            "media": [media_json(m) for m in media],
        },
    }


def _etag(place: Place) -> str:
    return f'"{place.id}-v{place.version}"'


def _expected_version(if_match: str | None) -> int | None:
    if not if_match:
        return None
    match = re.search(r"-v(\d+)\"?\s*$", if_match)
    if match is None:
        raise InvalidInput(
            'If-Match must be the ETag you read, like "pl_...-v3"', code="bad_if_match"
        )
    return int(match.group(1))


def _owner_response(request: Request, place: Place) -> Response:
    store: PlaceStore = request.app.state.store
    body = owner_feature(
        place, store.media(place.id), request.app.state.vocabulary, request_language(request)
    )
    # Why the moderators took it off the map, if they did: the contributor reads it here.
    body["properties"]["rejection_reason"] = audit.rejection_reason(store, place)
    return Response(
        orjson.dumps(body),
        media_type="application/geo+json",
        headers={"ETag": _etag(place), "Cache-Control": "no-store"},
    )


def _read(request: Request, place_id: str) -> Response:
    place = contributions.check_edit_token(
        request.app.state.store, place_id, edit_token_of(request)
    )
    return _owner_response(request, place)


def _correct(request: Request, place_id: str, body: bytes, if_match: str | None) -> Response:
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    place = contributions.check_edit_token(store, place_id, edit_token_of(request))
    patch = parse_json(PlacePatch, body)
    index = contributions.project_index(store, settings.project_margin_m)
    prepared = contributions.apply_patch(store, place, patch, index, request.app.state.vocabulary)
    saved = contributions.save_patch(store, prepared, _expected_version(if_match))
    return _owner_response(request, saved)


def _withdraw(request: Request, place_id: str) -> Response:
    store: PlaceStore = request.app.state.store
    place = contributions.check_edit_token(store, place_id, edit_token_of(request))
    contributions.withdraw(store, place, request.app.state.settings.media_path)
    return Response(status_code=204)


_OWNER = {
    "openapi_extra": {"security": [{"EditTokenBearer": []}, {"EditTokenHeader": []}]},
    "responses": {401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
}


_FEATURE = {"content": {"application/geo+json": {}}}


@router.get(
    "/{place_id}",
    summary="See your place (with its edit token)",
    openapi_extra=_OWNER["openapi_extra"],
    responses={200: _FEATURE, **_OWNER["responses"]},
)
async def read_place(request: Request, place_id: str) -> Response:
    """The place as stored, personal data included, with an ``ETag`` for safe edits."""
    return await _guarded(request, _read, place_id)


@router.patch(
    "/{place_id}",
    summary="Correct your place (with its edit token)",
    openapi_extra={
        **_OWNER["openapi_extra"],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/PlacePatch"}}
            },
        },
    },
    responses={200: _FEATURE, **_OWNER["responses"], 409: _PROBLEM, 415: _PROBLEM, 422: _PROBLEM},
)
async def correct_place(
    request: Request, place_id: str, if_match: str | None = Header(None, alias="If-Match")
) -> Response:
    """Only the fields sent change. A published place whose content changes goes back to
    the moderators (unless its workshop shows contributions at once)."""
    try:
        require_json(request)
    except HeritageError as exc:
        return localised_problem(exc, request_language(request), request.url.path)
    body = await request.body()
    return await _guarded(request, _correct, place_id, body, if_match)


@router.delete(
    "/{place_id}", status_code=204, summary="Withdraw your place (with its edit token)", **_OWNER
)
async def withdraw_place(request: Request, place_id: str) -> Response:
    """Removes it from every map and download at once and erases your name, contact,
    display name and photos. Withdrawing twice is harmless."""
    return await _guarded(request, _withdraw, place_id)


def install(app: FastAPI) -> None:
    """Mount the routes and document the input models and token schemes they use."""
    app.include_router(router)
    previous = app.openapi

    def openapi() -> dict[str, Any]:
        schema = previous()
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        if "PlaceSubmission" not in schemas:
            for model in (PlaceSubmission, PlacePatch, NarrativeAdditionIn):
                spec = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(spec.pop("$defs", {}))
                schemas[model.__name__] = spec
            schemas["Problem"] = PROBLEM_SCHEMA
            components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
