"""On the central atlas: checking and applying the memories and translations a venue
pushed (new ones, and their moderation at the venue), as :mod:`geodata.sync_places` does
for places: planned first, written only if the atlas's own record still stands as the
venue last had it, a conflict otherwise. A new one goes through the checks of any
resident's addition (:func:`geodata.narrative_additions.prepare_addition`)."""

from __future__ import annotations

from dataclasses import replace

from geodata import narrative_additions
from geodata.errors import InvalidInput, NotFound
from geodata.models import Status
from geodata.moderation import check_reason
from geodata.narrative_additions import MAX_PER_PLACE, TooManyAdditions
from geodata.schemas import NarrativeAdditionIn
from geodata.sync_places import RESIDENT_AT_VENUE, Clash, Receiving, Write, parse, parse_time
from geodata.sync_schema import AdditionState, ChangeIn, NewAdditionExtra
from geodata.sync_state import addition_state


def plan_addition(r: Receiving, ch: ChangeIn) -> Write:
    store = r.store
    state = parse(AdditionState, ch.state)
    if state.status == Status.REJECTED:
        reason: str | None = check_reason(state.reason)
    elif state.status in (Status.PUBLISHED, Status.PENDING):
        reason = None
    else:
        raise InvalidInput(f"a memory or translation is not {state.status}")
    if ch.base is not None:
        try:
            current = store.narrative_addition(ch.record)
        except NotFound:
            raise Clash(
                "erased_centrally", f"{ch.record} was erased on this atlas meanwhile"
            ) from None
        now = addition_state(current)
        if now == ch.state:
            return lambda: None
        if now != ch.base:
            raise Clash(
                "edited_centrally",
                f"{ch.record} was moderated on this atlas too (now {now['status']})",
                current.place_id,
            )
        if state.status == Status.PENDING:
            raise InvalidInput("a memory or translation cannot go back to waiting for moderation")

        def moderate() -> None:
            if state.status == Status.PUBLISHED:
                narrative_additions.publish(store, ch.record, r.venue_actor)
            else:
                narrative_additions.reject(store, ch.record, r.venue_actor, reason)

        return moderate
    e = parse(NewAdditionExtra, ch.extra)
    try:
        place = store.get(e.place_id)
    except NotFound:
        raise Clash(
            "erased_centrally",
            f"place {e.place_id} was erased on this atlas; a {e.kind} was added to it at the "
            "venue meanwhile",
            e.place_id,
        ) from None
    if place.status == Status.WITHDRAWN:
        raise Clash(
            "withdrawn_centrally",
            f"place {e.place_id} was withdrawn on this atlas; a {e.kind} was added to it at "
            "the venue meanwhile",
            e.place_id,
        )
    try:
        store.narrative_addition(ch.record)
    except NotFound:
        pass
    else:
        raise InvalidInput(f"there is already a memory or translation {ch.record} here")
    translation = e.kind == "translation"
    given = NarrativeAdditionIn(
        kind=e.kind,
        text=e.text,
        language=e.language,
        translates=e.translates if translation else None,
        provenance=str(e.provenance) if translation else None,  # type: ignore[arg-type]
        author=e.author,
        contact=e.contact,
        consent=True,
    )
    checked = narrative_additions.prepare_addition(store, place, given)
    held = store.count_narrative_additions(place_id=place.id)
    if held - store.count_narrative_additions(place_id=place.id, status="rejected") >= (
        MAX_PER_PLACE
    ):
        raise TooManyAdditions(f"place {place.id} already holds {MAX_PER_PLACE} additions")
    addition = replace(
        checked,
        id=ch.record,
        status=state.status,
        reason=reason,
        # made from the story as the venue read it: shown out of date if it changed here
        translates_hash=e.translates_hash if translation else None,
        consent_given_at=parse_time(e.consent_given_at, "consent_given_at"),
        created_at=parse_time(e.created_at, "created_at"),
    )

    def write() -> None:
        store.add_narrative_addition(addition)
        if addition.status == Status.PUBLISHED:
            narrative_additions.sync_narratives(store, addition.place_id)
        narrative_additions.record_event(store, "narrative_add", RESIDENT_AT_VENUE, addition)
        if addition.status != Status.PENDING:
            action = f"narrative_{'publish' if addition.status == Status.PUBLISHED else 'reject'}"
            narrative_additions.record_event(store, action, r.venue_actor, addition, detail=reason)

    return write
