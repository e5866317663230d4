"""On a venue laptop: what waits to be pushed to the central atlas.

Every record is compared with its entry in the sync ledger (:mod:`geodata.store.base_sync`):
a record with no entry was made at the venue and goes up whole; one whose revision
changed goes up as a change from the state both sides last agreed on (its base); a
record made at the venue and pushed, that is gone since (erased or removed at the venue),
goes up as a deletion. A revision that changed while the shared state did not (a place
whose only news is a published memory) needs no push, and its entry is simply brought up
to date (:attr:`Outbox.quiet`).

Changes come in the order the central atlas needs them: places, then memories and
translations, then photo and recording files, then recording details, then deletions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodata.audit import rejection_reason
from geodata.media import media_file
from geodata.models import NarrativeAddition, Place, Status
from geodata.store.base import PlaceStore
from geodata.store.base_sync import LedgerEntry
from geodata.store.records import iso
from geodata.sync_state import (
    PHOTO_REVISION,
    addition_revision,
    addition_state,
    place_fields,
    place_revision,
    place_state,
    recording_revision,
    recording_state,
    submission_id,
)

# Ledger outcomes after which a record no longer takes part.
SETTLED = ("gone", "deleted")
_ORDER = {"place": 0, "narrative": 1, "photo": 2, "recording": 3, "deletion": 5}


@dataclass(frozen=True)
class Change:
    """One change waiting to go up: ``base`` None for a record made at the venue; a
    ``file`` for a new photo or recording (sent on its own)."""

    id: str
    kind: str  # place, narrative, photo, recording, deletion
    record: str
    origin: str
    revision: str
    base: dict[str, Any] | None
    state: dict[str, Any] | None
    summary: str  # what a person reads in ``sync status``
    extra: dict[str, Any] = field(default_factory=dict)
    file: Path | None = None

    @property
    def is_file(self) -> bool:
        return self.file is not None

    @property
    def ledger_kind(self) -> str:
        return str(self.extra["of"]) if self.kind == "deletion" else self.kind

    def wire(self) -> dict[str, Any]:
        """The change as the sync API takes it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "record": self.record,
            "origin": self.origin,
            "base": self.base,
            "state": self.state,
            "extra": self.extra,
        }

    def order(self) -> tuple[int, int]:
        updates_after_files = self.kind == "recording" and not self.is_file
        return (4 if updates_after_files else _ORDER[self.kind], 0 if self.base is None else 1)


@dataclass
class Outbox:
    """What waits to be pushed, and ledger entries to bring up to date without a push."""

    changes: list[Change]
    quiet: list[LedgerEntry]

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


def _short(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change(
    kit_id: str,
    kind: str,
    record: str,
    origin: str,
    revision: str,
    base: dict[str, Any] | None,
    state: dict[str, Any] | None,
    summary: str,
    **more: Any,
) -> Change:
    return Change(
        submission_id(kit_id, kind, record, revision),
        kind,
        record,
        origin,
        revision,
        base,
        state,
        summary,
        **more,
    )


def _place_change(
    store: PlaceStore, kit_id: str, p: Place, entry: LedgerEntry | None, out: Outbox
) -> None:
    revision = place_revision(p)
    if entry is not None and (entry.outcome in SETTLED or entry.revision == revision):
        return
    origin = entry.origin if entry else "venue"
    reason = rejection_reason(store, p) if p.status == Status.REJECTED else None
    state = place_state(p, reason, place_fields(origin))
    if entry is None or entry.base is None:  # new, or offered again after a conflict
        extra = {"created_at": iso(p.created_at), "edit_token_hash": store.edit_token_hash(p.id)}
        out.changes.append(
            _change(kit_id, "place", p.id, origin, revision, None, state, p.title, extra=extra)
        )
    elif state == entry.base:
        out.quiet.append(
            LedgerEntry(
                entry.kind,
                entry.record_id,
                entry.origin,
                revision,
                entry.base,
                entry.outcome,
                entry.detail,
                entry.pushed_at,
            )
        )
    else:
        out.changes.append(
            _change(kit_id, "place", p.id, origin, revision, entry.base, state, p.title)
        )


def _addition_change(
    kit_id: str, a: NarrativeAddition, entry: LedgerEntry | None, out: Outbox
) -> None:
    revision = addition_revision(a)
    if entry is not None and (entry.outcome in SETTLED or entry.revision == revision):
        return
    state = addition_state(a)
    summary = f"{a.kind} ({a.language}): {_short(a.text)}"
    if entry is None or entry.base is None:
        extra = {
            "place_id": a.place_id,
            "kind": str(a.kind),
            "text": a.text,
            "language": a.language,
            "provenance": str(a.provenance),
            "author": a.author,
            "contact": a.contributor_contact,
            "translates": a.translates,
            "translates_hash": a.translates_hash,
            "consent_given_at": iso(a.consent_given_at),
            "created_at": iso(a.created_at),
        }
        out.changes.append(
            _change(kit_id, "narrative", a.id, "venue", revision, None, state, summary, extra=extra)
        )
    elif state != entry.base:
        out.changes.append(
            _change(kit_id, "narrative", a.id, entry.origin, revision, entry.base, state, summary)
        )


def _deletion(kit_id: str, entry: LedgerEntry, summary: str) -> Change:
    return _change(
        kit_id,
        "deletion",
        entry.record_id,
        entry.origin,
        "deleted",
        None,
        None,
        summary,
        extra={"of": entry.kind},
    )


def outbox(store: PlaceStore, kit_id: str, media_dir: str | Path) -> Outbox:
    """Everything that waits to be pushed from this laptop, in the order to push it."""
    ledger = store.sync_ledger()
    out = Outbox([], [])
    places = {p.id: p for p in store.list()}
    for p in places.values():
        _place_change(store, kit_id, p, ledger.get(("place", p.id)), out)
    additions = store.narrative_additions()
    for a in additions:
        _addition_change(kit_id, a, ledger.get(("narrative", a.id)), out)
    photos = {m.id: m for items in store.media_for_places(list(places)).values() for m in items}
    for m in photos.values():
        if ("photo", m.id) not in ledger:
            out.changes.append(
                _change(
                    kit_id,
                    "photo",
                    m.id,
                    "venue",
                    PHOTO_REVISION,
                    None,
                    {"caption": m.caption},
                    f"photo of {places[m.place_id].title}",
                    extra={"place_id": m.place_id},
                    file=media_file(media_dir, m.path),
                )
            )
    recordings = {
        r.id: r for items in store.recordings_for_places(list(places)).values() for r in items
    }
    for r in recordings.values():
        entry = ledger.get(("recording", r.id))
        revision = recording_revision(r)
        summary = f"recording of {places[r.place_id].title}"
        if entry is None:
            out.changes.append(
                _change(
                    kit_id,
                    "recording",
                    r.id,
                    "venue",
                    revision,
                    None,
                    recording_state(r),
                    summary,
                    extra={"place_id": r.place_id},
                    file=media_file(media_dir, r.path),
                )
            )
        elif entry.outcome not in SETTLED and entry.revision != revision:
            out.changes.append(
                _change(
                    kit_id,
                    "recording",
                    r.id,
                    entry.origin,
                    revision,
                    entry.base,
                    recording_state(r),
                    summary,
                )
            )
    present = {
        "place": places,
        "narrative": {a.id for a in additions},
        "photo": photos,
        "recording": recordings,
    }
    for (kind, record), entry in ledger.items():
        if entry.origin == "venue" and entry.outcome == "stored" and record not in present[kind]:
            out.changes.append(_deletion(kit_id, entry, f"{kind} {record} removed at the venue"))
    out.changes.sort(key=Change.order)
    return out


def settled(change: Change, outcome: str, detail: str | None, at: Any) -> LedgerEntry:
    """The ledger entry of a change the central atlas answered: stored (or stored
    before), or kept as a conflict there (then the base stays as it was)."""
    if change.kind == "deletion":
        return LedgerEntry(
            change.ledger_kind,
            change.record,
            change.origin,
            change.revision,
            None,
            "deleted" if outcome != "conflict" else "conflict",
            detail,
            at,
        )
    if outcome == "conflict":
        return LedgerEntry(
            change.kind,
            change.record,
            change.origin,
            change.revision,
            change.base,
            "conflict",
            detail,
            at,
        )
    return LedgerEntry(
        change.kind,
        change.record,
        change.origin,
        change.revision,
        change.state,
        "stored",
        None,
        at,
    )
