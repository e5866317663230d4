"""Accepting a submission once: an ``Idempotency-Key`` makes a retry replay the first
answer (kept encrypted under a key derived from the client's, since it holds the edit
token), and the key's check, the rate limit and every write share one transaction.
Used by the API and by the plain form alike."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import Request
from starlette.responses import Response

from geodata import contributions
from geodata.errors import InvalidInput
from geodata.models import utcnow
from geodata.schemas import Problem
from geodata.store.base import PlaceStore
from geodata.store.base_contributions import IdempotentResponse
from web.public_url import public_base_url
from web.rate_limits import count_submission
from web.settings import Settings

T = TypeVar("T")
IDEMPOTENCY_TTL = timedelta(hours=24)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{8,255}")


def edit_url(request: Request, settings: Settings, place_id: str, token: str) -> str:
    return f"{public_base_url(request, settings)}/contribute/edit/{place_id}?token={token}"


def _key_hash(key: str) -> str:
    return hashlib.sha256(b"idempotency-lookup\0" + key.encode()).hexdigest()


def _seal(key: str, answer: bytes) -> bytes:
    # The stored answer holds the edit token; encrypting it with a key derived from the
    # client's Idempotency-Key keeps "the token is stored only as a hash" true.
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(_answer_key(key)).encrypt(nonce, answer, None)


def _open(key: str, sealed: bytes) -> bytes:
    return AESGCM(_answer_key(key)).decrypt(sealed[:12], sealed[12:], None)


def _answer_key(key: str) -> bytes:
    return hashlib.sha256(b"idempotency-answer\0" + key.encode()).digest()


def _replay(prior: IdempotentResponse, key: str, request_hash: str) -> Accepted:
    if prior.request_hash != request_hash:
        raise InvalidInput(
            "this Idempotency-Key was already used for a different request; "
            "use a new key for a new submission",
            code="idempotency_key_reused",
        )
    try:
        return Accepted(_open(key, prior.body), replayed=True)
    except (InvalidTag, ValueError):
        raise InvalidInput(
            "this Idempotency-Key cannot be replayed; use a new key", code="idempotency_key_reused"
        ) from None


@dataclass
class Accepted:
    """The answer to a submission: its JSON body, and whether it replays an earlier one."""

    body: bytes
    replayed: bool = False

    @property
    def receipt(self) -> dict[str, Any]:
        return orjson.loads(self.body)

    def response(self) -> Response:
        # The answer names where to find what was made (a place's own URL by default).
        location = self.receipt.get("location") or f"/api/places/{self.receipt['id']}"
        headers = {"Location": location, "Cache-Control": "no-store"}
        if self.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(self.body, status_code=201, media_type="application/json", headers=headers)


def _check_key(key: str) -> None:
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput(
            "the Idempotency-Key must be 8 to 255 visible ASCII characters; a random UUID is best",
            code="bad_idempotency_key",
            problems=[
                Problem(
                    "Idempotency-Key",
                    "bad_idempotency_key",
                    "use 8 to 255 visible ASCII characters",
                )
            ],
        )


def accept_submission(
    request: Request,
    key: str | None,
    request_hash: str,
    prepare: Callable[[], contributions.PreparedPlace],
) -> Accepted:
    """Replay the first answer for ``key``, or check (``prepare``), rate-limit and store a
    new place; the check of the key, the limit and every write share one transaction."""
    settings: Settings = request.app.state.settings

    def save(prepared: contributions.PreparedPlace) -> bytes:
        # The domain attached the place to its workshop only if the code is open now.
        count_submission(request, prepared.place.workshop)
        receipt = contributions.save_submission(request.app.state.store, prepared)
        place = receipt.place
        return orjson.dumps(
            {
                "id": place.id,
                "status": str(place.status),
                "edit_token": receipt.edit_token,
                "edit_url": edit_url(request, settings, place.id, receipt.edit_token),
                "url": f"/api/places/{place.id}",
                "warnings": receipt.warnings,
            }
        )

    return accept_once(request, key, request_hash, prepare, save)


def accept_once(
    request: Request,
    key: str | None,
    request_hash: str,
    prepare: Callable[[], T],
    save: Callable[[T], bytes],
) -> Accepted:
    """Replay the first answer for ``key``, or check (``prepare``) and ``save`` what was
    sent, which gives the answer; the check of the key and every write of ``save`` (its
    rate limit included) share one transaction."""
    store: PlaceStore = request.app.state.store
    key_hash = None
    if key is not None:
        _check_key(key)
        key_hash = _key_hash(key)
        prior = store.idempotent_response(key_hash)
        if prior is not None:
            return _replay(prior, key, request_hash)
    prepared = prepare()
    with store.transaction():
        if key is not None and key_hash is not None:
            prior = store.idempotent_response(key_hash)  # a twin request may have won
            if prior is not None:
                return _replay(prior, key, request_hash)
        answer = save(prepared)
        if key is not None and key_hash is not None:
            store.save_idempotent_response(
                key_hash,
                IdempotentResponse(request_hash, 201, _seal(key, answer), utcnow()),
            )
    if key_hash is not None and secrets.randbelow(200) == 0:
        store.purge_idempotent_responses(utcnow() - IDEMPOTENCY_TTL)  # now and then
    return Accepted(answer)
