"""Staff accounts: facilitators, planners and admins, their API tokens and sessions.

A credential (API token or browser session) reads ``<id>.<secret>``: the id is not
secret and finds the stored row in one lookup, the secret is checked against an
argon2id hash, which is all the database keeps. Passwords are argon2id hashes too.
Sessions live in the database, so any worker (or host) can check any session, and
revoking a token or signing out takes effect everywhere at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geodata.account_records import Account, Credential, Role
from geodata.audit import COMMAND_LINE, Actor, record_account_event
from geodata.errors import HeritageError, InvalidInput, NotFound
from geodata.models import utcnow
from geodata.store.base import PlaceStore

TOKEN = "token"
SESSION = "session"
TOKEN_PREFIX = "hat_"  # makes a leaked token easy to recognise (and to scan for)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_NAME = re.compile(r"[\w.@-]{2,64}")
_CREDENTIAL = re.compile(r"(?:hat_)?([0-9a-f]{16})\.([A-Za-z0-9_-]{20,100})")

# Passwords get argon2id's recommended cost (RFC 9106's second option): people choose
# guessable ones. Tokens and session secrets carry 256 random bits, so a cheaper setting
# (OWASP's minimum) costs every request little and still makes the hash slow to test.
PASSWORDS = PasswordHasher()
SECRETS = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class NotSignedIn(HeritageError):
    """No credential, or one that is unknown, expired, revoked or wrong."""

    code = "not_signed_in"
    status = 401


class NotAllowed(HeritageError):
    """Signed in, but the account's role may not do this."""

    code = "not_allowed"
    status = 403


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"{text!r:.30} is not a role; choose one of: {', '.join(r.value for r in Role)}",
            code="unknown_role",
        ) from None


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "an account name is 2 to 64 letters, digits, dots, dashes, underscores or @",
            code="bad_account_name",
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD} characters (a few words make a good one)",
            code="weak_password",
        )
    return password


def create_account(
    store: PlaceStore,
    name: str,
    role: Role | str,
    *,
    password: str | None = None,
    created_by: Account | None = None,
) -> tuple[Account, str]:
    """A new account and its first API token (shown once); Conflict if the name is taken."""
    role = role if isinstance(role, Role) else parse_role(role)
    account = Account(name=check_name(name), role=role)
    if password is not None:
        account.password_hash = PASSWORDS.hash(check_password(password))
    with store.transaction():
        store.add_account(account)  # Conflict if the name is taken
        token, _ = issue_token(store, account, label="created with the account")
        actor = Actor.of(created_by) if created_by else COMMAND_LINE
        record_account_event(store, "account_create", actor, f"{account.name} ({account.role})")
    return account, token


def set_password(store: PlaceStore, account: Account, password: str) -> Account:
    account.password_hash = PASSWORDS.hash(check_password(password))
    return store.update_account(account)


def sign_in(store: PlaceStore, name: str, password: str) -> Account:
    """The account, if ``password`` is its password; NotSignedIn otherwise (same message
    whether the name or the password is wrong)."""
    wrong = NotSignedIn("the name or the password is wrong", code="wrong_password")
    account = store.account_by_name(name.strip()) if name.strip() else None
    if account is None or account.password_hash is None or account.disabled_at:
        PASSWORDS.hash(password[:MAX_PASSWORD])  # the same time spent: names stay private
        raise wrong
    try:
        PASSWORDS.verify(account.password_hash, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        raise wrong from None
    if PASSWORDS.check_needs_rehash(account.password_hash):
        set_password(store, account, password)
    return account


# ---------------------------------------------------------------------------
# Credentials: API tokens and sessions
# ---------------------------------------------------------------------------


def _issue(
    store: PlaceStore, account: Account, kind: str, label: str | None, ttl: timedelta | None
) -> tuple[str, Credential]:
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    credential = Credential(
        account_id=account.id,
        kind=kind,
        secret_hash=SECRETS.hash(secret),
        label=label,
        created_at=now,
        expires_at=now + ttl if ttl else None,
    )
    store.add_credential(credential)
    value = f"{credential.id}.{secret}"
    return (TOKEN_PREFIX + value if kind == TOKEN else value), credential


def issue_token(
    store: PlaceStore, account: Account, label: str | None = None
) -> tuple[str, Credential]:
    """A new API token for ``account`` (the value is shown once, only its hash kept)."""
    return _issue(store, account, TOKEN, label, None)


def start_session(store: PlaceStore, account: Account, ttl: timedelta) -> tuple[str, Credential]:
    """A new browser session lasting ``ttl``; the value goes in the session cookie."""
    if secrets.randbelow(50) == 0:
        store.purge_credentials(utcnow())  # now and then, forget expired sessions
    return _issue(store, account, SESSION, None, ttl)


class _VerifiedSecrets:
    """Which (credential id, secret, stored hash) triples this process already verified.

    Keyed by a SHA-256 of the secret, so the secret itself is not kept in memory. Only
    the argon2 work is saved: the credential row is still read on every request, so a
    revocation or an expiry takes effect at once in every worker.
    """

    def __init__(self, size: int = 1024) -> None:
        self._seen: OrderedDict[tuple[str, bytes, str], None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    @staticmethod
    def _key(credential: Credential, secret: str) -> tuple[str, bytes, str]:
        return credential.id, hashlib.sha256(secret.encode()).digest(), credential.secret_hash

    def verify(self, credential: Credential, secret: str) -> bool:
        key = self._key(credential, secret)
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
        try:
            SECRETS.verify(credential.secret_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        with self._lock:
            self._seen[key] = None
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
        return True


_verified = _VerifiedSecrets()


def authenticate(
    store: PlaceStore, value: str, kind: str, at: datetime | None = None
) -> tuple[Account, Credential]:
    """The account and credential a token or session value belongs to; NotSignedIn if it
    is malformed, unknown, of another kind, expired, revoked, wrong or its account is off."""
    at = at or utcnow()
    match = _CREDENTIAL.fullmatch(value.strip())
    what = "API token" if kind == TOKEN else "session"
    if match is None:
        raise NotSignedIn(f"this {what} is not valid; sign in again", code="bad_credential")
    credential = store.get_credential(match.group(1))
    if (
        credential is None
        or credential.kind != kind
        or credential.revoked_at is not None
        or (credential.expires_at is not None and credential.expires_at <= at)
        or not _verified.verify(credential, match.group(2))
    ):
        raise NotSignedIn(
            f"this {what} is unknown, expired or revoked; sign in again", code="bad_credential"
        )
    account = store.get_account(credential.account_id)
    if account.disabled_at is not None:
        raise NotSignedIn("this account is disabled", code="account_disabled")
    return account, credential


def revoke_token(store: PlaceStore, credential_id: str, by: Account | None = None) -> Credential:
    """Revoke an API token or session at once; NotFound if there is none with this id.

    Someone who is not an admin may revoke only their own credentials.
    """
    credential_id = credential_id.strip().removeprefix(TOKEN_PREFIX).split(".")[0]
    credential = store.get_credential(credential_id)
    if credential is None or (
        by is not None and by.role != Role.ADMIN and credential.account_id != by.id
    ):
        raise NotFound(f"there is no token {credential_id}")
    with store.transaction():
        if store.revoke_credential(credential.id, utcnow()):
            record_account_event(
                store,
                "token_revoke",
                Actor.of(by) if by else COMMAND_LINE,
                f"{credential.kind} {credential.id} of account {credential.account_id}",
            )
    return store.get_credential(credential.id) or credential


def end_session(store: PlaceStore, value: str) -> None:
    """Sign out: forget the session (a value that is no session is ignored)."""
    match = _CREDENTIAL.fullmatch(value.strip())
    if match is not None:
        credential = store.get_credential(match.group(1))
        if credential is not None and credential.kind == SESSION:
            store.delete_credential(credential.id)


def csrf_token(session_value: str, key: bytes) -> str:
    """The token a signed-in page sends back with every change (bound to its session)."""
    return hmac.new(key, b"csrf\0" + session_value.encode(), hashlib.sha256).hexdigest()
