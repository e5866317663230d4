"""Residents add to a place: their own memory of it, or a translation of one of its
stories. Each addition keeps its own author, consent, language and provenance.

An addition is moderated as the place's workshop says (:func:`geodata.workshops.
shows_at_once`): public at once and reviewable afterwards, or pending until a
facilitator publishes it. While it is published it is also one of the place's
narratives (:meth:`NarrativeAddition.narrative`), so every page, map, search and download
shows it as it shows the place's own story. A translation keeps the fingerprint of the
text it was made from: when that story is edited, :func:`translation_state` says the
translation is out of date.

Every rule is checked and every problem reported at once; nothing is written until all
pass, and each change lands in the audit trail (actions ``narrative_*``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from geodata import moderation
from geodata.account_records import AuditEvent
from geodata.audit import Actor
from geodata.errors import HeritageError, InvalidInput
from geodata.models import (
    Narrative,
    NarrativeAddition,
    NarrativeKind,
    Place,
    Provenance,
    Status,
    narrative_ref,
    text_fingerprint,
    utcnow,
)
from geodata.schemas import NarrativeAdditionIn, Problem
from geodata.store.base import PlaceStore
from geodata.text import check_language, check_text
from geodata.workshops import shows_at_once

MAX_TEXT = 10_000  # as a place's own story
MAX_AUTHOR = 80  # as a place's display name
MAX_CONTACT = 200
# Additions a place may hold that are not rejected: enough for a lively street corner,
# bounded so that one page (and one stored record) stays a reasonable size.
MAX_PER_PLACE = 50
# A tag, a closing tag, a comment or a declaration: markup, not a resident's words.
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>")


# Who sends an addition: a resident on the place's page or through the API.
RESIDENT = Actor("resident (place page)")


class TooManyAdditions(HeritageError):
    code = "too_many_additions"
    status = 409


@dataclass(frozen=True)
class TranslationState:
    """How a translation stands against the story it translates, as the place tells it now."""

    original: Narrative | None  # None: the story is no longer told
    current: bool  # False: the story changed since (or is gone)


def find_story(narratives: Sequence[Narrative], ref: str) -> Narrative | None:
    """The narrative ``ref`` (a :func:`~geodata.models.narrative_ref`) names, if any."""
    if ref.startswith("nr_"):
        return next((n for n in narratives if n.id == ref), None)
    wanted = ref.lower()
    return next((n for n in narratives if not n.added and n.language.lower() == wanted), None)


def translation_state(
    narratives: Sequence[Narrative], translation: Narrative | NarrativeAddition
) -> TranslationState | None:
    """None for what is not a translation; else whether the story it translates still
    reads as it did when it was translated."""
    if translation.kind != NarrativeKind.TRANSLATION or not translation.translates:
        return None
    original = find_story(narratives, translation.translates)
    current = original is not None and text_fingerprint(original.text) == (
        translation.translates_hash
    )
    return TranslationState(original, current)


# ---------------------------------------------------------------------------
# Checking and storing a resident's addition
# ---------------------------------------------------------------------------


def _text(problems: list[Problem], value: str | None, where: str, label: str, limit: int,
          required: bool) -> str | None:  # fmt: skip
    if value is None:
        if required:
            problems.append(
                Problem(where, "required", f"the {label} is required", {"label": label})
            )
        return None
    try:
        text = check_text(value, label, max_length=limit, required=required)
    except InvalidInput as exc:
        params = {"label": label, "limit": limit, "length": len(value.strip())}
        problems.append(Problem(where, exc.code, exc.message, params))
        return None
    return text or None


def _plain(problems: list[Problem], text: str | None) -> None:
    if text is not None and _MARKUP.search(text):
        problems.append(
            Problem(
                "text",
                "markup",
                "write plain text, without HTML or other markup (such as <b> or <a href>)",
            )
        )


def prepare_addition(
    store: PlaceStore, place: Place, given: NarrativeAdditionIn, *, now: datetime | None = None
) -> NarrativeAddition:
    """Check a resident's addition to ``place`` (a public place); raise InvalidInput
    listing every problem. Nothing is stored."""
    now = now or utcnow()
    problems: list[Problem] = []
    kind = NarrativeKind(given.kind)
    text = _text(problems, given.text, "text", "story", MAX_TEXT, required=True)
    _plain(problems, text)
    language = None
    try:
        language = check_language(given.language)
    except InvalidInput as exc:
        problems.append(Problem("language", exc.code, exc.message, {"tag": given.language}))
    author = _text(problems, given.author, "author", "display name", MAX_AUTHOR, required=False)
    contact = _text(problems, given.contact, "contact", "contact", MAX_CONTACT, required=False)
    if not given.consent:
        problems.append(
            Problem(
                "consent",
                "addition_consent_required",
                "tick the box to agree that what you add is shown with the place and in its "
                "open-data downloads; without it we cannot accept it",
            )
        )
    translates = translates_hash = None
    provenance = Provenance.ORIGINAL
    if kind == NarrativeKind.TRANSLATION:
        provenance = Provenance(given.provenance or Provenance.COMMUNITY_TRANSLATION)
        original = find_story(place.narratives, given.translates or "")
        if original is None:
            problems.append(
                Problem(
                    "translates",
                    "unknown_story",
                    "choose which of the place's stories you translated",
                )
            )
        else:
            translates, translates_hash = narrative_ref(original), text_fingerprint(original.text)
            if language is not None and language.lower() == original.language.lower():
                problems.append(
                    Problem(
                        "language",
                        "same_language",
                        f"the story is already in {language}; translate it into another language",
                        {"tag": language},
                    )
                )
    elif given.translates is not None or given.provenance is not None:
        problems.append(
            Problem(
                "translates",
                "not_a_translation",
                "a memory translates nothing: leave out 'translates' and 'provenance'",
            )
        )
    if problems:
        more = len(problems) - 1
        detail = problems[0].message + (
            f" (and {more} more problem{'s' * (more > 1)})" if more else ""
        )
        raise InvalidInput(detail, problems=problems)
    assert text is not None and language is not None  # the problems above saw to it
    return NarrativeAddition(
        place_id=place.id,
        kind=kind,
        text=text,
        language=language,
        provenance=provenance,
        consent_given_at=now,
        author=author,
        contributor_contact=contact,
        translates=translates,
        translates_hash=translates_hash,
        translates_version=place.version if translates else None,
        status=Status.PUBLISHED if shows_at_once(store, place.workshop, now) else Status.PENDING,
        created_at=now,
        updated_at=now,
    )


def save_addition(store: PlaceStore, addition: NarrativeAddition) -> NarrativeAddition:
    """Store a checked addition (public at once if it is published) and record it;
    TooManyAdditions when the place holds as many as it may."""
    with store.transaction():
        store.lock_place(addition.place_id)
        held = store.count_narrative_additions(place_id=addition.place_id)
        rejected = store.count_narrative_additions(
            place_id=addition.place_id, status=Status.REJECTED
        )
        if held - rejected >= MAX_PER_PLACE:
            raise TooManyAdditions(
                f"this place already holds {MAX_PER_PLACE} memories and translations; it "
                "cannot take more",
                problems=[
                    Problem(
                        "text",
                        "too_many_additions",
                        "this place cannot take more memories and translations",
                    )
                ],
            )
        store.add_narrative_addition(addition)
        if addition.status == Status.PUBLISHED:
            sync_narratives(store, addition.place_id)
        _record(store, "narrative_add", RESIDENT, addition)
    return addition


# ---------------------------------------------------------------------------
# The place's narratives: its own story and the additions that are public
# ---------------------------------------------------------------------------


def with_additions(
    store: PlaceStore, place_id: str, narratives: Sequence[Narrative]
) -> list[Narrative]:
    """The place's own stories of ``narratives`` followed by its published additions,
    oldest first (call inside a transaction that holds the place)."""
    own = [n for n in narratives if not n.added]
    public = store.narrative_additions(place_id=place_id, status=Status.PUBLISHED)
    return own + [a.narrative() for a in public]


def keep_additions(before: Sequence[Narrative], edited: Sequence[Narrative]) -> list[Narrative]:
    """An edit of the place's story changes its own stories only: the additions of
    ``before`` stay, after the edited ones."""
    return [n for n in edited if not n.added] + [n for n in before if n.added]


def sync_narratives(store: PlaceStore, place_id: str) -> Place:
    """Bring the place's narratives in line with its published additions (saving it, with a
    new version, only if they changed)."""
    with store.transaction():
        store.lock_place(place_id)
        place = store.get(place_id)
        narratives = with_additions(store, place_id, place.narratives)
        if narratives == place.narratives:
            return place
        return store.update(replace(place, narratives=narratives))


# ---------------------------------------------------------------------------
# Moderation
# ---------------------------------------------------------------------------


def snapshot(addition: NarrativeAddition) -> dict[str, Any]:
    """An addition as the audit trail keeps it: no contact, only whether a name was given."""
    return {
        "narrative": {
            "id": addition.id,
            "kind": str(addition.kind),
            "text": addition.text,
            "language": addition.language,
            "provenance": str(addition.provenance),
            "translates": addition.translates,
            "translates_hash": addition.translates_hash,
            "status": str(addition.status),
            "author": addition.author is not None,
        }
    }


def _record(
    store: PlaceStore,
    action: str,
    actor: Actor,
    addition: NarrativeAddition,
    before: NarrativeAddition | None = None,
    detail: str | None = None,
) -> None:
    store.add_audit(
        AuditEvent(
            action=action,
            actor=actor.name,
            actor_id=actor.account_id,
            place_id=addition.place_id,
            before=snapshot(before) if before is not None else None,
            after=snapshot(addition),
            detail=detail,
        )
    )


def publish(store: PlaceStore, addition_id: str, actor: Actor) -> NarrativeAddition:
    """Make an addition public; publishing a published one is a no-op."""
    with store.transaction():
        before = store.narrative_addition(addition_id)
        store.lock_place(before.place_id)
        if before.status == Status.PUBLISHED:
            return before
        after = store.update_narrative_addition(
            replace(before, status=Status.PUBLISHED, reason=None, updated_at=utcnow())
        )
        sync_narratives(store, after.place_id)
        _record(store, "narrative_publish", actor, after, before)
    return after


def reject(
    store: PlaceStore, addition_id: str, actor: Actor, reason: str | None
) -> NarrativeAddition:
    """Keep an addition off the place (reject a pending one, hide a published one), with a
    reason for the record."""
    text = moderation.check_reason(reason)
    with store.transaction():
        before = store.narrative_addition(addition_id)
        store.lock_place(before.place_id)
        action = "narrative_hide" if before.status == Status.PUBLISHED else "narrative_reject"
        after = store.update_narrative_addition(
            replace(before, status=Status.REJECTED, reason=text, updated_at=utcnow())
        )
        sync_narratives(store, after.place_id)
        _record(store, action, actor, after, before, detail=text)
    return after


@dataclass(frozen=True)
class ReviewItem:
    """An addition as a moderator sees it, with the place it belongs to."""

    addition: NarrativeAddition
    place: Place
    translation: TranslationState | None


def review_queue(
    store: PlaceStore, status: Status | str, *, limit: int = 50, offset: int = 0
) -> tuple[list[ReviewItem], int]:
    """Additions with ``status``, oldest first, each with its place, and how many in all."""
    additions = store.narrative_additions(status=status, limit=limit, offset=offset)
    places: dict[str, Place] = {}
    items = []
    for a in additions:
        place = places.get(a.place_id) or store.get(a.place_id)
        places[a.place_id] = place
        items.append(ReviewItem(a, place, translation_state(place.narratives, a)))
    return items, store.count_narrative_additions(status=status)


def erase_by_contact(store: PlaceStore, contact: str, erased_places: Sequence[str]) -> int:
    """Inside an erasure's transaction: remove every addition sent with ``contact`` and
    their audit events, taking them off their places; return how many went."""
    ids = store.narrative_addition_ids_by_contact(contact)
    if not ids:
        return 0
    place_ids = {store.narrative_addition(i).place_id for i in ids} - set(erased_places)
    removed = store.delete_narrative_additions(ids)
    for place_id in sorted(place_ids):
        sync_narratives(store, place_id)
    return removed


def place_review(store: PlaceStore, place: Place) -> list[ReviewItem]:
    """Every addition to ``place`` (any status), oldest first, as a moderator sees it."""
    return [
        ReviewItem(a, place, translation_state(place.narratives, a))
        for a in store.narrative_additions(place_id=place.id, limit=MAX_PER_PLACE * 4)
    ]
