"""A moderator decides a conflict a push left on the central atlas: keep what the atlas
has, or apply the venue's change over it (planned and checked as any pushed change is, by
:func:`geodata.sync_receive.plan`). The venue's version never brings back a place its
contributor withdrew or that was erased."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from geodata.errors import Conflict, HeritageError, InvalidInput, NotFound
from geodata.models import Status, utcnow
from geodata.store.base import PlaceStore
from geodata.store.base_sync import SyncConflict
from geodata.sync_places import Clash, Receiving, place_state_now
from geodata.sync_receive import plan
from geodata.sync_schema import ChangeIn
from geodata.sync_state import addition_state, recording_state

# ---------------------------------------------------------------------------


class CannotTakeVenue(Conflict):
    code = "cannot_take_venue"


def resolve(r: Receiving, conflict_id: str, keep: str) -> SyncConflict:
    """Close a conflict: ``central`` keeps what is here; ``venue`` applies the venue's
    change over it (a change of a place, memory, translation or recording that still
    exists here). Raise CannotTakeVenue when the venue's version has nothing to apply to."""
    store = r.store
    conflict = store.sync_conflict(conflict_id)
    if conflict.status != "open":
        raise Conflict(f"conflict {conflict.id} was decided already ({conflict.resolution})")
    if keep not in ("central", "venue"):
        raise InvalidInput("keep 'central' (what this atlas has) or 'venue' (what was sent)")
    with store.transaction():
        if keep == "venue":
            _take_venue(r, conflict)
        decided = replace(
            conflict,
            status="resolved",
            resolution=f"kept_{keep}" if keep == "central" else "took_venue",
            resolved_by=r.actor.name,
            resolved_at=utcnow(),
        )
        store.resolve_sync_conflict(decided)
    for step in r.after_commit:
        step()
    r.after_commit.clear()
    return decided


def _take_venue(r: Receiving, conflict: SyncConflict) -> None:
    venue = conflict.venue
    if conflict.kind not in ("place", "narrative", "recording") or venue.get("base") is None:
        raise CannotTakeVenue(
            "the venue's version cannot be applied: it adds something this atlas refused or "
            "no longer has a place for; keep this atlas's version"
        )
    ch = ChangeIn.model_validate(venue)
    if ch.kind == "place" and _withdrawn(r.store, ch.record):
        raise CannotTakeVenue(
            f"place {ch.record} was withdrawn by its contributor: the venue's version cannot "
            "bring it back; keep this atlas's version"
        )
    current_state = _current_state(r.store, ch)
    if current_state is None:
        raise CannotTakeVenue(
            f"{ch.record} no longer exists on this atlas: the venue's version has nothing to "
            "apply to; keep this atlas's version"
        )
    try:
        write = plan(r, replace_base(ch, current_state))
    except (Clash, HeritageError) as exc:
        raise CannotTakeVenue(f"the venue's version cannot be applied: {exc}") from None
    write()


def _withdrawn(store: PlaceStore, place_id: str) -> bool:
    try:
        return store.get(place_id).status == Status.WITHDRAWN
    except NotFound:
        return False


def replace_base(ch: ChangeIn, base: dict[str, Any]) -> ChangeIn:
    return ch.model_copy(update={"base": base})


def _current_state(store: PlaceStore, ch: ChangeIn) -> dict[str, Any] | None:
    fields = tuple(ch.base or {})
    try:
        if ch.kind == "place":
            return place_state_now(store, ch.record, fields)
        if ch.kind == "narrative":
            return addition_state(store.narrative_addition(ch.record))
        return recording_state(store.get_recording(ch.record))
    except NotFound:
        return None


def atlas_now(store: PlaceStore, conflict: SyncConflict) -> dict[str, Any] | None:
    """What the atlas holds now of the fields a conflict's change touches (None when the
    change adds something new, or its record is gone), for a moderator to compare."""
    venue = conflict.venue
    if conflict.kind not in ("place", "narrative", "recording") or venue.get("base") is None:
        return None
    return _current_state(store, ChangeIn.model_validate(venue))


def venue_applicable(store: PlaceStore, conflict: SyncConflict) -> bool:
    """Whether a moderator may apply the venue's version of this conflict."""
    if conflict.status != "open" or atlas_now(store, conflict) is None:
        return False
    return not (conflict.kind == "place" and _withdrawn(store, conflict.record_id))
