"""What a map needs to know about the service it is drawn for (tiles, privacy, URLs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from gettext import NullTranslations
from typing import Protocol

from babel.core import UnknownLocaleError
from babel.numbers import format_decimal

DEFAULT_K = 3  # counts below this are shown as "fewer than k"
DEFAULT_GRID_M = 250.0  # generalised places are drawn on a grid of this size
DEFAULT_MAX_FEATURES = 2000  # more places than this in view: the server sends clusters


def N_(message: str) -> str:
    """Mark a map string for extraction (``pybabel extract -k N_``); translated later."""
    return message


class Translator(Protocol):
    """A gettext catalog (the web layer passes its Babel ``Translations``)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@dataclass(frozen=True)
class LocalBasemap:
    """The basemap this service keeps itself (``heritage-atlas basemap import``)."""

    url: str  # tile URL template with {z}, {x} and {y}, on this service
    vector: bool  # Mapbox vector tiles (drawn by atlas-vector-tiles.js), else images
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]  # west, south, east, north
    attribution: str  # plain text


@dataclass(frozen=True)
class MapOptions:
    """Settings every map builder takes; the web layer fills them from its settings."""

    tiles: str | None = None  # XYZ URL template; None: a plain background
    tiles_attribution: str = ""
    # The local basemap, drawn instead of ``tiles`` when there is one.
    basemap: LocalBasemap | None = None
    # Where the orientation layer (neighbourhood outlines and names, water) is loaded
    # from: drawn under the tiles, so it shows wherever they do not (offline, outside the
    # basemap's area, or with no tiles at all); None: no orientation layer.
    orientation_url: str | None = None
    k: int = DEFAULT_K
    grid_m: float = DEFAULT_GRID_M
    language: str = "en"  # the viewer's language, for labels and narratives
    static_base: str = "/static"  # where scripts and styles are served
    api_base: str = "/api/map"  # where the map's data endpoints are
    max_features: int = DEFAULT_MAX_FEATURES
    # Where a popup invites a story for a place that has none (a path on this service);
    # None: no invitation (a standalone file has no service to send it to).
    contribute_url: str | None = "/contribute"
    # Where a popup links to the place's own page ("{id}" stands for the place's id): a
    # path on this service, or an absolute address for a standalone file when the
    # service's public address is known; None: no link.
    place_page_url: str | None = "/places/{id}"
    # Interface strings of the map client in the viewer's language, by key of
    # ``mapping.elements.DEFAULT_TEXT``; those not given stay in English.
    text: Mapping[str, str] = field(default_factory=dict)
    # Messages that change with a number, by key of ``mapping.elements.DEFAULT_PLURALS``:
    # the catalog's forms, and its gettext rule (a C expression of n) choosing among them.
    plurals: Mapping[str, Sequence[str]] = field(default_factory=dict)
    plural_rule: str = "n != 1"
    # The interface languages to offer in the map's language picker, each named in itself
    # (code -> name); empty: no picker (a standalone file has no service to ask).
    languages: Mapping[str, str] = field(default_factory=dict)
    # The viewer's catalog: every string a map shows goes through it (English without one).
    translations: Translator = field(default_factory=NullTranslations, compare=False)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def number(self, n: int) -> str:
        """``n`` written as the viewer's locale writes numbers (1,234 / 1 234 / ١٬٢٣٤)."""
        try:
            return format_decimal(n, locale=self.language.replace("-", "_"))
        except (ValueError, UnknownLocaleError):  # an unknown locale: the plain digits
            return str(n)
