"""Checking a proposed walk: its texts, its stops and its route, every problem at once.

A walk with no stops, a stop that is not a public place (or whose location is
protected), the same place twice, or a route that breaks the geometry rules a place's
route must follow, is refused with each problem named by the field it concerns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry.base import BaseGeometry

from geodata.errors import GeometryError, InvalidInput
from geodata.geometry import validate_place_geometry
from geodata.geometry_rules import GeometryRules
from geodata.models import DEFAULT_LICENCE, Consent, Narrative, Provenance, Status, utcnow
from geodata.schemas import LICENCES, ConsentIn, ContributorIn, NarrativeIn, Problem
from geodata.store.base import PlaceStore
from geodata.text import check_language, check_text
from geodata.walk_views import shown_places
from geodata.walks import Walk, WalkStop

MAX_TITLE = 200
MAX_INTRODUCTION = 5_000
MAX_CHAPTER = 2_000  # "a short chapter text per stop"
MAX_LANGUAGES = 10
MAX_STOPS = 100
MAX_NAME = 200
MAX_DISPLAY_NAME = 80


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StopIn(_Input):
    place_id: str = Field(description="the id of a public place, e.g. 'pl_...'")
    chapters: list[NarrativeIn] = Field(
        description="the walk's short text about this stop, in one or more languages"
    )


class WalkSubmission(_Input):
    """A proposed walk: its texts in languages, its stops in order, an optional route."""

    titles: list[NarrativeIn] = Field(description="the walk's title, in one or more languages")
    introductions: list[NarrativeIn] = Field(
        description="what the walk is about, in one or more languages"
    )
    stops: list[StopIn] = Field(description="the stops, in walking order")
    route: Any = Field(
        None,
        description="an optional GeoJSON LineString (longitude first); without it the walk "
        "is drawn from stop to stop",
    )
    licence: str = Field(DEFAULT_LICENCE, description="one of " + ", ".join(LICENCES))
    consent: ConsentIn
    contributor: ContributorIn | None = None


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, where: str, code: str, message: str, **params: Any) -> None:
        self.items.append(Problem(where, code, message, params))

    def text(self, value: str | None, where: str, label: str, limit: int) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return check_text(value, label, max_length=limit)
        except InvalidInput as exc:
            self.add(where, exc.code, exc.message, label=label, limit=limit, length=len(value))
            return None

    def raise_if_any(self) -> None:
        if self.items:
            more = len(self.items) - 1
            detail = self.items[0].message + (
                f" (and {more} more problem{'s' * (more > 1)})" if more else ""
            )
            raise InvalidInput(detail, problems=list(self.items))


def _texts(
    p: _Problems, items: Sequence[NarrativeIn], where: str, label: str, limit: int
) -> list[Narrative]:
    """Language versions of one text, with a place's story's rules: each language once,
    exactly one original, the others translations."""
    if not items:
        p.add(where, "required", f"give the {label} in at least one language", label=label)
        return []
    if len(items) > MAX_LANGUAGES:
        p.add(
            where,
            "too_many",
            f"give the {label} in at most {MAX_LANGUAGES} languages",
            limit=MAX_LANGUAGES,
        )
        return []
    out: list[Narrative] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        text = p.text(item.text, f"{where}.{i}.text", label, limit)
        if text is None and not (item.text or "").strip():
            p.add(f"{where}.{i}.text", "empty_story", f"the {label} is empty; write a few words")
        try:
            language = check_language(item.language)
        except InvalidInput as exc:
            p.add(f"{where}.{i}.language", exc.code, exc.message, tag=item.language)
            continue
        if language.lower() in seen:
            p.add(
                f"{where}.{i}.language",
                "repeated_language",
                f"the {label} in {language} is given twice; give each language once",
            )
            continue
        seen.add(language.lower())
        if text is not None:
            out.append(Narrative(text, language, item.provenance))
    originals = sum(1 for n in items if n.provenance == Provenance.ORIGINAL)
    if originals != 1:
        p.add(
            where,
            "one_original",
            f"mark exactly one version of the {label} as the original "
            f"and the others as translations (now {originals} are originals)",
            count=originals,
        )
    return out


def _stops(p: _Problems, store: PlaceStore, stops: Sequence[StopIn]) -> list[WalkStop]:
    if not stops:
        p.add("stops", "no_stops", "a walk needs at least one stop; add the places it visits")
        return []
    if len(stops) > MAX_STOPS:
        p.add("stops", "too_many", f"a walk has at most {MAX_STOPS} stops", limit=MAX_STOPS)
        return []
    public = shown_places(store, [s.place_id[:100] for s in stops])
    out: list[WalkStop] = []
    first_at: dict[str, int] = {}
    for i, stop in enumerate(stops):
        where = f"stops.{i}"
        if stop.place_id in first_at:
            p.add(
                f"{where}.place_id",
                "duplicate_stop",
                f"stop {i + 1} is the same place as stop {first_at[stop.place_id] + 1}; "
                "visit each place once",
                place_id=stop.place_id[:100],
            )
            continue
        first_at[stop.place_id] = i
        if stop.place_id not in public:
            p.add(
                f"{where}.place_id",
                "not_public_place",
                f"stop {i + 1} ({stop.place_id[:100]!r}) is not a public place: a walk may "
                "only visit published places shown where they are",
                place_id=stop.place_id[:100],
            )
        chapters = _texts(p, stop.chapters, f"{where}.chapters", "chapter", MAX_CHAPTER)
        out.append(WalkStop(stop.place_id, chapters))
    return out


def _route(p: _Problems, raw: Any, rules: GeometryRules) -> BaseGeometry | None:
    if raw is None:
        return None
    try:
        checked = validate_place_geometry(raw, rules)
    except GeometryError as exc:
        p.add("route", exc.code, f"the route: {exc.message}")
        return None
    if checked.geometry.geom_type != "LineString":
        p.add(
            "route",
            "route_not_a_line",
            f"the route must be a line (a GeoJSON LineString), not a {checked.geometry.geom_type}",
        )
        return None
    return checked.geometry


def prepare_walk(
    store: PlaceStore,
    submission: WalkSubmission,
    rules: GeometryRules,
    *,
    now: datetime | None = None,
) -> Walk:
    """A pending walk from a proposal that passed every rule; else InvalidInput naming
    every problem."""
    now = now or utcnow()
    p = _Problems()
    titles = _texts(p, submission.titles, "titles", "title", MAX_TITLE)
    introductions = _texts(
        p, submission.introductions, "introductions", "introduction", MAX_INTRODUCTION
    )
    stops = _stops(p, store, submission.stops)
    route = _route(p, submission.route, rules)
    if submission.licence not in LICENCES:
        p.add(
            "licence",
            "unknown_licence",
            f"{submission.licence!r:.40} is not a licence we offer; choose one of: "
            f"{', '.join(LICENCES)}",
            licence=submission.licence[:40],
            choices=", ".join(LICENCES),
        )
    if not submission.consent.publish:
        p.add(
            "consent.publish",
            "walk_consent_required",
            "tick the box to agree that your walk is shown publicly; without it we cannot "
            "accept it",
        )
    who = submission.contributor or ContributorIn()
    name = p.text(who.name, "contributor.name", "name", MAX_NAME)
    contact = p.text(who.contact, "contributor.contact", "contact", MAX_NAME)
    display = p.text(who.display_name, "contributor.display_name", "display name", MAX_DISPLAY_NAME)
    p.raise_if_any()
    return Walk(
        titles=titles,
        introductions=introductions,
        stops=stops,
        route=route,
        status=Status.PENDING,
        licence=submission.licence,
        consent=Consent(
            publish=True,
            open_data=submission.consent.open_data,
            research=submission.consent.research,
            given_at=now,
        ),
        contributor_name=name,
        contributor_contact=contact,
        display_name=display,
        created_at=now,
        updated_at=now,
    )
