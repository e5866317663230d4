"""What a walk's pages say, in the reader's language: its title and introduction, each
stop's chapter (the reader's language first, the others after), and the facts (length,
time on foot, neighbourhoods, languages).

Input is a :class:`geodata.walk_views.PublicWalk`, so nothing here sees a proposer's
name or contact, a stop the public may no longer see, or a recording that is not public.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from geodata.models import Narrative, Provenance
from geodata.walk_views import PublicStop, PublicWalk
from mapping.features import choose_narrative, language_name
from web.i18n import N_
from web.page_language import format_number
from web.voice_view import VoiceView, voice_view

Gettext = Callable[[str], str]

KM = N_("{km} km")
MINUTES = N_("about {minutes} minutes on foot")
STOPS = N_("Stops: {count}")
EDITORIAL = N_(
    "The title and introduction of this walk are the atlas's own factual description, "
    "not a resident's words; each stop's text is that place's own story, with its source."
)


@dataclass(frozen=True)
class Told:
    """One language version of a text, as a page shows it."""

    text: str
    language: str  # BCP 47, for lang=""
    language_name: str  # in the reader's language
    translated: bool
    source: str | None
    licence: str | None


@dataclass(frozen=True)
class StopView:
    number: int
    place_id: str
    title: str
    chapter: Told | None  # in the reader's language, else the original
    others: list[Told]  # the other language versions
    lat: float
    lon: float
    voices: list[VoiceView]  # what anyone may hear here: the walk's own, then the place's


@dataclass(frozen=True)
class WalkView:
    id: str
    title: Told
    introduction: Told | None
    stops: list[StopView]
    length: str  # "2.1 km", in the reader's number format
    minutes: str
    stop_count: str
    languages: list[str]  # language names
    neighbourhoods: list[str]
    editorial: bool
    display_name: str | None
    licence: str


def _told(n: Narrative, language: str) -> Told:
    name = language_name(n.language, language)
    return Told(
        n.text,
        n.language,
        name[:1].upper() + name[1:],
        n.provenance != Provenance.ORIGINAL,
        n.source,
        n.licence,
    )


def in_language(narratives: Sequence[Narrative], language: str) -> tuple[Told | None, list[Told]]:
    """The version for a reader of ``language`` (else the original), and the others."""
    first = choose_narrative(narratives, language)
    if first is None:
        return None, []
    return _told(first, language), [_told(n, language) for n in narratives if n is not first]


def _stop(s: PublicStop, language: str) -> StopView:
    chapter, others = in_language(s.chapters, language)
    point = s.place.geometry.centroid
    return StopView(
        s.number, s.place.id, s.place.title, chapter, others, point.y, point.x,
        [voice_view(r) for r in s.voices],
    )  # fmt: skip


def walk_view(
    walk: PublicWalk, language: str, gettext: Gettext, neighbourhood_names: dict[int, str]
) -> WalkView:
    title, _ = in_language(walk.titles, language)
    introduction, _ = in_language(walk.introductions, language)
    assert title is not None  # a stored walk has a title
    km = format_number(round(walk.length_m / 1000, 1), language, "0.0")
    return WalkView(
        id=walk.id,
        title=title,
        introduction=introduction,
        stops=[_stop(s, language) for s in walk.stops],
        length=gettext(KM).format(km=km),
        minutes=gettext(MINUTES).format(minutes=walk.minutes),
        stop_count=gettext(STOPS).format(count=len(walk.stops)),
        languages=[_told(Narrative("", tag), language).language_name for tag in walk.languages],
        neighbourhoods=[
            neighbourhood_names[i] for i in walk.neighbourhood_ids if i in neighbourhood_names
        ],
        editorial=walk.editorial,
        display_name=walk.display_name,
        licence=walk.licence,
    )
