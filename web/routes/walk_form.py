"""The plain form to propose a walk, ``/walks/new``: a title, an introduction and up to
eight stops (a place's page address or id, and what to say there), in one language.
It builds the same proposal as the API (:class:`geodata.walk_checks.WalkSubmission`), so
the same rules name every problem, shown beside its field in the reader's language.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from geodata import contributions, walk_lifecycle
from geodata.errors import FieldProblem, InvalidInput
from geodata.walk_checks import WalkSubmission, prepare_walk
from web.contribute_form import csrf_secret
from web.i18n import translate_problem
from web.language_choice import request_language
from web.middleware import CSRF_COOKIE, CSRF_FIELD, csrf_token_valid, issue_csrf_token
from web.rate_limits import RateLimited, count_submission
from web.routes.walks import page_context, page_headers
from web.templating import templates

router = APIRouter(tags=["walks"])
ROWS = 8
_PLACE_ID = re.compile(r"(?:^|/places/)([A-Za-z0-9_.~-]{1,100})/?(?:[?#].*)?$")


def place_id_of(text: str) -> str:
    """``https://…/places/pl_x?story=pt`` or ``pl_x`` -> ``pl_x``."""
    found = _PLACE_ID.search(text.strip())
    return found.group(1) if found else text.strip()[:100]


def _value(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def proposal(form: FormData, language: str) -> dict[str, Any]:
    """The API body the form's fields make (empty stop rows left out)."""
    lang = _value(form, "language").strip() or language
    stops = []
    for i in range(ROWS):
        place = _value(form, f"stop_{i}_place")
        chapter = _value(form, f"stop_{i}_text")
        if place.strip() or chapter.strip():
            stops.append(
                {"place_id": place_id_of(place), "chapters": [{"text": chapter, "language": lang}]}
            )
    return {
        "titles": [{"text": _value(form, "title"), "language": lang}],
        "introductions": [{"text": _value(form, "introduction"), "language": lang}],
        "stops": stops,
        "consent": {"publish": _value(form, "consent") == "yes"},
        "contributor": {
            "contact": _value(form, "contact") or None,
            "display_name": _value(form, "display_name") or None,
        },
    }


def _field(problem: str, rows: list[int]) -> str:
    """The form field a problem of the API body belongs to."""
    parts = problem.split(".")
    if parts[0] == "stops" and len(parts) > 1 and parts[1].isdigit():
        row = rows[int(parts[1])] if int(parts[1]) < len(rows) else 0
        return f"stop_{row}_place" if "place_id" in parts else f"stop_{row}_text"
    return {"titles": "title", "introductions": "introduction", "consent": "consent"}.get(
        parts[0], parts[0]
    )


def _render(
    request: Request, language: str, values: dict[str, str], errors: dict[str, list[str]],
    status: int = 200, done: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    secret = csrf_secret(request)
    token = request.cookies.get(CSRF_COOKIE)
    if not csrf_token_valid(secret, token, token):
        token = issue_csrf_token(secret)
    context = {
        **page_context(request, language),
        "values": values,
        "errors": errors,
        "rows": range(ROWS),
        "csrf_token": token,
        "csrf_field": CSRF_FIELD,
        "done": done,
    }
    response = templates.TemplateResponse(
        request, "walk_new.html", context, status_code=status, headers=page_headers(language)
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=24 * 3600)
    return response


@router.get("/walks/new", response_class=HTMLResponse, summary="The form to propose a walk")
def new_walk_page(request: Request) -> Response:
    language = request_language(request)
    return _render(request, language, {"language": language}, {})


@router.post("/walks/new", response_class=HTMLResponse, summary="Propose a walk (form)")
async def new_walk_submit(request: Request) -> Response:
    language = request_language(request)
    form = await request.form(max_files=0, max_fields=60, max_part_size=64 * 1024)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}
    submitted = form.get(CSRF_FIELD)
    if not csrf_token_valid(
        csrf_secret(request),
        request.cookies.get(CSRF_COOKIE),
        submitted if isinstance(submitted, str) else None,
    ):
        problem = FieldProblem("form", "form_expired", "the form expired; send it again")
        return _render(
            request, language, values,
            {"form": [translate_problem(problem, language).message]}, 403,
        )  # fmt: skip
    body = proposal(form, language)
    rows = [i for i in range(ROWS) if _value(form, f"stop_{i}_place").strip()
            or _value(form, f"stop_{i}_text").strip()]  # fmt: skip

    def work() -> walk_lifecycle.WalkReceipt:
        app = request.app
        submission = WalkSubmission.model_validate_json(orjson.dumps(body))
        index = contributions.project_index(app.state.store, app.state.settings.project_margin_m)
        walk = prepare_walk(app.state.store, submission, index.rules)
        count_submission(request, None)
        return walk_lifecycle.save_walk(app.state.store, walk)

    try:
        receipt = await run_in_threadpool(work)
    except (InvalidInput, RateLimited) as exc:
        errors: dict[str, list[str]] = {}
        for p in exc.problems or [FieldProblem("form", exc.code, exc.message)]:
            message = translate_problem(p, language).message
            errors.setdefault(_field(p.field, rows), []).append(message)
        return _render(
            request, language, values, errors, 429 if isinstance(exc, RateLimited) else 422
        )
    done = {"id": receipt.walk.id, "token": receipt.edit_token}
    return _render(request, language, {"language": language}, {}, 201, done)
