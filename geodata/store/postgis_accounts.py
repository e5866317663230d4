"""PostGIS side of staff accounts, credentials, the audit trail, protocol labels, workshop
updates and erasure lookups (migration 0003_accounts_audit), mixed into
:class:`~geodata.store.postgis.PostGISStore`. The semantics are documented on
:class:`~geodata.store.base.PlaceStore` and match the SQLite backend method for method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import orjson
import psycopg

from geodata.account_records import Account, AuditEvent, Credential, Role
from geodata.errors import Conflict, NotFound
from geodata.models import Workshop
from geodata.place_attachments import ProtocolLabel
from geodata.store.base_accounts import LoginThrottle
from geodata.store.counts import CountCache

_ACCOUNT = "id, name::text, role, password_hash, created_at, disabled_at"
_CREDENTIAL = "id, account_id, kind, secret_hash, label, created_at, expires_at, revoked_at"
_AUDIT = "id, at, action, actor_id, actor, place_id, version, before, after, detail"


def _account(r: Sequence[Any]) -> Account:
    return Account(
        id=r[0], name=r[1], role=Role(r[2]), password_hash=r[3], created_at=r[4],
        disabled_at=r[5],
    )  # fmt: skip


def _credential(r: Sequence[Any]) -> Credential:
    return Credential(
        id=r[0], account_id=r[1], kind=r[2], secret_hash=r[3], label=r[4], created_at=r[5],
        expires_at=r[6], revoked_at=r[7],
    )  # fmt: skip


def _json(value: dict | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _audit(r: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        id=r[0], at=r[1], action=r[2], actor_id=r[3], actor=r[4], place_id=r[5],
        version=r[6], before=orjson.loads(r[7]) if r[7] else None,
        after=orjson.loads(r[8]) if r[8] else None, detail=r[9],
    )  # fmt: skip


class AccountsAuditMixin:
    """Store methods for accounts and the audit trail; needs PostGISStore's helpers."""

    _write: Callable[[], AbstractContextManager[psycopg.Connection]]
    _fetchone: Callable[..., tuple[Any, ...] | None]
    _fetchall: Callable[..., list[tuple[Any, ...]]]
    _snapshot_version: Callable[[str], str | None]
    _counts: CountCache

    # -- accounts ---------------------------------------------------------------------
    def add_account(self, account: Account) -> Account:
        with self._write() as conn:
            # ON CONFLICT, not a caught error: an outer transaction stays usable.
            cur = conn.execute(
                f"INSERT INTO accounts ({_ACCOUNT.replace('::text', '')}) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (account.id, account.name, str(account.role), account.password_hash,
                 account.created_at, account.disabled_at),
            )  # fmt: skip
            if cur.rowcount == 0:
                raise Conflict(f"there is already an account named {account.name!r}")
        return account

    def get_account(self, account_id: str) -> Account:
        row = self._fetchone(f"SELECT {_ACCOUNT} FROM accounts WHERE id = %s", (account_id,))
        if row is None:
            raise NotFound(f"there is no account {account_id}")
        return _account(row)

    def account_by_name(self, name: str) -> Account | None:
        # citext: = ignores case, as SQLite's COLLATE NOCASE.
        row = self._fetchone(
            f"SELECT {_ACCOUNT} FROM accounts WHERE name = %s::citext", (name.strip(),)
        )
        return _account(row) if row else None

    def accounts(self) -> list[Account]:
        rows = self._fetchall(f"SELECT {_ACCOUNT} FROM accounts ORDER BY name")
        return [_account(r) for r in rows]

    def update_account(self, account: Account) -> Account:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE accounts SET role = %s, password_hash = %s, disabled_at = %s WHERE id = %s",
                (str(account.role), account.password_hash, account.disabled_at, account.id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"there is no account {account.id}")
        return account

    # -- credentials --------------------------------------------------------------------
    def add_credential(self, credential: Credential) -> Credential:
        c = credential
        with self._write() as conn:
            # Checked first, so a missing account never aborts an outer transaction.
            if (
                conn.execute(
                    "SELECT 1 FROM accounts WHERE id = %s FOR SHARE", (c.account_id,)
                ).fetchone()
                is None
            ):
                raise NotFound(f"there is no account {c.account_id}")
            conn.execute(
                f"INSERT INTO credentials ({_CREDENTIAL}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (c.id, c.account_id, c.kind, c.secret_hash, c.label, c.created_at,
                 c.expires_at, c.revoked_at),
            )  # fmt: skip
        return credential

    def get_credential(self, credential_id: str) -> Credential | None:
        row = self._fetchone(
            f"SELECT {_CREDENTIAL} FROM credentials WHERE id = %s", (credential_id,)
        )
        return _credential(row) if row else None

    def credentials(self, account_id: str, kind: str | None = None) -> list[Credential]:
        rows = self._fetchall(
            f"SELECT {_CREDENTIAL} FROM credentials WHERE account_id = %(account)s "
            "AND (%(kind)s::text IS NULL OR kind = %(kind)s) ORDER BY created_at DESC, seq DESC",
            {"account": account_id, "kind": kind},
        )
        return [_credential(r) for r in rows]

    def revoke_credential(self, credential_id: str, at: datetime) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE credentials SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL",
                (at, credential_id),
            )
            return cur.rowcount == 1

    def delete_credential(self, credential_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM credentials WHERE id = %s", (credential_id,))

    def purge_credentials(self, before: datetime) -> int:
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM credentials WHERE kind = 'session' AND expires_at < %s", (before,)
            ).rowcount

    # -- failed sign-ins ------------------------------------------------------------------
    def login_throttle_for_update(self, key: str, at: datetime) -> LoginThrottle:
        with self._write() as conn:
            # Insert-if-absent, then lock the row: every worker's attempt on this key waits
            # here until the transaction that holds it ends.
            conn.execute(
                "INSERT INTO login_throttle (key, failures, locked_until, last_attempt) "
                "VALUES (%s, 0, NULL, %s) ON CONFLICT (key) DO NOTHING",
                (key, at),
            )
            row = conn.execute(
                "SELECT failures, locked_until, last_attempt FROM login_throttle "
                "WHERE key = %s FOR UPDATE",
                (key,),
            ).fetchone()
        assert row is not None  # inserted above, deleted only under the same lock
        return LoginThrottle(row[0], row[1], row[2])

    def save_login_throttle(self, key: str, state: LoginThrottle) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO login_throttle (key, failures, locked_until, last_attempt) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
                "failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until, "
                "last_attempt = EXCLUDED.last_attempt",
                (key, state.failures, state.locked_until, state.last_attempt),
            )

    def clear_login_throttle(self, key: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM login_throttle WHERE key = %s", (key,))

    def purge_login_throttles(self, before: datetime) -> int:
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM login_throttle WHERE last_attempt < %s "
                "AND (locked_until IS NULL OR locked_until < %s)",
                (before, before),
            ).rowcount

    # -- audit trail ----------------------------------------------------------------------
    def add_audit(self, event: AuditEvent) -> AuditEvent:
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO audit_log (at, action, actor_id, actor, place_id, version, "
                "before, after, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "RETURNING id",
                (event.at, event.action, event.actor_id, event.actor, event.place_id,
                 event.version, _json(event.before), _json(event.after), event.detail),
            ).fetchone()  # fmt: skip
        event.id = row[0] if row else None
        return event

    def audit_events(
        self,
        place_id: str | None = None,
        action: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        rows = self._fetchall(
            f"SELECT {_AUDIT} FROM audit_log WHERE (%(place)s::text IS NULL OR place_id = "
            "%(place)s) AND (%(action)s::text IS NULL OR action = %(action)s) "
            "ORDER BY id DESC LIMIT %(limit)s",
            {"place": place_id, "action": action, "limit": limit},
        )
        return [_audit(r) for r in reversed(rows)]

    def delete_audit_events(self, place_ids: Sequence[str]) -> int:
        if not place_ids:
            return 0
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM audit_log WHERE place_id = ANY(%s)", (list(place_ids),)
            ).rowcount

    # -- protocol labels ---------------------------------------------------------------------
    def set_protocol_labels(self, place_id: str, labels: Sequence[ProtocolLabel]) -> None:
        with self._write() as conn:
            if (
                conn.execute(
                    "SELECT 1 FROM places WHERE id = %s FOR UPDATE", (place_id,)
                ).fetchone()
                is None
            ):
                raise NotFound(f"there is no place {place_id}")
            conn.execute("DELETE FROM place_protocol_labels WHERE place_id = %s", (place_id,))
            if labels:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO place_protocol_labels "
                        "(place_id, position, label_id, name, text, url) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        [(place_id, i, label.label_id, label.name, label.text, label.url)
                         for i, label in enumerate(labels, start=1)],
                    )  # fmt: skip

    def protocol_labels(self, place_ids: Sequence[str]) -> dict[str, list[ProtocolLabel]]:
        out: dict[str, list[ProtocolLabel]] = {}
        if not place_ids:
            return out
        # In a snapshot, while the places version holds (labels bump it), whether any
        # label exists is known: usually none does, and a page asks no further.
        version = self._snapshot_version("places")
        if version is not None and not self._counts.get_or_count(
            ("any protocol label",), version, self._any_protocol_label
        ):
            return out
        rows = self._fetchall(
            "SELECT place_id, label_id, name, text, url FROM place_protocol_labels "
            "WHERE place_id = ANY(%s) ORDER BY place_id, position",
            (list(dict.fromkeys(place_ids)),),
        )
        for r in rows:
            out.setdefault(r[0], []).append(ProtocolLabel(r[1], r[2], r[3], r[4]))
        return out

    def _any_protocol_label(self) -> bool:
        row = self._fetchone("SELECT EXISTS (SELECT 1 FROM place_protocol_labels)")
        return bool(row and row[0])

    # -- workshops and erasure ------------------------------------------------------------------
    def update_workshop(self, workshop: Workshop) -> Workshop:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE workshops SET title = %s, neighbourhood_id = %s, starts_at = %s, "
                "ends_at = %s, moderation = %s, languages = %s::jsonb WHERE code = %s",
                (workshop.title, workshop.neighbourhood_id, workshop.starts_at,
                 workshop.ends_at, str(workshop.moderation),
                 orjson.dumps(workshop.languages).decode(), workshop.code.strip().upper()),
            )  # fmt: skip
            if cur.rowcount == 0:
                raise NotFound(f"there is no workshop with the code {workshop.code!r}")
        return workshop

    def place_ids_by_contact(self, contact: str) -> list[str]:
        rows = self._fetchall(
            "SELECT id FROM places WHERE lower(trim(contributor_contact)) = lower(trim(%s)) "
            "ORDER BY rid",
            (contact,),
        )
        return [r[0] for r in rows]
