"""SQLite side of :class:`~geodata.store.base_sync.SyncStore` (migration 0019_sync),
mixed into :class:`~geodata.store.sqlite.SQLiteStore`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson

from geodata.errors import Conflict, NotFound
from geodata.store.base_sync import (
    CONFLICT_COLUMNS,
    LEDGER_COLUMNS,
    RECEIPT_COLUMNS,
    LedgerEntry,
    SyncConflict,
    SyncReceipt,
    SyncStore,
    conflict_from_row,
    ledger_from_rows,
)
from geodata.store.records import iso, parse_iso


def _conflict(r: Sequence[Any]) -> SyncConflict:
    return conflict_from_row(r, parse_iso, orjson.loads)


class SyncMixin(SyncStore):
    """Needs SQLiteStore's ``conn`` and ``transaction``."""

    conn: sqlite3.Connection
    transaction: Callable[[], AbstractContextManager[None]]

    def sync_receipt(self, submission_id: str) -> SyncReceipt | None:
        r = self.conn.execute(
            f"SELECT {RECEIPT_COLUMNS} FROM sync_receipts WHERE submission_id = ?",
            (submission_id,),
        ).fetchone()
        if r is None:
            return None
        return SyncReceipt(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], parse_iso(r[7]))

    def add_sync_receipt(self, receipt: SyncReceipt) -> None:
        r = receipt
        try:
            with self.transaction():
                self.conn.execute(
                    f"INSERT INTO sync_receipts ({RECEIPT_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.submission_id,
                        r.kit_id,
                        r.kind,
                        r.record_id,
                        r.outcome,
                        int(r.made_here),
                        r.account_id,
                        iso(r.received_at),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"the change {r.submission_id} was received already") from exc

    def count_sync_receipts(self, kit_id: str | None = None, kind: str | None = None) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM sync_receipts WHERE (?1 IS NULL OR kit_id = ?1) "
            "AND (?2 IS NULL OR kind = ?2)",
            (kit_id, kind),
        ).fetchone()[0]

    def sync_received(self, record_id: str, kit_id: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sync_receipts WHERE record_id = ? AND kit_id = ? AND made_here = 1 "
            "LIMIT 1",
            (record_id, kit_id),
        ).fetchone()
        return row is not None

    def add_sync_conflict(self, conflict: SyncConflict) -> SyncConflict:
        c = conflict
        with self.transaction():
            self.conn.execute(
                f"INSERT INTO sync_conflicts ({CONFLICT_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    c.id,
                    c.submission_id,
                    c.kit_id,
                    c.kind,
                    c.record_id,
                    c.place_id,
                    c.reason,
                    c.detail,
                    orjson.dumps(c.venue).decode(),
                    c.contributor_contact,
                    c.status,
                    c.resolution,
                    c.resolved_by,
                    iso(c.created_at),
                    iso(c.resolved_at) if c.resolved_at else None,
                ),
            )
        return c

    def sync_conflict(self, conflict_id: str) -> SyncConflict:
        r = self.conn.execute(
            f"SELECT {CONFLICT_COLUMNS} FROM sync_conflicts WHERE id = ?1 OR submission_id = ?1",
            (conflict_id,),
        ).fetchone()
        if r is None:
            raise NotFound(f"there is no sync conflict {conflict_id}")
        return _conflict(r)

    def sync_conflicts(
        self, status: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[SyncConflict]:
        rows = self.conn.execute(
            f"SELECT {CONFLICT_COLUMNS} FROM sync_conflicts WHERE (?1 IS NULL OR status = ?1) "
            "ORDER BY created_at, rowid LIMIT ?2 OFFSET ?3",
            (status, limit, offset),
        ).fetchall()
        return [_conflict(r) for r in rows]

    def count_sync_conflicts(self, status: str | None = None) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM sync_conflicts WHERE (?1 IS NULL OR status = ?1)", (status,)
        ).fetchone()[0]

    def resolve_sync_conflict(self, conflict: SyncConflict) -> SyncConflict:
        c = conflict
        with self.transaction():
            changed = self.conn.execute(
                "UPDATE sync_conflicts SET status = ?, resolution = ?, resolved_by = ?, "
                "resolved_at = ? WHERE id = ?",
                (
                    c.status,
                    c.resolution,
                    c.resolved_by,
                    iso(c.resolved_at) if c.resolved_at else None,
                    c.id,
                ),
            ).rowcount
        if not changed:
            raise NotFound(f"there is no sync conflict {c.id}")
        return c

    def delete_sync_conflicts_by_contact(self, contact: str) -> int:
        with self.transaction():
            return self.conn.execute(
                "DELETE FROM sync_conflicts WHERE contributor_contact IS NOT NULL AND "
                "lower(trim(contributor_contact)) = lower(trim(?))",
                (contact,),
            ).rowcount

    def sync_ledger(self) -> dict[tuple[str, str], LedgerEntry]:
        rows = self.conn.execute(f"SELECT {LEDGER_COLUMNS} FROM sync_ledger").fetchall()
        return ledger_from_rows(rows, parse_iso, orjson.loads)

    def save_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        with self.transaction():
            self.conn.executemany(
                f"INSERT OR REPLACE INTO sync_ledger ({LEDGER_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.kind,
                        e.record_id,
                        e.origin,
                        e.revision,
                        None if e.base is None else orjson.dumps(e.base).decode(),
                        e.outcome,
                        e.detail,
                        iso(e.pushed_at) if e.pushed_at else None,
                    )
                    for e in entries
                ],
            )
