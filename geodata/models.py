"""The domain's records: places with their narratives, and neighbourhoods.

Plain dataclasses inside the domain; pydantic models validate input at the edges
(``geodata.schemas``) and the web layer formats output.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum

from shapely.geometry.base import BaseGeometry


class Status(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Sensitivity(StrEnum):
    PUBLIC = "public"  # drawn where it is
    GENERALISED = "generalised"  # drawn on a coarse grid, never at the true point
    HIDDEN = "hidden"  # counted, never drawn


class Provenance(StrEnum):
    ORIGINAL = "original"
    COMMUNITY_TRANSLATION = "community_translation"
    MACHINE_TRANSLATION = "machine_translation"


DEFAULT_LICENCE = "CC-BY-4.0"


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_place_id() -> str:
    """A stable, opaque, URL-safe identifier (no sequence a scraper could walk)."""
    return "pl_" + secrets.token_urlsafe(9)


def new_place_ids(n: int) -> list[str]:
    """``n`` identifiers like :func:`new_place_id`, drawn in one call for bulk imports."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(9 * n)).decode()
    return ["pl_" + raw[i : i + 12] for i in range(0, 12 * n, 12)]


class NarrativeKind(StrEnum):
    """What a narrative residents add to a place is (the place's own story has no kind)."""

    MEMORY = "memory"  # a resident's own memory of the place, with its own author
    TRANSLATION = "translation"  # a translation of one of the place's stories


@dataclass(frozen=True)
class Narrative:
    """A story told about a place, in one language (a BCP 47 tag such as ``pt`` or ``ar-MA``).

    A story taken from elsewhere (an import) says where from and on what terms: ``source``
    (e.g. "OpenStreetMap way/96628628 tag `description`") and ``licence`` with the credit
    it asks for (e.g. "ODbL 1.0 (© OpenStreetMap contributors)"), shown next to the story.
    Both None: the place's own licence and attribution cover it, as for residents' stories.

    A narrative another resident added (:class:`NarrativeAddition`, once it is public) has
    its ``id`` and ``kind``; a translation also names the story it translates
    (``translates``: that story's :func:`narrative_ref`) and the fingerprint of the text it
    was made from (``translates_hash``: :func:`text_fingerprint`), so a page can tell when
    the original changed since.
    """

    text: str
    language: str
    provenance: Provenance = Provenance.ORIGINAL
    source: str | None = None
    licence: str | None = None
    id: str | None = None
    kind: NarrativeKind | None = None
    translates: str | None = None
    translates_hash: str | None = None

    def to_json(self) -> dict[str, str]:
        """The narrative as stored and exported (the optional keys only when set).

        Keys in PostgreSQL's jsonb order (shorter first, then bytewise), so the text a
        PostGIS store gives back is the text an SQLite store keeps, byte for byte.
        """
        if self.id is not None:
            return _jsonb_order(
                {
                    "id": self.id,
                    "kind": str(self.kind) if self.kind else None,
                    "text": self.text,
                    "source": self.source,
                    "licence": self.licence,
                    "language": self.language,
                    "provenance": str(self.provenance),
                    "translates": self.translates,
                    "translates_hash": self.translates_hash,
                }
            )
        out = {"text": self.text}
        if self.source is not None:
            out["source"] = self.source
        if self.licence is not None:
            out["licence"] = self.licence
        out["language"] = self.language
        out["provenance"] = str(self.provenance)
        return out

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Narrative:
        kind = data.get("kind")
        return cls(
            data["text"],
            data["language"],
            Provenance(data["provenance"]),
            data.get("source"),
            data.get("licence"),
            data.get("id"),
            NarrativeKind(kind) if kind else None,
            data.get("translates"),
            data.get("translates_hash"),
        )

    @property
    def added(self) -> bool:
        """Whether another resident added it (a memory or a translation), rather than it
        being part of the place's own story."""
        return self.id is not None


def _jsonb_order(values: dict[str, str | None]) -> dict[str, str]:
    """The set values in jsonb's key order: shorter keys first, then bytewise."""
    return {
        k: v for k, v in sorted(values.items(), key=lambda kv: (len(kv[0]), kv[0])) if v is not None
    }


def narrative_ref(narrative: Narrative) -> str:
    """How a translation names the story it translates: an added story by its id, one of
    the place's own stories by its language (a place tells its own story once per
    language)."""
    return narrative.id or narrative.language


def text_fingerprint(text: str) -> str:
    """A short fingerprint of a story's text: a translation keeps the one of the text it
    was made from, so a changed original shows."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Consent:
    """What the contributor agreed to, and when."""

    publish: bool = True  # shown on public maps
    open_data: bool = True  # included in open-data downloads
    research: bool = False  # used for research
    given_at: datetime | None = None


@dataclass
class Place:
    """A heritage place: a point, a route or an area, with the stories told about it."""

    geometry: BaseGeometry
    title: str
    narratives: list[Narrative]
    category: str
    id: str = field(default_factory=new_place_id)
    status: Status = Status.PENDING
    period: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    tags: list[str] = field(default_factory=list)
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    licence: str = DEFAULT_LICENCE
    attribution: str | None = None
    consent: Consent = field(default_factory=Consent)
    contributor_name: str | None = None  # personal data: never exported or shown publicly
    contributor_contact: str | None = None  # personal data
    display_name: str | None = None  # the name the contributor chose to have shown
    neighbourhood_id: int | None = None
    workshop: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    @property
    def kind(self) -> str:
        """``point``, ``route`` or ``area``, the words residents use."""
        return {"Point": "point", "LineString": "route", "Polygon": "area"}.get(
            self.geometry.geom_type, self.geometry.geom_type.lower()
        )


@dataclass
class NewPlaces:
    """Many new places as columns, for bulk imports: one sequence per field that differs
    from place to place, one value for what an import gives them all.

    Stores write these without building a :class:`Place` per row (at a hundred thousand
    places that was a fifth of an import); :meth:`places` gives them as places for a
    store that has no such path.
    """

    ids: Sequence[str]
    geometries: Sequence[BaseGeometry]  # an array of shapely geometries in bulk paths
    titles: Sequence[str]
    narratives: Sequence[Sequence[Narrative]]
    categories: Sequence[str]
    periods: Sequence[str | None]
    years_from: Sequence[int | None]
    years_to: Sequence[int | None]
    tags: Sequence[Sequence[str]]
    neighbourhood_ids: Sequence[int | None]
    status: Status
    licence: str
    attribution: str | None
    consent: Consent
    created_at: datetime  # also their updated_at; every one is at version 1
    # Each place's own licence and attribution, where an import takes them from the file
    # (None: ``licence`` and ``attribution`` above for every place).
    licences: Sequence[str] | None = None
    attributions: Sequence[str | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, part: slice) -> NewPlaces:
        """The places in ``part`` (a slice), sharing the same values."""
        columns = {
            f.name: getattr(self, f.name)[part]
            for f in fields(self)
            if f.name in _COLUMNS or (f.name in _OWN_COLUMNS and getattr(self, f.name) is not None)
        }
        return replace(self, **columns)

    def place_licences(self) -> Sequence[str]:
        """Each place's licence."""
        return self.licences if self.licences is not None else [self.licence] * len(self)

    def place_attributions(self) -> Sequence[str | None]:
        """Each place's attribution."""
        if self.attributions is not None:
            return self.attributions
        return [self.attribution] * len(self)

    def places(self) -> Iterator[Place]:
        for pid, geom, title, narratives, category, period, y0, y1, tags, nid, lic, by in zip(
            *(getattr(self, name) for name in _COLUMNS),
            self.place_licences(),
            self.place_attributions(),
            strict=True,
        ):
            yield Place(
                geom,
                title,
                list(narratives),
                category,
                id=pid,
                status=self.status,
                period=period,
                year_from=y0,
                year_to=y1,
                tags=list(tags),
                licence=lic,
                attribution=by,
                consent=self.consent,
                neighbourhood_id=nid,
                created_at=self.created_at,
                updated_at=self.created_at,
            )


# The fields of NewPlaces that hold one value per place, in declaration order.
_COLUMNS = (
    "ids",
    "geometries",
    "titles",
    "narratives",
    "categories",
    "periods",
    "years_from",
    "years_to",
    "tags",
    "neighbourhood_ids",
)
# The fields of NewPlaces that hold one value per place when they are set.
_OWN_COLUMNS = ("licences", "attributions")


@dataclass
class Neighbourhood:
    """A named polygon or multipolygon places are grouped by."""

    id: int
    name: str
    geometry: BaseGeometry
    code: str | None = None


class Moderation(StrEnum):
    PRE = "pre"  # nothing public until a facilitator publishes it
    POST = "post"  # shown at once, can be hidden


@dataclass
class Workshop:
    """A mapping session with a short join code that residents type or scan."""

    code: str
    title: str
    starts_at: datetime
    ends_at: datetime
    neighbourhood_id: int | None = None
    moderation: Moderation = Moderation.PRE
    languages: list[str] = field(default_factory=list)
    created_by: str | None = None
    created_at: datetime = field(default_factory=utcnow)

    def is_open(self, at: datetime | None = None) -> bool:
        at = at or utcnow()
        return self.starts_at <= at < self.ends_at


def new_narrative_id() -> str:
    return "nr_" + secrets.token_urlsafe(9)


@dataclass
class NarrativeAddition:
    """A memory or a translation a resident added to a place, from its page or the API.

    It is public (a :class:`Narrative` among the place's own) while ``status`` is
    published; pending until a facilitator publishes it where the place's workshop
    moderates first. ``contributor_contact`` is personal data, kept only so the
    contributor can ask for erasure; ``author`` is the name they chose to have shown.
    """

    place_id: str
    kind: NarrativeKind
    text: str
    language: str
    provenance: Provenance
    consent_given_at: datetime
    author: str | None = None
    contributor_contact: str | None = None
    translates: str | None = None  # the narrative_ref of the story it translates
    translates_hash: str | None = None  # text_fingerprint of that story when translated
    translates_version: int | None = None  # the place's version then
    status: Status = Status.PENDING
    reason: str | None = None  # why a facilitator rejected or hid it
    id: str = field(default_factory=new_narrative_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    def narrative(self) -> Narrative:
        """The addition as one of the place's narratives (what the public sees)."""
        return Narrative(
            self.text,
            self.language,
            self.provenance,
            id=self.id,
            kind=self.kind,
            translates=self.translates,
            translates_hash=self.translates_hash,
        )
