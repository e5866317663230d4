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
    features can be sorted by it."""

    name: str
    kind: Kind
    title: str
    description: str
    nullable: bool = False
    sortable: bool = True


QUERYABLES: dict[str, Queryable] = {
    q.name: q
    for q in (
        Queryable("id", "string", "Identifier", "The place's stable identifier."),
        Queryable("title", "string", "Title", "The place's title, as its contributor wrote it."),
        Queryable("category", "string", "Category", "The category the place is filed under."),
        Queryable(
            "neighbourhood",
            "string",
            "Neighbourhood",
            "The name of the neighbourhood the place lies in.",
            nullable=True,
        ),
        Queryable(
            "neighbourhood_id",
            "integer",
            "Neighbourhood id",
            "The identifier of the neighbourhood the place lies in.",
            nullable=True,
        ),
        Queryable(
            "language",
            "language",
            "Language of a story",
            "A language one of the place's stories is told in (a BCP 47 tag: 'pt' also "
            "matches 'pt-BR'). '=' and IN match places with a story in that language, '<>' "
            "and NOT IN places with none.",
            sortable=False,
        ),
        Queryable(
            "period",
            "string",
            "Period",
            "The period the place belongs to, in the contributor's words.",
            nullable=True,
        ),
        Queryable(
            "year_from",
            "integer",
            "From year",
            "The first year of the place's period (negative: before the common era).",
            nullable=True,
        ),
        Queryable(
            "year_to",
            "integer",
            "To year",
            "The last year of the place's period.",
            nullable=True,
        ),
        Queryable("licence", "string", "Licence", "The licence the place is published under."),
        Queryable(
            "attribution",
            "string",
            "Attribution",
            "Whom to credit when the place is reused.",
            nullable=True,
        ),
        Queryable("created_at", "timestamp", "Recorded", "When the place was recorded (UTC)."),
        Queryable("updated_at", "timestamp", "Updated", "When the place last changed (UTC)."),
        Queryable(
            "geometry",
            "geometry",
            "Public location",
            "Where the public may see the place: exactly, or the centre of its grid cell for "
            "a generalised location; a hidden location matches no spatial function.",
            sortable=False,
        ),
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
