"""The records of who acts on the atlas: staff accounts, their credentials, and the
audit trail's events (each names the account that acted, if a staff member did).

Plain dataclasses like :mod:`geodata.models`; :mod:`geodata.accounts` signs staff in
and :mod:`geodata.audit` records the events.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from geodata.models import utcnow


class Role(StrEnum):
    """What a staff account may do (residents need no account)."""

    FACILITATOR = "facilitator"  # runs workshops, moderates, sees contributors' details
    PLANNER = "planner"  # published places and aggregate counts
    ADMIN = "admin"  # everything, including full backups with personal data


@dataclass
class Account:
    """A staff member who signs in: a facilitator, a planner or an admin."""

    name: str
    role: Role
    id: str = field(default_factory=lambda: "ac_" + secrets.token_urlsafe(9))
    password_hash: str | None = None  # argon2id; None: API tokens only
    created_at: datetime = field(default_factory=utcnow)
    disabled_at: datetime | None = None


@dataclass
class Credential:
    """An API token or a browser session: a public id and the argon2id hash of its secret."""

    account_id: str
    kind: str  # "token" or "session"
    secret_hash: str
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    label: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass
class AuditEvent:
    """One recorded change: who did what to which place, with its content before and after."""

    action: str  # create, edit, publish, reject, hide, withdraw, erase, labels, consent...
    actor: str  # in words, e.g. "resident (edit link)" or "ana (facilitator)"
    actor_id: str | None = None  # the account, if a staff member did it
    place_id: str | None = None
    version: int | None = None
    before: dict | None = None  # snapshot without personal data
    after: dict | None = None
    detail: str | None = None  # a rejection reason, what an erasure removed...
    at: datetime = field(default_factory=utcnow)
    id: int | None = None  # set by the store, increasing
