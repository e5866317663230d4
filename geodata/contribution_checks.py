"""The checks of a contribution's fields, shared by a new submission and a correction: each
problem recorded with the field it concerns, all reported together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry

from geodata.errors import GeometryError, InvalidInput, NotFound
from geodata.geometry import validate_place_geometry
from geodata.geometry_rules import GeometryRules
from geodata.models import (
    Moderation,
    Narrative,
    Provenance,
    Status,
    Workshop,
)
from geodata.schemas import (
    LICENCES,
    ContributorIn,
    NarrativeIn,
    Problem,
)
from geodata.store.base import PlaceStore
from geodata.text import check_language, check_text
from geodata.vocabulary import Vocabulary

MAX_TITLE = 200


MAX_NARRATIVE = 10_000


MAX_NARRATIVES = 10


MAX_PERIOD = 200


MAX_TAGS = 20


MAX_TAG = 50


MAX_NAME = 200


MAX_DISPLAY_NAME = 80


MIN_YEAR, MAX_YEAR = -10_000, 2_100


class FieldChecker:
    """Collects problems field by field; ``raise_if_any`` reports them together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, code: str, message: str, /, **params: Any) -> None:
        self.problems.append(Problem(where, code, message, params))

    def text(
        self, value: str | None, where: str, label: str, max_length: int, required: bool = True
    ) -> str | None:
        if value is None:
            if required:
                self.add(where, "required", f"the {label} is required", label=label)
            return None
        try:
            text = check_text(value, label, max_length=max_length, required=required)
        except InvalidInput as exc:
            self.add(
                where,
                exc.code,
                exc.message,
                label=label,
                limit=max_length,
                length=len(value.strip()),
            )
            return None
        return text or None

    def raise_if_any(self) -> None:
        if self.problems:
            first = self.problems[0]
            more = len(self.problems) - 1
            detail = first.message + (
                f" (and {more} more problem{'s' * (more > 1)})" if more else ""
            )
            raise InvalidInput(detail, problems=list(self.problems))


def check_geometry(
    c: FieldChecker, raw: Any, rules: GeometryRules
) -> tuple[BaseGeometry | None, list]:
    try:
        checked = validate_place_geometry(raw, rules)
    except GeometryError as exc:
        c.add("geometry", exc.code, exc.message)
        return None, []
    return checked.geometry, checked.warnings


def check_narratives(c: FieldChecker, items: Sequence[NarrativeIn]) -> list[Narrative]:
    if not items:
        c.add(
            "properties.narratives", "required", "tell the place's story in at least one language"
        )
        return []
    if len(items) > MAX_NARRATIVES:
        c.add(
            "properties.narratives",
            "too_many",
            f"{len(items)} language versions is too many; the limit is {MAX_NARRATIVES}",
            limit=MAX_NARRATIVES,
        )
        return []
    out, seen = [], {}
    for i, item in enumerate(items):
        where = f"properties.narratives.{i}"
        text = c.text(item.text, where + ".text", "story", MAX_NARRATIVE)
        try:
            language = check_language(item.language)
        except InvalidInput as exc:
            c.add(where + ".language", exc.code, exc.message, tag=item.language)
            continue
        if language.lower() in seen:
            c.add(
                where + ".language",
                "repeated_language",
                f"there is already a version in "
                f"{language} (number {seen[language.lower()] + 1}); give each language once",
                tag=language,
            )
            continue
        seen[language.lower()] = i
        if text is not None:
            out.append(Narrative(text, language, item.provenance))
    originals = sum(1 for n in items if n.provenance == Provenance.ORIGINAL)
    if originals != 1:
        c.add(
            "properties.narratives",
            "one_original",
            "mark exactly one version as the "
            f"original and the others as translations (now {originals} are originals)",
            count=originals,
        )
    return out


def check_tags(c: FieldChecker, tags: Sequence[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        c.add(
            "properties.tags",
            "too_many",
            f"{len(tags)} tags is too many; the limit is {MAX_TAGS}",
            limit=MAX_TAGS,
        )
        return []
    out: list[str] = []
    for i, tag in enumerate(tags):
        text = c.text(tag.lstrip("#"), f"properties.tags.{i}", "tag", MAX_TAG)
        if text and text.casefold() not in {t.casefold() for t in out}:
            out.append(text)
    return out


def check_years(c: FieldChecker, year_from: int | None, year_to: int | None) -> None:
    for where, year in (("year_from", year_from), ("year_to", year_to)):
        if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
            c.add(
                f"properties.{where}",
                "year_out_of_range",
                f"{year} is not a year we can use; give a year between {MIN_YEAR} and {MAX_YEAR}",
                year=year,
            )
            return
    if year_from is not None and year_to is not None and year_from > year_to:
        c.add(
            "properties.year_to",
            "years_reversed",
            f"the period ends ({year_to}) before it starts ({year_from}); swap the years",
            year_from=year_from,
            year_to=year_to,
        )


def check_category(c: FieldChecker, category: str, vocabulary: Vocabulary) -> str:
    key = category.strip()
    if key not in vocabulary:
        c.add(
            "properties.category",
            "unknown_category",
            f"{category!r:.40} is not a category; choose one of: {', '.join(vocabulary.keys())}",
            category=category,
            choices=", ".join(vocabulary.keys()),
        )
    return key


def check_licence(c: FieldChecker, licence: str) -> str:
    if licence not in LICENCES:
        c.add(
            "properties.licence",
            "unknown_licence",
            f"{licence!r:.40} is not a licence we offer; choose one of: {', '.join(LICENCES)}",
            licence=licence,
            choices=", ".join(LICENCES),
        )
    return licence


def check_contributor(c: FieldChecker, who: ContributorIn | None) -> tuple[str | None, ...]:
    who = who or ContributorIn()
    return (
        c.text(who.name, "properties.contributor.name", "name", MAX_NAME, required=False),
        c.text(who.contact, "properties.contributor.contact", "contact", MAX_NAME, required=False),
        c.text(
            who.display_name,
            "properties.contributor.display_name",
            "display name",
            MAX_DISPLAY_NAME,
            required=False,
        ),
    )


def check_consent(c: FieldChecker, publish: bool) -> None:
    if not publish:
        c.add(
            "properties.consent.publish",
            "consent_required",
            "tick the box to agree that "
            "your place and story are shown on the public map; without it we cannot "
            "accept it",
        )


def workshop_status(
    c: FieldChecker, store: PlaceStore, code: str | None, now: datetime
) -> tuple[str | None, Status]:
    if code is None or not code.strip():
        return None, Status.PENDING
    try:
        workshop: Workshop | None = store.get_workshop(code)
    except NotFound:
        workshop = None
    # A wrong code and a shut (or not yet open) workshop get the same answer, so trying
    # codes tells nobody which ones exist.
    if workshop is None or not workshop.is_open(now):
        c.add(
            "properties.workshop",
            "workshop_not_open",
            "this workshop code is not open for contributions right now; check it with the "
            "facilitator, or leave it empty to send your place on its own",
        )
        return None, Status.PENDING
    status = Status.PUBLISHED if workshop.moderation == Moderation.POST else Status.PENDING
    return workshop.code, status
