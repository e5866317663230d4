"""A central atlas with a workshop to make a kit of, and a venue opened from that kit: the
Lisbon demo plus records that test what a kit may carry (personal data, a generalised
and a hidden place, a pending one, a photo, public and archive recordings, a memory)."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import Image
from shapely.geometry import Point

from geodata.audit import COMMAND_LINE
from geodata.demo import load_demo
from geodata.kit_export import KitSummary, VenueSettings, export_kit
from geodata.media import add_photo
from geodata.models import (
    Consent,
    Narrative,
    NarrativeAddition,
    NarrativeKind,
    Place,
    Provenance,
    Sensitivity,
    Status,
    utcnow,
)
from geodata.narrative_additions import sync_narratives
from geodata.place_attachments import AudioScope
from geodata.store.base import PlaceStore
from geodata.store.base_sync import SyncConflict
from geodata.voices import RecordingDetails, add_recording
from geodata.workshops import WorkshopPlan, create_workshop
from tests.conftest import ROOT, SECRET_CONTACT, SECRET_DISPLAY, SECRET_NAME

AUDIO = ROOT / "tests" / "fixtures" / "audio"
ARCHIVE_TRANSCRIPT = "ARCHIVE-ONLY-TRANSCRIPT-5521"
FADO_CONTACT = "fado.corner.5521@example.org"


def jpeg(size: tuple[int, int] = (3000, 2000), colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


@dataclass(frozen=True)
class Central:
    """Ids of what the central atlas holds besides the demo, by role."""

    code: str
    generalised: str
    hidden: str
    pending: str
    with_photo: str
    photo: str
    public_recording: str
    archive_recording: str
    memory: str


def _place(title: str, point: Point, **kw) -> Place:
    kw.setdefault("status", Status.PUBLISHED)
    kw.setdefault("contributor_contact", SECRET_CONTACT)
    return Place(
        geometry=point,
        title=title,
        category="memory",
        narratives=[Narrative(f"{title}: a story told at the market", "pt")],
        contributor_name=SECRET_NAME,
        display_name=SECRET_DISPLAY,
        consent=Consent(open_data=True),
        **kw,
    )


def central_atlas(store: PlaceStore, media_dir: Path, moderation: str = "pre") -> Central:
    """The demo, a workshop open now, and the records a kit must treat with care."""
    load_demo(store)
    now = utcnow()
    workshop = create_workshop(
        store,
        WorkshopPlan("Mouraria memories", now - timedelta(hours=1), now + timedelta(hours=5),
                     moderation=moderation, languages=["pt", "en"]),
        COMMAND_LINE,
    )  # fmt: skip
    generalised = _place("Grandmother's doorstep", Point(-9.13512, 38.71346),
                         sensitivity=Sensitivity.GENERALISED)  # fmt: skip
    hidden = _place("Secret garden path", Point(-9.1450, 38.7150), sensitivity=Sensitivity.HIDDEN)
    pending = _place("PENDING-UNIQUE-TITLE", Point(-9.1400, 38.7100), status=Status.PENDING)
    shown = _place("Fado corner", Point(-9.1330, 38.7130), contributor_contact=FADO_CONTACT)
    for p in (generalised, hidden, pending, shown):
        store.add(p)
    photo = add_photo(store, media_dir, shown.id, jpeg(), "The corner in 1968")
    with open(AUDIO / "tone.mp3", "rb") as sound:
        details = RecordingDetails(AudioScope.PUBLIC, "A fado", "Ai Mouraria", "pt")
        public = add_recording(store, media_dir, shown.id, sound, details).recording
    with open(AUDIO / "tone.vorbis.ogg", "rb") as sound:
        details = RecordingDetails(AudioScope.ARCHIVE, "Private", ARCHIVE_TRANSCRIPT, "pt")
        archive = add_recording(store, media_dir, shown.id, sound, details).recording
    memory = NarrativeAddition(
        place_id=shown.id, kind=NarrativeKind.MEMORY, text="My father sang here every Friday.",
        language="en", provenance=Provenance.ORIGINAL, consent_given_at=now,
        author=SECRET_DISPLAY, contributor_contact=SECRET_CONTACT, status=Status.PUBLISHED,
    )  # fmt: skip
    store.add_narrative_addition(memory)
    sync_narratives(store, shown.id)
    return Central(
        workshop.code, generalised.id, hidden.id, pending.id, shown.id, photo.id, public.id,
        archive.id, memory.id,
    )  # fmt: skip


def make_kit(store: PlaceStore, code: str, target: Path, media_dir: Path, **kw) -> KitSummary:
    return export_kit(store, code, target, media_dir, VenueSettings(), **kw)


def copy_kit(kit: Path, folder: Path) -> Path:
    """The kit copied into ``folder`` (as a facilitator copies it to the venue laptop)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(kit, folder / kit.name))


def venue_change(store: PlaceStore, place_id: str) -> None:
    """A change a workshop venue pushed that the atlas kept for a moderator to decide."""
    base = {"title": "Chafariz d'El-Rei", "period": "século XVIII"}
    state = {"title": "Chafariz de El-Rei", "period": "séculos XVI a XVIII"}
    store.add_sync_conflict(
        SyncConflict("0c1e7a52-5a9e-4c52-9d39-0d8c2f6e4b11", "3f0c3b9e-8d5e-4a51-b0a4-"
                     "2c6f1f3f7a10", "place", place_id, "edited_centrally",
                     {"id": "0c1e7a52-5a9e-4c52-9d39-0d8c2f6e4b11", "kind": "place",
                      "record": place_id, "origin": "kit", "base": base, "state": state,
                      "extra": {}}, place_id=place_id)
    )  # fmt: skip
