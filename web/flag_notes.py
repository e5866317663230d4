"""The hints moderators read about a place ("may be the same place as …"), said in the
reader's language from the kind and values the store keeps (:mod:`geodata.duplicates`).
A note an older version stored as an English sentence is shown as it was written."""

from __future__ import annotations

from collections.abc import Callable

from geodata.duplicates import POSSIBLE_DUPLICATE
from geodata.place_attachments import PlaceFlag
from web.i18n import N_, gettext_for
from web.page_language import format_number

NOTES = {
    POSSIBLE_DUPLICATE: N_("May be the same place as “{title}” ({id}), {distance} m away."),
}


def flag_note(flag: PlaceFlag, language: str) -> str:
    """The flag as one sentence in ``language``."""
    template = NOTES.get(flag.kind)
    if not flag.params or template is None:
        return flag.detail or flag.kind
    distance = flag.params.get("distance_m")
    values = {
        "title": str(flag.params.get("title", "")),
        "id": flag.other_place_id or "",
        "distance": format_number(distance, language) if isinstance(distance, int | float) else "",
    }
    return gettext_for(language)(template).format(**values)


def flag_notes_for(language: str) -> Callable[[PlaceFlag], str]:
    """``note(flag)`` for a page's template."""
    return lambda flag: flag_note(flag, language)
