"""The plain form to propose a walk, ``/walks/new``: a title, an introduction and up to
eight stops (a place's page address or id, and what to say there), in one language.
It builds the same proposal as the API (:class:`geodata.walk_checks.WalkSubmission`), so
the same rules name every problem, shown beside its field in the reader's language.
The proposer's private page (:mod:`web.routes.walk_private`) revises a walk with the
same fields.
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
from geodata.walk_checks import MAX_STOPS, WalkSubmission, prepare_walk
from web.contribute_form import csrf_ok, csrf_secret, form_expired
from web.i18n import translate_problem
from web.language_choice import request_language
from web.middleware import CSRF_COOKIE, CSRF_FIELD, csrf_token_valid, issue_csrf_token
from web.rate_limits import RateLimited, count_submission
from web.routes.walks import page_context, page_headers
from web.routes.walks_api import walk_edit_url
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


def stop_rows(form: FormData) -> list[int]:
    """The stop rows the sender filled in, in order."""
    return [
        i for i in range(MAX_STOPS)
        if _value(form, f"stop_{i}_place").strip() or _value(form, f"stop_{i}_text").strip()
    ]  # fmt: skip


def proposal(form: FormData, language: str, *, consented: bool = False) -> dict[str, Any]:
    """The API body the form's fields make (empty stop rows left out); ``consented``: the
    walk is already public with its proposer's consent (the private page's form)."""
    lang = _value(form, "language").strip() or language
    stops = [
        {
            "place_id": place_id_of(_value(form, f"stop_{i}_place")),
            "chapters": [{"text": _value(form, f"stop_{i}_text"), "language": lang}],
        }
        for i in stop_rows(form)
    ]
    return {
        "titles": [{"text": _value(form, "title"), "language": lang}],
        "introductions": [{"text": _value(form, "introduction"), "language": lang}],
        "stops": stops,
        "consent": {
            "publish": consented or _value(form, "consent") == "yes",
            "open_data": _value(form, "open_data") == "yes",
        },
        "contributor": {
            "contact": _value(form, "contact") or None,
            "display_name": _value(form, "display_name") or None,
        },
    }


def field_of(problem: str, rows: list[int]) -> str:
    """The form field a problem of the API body belongs to."""
    parts = problem.split(".")
    if parts[0] == "stops" and len(parts) > 1 and parts[1].isdigit():
        row = rows[int(parts[1])] if int(parts[1]) < len(rows) else 0
        return f"stop_{row}_place" if "place_id" in parts else f"stop_{row}_text"
    return {"titles": "title", "introductions": "introduction", "consent": "consent"}.get(
        parts[0], parts[0]
    )


def render_walk_form(
    request: Request, template: str, language: str, values: dict[str, str],
    errors: dict[str, list[str]], status: int = 200, rows: int = ROWS, private: bool = False,
    **extra: Any,
) -> Response:  # fmt: skip
    """A page holding the walk form, with its CSRF token (cookie and field); a
    ``private`` page (its address holds an edit token) is neither kept nor referred to."""
    secret = csrf_secret(request)
    token = request.cookies.get(CSRF_COOKIE)
    if not csrf_token_valid(secret, token, token):
        token = issue_csrf_token(secret)
    context = {
        **page_context(request, language),
        "values": values,
        "errors": errors,
        "rows": range(rows),
        "csrf_token": token,
        "csrf_field": CSRF_FIELD,
        **extra,
    }
    headers = page_headers(language)
    if private:
        headers |= {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    response = templates.TemplateResponse(
        request, template, context, status_code=status, headers=headers
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=24 * 3600)
    return response


def form_problems(
    exc: InvalidInput | RateLimited, rows: list[int], language: str
) -> dict[str, list[str]]:
    """Each problem of a proposal, in ``language``, under the form field it concerns."""
    errors: dict[str, list[str]] = {}
    for p in exc.problems or [FieldProblem("form", exc.code, exc.message)]:
        message = translate_problem(p, language).message
        errors.setdefault(field_of(p.field, rows), []).append(message)
    return errors


def _render(
    request: Request, language: str, values: dict[str, str], errors: dict[str, list[str]],
    status: int = 200, done: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    return render_walk_form(request, "walk_new.html", language, values, errors, status, done=done)


@router.get("/walks/new", response_class=HTMLResponse, summary="The form to propose a walk")
def new_walk_page(request: Request) -> Response:
    language = request_language(request)
    return _render(request, language, {"language": language}, {})


@router.post("/walks/new", response_class=HTMLResponse, summary="Propose a walk (form)")
async def new_walk_submit(request: Request) -> Response:
    language = request_language(request)
    form = await request.form(max_files=0, max_fields=60, max_part_size=64 * 1024)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}
    if not csrf_ok(request, form):
        return _render(request, language, values, form_expired(language), 403)
    body = proposal(form, language)

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
        errors = form_problems(exc, stop_rows(form), language)
        return _render(
            request, language, values, errors, 429 if isinstance(exc, RateLimited) else 422
        )
    link = walk_edit_url(request, receipt.walk.id, receipt.edit_token)
    done = {"id": receipt.walk.id, "link": link, "token": receipt.edit_token}
    return _render(request, language, {"language": language}, {}, 201, done)
