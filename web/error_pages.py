"""The page a person gets, instead of problem details, when their browser asks for an
address that does not exist: the same 404, readable and in their language.

Only a browser's page request gets it (GET, HTML asked for before JSON, outside the
API); every program still receives RFC 9457 problem details from :mod:`web.errors`.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from web.i18n import LANGUAGES, direction, gettext_for, request_language
from web.templating import templates

_API_PREFIXES = ("/api/", "/ogc/", "/media/")


def wants_page(request: Request) -> bool:
    """Whether this is a browser asking for a page (not a program asking for data)."""
    if request.method != "GET" or request.url.path.startswith(_API_PREFIXES):
        return False
    accept = request.headers.get("accept", "").lower()
    html_at, json_at = accept.find("text/html"), accept.find("json")
    return html_at != -1 and (json_at == -1 or html_at < json_at)


def not_found_page(request: Request) -> Response:
    """The 404 page in the reader's language."""
    language = request_language(request)
    context = {
        "_": gettext_for(language),
        "lang": language,
        "dir": direction(language),
        "languages": LANGUAGES,
    }
    return templates.TemplateResponse(
        request,
        "page_missing.html",
        context,
        status_code=404,
        headers={"Content-Language": language, "Vary": "Accept, Accept-Language, Cookie"},
    )


def install_error_pages(app: FastAPI) -> None:
    """Answer a browser's request for a missing page with the page; every other HTTP
    error still goes to the handler :func:`web.errors.install_error_handlers` set."""
    problem_details = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404 and wants_page(request):
            return not_found_page(request)
        return await problem_details(request, exc)

    app.add_exception_handler(StarletteHTTPException, http_error)
