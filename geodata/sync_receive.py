"""On the central atlas: receiving what a venue laptop pushes, exactly once.

A batch of changes is applied in one transaction, change by change: a change whose
submission id was received before is answered as it was (``already``) and applied no
more; any other is planned (:mod:`geodata.sync_places` for places, memories and
translations; here for recording details and removals), then written, and its receipt
stored in the same transaction. A change that cannot be applied — the atlas changed or
erased the record meanwhile, or it breaks a rule — is kept as a conflict for a moderator
(:func:`resolve`), never dropped and never written over what is here. Photos and
recordings come one file at a time (:func:`receive_file`), kept under the id they have at
the venue, so one that arrived before its receipt (a crash in between) is not stored twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

from geodata import narrative_additions
from geodata.audio import AudioLimits
from geodata.errors import HeritageError, InvalidInput, NotFound
from geodata.media import PhotoLimits, add_photo, remove_files
from geodata.models import Status
from geodata.store.base_sync import SyncConflict, SyncReceipt
from geodata.sync_additions import plan_addition
from geodata.sync_places import (
    Clash,
    Receiving,
    Write,
    parse,
    plan_place,
)
from geodata.sync_schema import BatchIn, ChangeIn, DeletionExtra, FileChangeIn, RecordRef
from geodata.sync_state import recording_state
from geodata.text import check_text
from geodata.voices import add_recording, check_details, remove_recording_files

MAX_CAPTION = 300


@dataclass(frozen=True)
class Answer:
    """What became of one change: ``stored``, ``already`` (received before) or
    ``conflict`` (kept for a moderator; ``conflict`` names it)."""

    id: str
    record: str
    outcome: str
    conflict: SyncConflict | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "record": self.record, "outcome": self.outcome}
        if self.conflict is not None:
            c = self.conflict
            out["conflict"] = {"id": c.id, "reason": c.reason, "detail": c.detail}
        return out


def _contact(venue: dict[str, Any]) -> str | None:
    """The contributor contact a kept change holds, so an erasure finds it."""
    state = venue.get("state") or {}
    contact = (state.get("contributor") or {}).get("contact") or (venue.get("extra") or {}).get(
        "contact"
    )
    return contact if isinstance(contact, str) else None


def _receipt(r: Receiving, sid: str, kind: str, record: str, outcome: str, made: bool) -> None:
    r.store.add_sync_receipt(
        SyncReceipt(sid, r.kit_id, kind, record, outcome, made, r.actor.account_id)
    )


def _keep(
    r: Receiving,
    sid: str,
    kind: str,
    record: str,
    venue: dict[str, Any],
    reason: str,
    detail: str,
    place_id: str | None,
) -> Answer:
    conflict = r.store.add_sync_conflict(
        SyncConflict(
            submission_id=sid,
            kit_id=r.kit_id,
            kind=kind,
            record_id=record,
            reason=reason,
            venue=venue,
            place_id=place_id,
            detail=detail,
            contributor_contact=_contact(venue),
        )
    )
    _receipt(r, sid, kind, record, "conflict", False)
    return Answer(sid, record, "conflict", conflict)


def _prior(r: Receiving, sid: str, record: str) -> Answer | None:
    prior = r.store.sync_receipt(sid)
    if prior is None:
        return None
    conflict = None
    if prior.outcome == "conflict":
        try:
            conflict = r.store.sync_conflict(sid)
        except NotFound:
            conflict = None
    return Answer(sid, record, "already", conflict)


def plan(r: Receiving, ch: ChangeIn) -> Write:
    if ch.kind == "place":
        return plan_place(r, ch)
    if ch.kind == "narrative":
        return plan_addition(r, ch)
    if ch.kind == "recording":
        return _plan_recording(r, ch)
    return _plan_deletion(r, ch)


def receive_change(r: Receiving, ch: ChangeIn) -> Answer:
    """Apply one change (inside the batch's transaction), or keep it as a conflict."""
    if (prior := _prior(r, ch.id, ch.record)) is not None:
        return prior
    try:
        write = plan(r, ch)
    except Clash as clash:
        return _keep(
            r,
            ch.id,
            ch.kind,
            ch.record,
            ch.model_dump(),
            clash.reason,
            clash.detail,
            clash.place_id,
        )
    except HeritageError as exc:
        place = ch.record if ch.kind == "place" else (ch.extra or {}).get("place_id")
        return _keep(
            r,
            ch.id,
            ch.kind,
            ch.record,
            ch.model_dump(),
            "refused",
            exc.message,
            place if isinstance(place, str) else None,
        )
    write()
    _receipt(r, ch.id, ch.kind, ch.record, "stored", ch.base is None and ch.kind != "deletion")
    return Answer(ch.id, ch.record, "stored")


def receive_batch(r: Receiving, batch: BatchIn) -> list[Answer]:
    """Apply a batch: every change and its receipt, in one transaction (all of them land
    or, on a failure of the store, none); files of removed photos go after it commits."""
    with r.store.transaction():
        answers = [receive_change(r, ch) for ch in batch.changes]
    for step in r.after_commit:
        step()
    r.after_commit.clear()
    return answers


# ---------------------------------------------------------------------------
# Recording details and removals
# ---------------------------------------------------------------------------


def _plan_recording(r: Receiving, ch: ChangeIn) -> Write:
    if ch.base is None or ch.state is None:
        raise InvalidInput("a new recording comes as a file, not as a change")
    try:
        current = r.store.get_recording(ch.record)
    except NotFound:
        raise Clash("erased_centrally", f"recording {ch.record} was removed meanwhile") from None
    now = recording_state(current)
    if now == ch.state:
        return lambda: None
    if now != ch.base:
        raise Clash(
            "edited_centrally",
            f"recording {ch.record} was changed on this atlas too",
            current.place_id,
        )
    s = ch.state
    details = check_details(
        s.get("scope"), s.get("title"), s.get("transcript"), s.get("transcript_language")
    )
    changed = replace(
        current,
        scope=details.scope,
        title=details.title,
        transcript=details.transcript,
        transcript_language=details.transcript_language,
    )

    def update() -> None:
        r.store.update_recording(changed)

    return update


def _plan_deletion(r: Receiving, ch: ChangeIn) -> Write:
    """A record the venue made and pushed, removed at the venue since (a photo taken off,
    a contact's contributions erased): removed here too, and only such a record."""
    of = parse(DeletionExtra, ch.extra).of
    store = r.store
    if not store.sync_received(ch.record, r.kit_id):
        raise InvalidInput(
            f"{ch.record} was not made by a push from this kit; a venue removes only what it added"
        )
    finders: dict[str, Callable[[str], Any]] = {
        "place": store.get,
        "narrative": store.narrative_addition,
        "photo": store.get_media,
        "recording": store.get_recording,
    }
    try:
        found = finders[of](ch.record)
    except NotFound:
        return lambda: None  # gone already
    if of == "place":
        photos = store.media(ch.record)
        voices = store.recordings(ch.record)

        def erase_place() -> None:
            store.delete_audit_events([ch.record])
            store.delete(ch.record)  # its memories, photos' and recordings' records go too
            r.after_commit.append(lambda: remove_files(r.media_dir, photos))
            r.after_commit.append(lambda: remove_recording_files(r.media_dir, voices))

        return erase_place
    if of == "narrative":

        def erase_addition() -> None:
            store.delete_narrative_additions([ch.record])
            narrative_additions.sync_narratives(store, found.place_id)

        return erase_addition
    if of == "photo":

        def remove_photo() -> None:
            store.delete_media(ch.record)
            r.after_commit.append(lambda: remove_files(r.media_dir, [found]))

        return remove_photo

    def remove_recording() -> None:
        store.delete_recording(ch.record)
        r.after_commit.append(lambda: remove_recording_files(r.media_dir, [found]))

    return remove_recording


# ---------------------------------------------------------------------------
# Files: a new photo or recording
# ---------------------------------------------------------------------------


def receive_file(
    r: Receiving,
    ch: FileChangeIn,
    source: BinaryIO,
    photo_limits: PhotoLimits,
    audio_limits: AudioLimits,
) -> Answer:
    """Store a photo or recording a venue added to a place, once; keep it as a conflict
    (without its file) if the place is gone or the file is refused."""
    store = r.store
    if (prior := _prior(r, ch.id, ch.record)) is not None:
        return prior
    venue = {"state": ch.model_dump(exclude={"kit", "id"})}
    try:
        place = store.get(ch.place_id)
    except NotFound:
        return _keep(
            r,
            ch.id,
            ch.kind,
            ch.record,
            venue,
            "erased_centrally",
            f"place {ch.place_id} was erased on this atlas; a {ch.kind} was added to "
            "it at the venue meanwhile (the file was not kept)",
            ch.place_id,
        )
    if place.status == Status.WITHDRAWN:
        return _keep(
            r,
            ch.id,
            ch.kind,
            ch.record,
            venue,
            "withdrawn_centrally",
            f"place {ch.place_id} was withdrawn on this atlas; a {ch.kind} was added "
            "to it at the venue meanwhile (the file was not kept)",
            ch.place_id,
        )
    finder = store.get_media if ch.kind == "photo" else store.get_recording
    try:
        finder(ch.record)
    except NotFound:
        try:
            if ch.kind == "photo":
                caption = None
                if ch.caption and ch.caption.strip():
                    caption = check_text(ch.caption, "caption", max_length=MAX_CAPTION)
                data = source.read(photo_limits.max_bytes + 1)
                add_photo(store, r.media_dir, place.id, data, caption, photo_limits, ch.record)
            else:
                details = check_details(ch.scope, ch.title, ch.transcript, ch.transcript_language)
                add_recording(
                    store,
                    r.media_dir,
                    place.id,
                    source,
                    details,
                    audio_limits,
                    recording_id=ch.record,
                )
        except HeritageError as exc:
            return _keep(r, ch.id, ch.kind, ch.record, venue, "refused", exc.message, place.id)
    # else: stored before its receipt was (a push cut short in between): keep that one
    _receipt(r, ch.id, ch.kind, ch.record, "stored", True)
    return Answer(ch.id, ch.record, "stored")


# ---------------------------------------------------------------------------
# Pull: how the records a laptop holds stand here
# ---------------------------------------------------------------------------


def record_states(r: Receiving, refs: list[RecordRef]) -> list[dict[str, str]]:
    """For each record: ``gone`` (erased here or never pushed), else its status (places,
    memories, translations), ``present`` (photos) or its consent scope (recordings)."""
    store = r.store
    out = []
    for ref in refs:
        try:
            if ref.kind == "place":
                state = str(store.get(ref.id).status)
            elif ref.kind == "narrative":
                state = str(store.narrative_addition(ref.id).status)
            elif ref.kind == "photo":
                store.get_media(ref.id)
                state = "present"
            else:
                state = str(store.get_recording(ref.id).scope)
        except NotFound:
            state = "gone"
        out.append({"kind": ref.kind, "id": ref.id, "state": state})
    return out
