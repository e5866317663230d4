"""Which interface languages there are and which one a request gets.

The languages offered are the catalogs found under ``web/locale``, keyed by BCP 47 tag
(``zh-Hans``, stored as ``zh_Hans``) and each named in itself. A request gets the one
it asks for with ``?lang=`` (the language picker), else the ``lang`` cookie, else the
best match of its Accept-Language header, else the site's default. The catalogs
themselves are :mod:`web.i18n`'s.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale
from babel.core import get_global
from starlette.requests import Request

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "lang"
# Where Babel's name of a language in itself is not the one its readers look for in a
# language picker; every other language is named by Babel (CLDR).
OWN_NAMES = {"zh-Hans": "简体中文"}


def babel_locale(tag: str) -> Locale:
    """The Babel locale of a BCP 47 tag (Babel spells ``zh-Hans`` as ``zh_Hans``)."""
    return Locale.parse(tag.replace("-", "_"))


def own_name(tag: str) -> str:
    """A language named in itself, as a picker lists it: ``uk`` -> "Українська"."""
    if tag in OWN_NAMES:
        return OWN_NAMES[tag]
    locale = babel_locale(tag)
    name = locale.get_display_name(locale) or tag
    return name[:1].upper() + name[1:]


def shipped_languages(locale_dir: Path = LOCALE_DIR) -> list[str]:
    """The BCP 47 tags of the catalogs on disk (``zh_Hans`` -> ``zh-Hans``), sorted."""
    return sorted(
        path.parent.parent.name.replace("_", "-")
        for path in locale_dir.glob("*/LC_MESSAGES/messages.po")
    )


# Interface languages, each named in itself (that is how people look for theirs).
LANGUAGES: dict[str, str] = {tag: own_name(tag) for tag in shipped_languages()}


_LIKELY: dict[str, str] = get_global("likely_subtags")


def _script(subtags: list[str]) -> str | None:
    """The script a tag is written in: its own script subtag, else the likeliest for its
    language and region (CLDR: ``zh-TW`` -> Hant, ``zh-SG`` and ``zh`` -> Hans)."""
    for subtag in subtags[1:]:
        if len(subtag) == 4 and subtag.isalpha():
            return subtag.title()
    language = subtags[0].lower()
    region = next((s.upper() for s in subtags[1:] if len(s) == 2 or s.isdigit()), None)
    likely = _LIKELY.get(f"{language}_{region}") or _LIKELY.get(language) or ""
    parts = likely.split("_")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 4 else None


def supported_language(tag: str | None) -> str | None:
    """The shipped language a tag asks for: the same language in the same script, so
    ``pt-BR`` gets ``pt`` and ``zh-CN`` gets ``zh-Hans`` but ``zh-TW`` gets nothing."""
    if not tag:
        return None
    subtags = tag.strip().replace("_", "-").split("-")
    primary = subtags[0].lower()
    candidates = [code for code in LANGUAGES if code.split("-")[0].lower() == primary]
    if not candidates:
        return None
    wanted = "-".join(subtags).lower()
    for code in candidates:
        if code.lower() == wanted:
            return code
    script = _script(subtags)
    for code in candidates:
        if _script(code.split("-")) == script:
            return code
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (``q=0`` left out)."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(
    accept_language: str | None, chosen: str | None = None, default: str = DEFAULT_LANGUAGE
) -> str:
    """The interface language: an explicit choice, else the best Accept-Language match."""
    picked = supported_language(chosen)
    if picked:
        return picked
    for tag in parse_accept_language(accept_language):
        picked = supported_language(tag)
        if picked:
            return picked
    return supported_language(default) or DEFAULT_LANGUAGE


def request_language(request: Request) -> str:
    """``?lang=`` (the language picker), then the ``lang`` cookie, then Accept-Language."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    settings = getattr(request.app.state, "settings", None)
    default = getattr(settings, "default_language", DEFAULT_LANGUAGE)
    return negotiate(request.headers.get("accept-language"), chosen, default)
