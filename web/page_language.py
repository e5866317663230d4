"""The reader's language on every HTML page: what templates get to write in it (gettext,
plurals, numbers, dates, direction, the language picker), and the cookie that keeps
a choice made with ``?lang=``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from babel.core import UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import format_decimal
from starlette.datastructures import MutableHeaders, QueryParams
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.i18n import direction, translations
from web.language_choice import LANGUAGE_COOKIE, LANGUAGES, request_language, supported_language
from web.staff_words import word_for

COOKIE_MAX_AGE_S = 365 * 24 * 3600
UNECHOED = {"lang", "workshop", "token"}


def _locale(language: str) -> str:
    return language.replace("-", "_")


def format_number(n: int | float, language: str) -> str:
    """``n`` as the reader's locale writes it."""
    try:
        return format_decimal(n, locale=_locale(language))
    except (ValueError, UnknownLocaleError):
        return str(n)


def format_moment(moment: datetime, language: str, with_seconds: bool = False) -> str:
    """A date and time in UTC, as the reader's locale writes them."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return format_datetime(
            moment, "medium" if with_seconds else "short", tzinfo=UTC, locale=_locale(language)
        )
    except (ValueError, UnknownLocaleError):
        return moment.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def language_context(request: Request) -> dict[str, Any]:
    """What every template may use to speak the reader's language (a context processor)."""
    language = request_language(request)
    catalog = translations(language)
    return {
        "_": catalog.gettext,
        "gettext": catalog.gettext,
        "ngettext": catalog.ngettext,
        "lang": language,
        "dir": direction(language),
        "languages": LANGUAGES,
        "word": word_for(catalog.gettext),
        "number": lambda n: format_number(n, language),
        "moment": lambda at, seconds=False: format_moment(at, language, seconds),
        # The language picker keeps the page's other query parameters, except a workshop
        # code or edit token: those only where the page vouches for them (a wrong code is
        # never echoed back, so a page cannot tell codes apart).
        "kept_query": [(k, v) for k, v in request.query_params.multi_items() if k not in UNECHOED],
    }


class LanguageCookie:
    """Remembers a language picked with ``?lang=`` in a cookie, on any page it was picked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = QueryParams(scope.get("query_string", b"").decode("latin-1"))
        picked = supported_language(query.get("lang"))
        if picked is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                already = any(
                    c.startswith(f"{LANGUAGE_COOKIE}=") for c in headers.getlist("set-cookie")
                )
                if headers.get("content-type", "").startswith("text/html") and not already:
                    headers.append(
                        "set-cookie",
                        f"{LANGUAGE_COOKIE}={picked}; Max-Age={COOKIE_MAX_AGE_S}; Path=/; "
                        "SameSite=lax",
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookie)
