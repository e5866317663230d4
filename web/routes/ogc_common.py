"""What the OGC API – Features routes share: the collections, media types, absolute
links under ``/ogc`` and the JSON and HTML answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from geodata.errors import NotFound
from web.i18n import N_, gettext_for
from web.language_choice import request_language
from web.public_url import public_base_url
from web.security import csp_nonce
from web.settings import Settings
from web.templating import templates

JSON, GEOJSON, HTML = "application/json", "application/geo+json", "text/html"
COLLECTIONS = {
    "places": (
        N_("Heritage places"),
        N_(
            "Places residents put on the map, with their stories: published, with consent to "
            "open data, no personal data; generalised locations on a grid, hidden ones without "
            "geometry. datetime filters on when a place was recorded."
        ),
    ),
    "neighbourhoods": (
        N_("Neighbourhoods"),
        N_(
            "The neighbourhoods places are grouped by, with how many open-data places each "
            "holds, in all and per category (datetime does not apply)."
        ),
    ),
    "walks": (
        N_("Walks"),
        N_(
            "Published walks whose proposer consented to open data: the route (drawn by the "
            "proposer, or from stop to stop) and its stops in order, only public places; bbox, "
            "datetime and neighbourhood do not apply."
        ),
    ),
}
# The words of the documents' link titles ("This page (JSON)"), for the HTML pages.
LINK_WORDS = (
    N_("This document"),
    N_("Conformance"),
    N_("Collections"),
    N_("This page"),
    N_("This feature"),
    N_("Next page"),
    N_("Previous page"),
    N_("The collection"),
    N_("The API definition (OpenAPI 3.0)"),
    N_("The API documentation"),
    N_("Conformance classes"),
    N_("queryables"),
    N_("Tile matrix sets (tiling schemes)"),
    N_("vector tiles"),
    N_("This tileset"),
    N_("Participatory heritage mapping: open data as OGC API – Features."),
)
_FORMAT_SUFFIX = re.compile(r"^(.*?)( \((?:JSON|HTML|GeoJSON)\))?$", re.DOTALL)


def reader_words(gettext: Callable[[str], str]) -> Callable[[str | None], str]:
    """The HTML pages' way to show a document's English text in the reader's language:
    the whole sentence if the catalog has it, else each half of "Title: what" and a
    format suffix kept ("Heritage places: features (JSON)")."""

    def say(text: str | None) -> str:
        if not text:
            return ""
        whole = gettext(text)
        if whole != text:
            return whole
        match = _FORMAT_SUFFIX.match(text)
        base, suffix = (match.group(1), match.group(2) or "") if match else (text, "")
        return ": ".join(gettext(part) for part in base.split(": ")) + suffix

    return say


class Urls:
    """Absolute links under ``/ogc`` (the public address if one is configured)."""

    def __init__(self, request: Request, settings: Settings) -> None:
        self.root = public_base_url(request, settings) + "/ogc"

    def __call__(self, path: str = "", **params: Any) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return self.root + path + ("?" + query if query else "")

    def pair(self, path: str, rel_title: str, json_type: str = JSON, **params: Any) -> list[dict]:
        """``self`` and ``alternate`` links for a resource in JSON and HTML."""
        return [
            {
                "href": self(path, f="json", **params),
                "rel": "self",
                "type": json_type,
                "title": f"{rel_title} (JSON)",
            },
            {
                "href": self(path, f="html", **params),
                "rel": "alternate",
                "type": HTML,
                "title": f"{rel_title} (HTML)",
            },
        ]


def json_answer(
    body: Any, media_type: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), media_type=media_type, headers=headers)


def html_page(request: Request, name: str, context: dict[str, Any]) -> Response:
    nonce = csp_nonce(request)
    say = reader_words(gettext_for(request_language(request)))
    response = templates.TemplateResponse(request, name, {**context, "nonce": nonce, "say": say})
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; base-uri 'none'; "
        "form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def swap_self(links: list[dict]) -> list[dict]:
    """For the HTML page, the HTML link is ``self`` and the JSON one ``alternate``."""
    out = []
    for link in links:
        rel = {"self": "alternate", "alternate": "self"}.get(link["rel"], link["rel"])
        out.append({**link, "rel": rel})
    return out


def known_collection(cid: str) -> str:
    if cid not in COLLECTIONS:
        raise NotFound(f"there is no collection {cid!r}; try places, neighbourhoods or walks")
    return cid
