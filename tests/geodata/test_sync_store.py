"""The store's sync records (migration 0019) behave alike on both backends: receipts found
by submission id and never taken twice, conflicts listed, decided and erased with their
contact, and a venue's ledger written over entry by entry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from geodata.audit import COMMAND_LINE
from geodata.erasure import erase_contact
from geodata.errors import Conflict, NotFound
from geodata.models import utcnow
from geodata.store.base import PlaceStore
from geodata.store.base_sync import LedgerEntry, SyncConflict, SyncReceipt

KIT = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def test_a_receipt_is_found_by_its_submission_id_and_never_taken_twice(store: PlaceStore):
    store.add_sync_receipt(SyncReceipt("s-1", KIT, "place", "pl_a", "stored", made_here=True))
    store.add_sync_receipt(SyncReceipt("s-2", KIT, "place", "pl_a", "stored"))
    store.add_sync_receipt(SyncReceipt("s-3", KIT, "narrative", "nr_b", "conflict"))
    with pytest.raises(Conflict):
        store.add_sync_receipt(SyncReceipt("s-1", KIT, "place", "pl_z", "stored"))
    got = store.sync_receipt("s-1")
    assert got is not None and (got.record_id, got.made_here, got.outcome) == (
        "pl_a",
        True,
        "stored",
    )
    assert store.sync_receipt("s-9") is None
    assert store.count_sync_receipts() == 3 and store.count_sync_receipts(KIT, "place") == 2
    assert store.count_sync_receipts("another kit") == 0
    assert store.sync_received("pl_a", KIT) and not store.sync_received("nr_b", KIT)
    assert not store.sync_received("pl_a", "another kit")


def test_conflicts_are_listed_decided_and_erased_with_their_contact(store: PlaceStore, tmp_path):
    venue = {"base": {"title": "A"}, "state": {"title": "B", "contributor": {"contact": "x"}}}
    first = store.add_sync_conflict(
        SyncConflict(
            "s-1",
            KIT,
            "place",
            "pl_a",
            "edited_centrally",
            venue,
            place_id="pl_a",
            detail="changed here too",
            contributor_contact="Rosa@Example.org",
        )
    )
    store.add_sync_conflict(
        SyncConflict(
            "s-2",
            KIT,
            "narrative",
            "nr_b",
            "erased_centrally",
            {"extra": {}},
            created_at=utcnow() + timedelta(seconds=1),
        )
    )
    assert [c.submission_id for c in store.sync_conflicts("open")] == ["s-1", "s-2"]
    assert store.sync_conflict(first.id).venue == venue
    assert store.sync_conflict("s-2").record_id == "nr_b"  # by submission id too
    with pytest.raises(NotFound):
        store.sync_conflict("sc_none")
    decided = store.sync_conflict(first.id)
    decided.status, decided.resolution, decided.resolved_by = "resolved", "kept_central", "ana"
    decided.resolved_at = utcnow()
    store.resolve_sync_conflict(decided)
    assert store.count_sync_conflicts("open") == 1 and store.count_sync_conflicts() == 2
    assert store.sync_conflicts("resolved")[0].resolution == "kept_central"
    erase_contact(store, " rosa@example.ORG ", tmp_path, COMMAND_LINE)
    assert [c.submission_id for c in store.sync_conflicts()] == ["s-2"]


def test_a_venue_ledger_is_written_over_entry_by_entry(store: PlaceStore):
    assert store.sync_ledger() == {}
    store.save_ledger(
        [
            LedgerEntry("place", "pl_a", "kit", "1", {"title": "A", "tags": []}, "kit"),
            LedgerEntry("photo", "md_b", "venue", "1", None, "stored", pushed_at=utcnow()),
        ]
    )
    store.save_ledger([LedgerEntry("place", "pl_a", "kit", "3", {"title": "C"}, "conflict", "why")])
    ledger = store.sync_ledger()
    assert set(ledger) == {("place", "pl_a"), ("photo", "md_b")}
    entry = ledger[("place", "pl_a")]
    assert (entry.revision, entry.base, entry.outcome, entry.detail) == (
        "3",
        {"title": "C"},
        "conflict",
        "why",
    )
    assert ledger[("photo", "md_b")].base is None and ledger[("photo", "md_b")].pushed_at
