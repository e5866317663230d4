"""Residents' contributions: checking a submission, storing it with its edit token,
flagging likely duplicates, corrections and withdrawal.

Every rule is checked and every problem reported at once (a resident fixes the whole
form in one go), each with the field it concerns. Nothing is written until all pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from geodata import audit
from geodata.duplicates import possible_duplicates
from geodata.edit_tokens import (  # noqa: F401 - part of this module's interface
    EditTokenRequired,
    WrongEditToken,
    check_edit_token,
    hash_edit_token,
    new_edit_token,
)
from geodata.errors import GeometryError, HeritageError, InvalidInput, NotFound
from geodata.geometry import (
    GeometryRules,
    validate_place_geometry,
)
from geodata.media import remove_all_photos
from geodata.models import (
    Consent,
    Moderation,
    Narrative,
    Place,
    PlaceFlag,
    Provenance,
    Status,
    Workshop,
    utcnow,
)
from geodata.project_index import ProjectIndex, project_index  # noqa: F401
from geodata.schemas import (
    LICENCES,
    ContributorIn,
    NarrativeIn,
    PlacePatch,
    PlaceProperties,
    PlaceSubmission,
    Problem,
)
from geodata.store.base import PlaceStore
from geodata.text import check_language, check_text
from geodata.vocabulary import Vocabulary
from geodata.voices import remove_all_recordings

MAX_TITLE = 200
MAX_NARRATIVE = 10_000
MAX_NARRATIVES = 10
MAX_PERIOD = 200
MAX_TAGS = 20
MAX_TAG = 50
MAX_NAME = 200
MAX_DISPLAY_NAME = 80
MIN_YEAR, MAX_YEAR = -10_000, 2_100
# Edits to these change what the public sees, so a moderated place is checked again.
CONTENT_FIELDS = (
    "geometry",
    "title",
    "narratives",
    "category",
    "period",
    "year_from",
    "year_to",
    "tags",
    "sensitivity",
    "licence",
    "display_name",
)


class Withdrawn(HeritageError):
    code = "withdrawn"
    status = 409


# ---------------------------------------------------------------------------
# Checking fields
# ---------------------------------------------------------------------------


class _Checker:
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


def _geometry(c: _Checker, raw: Any, rules: GeometryRules) -> tuple[BaseGeometry | None, list]:
    try:
        checked = validate_place_geometry(raw, rules)
    except GeometryError as exc:
        c.add("geometry", exc.code, exc.message)
        return None, []
    return checked.geometry, checked.warnings


def _narratives(c: _Checker, items: Sequence[NarrativeIn]) -> list[Narrative]:
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


def _tags(c: _Checker, tags: Sequence[str]) -> list[str]:
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


def _years(c: _Checker, year_from: int | None, year_to: int | None) -> None:
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


def _category(c: _Checker, category: str, vocabulary: Vocabulary) -> str:
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


def _licence(c: _Checker, licence: str) -> str:
    if licence not in LICENCES:
        c.add(
            "properties.licence",
            "unknown_licence",
            f"{licence!r:.40} is not a licence we offer; choose one of: {', '.join(LICENCES)}",
            licence=licence,
            choices=", ".join(LICENCES),
        )
    return licence


def _contributor(c: _Checker, who: ContributorIn | None) -> tuple[str | None, ...]:
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


def _consent_given(c: _Checker, publish: bool) -> None:
    if not publish:
        c.add(
            "properties.consent.publish",
            "consent_required",
            "tick the box to agree that "
            "your place and story are shown on the public map; without it we cannot "
            "accept it",
        )


def _workshop_status(
    c: _Checker, store: PlaceStore, code: str | None, now: datetime
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


# ---------------------------------------------------------------------------
# Submitting
# ---------------------------------------------------------------------------


@dataclass
class Receipt:
    """What the resident gets back: the stored place and its edit token (shown once)."""

    place: Place
    edit_token: str
    warnings: list[str] = field(default_factory=list)
    flags: list[PlaceFlag] = field(default_factory=list)


@dataclass
class PreparedPlace:
    """A submission that passed every rule, ready to store."""

    place: Place
    warnings: list[str]
    flags: list[PlaceFlag]


def prepare_submission(
    store: PlaceStore,
    submission: PlaceSubmission,
    index: ProjectIndex,
    vocabulary: Vocabulary,
    *,
    now: datetime | None = None,
) -> PreparedPlace:
    """Check a submission against every rule; raise InvalidInput listing all problems."""
    now = now or utcnow()
    p: PlaceProperties = submission.properties
    c = _Checker()
    geometry, warnings = _geometry(c, submission.geometry, index.rules)
    title = c.text(p.title, "properties.title", "title", MAX_TITLE)
    narratives = _narratives(c, p.narratives)
    category = _category(c, p.category, vocabulary)
    period = c.text(p.period, "properties.period", "period", MAX_PERIOD, required=False)
    _years(c, p.year_from, p.year_to)
    tags = _tags(c, p.tags)
    name, contact, display_name = _contributor(c, p.contributor)
    _consent_given(c, p.consent.publish)
    licence = _licence(c, p.licence)
    workshop, status = _workshop_status(c, store, p.workshop, now)
    c.raise_if_any()
    assert geometry is not None and title is not None  # raise_if_any saw to it
    place = Place(
        geometry=geometry,
        title=title,
        narratives=narratives,
        category=category,
        status=status,
        period=period,
        year_from=p.year_from,
        year_to=p.year_to,
        tags=tags,
        sensitivity=p.sensitivity,
        licence=licence,
        consent=Consent(
            publish=True, open_data=p.consent.open_data, research=p.consent.research, given_at=now
        ),
        contributor_name=name,
        contributor_contact=contact,
        display_name=display_name,
        neighbourhood_id=index.assign(geometry),
        workshop=workshop,
        created_at=now,
        updated_at=now,
    )
    return PreparedPlace(place, warnings, possible_duplicates(store, place))


def save_submission(store: PlaceStore, prepared: PreparedPlace) -> Receipt:
    """Store a checked place, its edit-token hash and its flags in one transaction."""
    token, token_hash = new_edit_token()
    with store.transaction():
        store.add(prepared.place)
        store.set_edit_token_hash(prepared.place.id, token_hash)
        if prepared.flags:
            store.add_flags(prepared.flags)
        audit.record(store, "create", audit.RESIDENT, after=prepared.place)
    return Receipt(prepared.place, token, prepared.warnings, prepared.flags)


# ---------------------------------------------------------------------------
# Corrections and withdrawal
# ---------------------------------------------------------------------------


def apply_patch(
    store: PlaceStore,
    place: Place,
    patch: PlacePatch,
    index: ProjectIndex,
    vocabulary: Vocabulary,
    *,
    now: datetime | None = None,
) -> PreparedPlace:
    """The place corrected by ``patch`` (not yet stored); raise InvalidInput or Withdrawn."""
    now = now or utcnow()
    if place.status == Status.WITHDRAWN:
        raise Withdrawn("this place was withdrawn and can no longer be changed")
    given = patch.properties.model_fields_set
    p = patch.properties
    c = _Checker()
    changes: dict[str, Any] = {}
    warnings: list[str] = []
    if "geometry" in patch.model_fields_set:
        geometry, warnings = _geometry(c, patch.geometry, index.rules)
        changes["geometry"] = geometry
    if "title" in given:
        changes["title"] = c.text(p.title, "properties.title", "title", MAX_TITLE)
    if "narratives" in given:
        changes["narratives"] = _narratives(c, p.narratives or [])
    if "category" in given:
        if p.category is None:
            c.add("properties.category", "required", "the category is required", label="category")
        else:
            changes["category"] = _category(c, p.category, vocabulary)
    if "period" in given:
        changes["period"] = c.text(
            p.period, "properties.period", "period", MAX_PERIOD, required=False
        )
    for year in ("year_from", "year_to"):
        if year in given:
            changes[year] = getattr(p, year)
    _years(c, changes.get("year_from", place.year_from), changes.get("year_to", place.year_to))
    if "tags" in given:
        changes["tags"] = _tags(c, p.tags or [])
    if "contributor" in given:
        name, contact, display_name = _contributor(c, p.contributor)
        changes.update(
            contributor_name=name, contributor_contact=contact, display_name=display_name
        )
    if "consent" in given:
        if p.consent is None:
            c.add(
                "properties.consent.publish",
                "consent_required",
                "consent cannot be removed; withdraw the place instead",
            )
        else:
            _consent_given(c, p.consent.publish)
            changes["consent"] = Consent(
                publish=True,
                open_data=p.consent.open_data,
                research=p.consent.research,
                given_at=now,
            )
    if "licence" in given:
        changes["licence"] = _licence(c, p.licence or "")
    if "sensitivity" in given and p.sensitivity is not None:
        changes["sensitivity"] = p.sensitivity
    c.raise_if_any()
    content_changed = any(
        k in CONTENT_FIELDS and getattr(place, k) != v for k, v in changes.items()
    )
    corrected = replace(place, **changes)
    if "geometry" in changes:
        corrected.neighbourhood_id = index.assign(corrected.geometry)
    if content_changed and place.status != Status.PENDING:
        # What the public sees changed: moderate it again, unless its workshop is open
        # and shows contributions at once.
        corrected.status = _status_after_edit(store, place, now)
    flags = []
    if "geometry" in changes or "title" in changes:
        flags = possible_duplicates(store, corrected)
    return PreparedPlace(corrected, warnings, flags)


def _status_after_edit(store: PlaceStore, place: Place, now: datetime) -> Status:
    if place.workshop:
        try:
            workshop = store.get_workshop(place.workshop)
        except NotFound:
            return Status.PENDING
        if workshop.moderation == Moderation.POST and workshop.is_open(now):
            return Status.PUBLISHED
    return Status.PENDING


def save_patch(store: PlaceStore, prepared: PreparedPlace, expected_version: int | None) -> Place:
    with store.transaction():
        before = store.get(prepared.place.id)
        place = store.update(prepared.place, expected_version=expected_version)
        if prepared.flags:
            store.add_flags(prepared.flags)
        audit.record(
            store, audit.edit_action(before, place), audit.RESIDENT, before=before, after=place
        )
    return place


def withdraw(store: PlaceStore, place: Place, media_dir: str | Path) -> Place:
    """Take a place off every map and download at once, and erase the contributor's
    personal data, photos and recordings. The record stays (withdrawn) so its id keeps answering."""
    if place.status != Status.WITHDRAWN:
        before = replace(place)
        place.status = Status.WITHDRAWN
        place.contributor_name = place.contributor_contact = place.display_name = None
        with store.transaction():
            place = store.update(place)
            audit.record(store, "withdraw", audit.RESIDENT, before=before, after=place)
    remove_all_photos(store, media_dir, place.id)
    remove_all_recordings(store, media_dir, place.id)  # type: ignore[arg-type]
    return place
