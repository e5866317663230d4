"""What a venue laptop and the central atlas compare, record by record, when a workshop's
contributions sync back.

Each record has a *revision* on the laptop (it changes whenever the record does) and a
*state*: the fields both sides share, as JSON values. A change goes up with the state
both sides last agreed on (its base); the central atlas applies it only if its own
state still equals that base, and otherwise keeps it as a conflict for a moderator.

A place that came in the kit shares only what a moderator at the venue may change
(:data:`KIT_PLACE_FIELDS`: never its location, which the kit may hold generalised); a
place made at the venue shares everything its contributor gave (:data:`VENUE_PLACE_FIELDS`).
Every change has a submission id made from the kit, the record and its revision
(:func:`submission_id`), the same however often it is sent.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from shapely.geometry import mapping

from geodata.models import NarrativeAddition, Place
from geodata.place_attachments import Recording
from geodata.store.records import iso

KIT_PLACE_FIELDS = (
    "title",
    "narratives",
    "category",
    "period",
    "year_from",
    "year_to",
    "tags",
    "status",
    "reason",
)
VENUE_PLACE_FIELDS = (
    *KIT_PLACE_FIELDS,
    "geometry",
    "sensitivity",
    "licence",
    "consent",
    "contributor",
    "workshop",
)
ADDITION_FIELDS = ("status", "reason")
RECORDING_FIELDS = ("scope", "title", "transcript", "transcript_language")
# The kinds of record a venue pushes, in the order their changes go up (a place before
# the memories and photos that belong to it).
KINDS = ("place", "narrative", "photo", "recording")
_NAMESPACE = uuid.UUID("6f1d3d1e-5c1b-4b8e-9a57-8d1f0c2a7e41")


def place_fields(origin: str) -> tuple[str, ...]:
    return KIT_PLACE_FIELDS if origin == "kit" else VENUE_PLACE_FIELDS


def place_state(place: Place, reason: str | None, fields: tuple[str, ...]) -> dict[str, Any]:
    """The place's ``fields`` as JSON values (``reason``: why it is rejected, if it is)."""
    c = place.consent
    values: dict[str, Any] = {
        "title": place.title,
        # The place's own story; memories and translations are records of their own.
        "narratives": [n.to_json() for n in place.narratives if not n.added],
        "category": place.category,
        "period": place.period,
        "year_from": place.year_from,
        "year_to": place.year_to,
        "tags": list(place.tags),
        "status": str(place.status),
        "reason": reason if place.status == "rejected" else None,
        "sensitivity": str(place.sensitivity),
        "licence": place.licence,
        "consent": {
            "publish": c.publish,
            "open_data": c.open_data,
            "research": c.research,
            "given_at": iso(c.given_at) if c.given_at else None,
        },
        "contributor": {
            "name": place.contributor_name,
            "contact": place.contributor_contact,
            "display_name": place.display_name,
        },
        "workshop": place.workshop,
    }
    if "geometry" in fields:
        values["geometry"] = orjson.loads(orjson.dumps(mapping(place.geometry)))
    return {k: values[k] for k in fields}


def addition_state(addition: NarrativeAddition) -> dict[str, Any]:
    return {"status": str(addition.status), "reason": addition.reason}


def recording_state(recording: Recording) -> dict[str, Any]:
    return {
        "scope": str(recording.scope),
        "title": recording.title,
        "transcript": recording.transcript,
        "transcript_language": recording.transcript_language,
    }


def place_revision(place: Place) -> str:
    return str(place.version)


def addition_revision(addition: NarrativeAddition) -> str:
    return f"{addition.status}@{iso(addition.updated_at)}"


def recording_revision(recording: Recording) -> str:
    return hashlib.sha256(orjson.dumps(recording_state(recording))).hexdigest()[:16]


PHOTO_REVISION = "1"  # a photo never changes; it is added or removed


def submission_id(kit_id: str, kind: str, record_id: str, revision: str) -> str:
    """The id of one change: the same for the same kit, record and revision, so a change
    sent twice (or again after a crash) is recognised."""
    return str(uuid.uuid5(_NAMESPACE, f"{kit_id}/{kind}/{record_id}/{revision}"))
