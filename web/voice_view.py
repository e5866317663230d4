"""Recordings as pages show them: an ``<audio>`` element's source, the duration in
words players use, the transcript beside it. Used by place pages, and by any page of a
walk stop (a stop is a public place: it plays that place's public recordings)."""

from __future__ import annotations

from dataclasses import dataclass

from geodata.place_attachments import Recording
from geodata.store.base_recordings import RecordingStore
from geodata.voices import public_recordings


def format_duration(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``), as players show it."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class VoiceView:
    id: str
    url: str
    mime_type: str
    duration: str  # m:ss
    duration_s: float
    title: str | None
    transcript: str | None
    transcript_language: str | None
    scope: str = "public"


def voice_view(item: Recording) -> VoiceView:
    return VoiceView(
        item.id,
        f"/audio/{item.id}",
        item.mime_type,
        format_duration(item.duration_s),
        item.duration_s,
        item.title,
        item.transcript,
        item.transcript_language,
        str(item.scope),
    )


def public_voices(store: RecordingStore, place_id: str) -> list[VoiceView]:
    """The recordings of a public place that anyone may hear, as a page shows them."""
    return [voice_view(r) for r in public_recordings(store, place_id)]
