"""Possible duplicates: a new place within 25 m of a live one with a similar title is
accepted, but flagged for the moderators, naming the other place. The flag keeps the
other place's title and the distance, not a sentence: the moderation pages and API say
it in each moderator's language."""

from __future__ import annotations

import difflib
import re
import unicodedata

from geodata.models import Place, Status
from geodata.place_attachments import PlaceFlag
from geodata.store.base import PlaceFilter, PlaceStore

DUPLICATE_DISTANCE_M = 25.0
POSSIBLE_DUPLICATE = "possible_duplicate"  # the flag's kind
DUPLICATE_SIMILARITY = 0.8


def _normalise_title(title: str) -> str:
    text = unicodedata.normalize("NFKD", title.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", text))


def same_title(a: str, b: str) -> bool:
    """Whether two titles are the same words (case, accents and punctuation aside): a
    stricter test than :func:`titles_similar`, for joining records without a person."""
    na = _normalise_title(a)
    return bool(na) and na == _normalise_title(b)


def titles_similar(a: str, b: str, threshold: float = DUPLICATE_SIMILARITY) -> bool:
    """Whether two titles likely name the same place (case, accents, word order aside)."""
    na, nb = _normalise_title(a), _normalise_title(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    shorter, longer = sorted((na, nb), key=len)
    if len(shorter) >= 5 and f" {shorter} " in f" {longer} ":
        return True
    sa, sb = " ".join(sorted(na.split())), " ".join(sorted(nb.split()))
    return (
        max(
            difflib.SequenceMatcher(None, na, nb).ratio(),
            difflib.SequenceMatcher(None, sa, sb).ratio(),
        )
        >= threshold
    )


def possible_duplicates(
    store: PlaceStore, place: Place, within_m: float = DUPLICATE_DISTANCE_M
) -> list[PlaceFlag]:
    """Flags naming each live place within ``within_m`` metres whose title is similar."""
    # The store measures (ST_DWithin on PostGIS, the R*Tree and a local projection on
    # SQLite); only the titles are compared here.
    nearby = store.places_near(
        place.geometry, within_m, PlaceFilter(status=[Status.PENDING, Status.PUBLISHED])
    )
    return [
        PlaceFlag(
            place.id,
            POSSIBLE_DUPLICATE,
            other.id,
            created_at=place.created_at,
            params={"title": other.title, "distance_m": round(distance)},
        )
        for other, distance in nearby
        if other.id != place.id and titles_similar(place.title, other.title)
    ]
