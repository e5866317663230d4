"""Private edit tokens: random, shown once to the contributor, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from geodata.errors import HeritageError
from geodata.models import Place
from geodata.store.base import PlaceStore


class EditTokenRequired(HeritageError):
    code = "edit_token_required"
    status = 401


class WrongEditToken(HeritageError):
    code = "wrong_edit_token"
    status = 403


def new_edit_token() -> tuple[str, str]:
    """A fresh private edit token and the hash to store (the token is shown once)."""
    token = secrets.token_urlsafe(32)
    return token, hash_edit_token(token)


def hash_edit_token(token: str) -> str:
    # A plain SHA-256 is enough here: the token carries 256 random bits, so there is
    # nothing to brute-force and no need for a slow password hash (bcrypt/argon2),
    # which would only cost every edit request tens of milliseconds.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_edit_token(store: PlaceStore, place_id: str, token: str | None) -> Place:
    """The place, if ``token`` is its edit token; raise NotFound, EditTokenRequired or
    WrongEditToken otherwise."""
    place = store.get(place_id)
    require_token(store.edit_token_hash(place_id), token, "place", "submitted")
    return place


def require_token(stored: str | None, token: str | None, what: str, how: str) -> None:
    """Raise EditTokenRequired or WrongEditToken unless ``token`` hashes to ``stored``
    (the edit token of a ``what``: place, walk, that its contributor ``how``: submitted...)."""
    if not token:
        raise EditTokenRequired(
            f"this needs the {what}'s edit token: send it as "
            "'Authorization: Bearer <token>' or 'X-Edit-Token'"
        )
    if stored is None or not hmac.compare_digest(stored, hash_edit_token(token)):
        raise WrongEditToken(
            f"this edit token does not belong to this {what}; use the "
            f"private edit link you were given when you {how} it"
        )
