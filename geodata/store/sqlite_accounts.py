"""SQLite side of staff accounts, credentials, the audit trail, protocol labels, workshop
updates and erasure lookups (migration 0003_accounts_audit), mixed into
:class:`~geodata.store.sqlite.SQLiteStore`. The semantics are documented on
:class:`~geodata.store.base.PlaceStore`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from geodata.account_records import Account, AuditEvent, Credential, Role
from geodata.errors import Conflict, NotFound
from geodata.models import Workshop
from geodata.place_attachments import ProtocolLabel
from geodata.store.base_accounts import LoginThrottle
from geodata.store.records import iso, parse_iso

_ACCOUNT = "id, name, role, password_hash, created_at, disabled_at"
_CREDENTIAL = "id, account_id, kind, secret_hash, label, created_at, expires_at, revoked_at"
_AUDIT = "id, at, action, actor_id, actor, place_id, version, before, after, detail"


def _ts(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def _account(r: Sequence[Any]) -> Account:
    return Account(
        id=r[0],
        name=r[1],
        role=Role(r[2]),
        password_hash=r[3],
        created_at=parse_iso(r[4]),
        disabled_at=_ts(r[5]),
    )


def _credential(r: Sequence[Any]) -> Credential:
    return Credential(
        id=r[0],
        account_id=r[1],
        kind=r[2],
        secret_hash=r[3],
        label=r[4],
        created_at=parse_iso(r[5]),
        expires_at=_ts(r[6]),
        revoked_at=_ts(r[7]),
    )


def _json(value: dict | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _audit(r: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        id=r[0],
        at=parse_iso(r[1]),
        action=r[2],
        actor_id=r[3],
        actor=r[4],
        place_id=r[5],
        version=r[6],
        before=orjson.loads(r[7]) if r[7] else None,
        after=orjson.loads(r[8]) if r[8] else None,
        detail=r[9],
    )


class AccountsAuditMixin:
    """Store methods for accounts and the audit trail; needs SQLiteStore's connection."""

    conn: sqlite3.Connection
    path: str
    transaction: Any  # () -> AbstractContextManager[None]

    # -- accounts ---------------------------------------------------------------------
    def add_account(self, account: Account) -> Account:
        try:
            with self.transaction():
                self.conn.execute(
                    f"INSERT INTO accounts ({_ACCOUNT}) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        account.id,
                        account.name,
                        str(account.role),
                        account.password_hash,
                        iso(account.created_at),
                        iso(account.disabled_at) if account.disabled_at else None,
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"there is already an account named {account.name!r}") from exc
        return account

    def get_account(self, account_id: str) -> Account:
        row = self.conn.execute(
            f"SELECT {_ACCOUNT} FROM accounts WHERE id = ?", (account_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"there is no account {account_id}")
        return _account(row)

    def account_by_name(self, name: str) -> Account | None:
        row = self.conn.execute(
            f"SELECT {_ACCOUNT} FROM accounts WHERE name = ?", (name.strip(),)
        ).fetchone()
        return _account(row) if row else None

    def accounts(self) -> list[Account]:
        rows = self.conn.execute(f"SELECT {_ACCOUNT} FROM accounts ORDER BY name").fetchall()
        return [_account(r) for r in rows]

    def update_account(self, account: Account) -> Account:
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE accounts SET role = ?, password_hash = ?, disabled_at = ? WHERE id = ?",
                (
                    str(account.role),
                    account.password_hash,
                    iso(account.disabled_at) if account.disabled_at else None,
                    account.id,
                ),
            )
            if cur.rowcount == 0:
                raise NotFound(f"there is no account {account.id}")
        return account

    # -- credentials --------------------------------------------------------------------
    def add_credential(self, credential: Credential) -> Credential:
        c = credential
        try:
            with self.transaction():
                self.conn.execute(
                    f"INSERT INTO credentials ({_CREDENTIAL}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        c.id,
                        c.account_id,
                        c.kind,
                        c.secret_hash,
                        c.label,
                        iso(c.created_at),
                        iso(c.expires_at) if c.expires_at else None,
                        iso(c.revoked_at) if c.revoked_at else None,
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise NotFound(f"there is no account {c.account_id}") from exc
        return credential

    def get_credential(self, credential_id: str) -> Credential | None:
        row = self.conn.execute(
            f"SELECT {_CREDENTIAL} FROM credentials WHERE id = ?", (credential_id,)
        ).fetchone()
        return _credential(row) if row else None

    def credentials(self, account_id: str, kind: str | None = None) -> list[Credential]:
        rows = self.conn.execute(
            f"SELECT {_CREDENTIAL} FROM credentials WHERE account_id = ?1 "
            "AND (?2 IS NULL OR kind = ?2) ORDER BY created_at DESC, rowid DESC",
            (account_id, kind),
        ).fetchall()
        return [_credential(r) for r in rows]

    def revoke_credential(self, credential_id: str, at: datetime) -> bool:
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (iso(at), credential_id),
            )
        return cur.rowcount == 1

    def delete_credential(self, credential_id: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM credentials WHERE id = ?", (credential_id,))

    def purge_credentials(self, before: datetime) -> int:
        with self.transaction():
            return self.conn.execute(
                "DELETE FROM credentials WHERE kind = 'session' AND expires_at < ?",
                (iso(before),),
            ).rowcount

    # -- failed sign-ins ------------------------------------------------------------------
    def login_throttle_for_update(self, key: str, at: datetime) -> LoginThrottle:
        # Inside transaction() SQLite already holds the write lock (BEGIN IMMEDIATE).
        with self.transaction():
            self.conn.execute(
                "INSERT OR IGNORE INTO login_throttle (key, failures, locked_until, "
                "last_attempt) VALUES (?, 0, NULL, ?)",
                (key, iso(at)),
            )
            row = self.conn.execute(
                "SELECT failures, locked_until, last_attempt FROM login_throttle WHERE key = ?",
                (key,),
            ).fetchone()
        return LoginThrottle(row[0], _ts(row[1]), parse_iso(row[2]))

    def save_login_throttle(self, key: str, state: LoginThrottle) -> None:
        locked = iso(state.locked_until) if state.locked_until else None
        with self.transaction():
            self.conn.execute(
                "INSERT INTO login_throttle (key, failures, locked_until, last_attempt) "
                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET failures = ?2, "
                "locked_until = ?3, last_attempt = ?4",
                (key, state.failures, locked, iso(state.last_attempt)),
            )

    def clear_login_throttle(self, key: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM login_throttle WHERE key = ?", (key,))

    def purge_login_throttles(self, before: datetime) -> int:
        with self.transaction():
            return self.conn.execute(
                "DELETE FROM login_throttle WHERE last_attempt < ?1 "
                "AND (locked_until IS NULL OR locked_until < ?1)",
                (iso(before),),
            ).rowcount

    # -- audit trail ----------------------------------------------------------------------
    def add_audit(self, event: AuditEvent) -> AuditEvent:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO audit_log (at, action, actor_id, actor, place_id, version, "
                "before, after, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    iso(event.at),
                    event.action,
                    event.actor_id,
                    event.actor,
                    event.place_id,
                    event.version,
                    _json(event.before),
                    _json(event.after),
                    event.detail,
                ),
            )
        event.id = cur.lastrowid
        return event

    def audit_events(
        self,
        place_id: str | None = None,
        action: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        rows = self.conn.execute(
            f"SELECT {_AUDIT} FROM audit_log WHERE (?1 IS NULL OR place_id = ?1) "
            "AND (?2 IS NULL OR action = ?2) ORDER BY id DESC LIMIT ?3",
            (place_id, action, -1 if limit is None else limit),
        ).fetchall()
        return [_audit(r) for r in reversed(rows)]

    def delete_audit_events(self, place_ids: Sequence[str]) -> int:
        if not place_ids:
            return 0
        with self.transaction():
            return self.conn.execute(
                "DELETE FROM audit_log WHERE place_id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(list(place_ids)).decode(),),
            ).rowcount

    # -- protocol labels ---------------------------------------------------------------------
    def set_protocol_labels(self, place_id: str, labels: Sequence[ProtocolLabel]) -> None:
        with self.transaction():
            if (
                self.conn.execute("SELECT 1 FROM places WHERE id = ?", (place_id,)).fetchone()
                is None
            ):
                raise NotFound(f"there is no place {place_id}")
            self.conn.execute("DELETE FROM place_protocol_labels WHERE place_id = ?", (place_id,))
            self.conn.executemany(
                "INSERT INTO place_protocol_labels (place_id, position, label_id, name, text, url) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (place_id, i, label.label_id, label.name, label.text, label.url)
                    for i, label in enumerate(labels, start=1)
                ],
            )

    def protocol_labels(self, place_ids: Sequence[str]) -> dict[str, list[ProtocolLabel]]:
        out: dict[str, list[ProtocolLabel]] = {}
        if not place_ids:
            return out
        rows = self.conn.execute(
            "SELECT place_id, label_id, name, text, url FROM place_protocol_labels "
            "WHERE place_id IN (SELECT value FROM json_each(?)) ORDER BY place_id, position",
            (orjson.dumps(list(dict.fromkeys(place_ids))).decode(),),
        ).fetchall()
        for r in rows:
            out.setdefault(r[0], []).append(ProtocolLabel(r[1], r[2], r[3], r[4]))
        return out

    # -- workshops and erasure ------------------------------------------------------------------
    def update_workshop(self, workshop: Workshop) -> Workshop:
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE workshops SET title = ?, neighbourhood_id = ?, starts_at = ?, "
                "ends_at = ?, moderation = ?, languages = ? WHERE code = ?",
                (
                    workshop.title,
                    workshop.neighbourhood_id,
                    iso(workshop.starts_at),
                    iso(workshop.ends_at),
                    str(workshop.moderation),
                    orjson.dumps(workshop.languages).decode(),
                    workshop.code.strip().upper(),
                ),
            )
            if cur.rowcount == 0:
                raise NotFound(f"there is no workshop with the code {workshop.code!r}")
        return workshop

    def place_ids_by_contact(self, contact: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT id FROM places WHERE lower(trim(contributor_contact)) = lower(trim(?)) "
            "ORDER BY rid",
            (contact,),
        ).fetchall()
        return [r[0] for r in rows]

    def compact(self) -> None:
        # VACUUM rebuilds the file from live rows only; in WAL mode the rebuilt pages go
        # through the log, so checkpoint and truncate it too, leaving no old copy behind.
        if self.path == ":memory:":
            return
        self.conn.execute("VACUUM")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
