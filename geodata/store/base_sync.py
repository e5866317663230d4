"""The store's side of workshop kits and sync back (migration 0019_sync): the records
both backends keep, and the interface mixed into :class:`~geodata.store.base.PlaceStore`.

The central atlas keeps a :class:`SyncReceipt` for every change a venue laptop pushed
(found again by its submission id, so a change is applied once however often it comes)
and a :class:`SyncConflict` for each change it could not apply. A venue laptop keeps a
:class:`LedgerEntry` per record: what came in its kit and what it pushed since. The
backends are :mod:`geodata.store.sqlite_sync` and :mod:`geodata.store.postgis_sync`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geodata.models import utcnow

RECEIPT_COLUMNS = (
    "submission_id, kit_id, kind, record_id, outcome, made_here, account_id, received_at"
)
CONFLICT_COLUMNS = (
    "id, submission_id, kit_id, kind, record_id, place_id, reason, detail, venue, "
    "contributor_contact, status, resolution, resolved_by, created_at, resolved_at"
)
LEDGER_COLUMNS = "kind, record_id, origin, revision, base, outcome, detail, pushed_at"


def new_conflict_id() -> str:
    return "sc_" + secrets.token_urlsafe(9)


@dataclass(frozen=True)
class SyncReceipt:
    """A change the central atlas received from a venue, and what became of it."""

    submission_id: str
    kit_id: str
    kind: str  # place, narrative, photo, recording, deletion
    record_id: str
    outcome: str  # stored or conflict
    made_here: bool = False  # the change made the record on this atlas (a new record)
    account_id: str | None = None
    received_at: datetime = field(default_factory=utcnow)


@dataclass
class SyncConflict:
    """A pushed change the central atlas did not apply, kept for a moderator to decide.

    ``venue`` is what the venue sent (its base and its state: personal data included for
    a place made at the venue, hence ``contributor_contact`` for erasure)."""

    submission_id: str
    kit_id: str
    kind: str
    record_id: str
    reason: str  # edited_centrally, erased_centrally, withdrawn_centrally, refused
    venue: dict[str, Any]
    place_id: str | None = None
    detail: str | None = None
    contributor_contact: str | None = None
    status: str = "open"  # open or resolved
    resolution: str | None = None  # kept_central or took_venue
    resolved_by: str | None = None
    id: str = field(default_factory=new_conflict_id)
    created_at: datetime = field(default_factory=utcnow)
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """On a venue laptop: one record's standing against the central atlas.

    ``origin`` says whether it came in the kit or was made at the venue; ``revision`` is
    the local revision last pushed (or brought by the kit); ``base`` the shared fields as
    both sides last agreed, what the central atlas compares its own with before applying a
    change; ``outcome`` kit, stored, conflict or gone (erased centrally)."""

    kind: str
    record_id: str
    origin: str
    revision: str
    base: dict[str, Any] | None
    outcome: str
    detail: str | None = None
    pushed_at: datetime | None = None


def _same(value: Any) -> Any:
    return value


def conflict_from_row(
    r: Sequence[Any],
    parse_ts: Callable[[Any], Any] = _same,
    parse_json: Callable[[Any], Any] = _same,
) -> SyncConflict:
    """A conflict from the values of :data:`CONFLICT_COLUMNS`; ``parse_ts`` and
    ``parse_json`` read timestamps and JSON the backend's way (PostGIS hands them over
    already read; SQLite keeps text)."""
    return SyncConflict(
        id=r[0], submission_id=r[1], kit_id=r[2], kind=r[3], record_id=r[4], place_id=r[5],
        reason=r[6], detail=r[7], venue=parse_json(r[8]), contributor_contact=r[9],
        status=r[10], resolution=r[11], resolved_by=r[12], created_at=parse_ts(r[13]),
        resolved_at=parse_ts(r[14]) if r[14] is not None else None,
    )  # fmt: skip


def ledger_from_rows(
    rows: Sequence[Sequence[Any]],
    parse_ts: Callable[[Any], Any] = _same,
    parse_json: Callable[[Any], Any] = _same,
) -> dict[tuple[str, str], LedgerEntry]:
    """The ledger from rows of :data:`LEDGER_COLUMNS`, by (kind, record id)."""
    return {
        (r[0], r[1]): LedgerEntry(
            r[0],
            r[1],
            r[2],
            r[3],
            parse_json(r[4]) if r[4] is not None else None,
            r[5],
            r[6],
            parse_ts(r[7]) if r[7] is not None else None,
        )
        for r in rows
    }


class SyncStore:
    """What a store keeps for kits and sync. Not abstract, so a backend without it still
    works for everything else."""

    def _no_sync(self) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} does not keep sync records")

    # -- the central atlas ---------------------------------------------------
    def sync_receipt(self, submission_id: str) -> SyncReceipt | None:
        """The receipt of a pushed change, if it was received before."""
        raise self._no_sync()

    def add_sync_receipt(self, receipt: SyncReceipt) -> None:
        """Record a received change; Conflict if its submission id is taken."""
        raise self._no_sync()

    def count_sync_receipts(self, kit_id: str | None = None, kind: str | None = None) -> int:
        raise self._no_sync()

    def sync_received(self, record_id: str, kit_id: str) -> bool:
        """Whether a push from kit ``kit_id`` made the record ``record_id`` on this atlas."""
        raise self._no_sync()

    def add_sync_conflict(self, conflict: SyncConflict) -> SyncConflict:
        raise self._no_sync()

    def sync_conflict(self, conflict_id: str) -> SyncConflict:
        """The conflict with this id (or submission id); raise NotFound."""
        raise self._no_sync()

    def sync_conflicts(
        self, status: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[SyncConflict]:
        """Conflicts with ``status`` (any if None), oldest first."""
        raise self._no_sync()

    def count_sync_conflicts(self, status: str | None = None) -> int:
        raise self._no_sync()

    def resolve_sync_conflict(self, conflict: SyncConflict) -> SyncConflict:
        """Save a conflict's status, resolution, resolver and time; raise NotFound."""
        raise self._no_sync()

    def delete_sync_conflicts_by_contact(self, contact: str) -> int:
        """Remove the conflicts holding this contact (trimmed, any case): erasure."""
        raise self._no_sync()

    # -- a venue laptop --------------------------------------------------------
    def sync_ledger(self) -> dict[tuple[str, str], LedgerEntry]:
        """Every ledger entry, by (kind, record id)."""
        raise self._no_sync()

    def save_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        """Insert or replace these entries (one transaction)."""
        raise self._no_sync()
