"""Residents add to a public place: a memory of their own, or a translation of one of its
stories, from the place's page (a plain form that works without JavaScript) or the API.

Both go through :mod:`geodata.narrative_additions` (moderated as the place's workshop
says) and :func:`web.submission_acceptance.accept_once` (an ``Idempotency-Key`` or the
form's hidden id replays the first answer), and count against the same anonymous
submission budget as new places. A place that is not public is a 404, whatever the
reason, as on its page.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Header, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from geodata import narrative_additions
from geodata.errors import FieldProblem, HeritageError, InvalidInput, NotFound
from geodata.models import NarrativeAddition, NarrativeKind, Place, Status, narrative_ref
from geodata.schemas import NarrativeAdditionIn, validation_problems
from geodata.store.base import PlaceStore
from mapping.features import language_name
from web.contribute_form import STORY_LANGUAGES, csrf_ok, csrf_secret, form_expired
from web.i18n import direction, gettext_for, localised_problem, translate_problem
from web.json_body import parse_json, require_json
from web.language_choice import LANGUAGES, request_language
from web.middleware import CSRF_COOKIE, CSRF_FIELD, csrf_token_valid, issue_csrf_token
from web.rate_limits import RateLimited, count_submission
from web.routes.place_pages import place_page_url, public_place
from web.submission_acceptance import Accepted, accept_once
from web.templating import templates

router = APIRouter(tags=["contributions"])
_PROBLEM = {
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
}
# The form's fields, in the order a resident fills them in.
FORM_FIELDS = ("kind", "translates", "language", "text", "author", "contact", "consent")


class PlaceNotPublic(NotFound):
    """The one answer for a place that is not public (or does not exist)."""


def _public_place(request: Request, place_id: str) -> Place:
    store: PlaceStore = request.app.state.store
    if public_place(store, place_id, request.app.state.settings.privacy_grid_m) is None:
        raise PlaceNotPublic(f"there is no public place {place_id!r:.60}")
    return store.get(place_id)


def _workshop_budget(store: PlaceStore, code: str | None) -> str | None:
    """The workshop whose submission budget an addition counts against: the place's, while
    it is open (as for a new place); else the sender's own."""
    if not code:
        return None
    try:
        return code if store.get_workshop(code).is_open() else None
    except NotFound:
        return None


def _accept(
    request: Request, place_id: str, given: dict[str, Any], key: str | None, fingerprint: str
) -> Accepted:
    """Check and store an addition sent as ``given`` (the API's JSON members); the
    answer. InvalidInput lists every problem; nothing is written unless all pass."""
    store: PlaceStore = request.app.state.store

    def prepare() -> NarrativeAddition:
        place = _public_place(request, place_id)
        try:
            checked = NarrativeAdditionIn.model_validate(given)
        except ValidationError as exc:
            raise InvalidInput("check what you sent", problems=validation_problems(exc)) from None
        return narrative_additions.prepare_addition(store, place, checked)

    def save(addition: NarrativeAddition) -> bytes:
        count_submission(request, _workshop_budget(store, store.get(place_id).workshop))
        narrative_additions.save_addition(store, addition)
        return orjson.dumps(
            {
                "id": addition.id,
                "place_id": addition.place_id,
                "kind": str(addition.kind),
                "language": addition.language,
                "status": str(addition.status),
                "url": place_page_url(addition.place_id),
                "location": place_page_url(addition.place_id),
            }
        )

    return accept_once(request, key, fingerprint, prepare, save)


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------


def _api_submit(request: Request, place_id: str, body: bytes, key: str | None) -> Response:
    _public_place(request, place_id)  # a place that is not public: 404 before anything else
    given = parse_json(NarrativeAdditionIn, body).model_dump(exclude_unset=True)
    fingerprint = hashlib.sha256(request.url.path.encode() + b"\0" + body).hexdigest()
    return _accept(request, place_id, given, key, fingerprint).response()


@router.post(
    "/api/places/{place_id}/narratives",
    status_code=201,
    summary="Add a memory of a public place, or a translation of one of its stories",
    responses={400: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 415: _PROBLEM, 422: _PROBLEM,
               429: _PROBLEM},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/NarrativeAdditionIn"}
                }
            },
        }
    },
)  # fmt: skip
async def add_narrative(
    request: Request,
    place_id: str,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="any unique value (a UUID); a retry with the same key and body gets "
        "the first answer back instead of adding it twice",
    ),
) -> Response:
    """``status`` is ``pending`` until a facilitator publishes it, or ``published`` at once
    when the place's workshop is open and moderates afterwards. A translation names the
    story it translates in ``translates`` (as the place's narratives name it)."""
    language = request_language(request)
    try:
        require_json(request)
        body = await request.body()
        return await run_in_threadpool(_api_submit, request, place_id, body, idempotency_key)
    except RateLimited as exc:
        return localised_problem(
            exc, language, request.url.path, headers={"Retry-After": str(exc.retry_after)}
        )
    except HeritageError as exc:
        return localised_problem(exc, language, request.url.path)


# ---------------------------------------------------------------------------
# The form on the place's page
# ---------------------------------------------------------------------------


def _form_values(form: Any) -> dict[str, str]:
    return {
        name: str(form.get(name) or "")
        for name in (*FORM_FIELDS, "provenance", "submission_id")
        if isinstance(form.get(name) or "", str)
    }


def _errors(problems: list[FieldProblem], language: str) -> dict[str, list[str]]:
    """Each problem's message in the reader's language, under the form field it is about."""
    out: dict[str, list[str]] = {}
    for p in problems:
        name = p.field.split(".")[0] if p.field.split(".")[0] in FORM_FIELDS else "form"
        out.setdefault(name, []).append(translate_problem(p, language).message)
    return out


def _given(values: dict[str, str]) -> dict[str, Any]:
    """The form's values as the API's members (blank optional fields left out)."""
    given: dict[str, Any] = {
        "kind": values.get("kind") or "memory",
        "text": values.get("text", ""),
        "language": values.get("language", ""),
        "consent": values.get("consent") == "yes",
    }
    for name in ("author", "contact"):
        if values.get(name, "").strip():
            given[name] = values[name]
    if given["kind"] == "translation":
        given["translates"] = values.get("translates", "")
        if values.get("provenance") in ("community_translation", "machine_translation"):
            given["provenance"] = values["provenance"]
    return given


def _stories(place: Place, language: str) -> list[tuple[str, str]]:
    """(ref, label) of the stories a resident may translate, in the reader's language."""
    return [
        (narrative_ref(n), f"{language_name(n.language, language).capitalize()}: {n.text[:60]}")
        for n in place.narratives
        if n.kind != NarrativeKind.TRANSLATION
    ]


def _render(
    request: Request,
    place: Place,
    language: str,
    values: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
    receipt: dict[str, Any] | None = None,
) -> Response:
    _ = gettext_for(language)
    secret = csrf_secret(request)
    token = request.cookies.get(CSRF_COOKIE)
    if not csrf_token_valid(secret, token, token):
        token = issue_csrf_token(secret)
    context = {
        "_": _,
        "lang": language,
        "dir": direction(language),
        "languages": LANGUAGES,
        "place": place,
        "page_url": place_page_url(place.id),
        "values": values,
        "errors": errors,
        "error_list": [(name, m) for name, messages in errors.items() for m in messages],
        "stories": _stories(place, language),
        "story_languages": STORY_LANGUAGES,
        "csrf_token": token,
        "csrf_field": CSRF_FIELD,
        "receipt": receipt,
        "published": receipt is not None and receipt["status"] == str(Status.PUBLISHED),
    }
    response = templates.TemplateResponse(
        request,
        "place_add.html",
        context,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "Content-Language": language,
            "Referrer-Policy": "no-referrer",
        },
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=24 * 3600)
    return response


def _missing(request: Request, language: str) -> Response:
    _ = gettext_for(language)
    context = {"_": _, "lang": language, "dir": direction(language), "languages": LANGUAGES}
    headers = {"Cache-Control": "no-cache"}
    return templates.TemplateResponse(
        request, "place_missing.html", context, status_code=404, headers=headers
    )


def _place_or_none(request: Request, place_id: str) -> Place | None:
    try:
        return _public_place(request, place_id)
    except NotFound:
        return None


@router.get("/places/{place_id}/add", include_in_schema=False)
async def add_form(
    request: Request, place_id: str, kind: str = "memory", story: str | None = None
) -> Response:
    language = request_language(request)
    place = await run_in_threadpool(_place_or_none, request, place_id)
    if place is None:
        return _missing(request, language)
    values = {
        "kind": "translation" if kind == "translation" else "memory",
        "translates": (story or "")[:40],
        "language": language if kind != "translation" else "",
        "submission_id": uuid.uuid4().hex,
    }
    return _render(request, place, language, values, {})


@router.post("/places/{place_id}/add", include_in_schema=False)
async def add_form_submit(request: Request, place_id: str) -> Response:
    language = request_language(request)
    place = await run_in_threadpool(_place_or_none, request, place_id)
    if place is None:
        return _missing(request, language)
    form = await request.form(max_files=0, max_fields=20)
    values = _form_values(form)
    if not csrf_ok(request, form):
        return _render(request, place, language, values, form_expired(language), 403)
    key = values.get("submission_id") or None
    fingerprint = hashlib.sha256(
        request.url.path.encode() + orjson.dumps(sorted(values.items()))
    ).hexdigest()
    try:
        accepted = await run_in_threadpool(
            _accept, request, place_id, _given(values), key if key and len(key) >= 8 else None,
            fingerprint,
        )  # fmt: skip
    except RateLimited as exc:
        response = _render(request, place, language, values, {"form": [exc.message]}, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except HeritageError as exc:
        problems = exc.problems or [FieldProblem("form", exc.code, exc.message)]
        return _render(request, place, language, values, _errors(problems, language), exc.status)
    return _render(request, place, language, values, {}, 201, receipt=accepted.receipt)
