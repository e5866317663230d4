"""PostGIS side of :class:`~geodata.store.base_sync.SyncStore` (migration 0019_sync),
mixed into :class:`~geodata.store.postgis.PostGISStore`; the semantics match
:mod:`geodata.store.sqlite_sync` method for method."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson
import psycopg

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


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class SyncMixin(SyncStore):
    """Needs the connection helpers of PostGISStore."""

    _write: Callable[[], AbstractContextManager[psycopg.Connection]]
    _fetchone: Callable[..., tuple[Any, ...] | None]
    _fetchall: Callable[..., list[tuple[Any, ...]]]

    def sync_receipt(self, submission_id: str) -> SyncReceipt | None:
        r = self._fetchone(
            f"SELECT {RECEIPT_COLUMNS} FROM sync_receipts WHERE submission_id = %s",
            (submission_id,),
        )
        return None if r is None else SyncReceipt(*r)

    def add_sync_receipt(self, receipt: SyncReceipt) -> None:
        r = receipt
        try:
            with self._write() as conn:
                conn.execute(
                    f"INSERT INTO sync_receipts ({RECEIPT_COLUMNS}) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        r.submission_id,
                        r.kit_id,
                        r.kind,
                        r.record_id,
                        r.outcome,
                        r.made_here,
                        r.account_id,
                        r.received_at,
                    ),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"the change {r.submission_id} was received already") from exc

    def count_sync_receipts(self, kit_id: str | None = None, kind: str | None = None) -> int:
        row = self._fetchone(
            "SELECT count(*) FROM sync_receipts WHERE (%(kit)s::text IS NULL OR kit_id = %(kit)s)"
            " AND (%(kind)s::text IS NULL OR kind = %(kind)s)",
            {"kit": kit_id, "kind": kind},
        )
        return row[0] if row else 0

    def sync_received(self, record_id: str, kit_id: str) -> bool:
        row = self._fetchone(
            "SELECT 1 FROM sync_receipts WHERE record_id = %s AND kit_id = %s AND made_here "
            "LIMIT 1",
            (record_id, kit_id),
        )
        return row is not None

    def add_sync_conflict(self, conflict: SyncConflict) -> SyncConflict:
        c = conflict
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO sync_conflicts ({CONFLICT_COLUMNS}) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s)",
                (
                    c.id,
                    c.submission_id,
                    c.kit_id,
                    c.kind,
                    c.record_id,
                    c.place_id,
                    c.reason,
                    c.detail,
                    _json(c.venue),
                    c.contributor_contact,
                    c.status,
                    c.resolution,
                    c.resolved_by,
                    c.created_at,
                    c.resolved_at,
                ),
            )
        return c

    def sync_conflict(self, conflict_id: str) -> SyncConflict:
        r = self._fetchone(
            f"SELECT {CONFLICT_COLUMNS} FROM sync_conflicts WHERE id = %(id)s "
            "OR submission_id = %(id)s",
            {"id": conflict_id},
        )
        if r is None:
            raise NotFound(f"there is no sync conflict {conflict_id}")
        return conflict_from_row(r)

    def sync_conflicts(
        self, status: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[SyncConflict]:
        rows = self._fetchall(
            f"SELECT {CONFLICT_COLUMNS} FROM sync_conflicts WHERE "
            "(%(status)s::text IS NULL OR status = %(status)s) ORDER BY created_at, id "
            "LIMIT %(limit)s OFFSET %(offset)s",
            {"status": status, "limit": limit, "offset": offset},
        )
        return [conflict_from_row(r) for r in rows]

    def count_sync_conflicts(self, status: str | None = None) -> int:
        row = self._fetchone(
            "SELECT count(*) FROM sync_conflicts WHERE (%(s)s::text IS NULL OR status = %(s)s)",
            {"s": status},
        )
        return row[0] if row else 0

    def resolve_sync_conflict(self, conflict: SyncConflict) -> SyncConflict:
        c = conflict
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE sync_conflicts SET status = %s, resolution = %s, resolved_by = %s, "
                "resolved_at = %s WHERE id = %s",
                (c.status, c.resolution, c.resolved_by, c.resolved_at, c.id),
            ).rowcount
        if not changed:
            raise NotFound(f"there is no sync conflict {c.id}")
        return c

    def delete_sync_conflicts_by_contact(self, contact: str) -> int:
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM sync_conflicts WHERE contributor_contact IS NOT NULL AND "
                "lower(trim(contributor_contact)) = lower(trim(%s))",
                (contact,),
            ).rowcount

    def sync_ledger(self) -> dict[tuple[str, str], LedgerEntry]:
        rows = self._fetchall(f"SELECT {LEDGER_COLUMNS} FROM sync_ledger")
        return ledger_from_rows(rows)

    def save_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        with self._write() as conn, conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO sync_ledger ({LEDGER_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s) ON CONFLICT (kind, record_id) "
                "DO UPDATE SET origin = excluded.origin, revision = excluded.revision, "
                "base = excluded.base, outcome = excluded.outcome, detail = excluded.detail, "
                "pushed_at = excluded.pushed_at",
                [
                    (
                        e.kind,
                        e.record_id,
                        e.origin,
                        e.revision,
                        _json(e.base),
                        e.outcome,
                        e.detail,
                        e.pushed_at,
                    )
                    for e in entries
                ],
            )
