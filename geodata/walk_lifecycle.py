"""A walk's life, the same as a place's: a resident proposes it (and gets a private edit
link), a facilitator publishes, rejects or hides it with a reason, or asks for changes;
the proposer can revise it or withdraw it, and erasure removes it for good. Every step
lands in the audit trail.

Audit events name the walk by its id (``wk_...``) where a place's name their place; the
snapshots hold no personal data (only whether a name or contact was given).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from geodata.account_records import AuditEvent
from geodata.audit import Actor, Change
from geodata.edit_tokens import new_edit_token, require_token
from geodata.errors import Conflict, HeritageError
from geodata.models import Status
from geodata.moderation import check_reason
from geodata.store.base import PlaceStore
from geodata.walk_voices import remove_walk_recordings
from geodata.walks import Walk

RESIDENT = Actor("resident (edit link)")


class WithdrawnWalk(HeritageError):
    code = "withdrawn"
    status = 409


class WalkNotPending(HeritageError):
    code = "walk_not_pending"
    status = 409


def snapshot(walk: Walk) -> dict[str, Any]:
    """A walk's content as JSON-ready values, without personal data."""
    return {
        "titles": [n.to_json() for n in walk.titles],
        "introductions": [n.to_json() for n in walk.introductions],
        "stops": [
            {"place_id": s.place_id, "chapters": [n.to_json() for n in s.chapters]}
            for s in walk.stops
        ],
        "route": mapping(walk.route) if walk.route is not None else None,
        "editorial": walk.editorial,
        "licence": walk.licence,
        "consent": {"open_data": walk.consent.open_data, "research": walk.consent.research},
        "status": str(walk.status),
        "version": walk.version,
        "contributor": {
            "name": walk.contributor_name is not None,
            "contact": walk.contributor_contact is not None,
            "display_name": walk.display_name is not None,
        },
    }


def record(
    store: PlaceStore,
    action: str,
    actor: Actor,
    *,
    before: Walk | None = None,
    after: Walk | None = None,
    detail: str | None = None,
) -> AuditEvent:
    walk = after or before
    assert walk is not None
    return store.add_audit(
        AuditEvent(
            action=action,
            actor=actor.name,
            actor_id=actor.account_id,
            place_id=walk.id,
            version=after.version if after is not None else None,
            before=snapshot(before) if before is not None else None,
            after=snapshot(after) if after is not None else None,
            detail=detail,
        )
    )


@dataclass
class WalkReceipt:
    walk: Walk
    edit_token: str  # shown once; only its hash is kept


def save_walk(store: PlaceStore, walk: Walk, actor: Actor = RESIDENT) -> WalkReceipt:
    """Store a checked walk with its edit-token hash, and record it, in one transaction."""
    token, token_hash = new_edit_token()
    with store.transaction():
        store.add_walk(walk, token_hash)
        record(store, "walk_create", actor, after=walk)
    return WalkReceipt(walk, token)


def check_walk_token(store: PlaceStore, walk_id: str, token: str | None) -> Walk:
    """The walk, if ``token`` is its edit token; NotFound, EditTokenRequired or
    WrongEditToken otherwise."""
    walk = store.get_walk(walk_id)
    require_token(store.walk_edit_token_hash(walk_id), token, "walk", "proposed")
    return walk


def _live(store: PlaceStore, walk_id: str, expected_version: int | None) -> Walk:
    walk = store.get_walk(walk_id)
    if walk.status == Status.WITHDRAWN:
        raise WithdrawnWalk(f"walk {walk_id} was withdrawn by its proposer")
    if expected_version is not None and walk.version != expected_version:
        raise Conflict(
            f"walk {walk_id} changed since you read it (now version {walk.version}, you had "
            f"{expected_version}); reload it"
        )
    return walk


def publish(
    store: PlaceStore, walk_id: str, actor: Actor, expected_version: int | None = None
) -> Walk:
    """Make a pending (or rejected) walk public; publishing a published walk is a no-op."""
    with store.transaction():
        before = _live(store, walk_id, expected_version)
        if before.status == Status.PUBLISHED:
            return before
        after = store.update_walk(replace(before, status=Status.PUBLISHED))
        record(store, "walk_publish", actor, before=before, after=after)
    return after


def reject(
    store: PlaceStore,
    walk_id: str,
    actor: Actor,
    reason: str | None,
    expected_version: int | None = None,
) -> Walk:
    """Keep a walk off (or take it off) the public pages, with a reason for its proposer."""
    text = check_reason(reason)
    with store.transaction():
        before = _live(store, walk_id, expected_version)
        action = "walk_hide" if before.status == Status.PUBLISHED else "walk_reject"
        after = store.update_walk(replace(before, status=Status.REJECTED))
        record(store, action, actor, before=before, after=after, detail=text)
    return after


def request_changes(
    store: PlaceStore,
    walk_id: str,
    actor: Actor,
    message: str | None,
    expected_version: int | None = None,
) -> Walk:
    """Ask the proposer of a pending walk to change it: it stays pending (unpublished) and
    they read ``message`` through their private link until they revise it."""
    text = check_reason(message)
    with store.transaction():
        walk = _live(store, walk_id, expected_version)
        if walk.status != Status.PENDING:
            raise WalkNotPending(
                f"only a pending walk can be sent back for changes; walk {walk_id} is {walk.status}"
            )
        record(store, "walk_changes_requested", actor, before=walk, after=walk, detail=text)
    return walk


def revise(store: PlaceStore, walk: Walk, proposal: Walk) -> Walk:
    """The proposer's corrected walk (checked like a new one, see
    :func:`geodata.walk_checks.prepare_walk`) replaces ``walk``, keeping its id, edit link
    and date. Changed content waits for a moderator again; a change of consent alone
    (open data, research) does not."""
    if walk.status == Status.WITHDRAWN:
        raise WithdrawnWalk(f"walk {walk.id} was withdrawn and can no longer be changed")
    consent = walk.consent
    if (proposal.consent.open_data, proposal.consent.research) != (
        consent.open_data,
        consent.research,
    ):
        consent = proposal.consent
    revised = replace(
        walk,
        titles=proposal.titles,
        introductions=proposal.introductions,
        stops=proposal.stops,
        route=proposal.route,
        licence=proposal.licence,
        consent=consent,
        contributor_name=proposal.contributor_name,
        contributor_contact=proposal.contributor_contact,
        display_name=proposal.display_name,
    )
    before_content = {k: v for k, v in snapshot(walk).items() if k not in _NOT_CONTENT}
    after_content = {k: v for k, v in snapshot(revised).items() if k not in _NOT_CONTENT}
    personal = (walk.contributor_name, walk.contributor_contact, walk.display_name)
    if before_content != after_content:
        action = "walk_edit"
        revised = replace(revised, status=Status.PENDING)
    elif consent is not walk.consent:
        action = "walk_consent"
    elif personal != (revised.contributor_name, revised.contributor_contact, revised.display_name):
        action = "walk_edit"  # only who to contact changed: nothing the public sees
    else:
        return walk  # nothing changed
    with store.transaction():
        after = store.update_walk(revised, expected_version=walk.version)
        record(store, action, RESIDENT, before=walk, after=after)
    return after


# What a revision may change without the walk going back to the moderators.
_NOT_CONTENT = ("status", "version", "contributor", "consent")


def withdraw(store: PlaceStore, walk: Walk, media_dir: str | Path) -> Walk:
    """The proposer takes the walk off every page and output at once; their personal data
    and the recordings of its stops go, the record stays (withdrawn) so its id keeps
    answering."""
    if walk.status == Status.WITHDRAWN:
        remove_walk_recordings(store, media_dir, walk.id)  # any a failed withdrawal left
        return walk
    before = replace(walk)
    gone = replace(
        walk,
        status=Status.WITHDRAWN,
        contributor_name=None,
        contributor_contact=None,
        display_name=None,
    )
    with store.transaction():
        after = store.update_walk(gone)
        record(store, "walk_withdraw", RESIDENT, before=before, after=after)
    remove_walk_recordings(store, media_dir, walk.id)
    return after


def rejection_reason(store: PlaceStore, walk: Walk) -> str | None:
    """Why a moderator rejected or hid the walk; None if it is not rejected now."""
    if walk.status != Status.REJECTED:
        return None
    for e in reversed(store.audit_events(place_id=walk.id, limit=50)):
        if e.action in ("walk_reject", "walk_hide"):
            return e.detail
    return None


@dataclass(frozen=True)
class ModeratorNote:
    """What the moderators told the proposer and still stands."""

    kind: str  # "rejected", "hidden" or "changes_requested"
    text: str | None
    at: datetime


_NOTES = {
    "walk_reject": "rejected",
    "walk_hide": "hidden",
    "walk_changes_requested": "changes_requested",
}


def moderator_note(store: PlaceStore, walk: Walk) -> ModeratorNote | None:
    """Why a rejected walk was rejected (or hidden), or the changes asked of a pending
    walk since its proposer last revised it; None otherwise."""
    if walk.status not in (Status.REJECTED, Status.PENDING):
        return None
    for e in reversed(store.audit_events(place_id=walk.id, limit=50)):
        kind = _NOTES.get(e.action)
        if kind is not None:
            if (kind == "changes_requested") == (walk.status == Status.PENDING):
                return ModeratorNote(kind, e.detail, e.at)
            return None
        if e.action in ("walk_edit", "walk_create", "walk_publish"):
            return None
    return None


# The fields of a walk's snapshot its history names when they change.
HISTORY_FIELDS = ("titles", "introductions", "stops", "route", "licence", "consent", "status")


def history(store: PlaceStore, walk_id: str) -> list[Change]:
    """A walk's changes, oldest first, each with the fields it changed."""
    out = []
    for e in store.audit_events(place_id=walk_id):
        changed = [
            f
            for f in HISTORY_FIELDS
            if e.before is not None and e.after is not None and e.before.get(f) != e.after.get(f)
        ]
        out.append(Change(e, changed))
    return out


def erase_walks_by_contact(store: PlaceStore, contact: str) -> tuple[int, int]:
    """Inside an erasure's transaction: delete every walk proposed with ``contact``, its
    stops' recordings' records and its audit history; (walks, audit records) removed.
    The recordings' files are the caller's to remove after the commit."""
    ids = store.walk_ids_by_contact(contact)
    events = store.delete_audit_events(ids)
    for walk_id in ids:
        store.delete_walk(walk_id)
    return len(ids), events
