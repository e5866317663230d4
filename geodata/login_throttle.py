"""Locking an account name after repeated failed sign-ins, whoever sends them.

A per-address limit stops one machine guessing; this stops many machines guessing one
account. After ``after`` failures in a row a name is locked for ``first_s`` seconds,
and each further failure doubles the lock, up to ``max_s``. While locked, every
attempt is refused before the password is even checked (the right one too), and a
refused attempt does not count. A successful sign-in forgets the failures.

The state lives in the database, so it holds across workers and hosts, and it is kept
per name as typed, whether or not an account has that name: a lock tells nobody which
names are real. Every lock is written to the audit trail.

Each attempt is admitted in a transaction that already sets the lock it would earn by
failing, so a burst of parallel guesses cannot all slip in before the first failure
is recorded: one is admitted, the others wait out that lock.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from geodata.audit import Actor, record_account_event
from geodata.errors import HeritageError
from geodata.models import utcnow
from geodata.store.base import PlaceStore
from geodata.store.base_accounts import LoginThrottle

LOCK_ACTION = "login_lock"
MEMORY = timedelta(days=1)  # failures further apart than this start again from one


class AccountLocked(HeritageError):
    """Too many failed sign-ins on this name: try again after ``retry_after`` seconds."""

    code = "account_locked"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many sign-in attempts; wait a while and try again")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LockPolicy:
    after: int = 5  # failures in a row before the first lock
    first_s: float = 1.0
    max_s: float = 15 * 60.0

    def lock_for(self, failures: int) -> timedelta | None:
        """How long ``failures`` failures in a row lock a name (None: not at all)."""
        if failures < self.after:
            return None
        doublings = min(failures - self.after, 40)
        return timedelta(seconds=min(self.max_s, self.first_s * 2**doublings))


def throttle_key(name: str) -> str:
    """The record's key: a hash of the name, so a mistyped password is not kept in clear."""
    return hashlib.sha256(b"login\0" + name.strip().casefold().encode()).hexdigest()


def _current(state: LoginThrottle, at: datetime) -> int:
    return state.failures if at - state.last_attempt <= MEMORY else 0


def admit(store: PlaceStore, name: str, policy: LockPolicy, at: datetime | None = None) -> None:
    """Let one sign-in attempt on ``name`` go ahead, or raise AccountLocked."""
    at = at or utcnow()
    key = throttle_key(name)
    with store.transaction():
        state = store.login_throttle_for_update(key, at)
        if state.locked_until is not None and state.locked_until > at:
            wait = (state.locked_until - at).total_seconds()
            raise AccountLocked(max(1, math.ceil(wait)))
        failures = _current(state, at)
        pending = policy.lock_for(failures + 1)  # the lock this attempt earns if it fails
        store.save_login_throttle(
            key, LoginThrottle(failures, at + pending if pending else None, at)
        )


def succeeded(store: PlaceStore, name: str) -> None:
    """The attempt was right: forget the name's failures (and the pending lock)."""
    store.clear_login_throttle(throttle_key(name))


def failed(
    store: PlaceStore,
    name: str,
    policy: LockPolicy,
    client: str,
    at: datetime | None = None,
) -> timedelta | None:
    """Count a failed attempt on ``name`` from ``client``; returns the lock it started
    (recorded in the audit trail), if any."""
    at = at or utcnow()
    key = throttle_key(name)
    with store.transaction():
        state = store.login_throttle_for_update(key, at)
        failures = _current(state, at) + 1
        lock = policy.lock_for(failures)
        store.save_login_throttle(key, LoginThrottle(failures, at + lock if lock else None, at))
        if lock is not None:
            account = store.account_by_name(name.strip()) if name.strip() else None
            who = f"account {account.name}" if account else "a name that is no account"
            record_account_event(
                store,
                LOCK_ACTION,
                Actor(f"sign-in from {client}"),
                f"{who} locked for {_duration(lock)} after {failures} failed sign-ins in a row",
            )
    if secrets.randbelow(100) == 0:
        store.purge_login_throttles(at - MEMORY)  # now and then, forget old failures
    return lock


def _duration(lock: timedelta) -> str:
    seconds = lock.total_seconds()
    return f"{seconds:g} s" if seconds < 120 else f"{seconds / 60:g} min"
