"""What each property of the OGC collections is, in words: the titles and descriptions of
the JSON Schema documents (``/queryables``, ``/schema``).

:mod:`geodata` names the properties and their types and says nothing in any language;
the words are here, marked for the catalogs. The JSON documents carry them in English,
as every OGC JSON document of the service does, and their HTML pages show them in the
reader's language (:func:`web.routes.ogc_common.reader_words`).
"""

from __future__ import annotations

from dataclasses import dataclass

from web.i18n import N_


@dataclass(frozen=True)
class Words:
    title: str
    description: str | None = None

    def schema(self) -> dict[str, str]:
        """As JSON Schema's ``title`` and ``description``."""
        out = {"title": self.title}
        if self.description:
            out["description"] = self.description
        return out


IDENTIFIER = N_("Identifier")

# The queryables of places (geodata.queryables.QUERYABLES), also properties of a feature.
QUERYABLE_WORDS: dict[str, Words] = {
    "id": Words(IDENTIFIER, N_("The place's stable identifier.")),
    "title": Words(N_("Title"), N_("The place's title, as its contributor wrote it.")),
    "category": Words(N_("Category"), N_("The category the place is filed under.")),
    "neighbourhood": Words(
        N_("Neighbourhood"), N_("The name of the neighbourhood the place lies in.")
    ),
    "neighbourhood_id": Words(
        N_("Neighbourhood id"), N_("The identifier of the neighbourhood the place lies in.")
    ),
    "language": Words(
        N_("Language of a story"),
        N_(
            "A language one of the place's stories is told in (a BCP 47 tag: 'pt' also "
            "matches 'pt-BR'). '=' and IN match places with a story in that language, '<>' "
            "and NOT IN places with none."
        ),
    ),
    "period": Words(
        N_("Period"), N_("The period the place belongs to, in the contributor's words.")
    ),
    "year_from": Words(
        N_("From year"),
        N_("The first year of the place's period (negative: before the common era)."),
    ),
    "year_to": Words(N_("To year"), N_("The last year of the place's period.")),
    "licence": Words(N_("Licence"), N_("The licence the place is published under.")),
    "attribution": Words(N_("Attribution"), N_("Whom to credit when the place is reused.")),
    "created_at": Words(N_("Recorded"), N_("When the place was recorded (UTC).")),
    "updated_at": Words(N_("Updated"), N_("When the place last changed (UTC).")),
    "geometry": Words(
        N_("Public location"),
        N_(
            "Where the public may see the place: exactly, or the centre of its grid cell "
            "for a generalised location; a hidden location matches no spatial function."
        ),
    ),
}

QUERYABLES_DESCRIPTION = N_(
    "The properties a filter (CQL2 text or JSON) can name. Personal data, moderation "
    "state and exact locations cannot be queried."
)

# A place's other properties (its schema, beyond the queryables).
PLACE_WORDS: dict[str, Words] = {
    "narratives": Words(
        N_("Stories"), N_("The stories told about the place, each in its language.")
    ),
    "languages": Words(N_("Languages"), N_("The languages its stories are told in (BCP 47 tags).")),
    "tags": Words(N_("Tags"), N_("Words the contributor tagged the place with.")),
    "consent": Words(N_("Consent"), N_("What the contributor agreed to.")),
    "workshop": Words(
        N_("Workshop"), N_("The workshop the place was recorded at (its join code).")
    ),
    "location_generalised": Words(
        N_("Location generalised"),
        N_("Whether the location is the centre of a grid cell (or hidden), not the place's own."),
    ),
    "version": Words(N_("Version"), N_("How many times the place was written.")),
    "protocol_labels": Words(
        N_("Protocol labels"), N_("Local Contexts TK/BC labels attached to the place.")
    ),
}

NEIGHBOURHOOD_WORDS: dict[str, Words] = {
    "id": Words(IDENTIFIER),
    "geometry": Words(N_("Boundary")),
    "name": Words(N_("Name")),
    "code": Words(N_("Code")),
    # Also the start of each category's count: "Places: Tradition".
    "places": Words(N_("Places")),
}

# A walk's properties (geodata.io.walks.WALK_FIELDS, with its id and route).
WALK_WORDS: dict[str, Words] = {
    "id": Words(IDENTIFIER, N_("The walk's stable identifier.")),
    "geometry": Words(
        N_("Route"),
        N_("The route as its proposer drew it, or from stop to stop; public places only."),
    ),
    "title": Words(N_("Title"), N_("The walk's title, in its original language.")),
    "title_language": Words(
        N_("Language of the title"), N_("The language of the title (a BCP 47 tag).")
    ),
    "introduction": Words(
        N_("Introduction"), N_("The walk's introduction, in its original language.")
    ),
    "stops": Words(N_("Stops"), N_("How many stops the walk has.")),
    "stop_place_ids": Words(
        N_("Places of the stops"), N_("The identifiers of the stops' places, in order.")
    ),
    "stop_titles": Words(
        N_("Titles of the stops"), N_("Each stop's number and its place's title, in order.")
    ),
    "length_m": Words(N_("Length in metres"), N_("How long the route is, in metres.")),
    "walking_minutes": Words(
        N_("Minutes on foot"), N_("About how many minutes the walk takes on foot.")
    ),
    "languages": Words(N_("Languages"), N_("The languages the walk is told in (BCP 47 tags).")),
    "editorial": Words(
        N_("Editorial"),
        N_("Whether the title and introduction are the atlas's own factual description."),
    ),
    "licence": Words(N_("Licence"), N_("The licence the walk is published under.")),
    "url": Words(N_("Page"), N_("The address of the walk's page.")),
}
