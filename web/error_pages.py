"""Errors a browser reaches (a mistyped address, a closed workshop's map, a bad query) as
a page in the reader's language; API clients keep RFC 9457 problem+json.

The API's handlers (:mod:`web.errors`, :mod:`web.routes.places`) stay as they are:
each is wrapped, and answers in HTML only when the request asks for HTML and is not
an API call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from geodata.errors import HeritageError
from web.i18n import N_, localised_message, translations
from web.language_choice import request_language
from web.templating import templates

Handler = Callable[[Request, Exception], Awaitable[Response]]

# What a reader is told, by status; the problem's own sentence follows where we have it.
HEADINGS = {
    400: N_("This request could not be read"),
    403: N_("This page is not for you"),
    404: N_("This page does not exist"),
    405: N_("This page cannot be used this way"),
    406: N_("This page cannot be shown in the form asked for"),
    409: N_("Something changed in the meantime"),
    413: N_("What was sent is too large"),
    415: N_("This kind of file cannot be used here"),
    422: N_("This address holds something we cannot use"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is busy"),
}
EXPLANATIONS = {
    404: N_(
        "There is nothing at this address. It may have been mistyped, or what was here "
        "was taken away."
    ),
    405: N_("Go back to the page you came from and try again from there."),
    422: N_("Check the address: part of it is not in a form we can use."),
    429: N_("Too many requests came from this connection; wait a few minutes and try again."),
    500: N_("It has been logged. Try again in a moment."),
    503: N_("Try again in a moment."),
}
DEFAULT_HEADING = N_("This request could not be answered")
DEFAULT_EXPLANATION = N_("Go back to the page you came from, or start again from the home page.")
_NOT_PAGES = ("/api/",)  # the JSON API: always problem details


def wants_page(request: Request) -> bool:
    """A browser navigating (it asks for HTML), not an API call or a JSON format choice."""
    if request.url.path.startswith(_NOT_PAGES):
        return False
    if request.query_params.get("f") not in (None, "html"):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def error_page(
    request: Request, status: int, detail: str | None = None, headers: dict | None = None
) -> Response:
    """The error as a page: a heading and what to do, in the reader's language."""
    language = request_language(request)
    _ = translations(language).gettext
    context = {
        "status": status,
        "heading": _(HEADINGS.get(status, DEFAULT_HEADING)),
        "explanation": _(EXPLANATIONS.get(status, DEFAULT_EXPLANATION)),
        "detail": detail,
    }
    answer_headers = {
        "Cache-Control": "no-store",
        "Content-Language": language,
        **{k: v for k, v in (headers or {}).items() if k.lower() in ("retry-after", "allow")},
    }
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=answer_headers
    )


def _own_sentence(request: Request, exc: Exception) -> str | None:
    """The problem's own sentence, when the catalog has it in the reader's language."""
    if not isinstance(exc, HeritageError):
        return None
    language = request_language(request)
    sentence = localised_message(exc, language)
    english = localised_message(exc, "en")
    return sentence if sentence != english or language == "en" else None


def _status_of(exc: Exception) -> int:
    if isinstance(exc, HeritageError):
        return exc.status
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422
    return 500


def _page_or(api_handler: Handler) -> Handler:
    async def answer(request: Request, exc: Exception) -> Response:
        if not wants_page(request):
            return await api_handler(request, exc)
        headers = dict(getattr(exc, "headers", None) or {})
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(retry_after)
        return error_page(request, _status_of(exc), _own_sentence(request, exc), headers)

    return answer


def install_error_pages(app: FastAPI) -> None:
    """Wrap the API's error handlers so browsers get a page (call after they are set)."""
    for exc_type in (StarletteHTTPException, HeritageError, RequestValidationError, Exception):
        handler = app.exception_handlers.get(exc_type)
        if handler is not None:
            app.add_exception_handler(exc_type, _page_or(handler))
