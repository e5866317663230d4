"""What a filter or a sort order may name: the public, published properties of a place
(its queryables), each with its type. Nothing else can be queried.

The contributor's name and contact, the place's status, sensitivity, consent and exact
location are not among them, and naming one is refused as such (not merely as unknown),
so that no filter can tell anything about them, even by its errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "integer", "timestamp", "language", "geometry"]


@dataclass(frozen=True)
class Queryable:
    """A property a filter may name: its type, whether it may be empty (null), and whether
    features can be sorted by it. (What it means, in words, is the web layer's.)"""

    name: str
    kind: Kind
    nullable: bool = False
    sortable: bool = True


QUERYABLES: dict[str, Queryable] = {
    q.name: q
    for q in (
        Queryable("id", "string"),
        Queryable("title", "string"),
        Queryable("category", "string"),
        Queryable("neighbourhood", "string", nullable=True),
        Queryable("neighbourhood_id", "integer", nullable=True),
        # A language one of the place's stories is told in (BCP 47: 'pt' matches 'pt-BR').
        Queryable("language", "language", sortable=False),
        Queryable("period", "string", nullable=True),
        Queryable("year_from", "integer", nullable=True),
        Queryable("year_to", "integer", nullable=True),
        Queryable("licence", "string"),
        Queryable("attribution", "string", nullable=True),
        Queryable("created_at", "timestamp"),
        Queryable("updated_at", "timestamp"),
        # The public location: exact, or its grid cell's centre; hidden: no geometry.
        Queryable("geometry", "geometry", sortable=False),
    )
}

# Fields of a place (or names people try for them) that no filter may use: personal
# data, moderation state, consent, and the exact location behind a generalised one.
PRIVATE = frozenset(
    {
        "contributor", "contributor_name", "contributor_contact", "contact", "email", "phone",
        "name", "display_name", "author", "status", "sensitivity", "consent",
        "consent_publish", "consent_open_data", "consent_research", "consent_given_at",
        "workshop", "workshop_code", "geom", "exact_geometry", "exact_location", "location",
        "true_geometry", "minx", "miny", "maxx", "maxy", "rid", "edit_token",
        "edit_token_hash", "public_feature", "version_history",
    }
)  # fmt: skip


class UnknownQueryable(LookupError):
    """A name that is not a queryable; ``private`` when it names data kept private."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.private = name in PRIVATE or name.lower() in PRIVATE
        if self.private:
            message = (
                f"{name!r} is not public and cannot be queried; the queryables are "
                f"{', '.join(QUERYABLES)}"
            )
        else:
            message = f"{name!r} is not a queryable; use one of {', '.join(QUERYABLES)}"
        super().__init__(message)
        self.message = message


def queryable(name: str) -> Queryable:
    """The queryable called ``name``; :class:`UnknownQueryable` for any other name."""
    found = QUERYABLES.get(name)
    if found is None:
        raise UnknownQueryable(name)
    return found


def sortables() -> list[str]:
    return [q.name for q in QUERYABLES.values() if q.sortable]
