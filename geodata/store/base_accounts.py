"""The store's contract for staff accounts, credentials, sign-in throttling, the audit
trail and protocol labels; the backends' sides are ``sqlite_accounts`` and
``postgis_accounts``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from geodata.account_records import Account, AuditEvent, Credential
from geodata.models import Workshop
from geodata.place_attachments import ProtocolLabel


class AccountsDefaults:
    """Methods of :class:`~geodata.store.base.PlaceStore` for staff accounts and what
    goes with them."""

    # Not abstract so a backend still being ported keeps working for everything else.
    def _missing(self, what: str) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} does not keep {what} yet")

    def add_account(self, account: Account) -> Account:
        """Store a new staff account; raise Conflict if its name is taken (any case)."""
        raise self._missing("accounts")

    def get_account(self, account_id: str) -> Account:
        """The account with this id; raise NotFound."""
        raise self._missing("accounts")

    def account_by_name(self, name: str) -> Account | None:
        """The account with this name (case-insensitive), if any."""
        raise self._missing("accounts")

    def accounts(self) -> list[Account]:
        """Every account, by name."""
        raise self._missing("accounts")

    def update_account(self, account: Account) -> Account:
        """Save an account's role, password hash and ``disabled_at``; raise NotFound."""
        raise self._missing("accounts")

    def add_credential(self, credential: Credential) -> Credential:
        """Store an API token's or session's id and secret hash; NotFound without account."""
        raise self._missing("credentials")

    def get_credential(self, credential_id: str) -> Credential | None:
        """The credential with this id (revoked and expired ones included), if any."""
        raise self._missing("credentials")

    def credentials(self, account_id: str, kind: str | None = None) -> list[Credential]:
        """An account's credentials, newest first, of one kind ("token", "session") or all."""
        raise self._missing("credentials")

    def revoke_credential(self, credential_id: str, at: datetime) -> bool:
        """Mark a credential revoked at ``at``; False if unknown or already revoked."""
        raise self._missing("credentials")

    def delete_credential(self, credential_id: str) -> None:
        """Forget a credential (a session on sign-out); unknown ids are ignored."""
        raise self._missing("credentials")

    def purge_credentials(self, before: datetime) -> int:
        """Forget sessions that expired before ``before``; return how many."""
        raise self._missing("credentials")

    def login_throttle_for_update(self, key: str, at: datetime) -> LoginThrottle:
        """The failed sign-ins kept under ``key`` (an empty record, last attempt ``at``, if
        there is none), locked until the enclosing transaction ends: call it inside
        :meth:`transaction`, so concurrent attempts on one key wait for each other."""
        raise self._missing("sign-in throttling")

    def save_login_throttle(self, key: str, state: LoginThrottle) -> None:
        """Store the failed sign-ins under ``key``."""
        raise self._missing("sign-in throttling")

    def clear_login_throttle(self, key: str) -> None:
        """Forget the failed sign-ins under ``key`` (after a successful one)."""
        raise self._missing("sign-in throttling")

    def purge_login_throttles(self, before: datetime) -> int:
        """Forget records last tried before ``before`` and not locked after it."""
        raise self._missing("sign-in throttling")

    def add_audit(self, event: AuditEvent) -> AuditEvent:
        """Append an event to the audit trail (sets ``event.id``, increasing)."""
        raise self._missing("an audit trail")

    def audit_events(
        self,
        place_id: str | None = None,
        action: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """Events oldest first, for one place and/or one action; ``limit``: the latest N."""
        raise self._missing("an audit trail")

    def delete_audit_events(self, place_ids: Sequence[str]) -> int:
        """Forget every event about these places (erasure); return how many."""
        raise self._missing("an audit trail")

    def set_protocol_labels(self, place_id: str, labels: Sequence[ProtocolLabel]) -> None:
        """Replace a place's cultural-protocol labels (in order); raise NotFound."""
        raise self._missing("protocol labels")

    def protocol_labels(self, place_ids: Sequence[str]) -> dict[str, list[ProtocolLabel]]:
        """Labels of many places at once, each list in order (places without any left out)."""
        raise self._missing("protocol labels")

    def update_workshop(self, workshop: Workshop) -> Workshop:
        """Save a workshop's title, neighbourhood, time window, moderation and languages
        (found by its code); raise NotFound."""
        raise self._missing("workshop updates")

    def place_ids_by_contact(self, contact: str) -> list[str]:
        """Ids of every place whose contributor contact is ``contact`` (trimmed, any case)."""
        raise self._missing("contact lookups")


@dataclass(frozen=True)
class LoginThrottle:
    """Failed sign-ins on one account name (see :mod:`geodata.login_throttle`)."""

    failures: int
    locked_until: datetime | None
    last_attempt: datetime
