"""What hangs on a place beside its narratives: photos, recordings (with who may hear
them), moderators' flags and Local Contexts labels."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from geodata.models import utcnow


def new_media_id() -> str:
    return "md_" + secrets.token_urlsafe(9)


@dataclass
class Media:
    """A photo of a place: a re-encoded image and its thumbnail, files under the media dir."""

    place_id: str
    mime_type: str
    width: int
    height: int
    bytes: int
    path: str  # relative to the media directory
    thumb_path: str
    thumb_width: int
    thumb_height: int
    sha256: str
    caption: str | None = None
    id: str = field(default_factory=new_media_id)
    position: int = 0  # set by the store: 1, 2, 3... in the order photos were added
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class PlaceFlag:
    """A hint for moderators about a place, e.g. that it may duplicate another one: its
    kind and the values it was made from (``params``), in no language, so that each
    moderator reads it in their own. ``detail`` is a note an older version stored as an
    English sentence instead (shown as it was written)."""

    place_id: str
    kind: str  # "possible_duplicate"
    other_place_id: str | None
    detail: str = ""
    created_at: datetime = field(default_factory=utcnow)
    params: Mapping[str, str | int | float] = field(default_factory=dict)

    def stored_note(self) -> str:
        """The store's ``detail`` column: the parameters as a JSON object, or (a flag
        made before parameters) the English sentence."""
        if self.params:
            return json.dumps(dict(self.params), ensure_ascii=False, sort_keys=True)
        return self.detail

    @classmethod
    def from_stored(
        cls, place_id: str, kind: str, other: str | None, note: str, created_at: datetime
    ) -> PlaceFlag:
        """A flag read back: a JSON object is its parameters, anything else an old note
        (those are English sentences and never start with a brace)."""
        if note.startswith("{"):
            try:
                params = json.loads(note)
            except ValueError:
                params = None
            if isinstance(params, dict):
                return cls(place_id, kind, other, "", created_at, params)
        return cls(place_id, kind, other, note, created_at)


@dataclass(frozen=True)
class ProtocolLabel:
    """A Local Contexts Traditional Knowledge (TK) or Biocultural (BC) label on a place."""

    label_id: str  # e.g. "tk_a"
    name: str  # e.g. "TK Attribution"
    text: str  # the community's own wording of the protocol
    url: str | None = None  # the label on the Local Contexts Hub


class AudioScope(StrEnum):
    """Who may hear a recording: its own consent, apart from the place's."""

    PUBLIC = "public"  # played on the place's page and walk stops; transcript searchable
    WORKSHOP = "workshop"  # played only to signed-in staff (in the workshop room)
    ARCHIVE = "archive"  # kept for the archive: played to no one, in admins' backups only


def new_recording_id() -> str:
    return "au_" + secrets.token_urlsafe(9)


@dataclass
class Recording:
    """A recording of a place (an oral history, a song, a street sound): a file stripped
    of every tag under the media directory, its duration, and an optional transcript.

    It belongs to a place, or (``walk_id`` set) to that walk's stop at the place, made by
    the walk's proposer. A walk stop plays both: its own, then its place's public ones
    (see :func:`geodata.voices.playable`)."""

    place_id: str
    mime_type: str
    duration_s: float
    bytes: int
    path: str  # relative to the media directory
    sha256: str
    scope: AudioScope = AudioScope.PUBLIC
    title: str | None = None  # what it is, in the resident's words
    transcript: str | None = None  # what is said, in any language
    transcript_language: str | None = None  # a BCP 47 tag
    walk_id: str | None = None  # set: made for this walk's stop at the place
    id: str = field(default_factory=new_recording_id)
    position: int = 0  # set by the store: 1, 2, 3... in the order they were added
    created_at: datetime = field(default_factory=utcnow)
