"""The store's contract for contributions (workshops, edit tokens, flags, photos) and for
the request bookkeeping every worker shares (idempotent answers, rate-limit hits,
service secrets); the backends' sides are ``sqlite_contributions`` and
``postgis_contributions``."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from geodata.models import Workshop
from geodata.place_attachments import Media, PlaceFlag


class ContributionsContract(abc.ABC):
    """Abstract methods of :class:`~geodata.store.base.PlaceStore` for contributions."""

    # -- workshops -----------------------------------------------------------
    @abc.abstractmethod
    def add_workshop(self, workshop: Workshop) -> Workshop:
        """Store a new workshop; raise Conflict if its code is taken."""

    @abc.abstractmethod
    def get_workshop(self, code: str) -> Workshop:
        """The workshop with this join code (case-insensitive); raise NotFound."""

    @abc.abstractmethod
    def workshops(self) -> list[Workshop]:
        """All workshops, newest first."""

    # -- contributions: edit tokens, flags, photos ------------------------------
    @abc.abstractmethod
    def set_edit_token_hash(self, place_id: str, token_hash: str) -> None:
        """Store (or replace) the hash of a place's private edit token."""

    @abc.abstractmethod
    def edit_token_hash(self, place_id: str) -> str | None:
        """The stored edit-token hash of a place, None if it has none (or does not exist)."""

    @abc.abstractmethod
    def add_flags(self, flags: Sequence[PlaceFlag]) -> None:
        """Store moderator hints; a repeated (place, kind, other place) is ignored."""

    @abc.abstractmethod
    def flags(self, place_id: str | None = None, kind: str | None = None) -> list[PlaceFlag]:
        """Hints, oldest first, for one place and/or of one kind (None: all)."""

    @abc.abstractmethod
    def add_media(self, media: Media) -> Media:
        """Store a photo's record after the place's last one (sets ``position``); NotFound
        if the place does not exist."""

    @abc.abstractmethod
    def media(self, place_id: str) -> list[Media]:
        """A place's photos in order."""

    @abc.abstractmethod
    def media_for_places(self, place_ids: Sequence[str]) -> dict[str, list[Media]]:
        """Photos of many places at once, each list in order (places without any left out)."""

    @abc.abstractmethod
    def get_media(self, media_id: str) -> Media:
        """One photo's record; raise NotFound."""

    @abc.abstractmethod
    def delete_media(self, media_id: str) -> None:
        """Forget a photo's record (its files are the caller's to remove); raise NotFound."""

    # -- request bookkeeping shared by every worker ---------------------------
    @abc.abstractmethod
    def idempotent_response(self, key_hash: str) -> IdempotentResponse | None:
        """The answer stored for an Idempotency-Key (hashed), if any."""

    @abc.abstractmethod
    def save_idempotent_response(self, key_hash: str, response: IdempotentResponse) -> None:
        """Remember the answer for an Idempotency-Key; raise Conflict if it is taken."""

    @abc.abstractmethod
    def purge_idempotent_responses(self, before: datetime) -> int:
        """Forget answers stored before ``before``; return how many."""

    @abc.abstractmethod
    def count_hit(
        self, bucket: str, window_s: int, at: datetime | None = None, cost: int = 1
    ) -> int:
        """Count ``cost`` hits (usually one) in ``bucket``'s current fixed window of
        ``window_s`` seconds and return the window's hits so far (these included); older
        windows are dropped. ``cost=0`` only reads the count."""

    @abc.abstractmethod
    def secret(self, name: str, create: Callable[[], bytes]) -> bytes:
        """A service-wide secret; the first caller's ``create()`` value wins for everyone."""


@dataclass(frozen=True)
class IdempotentResponse:
    """The first answer to a request made with an Idempotency-Key."""

    request_hash: str  # what the request was: a retry must match it
    status: int
    body: bytes  # as the backend keeps it (the web layer encrypts it first)
    created_at: datetime
