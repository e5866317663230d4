"""Residents' contributions: checking a submission, storing it with its edit token,
flagging likely duplicates, corrections and withdrawal.

Every rule is checked and every problem reported at once (a resident fixes the whole
form in one go), each with the field it concerns. Nothing is written until all pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from geodata import audit
from geodata.contribution_checks import (
    MAX_PERIOD,
    MAX_TITLE,
    FieldChecker,
    check_category,
    check_consent,
    check_contributor,
    check_geometry,
    check_licence,
    check_narratives,
    check_tags,
    check_years,
    workshop_status,
)
from geodata.duplicates import possible_duplicates
from geodata.edit_tokens import (  # noqa: F401 - part of this module's interface
    EditTokenRequired,
    WrongEditToken,
    check_edit_token,
    hash_edit_token,
    new_edit_token,
)
from geodata.errors import HeritageError
from geodata.media import remove_all_photos
from geodata.models import Consent, Place, Status, utcnow
from geodata.narrative_additions import keep_additions, with_additions
from geodata.place_attachments import PlaceFlag
from geodata.project_index import ProjectIndex, project_index  # noqa: F401
from geodata.schemas import (
    PlacePatch,
    PlaceProperties,
    PlaceSubmission,
)
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from geodata.voices import remove_all_recordings
from geodata.workshops import shows_at_once

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
    c = FieldChecker()
    geometry, warnings = check_geometry(c, submission.geometry, index.rules)
    title = c.text(p.title, "properties.title", "title", MAX_TITLE)
    narratives = check_narratives(c, p.narratives)
    category = check_category(c, p.category, vocabulary)
    period = c.text(p.period, "properties.period", "period", MAX_PERIOD, required=False)
    check_years(c, p.year_from, p.year_to)
    tags = check_tags(c, p.tags)
    name, contact, display_name = check_contributor(c, p.contributor)
    check_consent(c, p.consent.publish)
    licence = check_licence(c, p.licence)
    workshop, status = workshop_status(c, store, p.workshop, now)
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
    c = FieldChecker()
    changes: dict[str, Any] = {}
    warnings: list[str] = []
    if "geometry" in patch.model_fields_set:
        geometry, warnings = check_geometry(c, patch.geometry, index.rules)
        changes["geometry"] = geometry
    if "title" in given:
        changes["title"] = c.text(p.title, "properties.title", "title", MAX_TITLE)
    if "narratives" in given:
        # The place's own story; memories and translations others added stay.
        own = check_narratives(c, p.narratives or [])
        changes["narratives"] = keep_additions(place.narratives, own)
    if "category" in given:
        if p.category is None:
            c.add("properties.category", "required", "the category is required", label="category")
        else:
            changes["category"] = check_category(c, p.category, vocabulary)
    if "period" in given:
        changes["period"] = c.text(
            p.period, "properties.period", "period", MAX_PERIOD, required=False
        )
    for year in ("year_from", "year_to"):
        if year in given:
            changes[year] = getattr(p, year)
    check_years(c, changes.get("year_from", place.year_from), changes.get("year_to", place.year_to))
    if "tags" in given:
        changes["tags"] = check_tags(c, p.tags or [])
    if "contributor" in given:
        name, contact, display_name = check_contributor(c, p.contributor)
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
            check_consent(c, p.consent.publish)
            changes["consent"] = Consent(
                publish=True,
                open_data=p.consent.open_data,
                research=p.consent.research,
                given_at=now,
            )
    if "licence" in given:
        changes["licence"] = check_licence(c, p.licence or "")
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
    return Status.PUBLISHED if shows_at_once(store, place.workshop, now) else Status.PENDING


def save_patch(store: PlaceStore, prepared: PreparedPlace, expected_version: int | None) -> Place:
    with store.transaction():
        store.lock_place(prepared.place.id)
        before = store.get(prepared.place.id)
        # Additions published since the place was read stay too.
        edited = replace(
            prepared.place,
            narratives=with_additions(store, before.id, prepared.place.narratives),
        )
        place = store.update(edited, expected_version=expected_version)
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
    remove_all_recordings(store, media_dir, place.id)
    return place
