"""What a place's own page says, in the reader's language: its stories in order with
their credits, and the facts about the place.

Input is what :func:`geodata.privacy.public_view` let through, so nothing here sees a
contributor's name or contact, or a generalised place's true location.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date

from geodata.models import (
    Narrative,
    NarrativeAddition,
    NarrativeKind,
    Provenance,
    narrative_ref,
)
from geodata.narrative_additions import translation_state
from geodata.privacy import PublicPlace
from geodata.story_credits import StoryOrigin
from mapping.features import choose_narrative, language_name
from web.i18n import N_
from web.language_choice import babel_locale

Gettext = Callable[[str], str]

ORIGINAL = N_("Original version")
COMMUNITY_BY = N_("Community translation by {name}, {date}")
COMMUNITY = N_("Community translation, {date}")
MACHINE = N_("Machine translation, {date}")
MEMORY_BY = N_("Memory shared by {name}, {date}")
MEMORY = N_("A resident's memory, {date}")
FROM_YEAR = N_("from {year}")
UNTIL_YEAR = N_("until {year}")
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9-]")

# Licences a place may carry, with the page that states each (for links and JSON-LD).
LICENCE_URLS = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-SA-3.0-IGO": "https://creativecommons.org/licenses/by-sa/3.0/igo/",
    "ODbL-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
}


@dataclass(frozen=True)
class Story:
    """One language version of a place's story, as its page shows it."""

    anchor: str  # the id of its section: a link to #anchor opens it
    language: str  # BCP 47 tag, for lang=""
    language_name: str  # in the reader's language
    text: str
    provenance: Provenance
    credit: str  # "Original version", "Community translation by …, 3 May 2025"…
    source: str | None  # where a story taken from elsewhere comes from
    licence: str | None  # its own licence and credit (None: the place's licence)
    author: str | None  # the name its contributor chose to show, when they told it
    told_at: datetime
    ref: str  # how a translation of it names it (geodata.models.narrative_ref)
    kind: str | None = None  # "memory" or "translation" when a resident added it
    outdated: bool = False  # a translation of a story that changed since (or is gone)


def story_order(narratives: Sequence[Narrative], language: str) -> list[int]:
    """Indexes of ``narratives`` as the page lists them: the one in ``language`` (else the
    original) first, then the original, then the others as stored."""
    first = choose_narrative(narratives, language)
    if first is None:
        return []
    start = next(i for i, n in enumerate(narratives) if n is first)
    rest = [i for i in range(len(narratives)) if i != start]
    rest.sort(key=lambda i: narratives[i].provenance != Provenance.ORIGINAL)  # stable
    return [start, *rest]


def _anchor(tag: str, taken: set[str]) -> str:
    base = "story-" + (_ANCHOR_UNSAFE.sub("", tag) or "x")
    anchor, n = base, 1
    while anchor in taken:
        n += 1
        anchor = f"{base}-{n}"
    taken.add(anchor)
    return anchor


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


def stories(
    place: PublicPlace,
    origins: Sequence[StoryOrigin],
    wanted: str,
    language: str,
    gettext: Gettext,
    additions: Mapping[str, NarrativeAddition] | None = None,
) -> list[Story]:
    """The place's stories, ``wanted``'s language first (a ``?story=`` choice or the
    reader's language), each named and credited in the reader's ``language``;
    ``additions`` (by id) credit the memories and translations residents added."""
    out: list[Story] = []
    taken: set[str] = set()
    for i in story_order(place.narratives, wanted):
        n, origin = place.narratives[i], origins[i]
        added = (additions or {}).get(n.id or "")
        told_at = added.created_at if added else origin.at or place.created_at
        date = format_date(told_at, "long", locale=babel_locale(language))
        by_contributor = place.display_name if origin.by_contributor else None
        author = added.author if added else by_contributor
        state = translation_state(place.narratives, n)
        if n.kind == NarrativeKind.MEMORY:
            # Isolated, so a name in one script keeps its place in a sentence in another.
            credit = (
                gettext(MEMORY_BY).format(name=f"\u2068{author}\u2069", date=date)
                if author
                else gettext(MEMORY).format(date=date)
            )
        elif n.provenance == Provenance.ORIGINAL:
            credit = gettext(ORIGINAL)
        elif n.provenance == Provenance.COMMUNITY_TRANSLATION:
            if author:
                # Isolated, so a name in one script keeps its place in a sentence in another.
                credit = gettext(COMMUNITY_BY).format(name=f"\u2068{author}\u2069", date=date)
            else:
                credit = gettext(COMMUNITY).format(date=date)
        else:
            credit = gettext(MACHINE).format(date=date)
            author = None  # a program translated it, not the person
        out.append(
            Story(
                anchor=_anchor(n.language, taken),
                language=n.language,
                language_name=_capitalised(language_name(n.language, language)),
                text=n.text,
                provenance=n.provenance,
                credit=credit,
                source=n.source,
                licence=n.licence,
                author=author,
                told_at=told_at,
                ref=narrative_ref(n),
                kind=str(n.kind) if n.kind else None,
                outdated=state is not None and not state.current,
            )
        )
    return out


def period_words(place: PublicPlace, gettext: Gettext) -> str | None:
    """The place's period and years, e.g. "the 1960s (1960–1969)", "from 1755"."""
    years = None
    if place.year_from is not None and place.year_to is not None:
        years = (
            str(place.year_from)
            if place.year_from == place.year_to
            else f"{place.year_from}–{place.year_to}"
        )
    elif place.year_from is not None:
        years = gettext(FROM_YEAR).format(year=place.year_from)
    elif place.year_to is not None:
        years = gettext(UNTIL_YEAR).format(year=place.year_to)
    if place.period and years:
        return f"{place.period} ({years})"
    return place.period or years


def excerpt(text: str, limit: int = 200) -> str:
    """The first ``limit`` characters or so of ``text`` on one line, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"
