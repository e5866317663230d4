"""Locking an account name after failed sign-ins (run against every backend): the lock
grows from the first to the longest, refuses even the right password, is forgotten on
success, says nothing about which names are real, and every lock is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from geodata import login_throttle
from geodata.account_records import Role
from geodata.accounts import create_account
from geodata.login_throttle import AccountLocked, LockPolicy, admit, failed, succeeded
from geodata.store.base import PlaceStore
from geodata.store.base_accounts import LoginThrottle

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY = LockPolicy(after=5, first_s=1.0, max_s=900.0)


def attempt(store: PlaceStore, name: str, at: datetime) -> str:
    """One wrong password at ``at``: 'locked' (refused unchecked) or 'failed'."""
    try:
        admit(store, name, POLICY, at)
    except AccountLocked:
        return "locked"
    failed(store, name, POLICY, "192.0.2.1", at)
    return "failed"


def test_policy_doubles_from_the_first_lock_up_to_the_longest():
    locks = [POLICY.lock_for(n) for n in range(1, 20)]
    assert locks[:4] == [None] * 4
    assert [lock.total_seconds() for lock in locks[4:9]] == [1, 2, 4, 8, 16]
    assert locks[-1] == timedelta(minutes=15)
    assert LockPolicy(after=5).lock_for(10_000) == timedelta(minutes=15)  # no overflow


def test_five_failures_lock_the_name_and_the_right_password_waits_too(store: PlaceStore):
    assert [attempt(store, "ana", T0 + timedelta(seconds=i / 10)) for i in range(5)] == [
        "failed"
    ] * 5
    with pytest.raises(AccountLocked) as locked:
        admit(store, "ana", POLICY, T0 + timedelta(seconds=0.9))  # right password or not
    assert locked.value.status == 429 and locked.value.retry_after == 1
    # The lock is over a second after the fifth failure; the sixth doubles it.
    admit(store, "ana", POLICY, T0 + timedelta(seconds=1.5))
    failed(store, "ana", POLICY, "192.0.2.1", T0 + timedelta(seconds=1.5))
    with pytest.raises(AccountLocked) as locked:
        admit(store, "ANA ", POLICY, T0 + timedelta(seconds=2))  # any case, any spaces
    assert locked.value.retry_after == 2


def test_a_refused_attempt_does_not_count_and_the_lock_reaches_its_longest(store: PlaceStore):
    at = T0
    outcomes = []
    for _ in range(40):
        outcomes.append(attempt(store, "ana", at))
        at += timedelta(seconds=0.5)
    assert outcomes.count("failed") < 10  # the others were refused without a check
    state = store.login_throttle_for_update(login_throttle.throttle_key("ana"), at)
    assert state.failures == outcomes.count("failed")
    at = max(at, state.locked_until)
    for _ in range(30):  # an attacker who waits out every lock
        admit(store, "ana", POLICY, at)
        lock = failed(store, "ana", POLICY, "192.0.2.1", at)
        at += lock
    assert lock == timedelta(minutes=15)


def test_a_parallel_burst_is_admitted_once_per_lock(store: PlaceStore):
    for i in range(4):
        attempt(store, "ana", T0 + timedelta(seconds=i))
    at = T0 + timedelta(seconds=10)
    admit(store, "ana", POLICY, at)  # the fifth attempt, still being checked...
    for _ in range(5):  # ...while others arrive: they wait out the lock it would earn
        with pytest.raises(AccountLocked):
            admit(store, "ana", POLICY, at)
    succeeded(store, "ana")  # it was the right password after all
    admit(store, "ana", POLICY, at)


def test_success_forgets_the_failures(store: PlaceStore):
    for i in range(4):
        attempt(store, "ana", T0 + timedelta(seconds=i))
    admit(store, "ana", POLICY, T0 + timedelta(seconds=5))
    succeeded(store, "ana")
    assert [attempt(store, "ana", T0 + timedelta(seconds=6 + i)) for i in range(4)] == [
        "failed"
    ] * 4


def test_failures_a_day_apart_start_again(store: PlaceStore):
    for i in range(4):
        attempt(store, "ana", T0 + timedelta(seconds=i))
    later = T0 + login_throttle.MEMORY + timedelta(minutes=1)
    assert attempt(store, "ana", later) == "failed"
    admit(store, "ana", POLICY, later + timedelta(seconds=1))  # not locked: one failure


def test_names_are_locked_alike_whether_or_not_they_exist(store: PlaceStore):
    create_account(store, "ana", Role.FACILITATOR, password="a long enough password")
    real = [attempt(store, "ana", T0 + timedelta(seconds=i / 10)) for i in range(8)]
    ghost = [attempt(store, "nobody", T0 + timedelta(seconds=i / 10)) for i in range(8)]
    assert real == ghost == ["failed"] * 5 + ["locked"] * 3


def test_every_lock_is_audited_with_the_address(store: PlaceStore):
    create_account(store, "ana", Role.FACILITATOR, password="a long enough password")
    for i in range(5):
        admit(store, "ana", POLICY, T0 + timedelta(seconds=i / 10))
        failed(store, "ana", POLICY, f"198.51.100.{i}", T0 + timedelta(seconds=i / 10))
    attempt(store, "ghost", T0)
    for i in range(5):
        attempt(store, "ghost", T0 + timedelta(seconds=i / 10))
    events = store.audit_events(action=login_throttle.LOCK_ACTION)
    assert [e.actor for e in events] == ["sign-in from 198.51.100.4", "sign-in from 192.0.2.1"]
    assert "account ana locked for 1 s after 5 failed sign-ins" in events[0].detail
    assert "ghost" not in events[1].detail  # a typed name that is no account is not kept


def test_the_name_is_kept_only_as_a_hash(store: PlaceStore):
    attempt(store, "my secret password typed as a name", T0)
    key = login_throttle.throttle_key("My Secret Password typed as a name ")
    assert "secret" not in key and len(key) == 64
    state = store.login_throttle_for_update(key, T0)
    assert state.failures == 1


def test_old_records_are_purged(store: PlaceStore):
    store.save_login_throttle("old", LoginThrottle(3, None, T0))
    store.save_login_throttle("locked", LoginThrottle(9, T0 + timedelta(hours=2), T0))
    store.save_login_throttle("new", LoginThrottle(1, None, T0 + timedelta(hours=2)))
    assert store.purge_login_throttles(T0 + timedelta(hours=1)) == 1
    assert store.login_throttle_for_update("locked", T0).failures == 9
    store.clear_login_throttle("locked")
    assert store.login_throttle_for_update("locked", T0).failures == 0


def test_count_hit_with_no_cost_only_reads(store: PlaceStore):
    t = datetime(2025, 5, 1, 12, 0, 5, tzinfo=UTC)
    assert store.count_hit("join:a", 60, t, cost=0) == 0
    assert store.count_hit("join:a", 60, t) == 1
    assert store.count_hit("join:a", 60, t, cost=0) == 1
    assert store.count_hit("join:a", 60, t, cost=2) == 3
    assert store.count_hit("join:a", 60, t + timedelta(seconds=60), cost=0) == 0
