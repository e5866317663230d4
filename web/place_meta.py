"""How a place's page describes itself to other services: Open Graph tags for link
previews and schema.org JSON-LD for search engines and harvesters.

Both are built from what the public may see only: the location is ``public_view``'s
(a grid centre for a generalised place, nothing for a hidden one), and the only name
of a person is the one a contributor chose to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geodata.models import Provenance
from geodata.privacy import PublicPlace
from mapping.escaping import js_json
from web.place_view import LICENCE_URLS, Story, excerpt

# Open Graph wants language_TERRITORY: the variants this service is written for.
OG_LOCALES = {
    "en": "en_GB",
    "pt": "pt_PT",
    "fr": "fr_FR",
    "ar": "ar_AR",
    "es": "es_ES",
    "uk": "uk_UA",
    "zh-Hans": "zh_CN",
    "ne": "ne_NP",
    "bn": "bn_BD",
}
COORD_DECIMALS = 6


@dataclass(frozen=True)
class PagePhoto:
    """A public photo of the place: paths on this service and what it shows."""

    url: str
    thumb: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    alt: str
    caption: str | None


@dataclass(frozen=True)
class PageLinks:
    """The absolute addresses a page's descriptions point at."""

    base: str  # the service's public address, without a final "/"
    page: str  # this page's own address
    neighbourhood: tuple[str, str] | None  # (name, address of its map)


def licence_reference(licence: str) -> str:
    """The address stating ``licence`` where known, else its name as given."""
    return LICENCE_URLS.get(licence, licence)


def open_graph(
    place: PublicPlace,
    stories: Sequence[Story],
    photos: Sequence[PagePhoto],
    links: PageLinks,
    language: str,
    languages: Sequence[str],
) -> list[tuple[str, str]]:
    """``(property, content)`` pairs for ``<meta property=… content=…>``."""
    tags = [
        ("og:type", "website"),
        ("og:site_name", "Heritage Atlas"),
        ("og:title", place.title),
        ("og:url", links.page),
        ("og:locale", OG_LOCALES.get(language, language)),
    ]
    tags += [("og:locale:alternate", OG_LOCALES.get(x, x)) for x in languages if x != language]
    if stories:
        tags.append(("og:description", excerpt(stories[0].text)))
    if photos:
        first = photos[0]
        tags += [
            ("og:image", links.base + first.url),
            ("og:image:width", str(first.width)),
            ("og:image:height", str(first.height)),
            ("og:image:alt", first.alt),
        ]
    return tags


def _geo(place: PublicPlace) -> dict[str, Any] | None:
    if place.geometry is None:
        return None
    g = place.geometry
    point = g if g.geom_type == "Point" else g.representative_point()
    return {
        "@type": "GeoCoordinates",
        "latitude": round(point.y, COORD_DECIMALS),
        "longitude": round(point.x, COORD_DECIMALS),
    }


def _work(place: PublicPlace, story: Story, links: PageLinks, original: str | None) -> dict:
    work: dict[str, Any] = {
        "@type": "CreativeWork",
        "@id": f"{links.page}#{story.anchor}",
        "name": place.title,
        "text": story.text,
        "inLanguage": story.language,
        "license": story.licence or licence_reference(place.licence),
        "dateCreated": story.told_at.isoformat(),
    }
    if story.author:
        work["author"] = {"@type": "Person", "name": story.author}
    if story.source:
        work["isBasedOn"] = {"@type": "CreativeWork", "name": story.source}
    if original and story.provenance != Provenance.ORIGINAL:
        work["translationOfWork"] = {"@id": f"{links.page}#{original}"}
    return work


def json_ld(
    place: PublicPlace,
    stories: Sequence[Story],
    photos: Sequence[PagePhoto],
    links: PageLinks,
) -> dict[str, Any]:
    """A schema.org ``Place``: where (as the public may see it), in which neighbourhood,
    its photos, and each story as a ``CreativeWork`` about it."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Place",
        "@id": links.page,
        "url": links.page,
        "name": place.title,
    }
    if stories:
        data["description"] = excerpt(stories[0].text)
    if (geo := _geo(place)) is not None:
        data["geo"] = geo
    if links.neighbourhood is not None:
        name, url = links.neighbourhood
        data["containedInPlace"] = {"@type": "Place", "name": name, "url": url}
    if photos:
        data["image"] = [links.base + p.url for p in photos]
    if place.tags:
        data["keywords"] = ", ".join(place.tags)
    original = next((s.anchor for s in stories if s.provenance == Provenance.ORIGINAL), None)
    if stories:
        data["subjectOf"] = [_work(place, s, links, original) for s in stories]
    return data


def json_ld_script(data: dict[str, Any]) -> str:
    """``data`` as the body of a ``<script type="application/ld+json">`` element: ``<``,
    ``>`` and ``&`` escaped, so no text in it can close the element."""
    return js_json(data)
