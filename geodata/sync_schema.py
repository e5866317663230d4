"""What a venue laptop sends the central atlas when it syncs, by type (pydantic, strict):
a batch of changes, a file's change, a pull request, and the shapes of the states they
carry (:mod:`geodata.sync_state`). The rules that need the atlas's data are checked by
:mod:`geodata.sync_receive`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from geodata.models import Provenance, Sensitivity, Status
from geodata.schemas import ContributorIn

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
RECORD_ID = r"^(pl|nr|md|au)_[A-Za-z0-9_-]{1,40}$"
MAX_CHANGES = 100  # per batch; a laptop sends batches of 25 by default
MAX_PULL = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ChangeIn(_Strict):
    id: str = Field(pattern=UUID, description="the change's submission id (a UUID)")
    kind: Literal["place", "narrative", "recording", "deletion"]
    record: str = Field(pattern=RECORD_ID, description="the record's id, the same everywhere")
    origin: Literal["kit", "venue"] = Field(
        description="'kit': it came in the kit (a central record); 'venue': made there"
    )
    base: dict[str, Any] | None = Field(
        None, description="the shared fields as both sides last agreed; null for a new record"
    )
    state: dict[str, Any] | None = Field(None, description="the shared fields at the venue now")
    extra: dict[str, Any] = Field(default_factory=dict, description="what a new record adds")


class BatchIn(_Strict):
    kit: str = Field(pattern=UUID, description="the kit's id (its manifest's kit_id)")
    changes: list[ChangeIn] = Field(max_length=MAX_CHANGES)


class FileChangeIn(_Strict):
    """A new photo or recording; its file travels beside it in the same request."""

    kit: str = Field(pattern=UUID)
    id: str = Field(pattern=UUID)
    kind: Literal["photo", "recording"]
    record: str = Field(pattern=RECORD_ID)
    place_id: str = Field(pattern=RECORD_ID)
    caption: str | None = Field(None, max_length=1000)
    scope: str | None = Field(None, max_length=20)
    title: str | None = Field(None, max_length=1000)
    transcript: str | None = Field(None, max_length=40_000)
    transcript_language: str | None = Field(None, max_length=100)


class RecordRef(_Strict):
    kind: Literal["place", "narrative", "photo", "recording"]
    id: str = Field(pattern=RECORD_ID)


class PullIn(_Strict):
    kit: str = Field(pattern=UUID)
    records: list[RecordRef] = Field(max_length=MAX_PULL)


# -- the states a change carries ---------------------------------------------------------


class NarrativeState(_Strict):
    text: str
    language: str
    provenance: Provenance = Provenance.ORIGINAL
    source: str | None = None
    licence: str | None = None


class ConsentState(_Strict):
    publish: bool
    open_data: bool
    research: bool
    given_at: str | None = None


class PlaceState(_Strict):
    """A place's shared fields (any of them: a kit place shares fewer)."""

    title: str | None = None
    narratives: list[NarrativeState] | None = Field(None, max_length=10)
    category: str | None = None
    period: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    tags: list[str] | None = Field(None, max_length=20)
    status: Status | None = None
    reason: str | None = None
    geometry: Any = None
    sensitivity: Sensitivity | None = None
    licence: str | None = None
    consent: ConsentState | None = None
    contributor: ContributorIn | None = None
    workshop: str | None = None


class NewPlaceExtra(_Strict):
    created_at: str
    edit_token_hash: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class AdditionState(_Strict):
    status: Status
    reason: str | None = None


class NewAdditionExtra(_Strict):
    place_id: str = Field(pattern=RECORD_ID)
    kind: Literal["memory", "translation"]
    text: str
    language: str
    provenance: Provenance
    author: str | None = None
    contact: str | None = None
    translates: str | None = None
    translates_hash: str | None = Field(None, max_length=64)
    consent_given_at: str
    created_at: str


class RecordingState(_Strict):
    scope: str
    title: str | None = None
    transcript: str | None = None
    transcript_language: str | None = None


class DeletionExtra(_Strict):
    of: Literal["place", "narrative", "photo", "recording"]
