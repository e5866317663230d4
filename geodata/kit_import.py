"""Loading a checked workshop kit into a venue laptop's empty store.

Everything lands in one transaction (files first, into the working folder being built),
keeping every id the central atlas gave, and each record the kit brought is written to
the sync ledger as the venue's starting point: what is not in the ledger, or changed
since, is what the venue collected (:mod:`geodata.sync_outbox`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry import shape

from geodata.errors import InvalidInput
from geodata.kit_export import VenueSettings
from geodata.kit_format import KitError, VerifiedKit
from geodata.media import PhotoError, PhotoLimits, media_file, open_photo
from geodata.models import (
    Consent,
    Moderation,
    Narrative,
    NarrativeAddition,
    NarrativeKind,
    Place,
    Provenance,
    Sensitivity,
    Status,
    Workshop,
    utcnow,
)
from geodata.place_attachments import AudioScope, Media, ProtocolLabel, Recording
from geodata.store.base import PlaceStore
from geodata.store.base_sync import LedgerEntry
from geodata.store.records import parse_iso
from geodata.sync_state import (
    KIT_PLACE_FIELDS,
    PHOTO_REVISION,
    addition_revision,
    addition_state,
    place_revision,
    place_state,
    recording_revision,
    recording_state,
)
from geodata.walks import Walk, WalkStop

_BROUGHT = "kit"


@dataclass(frozen=True)
class KitContents:
    """What a kit brought, and the workshop and settings the venue runs with."""

    workshop: Workshop
    settings: VenueSettings
    neighbourhoods: int
    places: int
    additions: int
    photos: int
    recordings: int
    walks: int


def _time(value: str | None) -> datetime:
    return parse_iso(value) if value else utcnow()


def _place(f: dict[str, Any], neighbourhoods: dict[int, int]) -> Place:
    p = f["properties"]
    geometry = shape(f["geometry"])
    if geometry.is_empty or not geometry.is_valid:
        raise KitError(f"place {f['id']} in the kit has no valid location", code="damaged_kit")
    return Place(
        geometry=geometry,
        title=p["title"],
        narratives=[Narrative.from_json(n) for n in p["narratives"]],
        category=p["category"],
        id=f["id"],
        status=Status.PUBLISHED,
        period=p.get("period"),
        year_from=p.get("year_from"),
        year_to=p.get("year_to"),
        tags=list(p.get("tags") or []),
        sensitivity=Sensitivity(p.get("sensitivity", "public")),
        licence=p["licence"],
        attribution=p.get("attribution"),
        consent=Consent(
            publish=True, open_data=bool(p.get("open_data")), research=bool(p.get("research"))
        ),
        neighbourhood_id=neighbourhoods.get(p.get("neighbourhood_id") or 0),
        workshop=p.get("workshop"),
        created_at=_time(p.get("created_at")),
        updated_at=_time(p.get("updated_at")),
    )


def _addition(a: dict[str, Any]) -> NarrativeAddition:
    return NarrativeAddition(
        place_id=a["place_id"],
        kind=NarrativeKind(a["kind"]),
        text=a["text"],
        language=a["language"],
        provenance=Provenance(a["provenance"]),
        consent_given_at=_time(a.get("consent_given_at")),
        translates=a.get("translates"),
        translates_hash=a.get("translates_hash"),
        translates_version=a.get("translates_version"),
        status=Status.PUBLISHED,
        id=a["id"],
        created_at=_time(a.get("created_at")),
        updated_at=_time(a.get("updated_at")),
    )


def _walk(w: dict[str, Any]) -> Walk:
    return Walk(
        titles=[Narrative.from_json(n) for n in w["titles"]],
        introductions=[Narrative.from_json(n) for n in w["introductions"]],
        stops=[
            WalkStop(s["place_id"], [Narrative.from_json(n) for n in s["chapters"]])
            for s in w["stops"]
        ],
        route=shape(w["route"]) if w.get("route") else None,
        id=w["id"],
        status=Status.PUBLISHED,
        editorial=bool(w.get("editorial")),
        licence=w["licence"],
        consent=Consent(publish=True, open_data=bool(w.get("open_data"))),
        created_at=_time(w.get("created_at")),
    )


def _photo(kit: VerifiedKit, media_dir: Path, m: dict[str, Any]) -> Media:
    data = kit.read(m["path"])
    try:  # checked as any upload is (type, size, hidden markup), before it is kept
        open_photo(data, PhotoLimits(max_bytes=64 * 2**20)).close()
    except PhotoError as exc:
        raise KitError(f"{m['path']} in the kit: {exc.message}", code="damaged_kit") from None
    relative = f"{m['place_id']}/{Path(m['path']).name}"
    thumb = f"{m['place_id']}/{Path(m['thumb_path']).name}"
    media_file(media_dir, relative).parent.mkdir(parents=True, exist_ok=True)
    media_file(media_dir, relative).write_bytes(data)
    kit.extract(m["thumb_path"], media_file(media_dir, thumb))
    return Media(
        place_id=m["place_id"],
        mime_type=m["mime_type"],
        width=m["width"],
        height=m["height"],
        bytes=len(data),
        path=relative,
        thumb_path=thumb,
        thumb_width=m["thumb_width"],
        thumb_height=m["thumb_height"],
        sha256=hashlib.sha256(data).hexdigest(),
        caption=m.get("caption"),
        id=m["id"],
        created_at=_time(m.get("created_at")),
    )


def _recording(kit: VerifiedKit, media_dir: Path, r: dict[str, Any]) -> Recording:
    relative = f"{r['place_id']}/{Path(r['path']).name}"
    kit.extract(r["path"], media_file(media_dir, relative))
    return Recording(
        place_id=r["place_id"],
        mime_type=r["mime_type"],
        duration_s=float(r["duration_s"]),
        bytes=kit.manifest.members[r["path"]].bytes,
        path=relative,
        sha256=r["sha256"],
        scope=AudioScope.PUBLIC,
        title=r.get("title"),
        transcript=r.get("transcript"),
        transcript_language=r.get("transcript_language"),
        id=r["id"],
        created_at=_time(r.get("created_at")),
    )


def load_kit(kit: VerifiedKit, store: PlaceStore, media_dir: Path) -> KitContents:
    """Fill ``store`` (empty) and ``media_dir`` from ``kit``; raise KitError if its data
    do not hold together (the caller throws the half-built folder away)."""
    try:
        return _load(kit, store, media_dir)
    except (KeyError, TypeError, ValueError, InvalidInput) as exc:
        raise KitError(
            f"{kit.path.name}: the kit's data do not hold together ({type(exc).__name__}: "
            f"{exc}); export it again",
            code="damaged_kit",
        ) from None


def _load(kit: VerifiedKit, store: PlaceStore, media_dir: Path) -> KitContents:
    info = kit.manifest.info
    w = info["workshop"]
    areas = kit.read_json("data/neighbourhoods.json")
    features = kit.read_json("data/places.json")
    additions = [_addition(a) for a in kit.read_json("data/additions.json")]
    walks = [_walk(x) for x in kit.read_json("data/walks.json")]
    photos = [_photo(kit, media_dir, m) for m in kit.read_json("data/photos.json")]
    recordings = [_recording(kit, media_dir, r) for r in kit.read_json("data/recordings.json")]
    ledger: list[LedgerEntry] = []
    with store.transaction():
        stored = store.replace_neighbourhoods(
            [(a["name"], shape(a["geometry"]), a.get("code")) for a in areas]
        )
        ids = {a["id"]: n.id for a, n in zip(areas, stored, strict=True)}
        workshop = Workshop(
            code=w["code"],
            title=w["title"],
            starts_at=_time(w["starts_at"]),
            ends_at=_time(w["ends_at"]),
            neighbourhood_id=ids.get(w.get("neighbourhood_id") or 0),
            moderation=Moderation(w["moderation"]),
            languages=list(w.get("languages") or []),
        )
        store.add_workshop(workshop)
        places = [_place(f, ids) for f in features]
        told: dict[str, list[Narrative]] = {}
        for a in sorted(additions, key=lambda a: a.created_at):
            told.setdefault(a.place_id, []).append(a.narrative())
        for p in places:  # the published additions follow the place's own story
            p.narratives += told.get(p.id, [])
        store.add_many(places)
        for f in features:
            labels = f["properties"].get("protocol_labels") or []
            if labels:
                store.set_protocol_labels(f["id"], [ProtocolLabel(**x) for x in labels])
        for a in additions:
            store.add_narrative_addition(a)
        for walk in walks:
            store.add_walk(walk)
        for m in photos:
            store.add_media(m)
        for r in recordings:
            store.add_recording(r)
        for p in store.list():
            state = place_state(p, None, KIT_PLACE_FIELDS)
            ledger.append(LedgerEntry("place", p.id, _BROUGHT, place_revision(p), state, _BROUGHT))
        for a in additions:
            ledger.append(
                LedgerEntry(
                    "narrative", a.id, _BROUGHT, addition_revision(a), addition_state(a), _BROUGHT
                )
            )
        ledger += [
            LedgerEntry("photo", m.id, _BROUGHT, PHOTO_REVISION, None, _BROUGHT) for m in photos
        ]
        ledger += [
            LedgerEntry(
                "recording", r.id, _BROUGHT, recording_revision(r), recording_state(r), _BROUGHT
            )
            for r in recordings
        ]
        store.save_ledger(ledger)
    return KitContents(
        workshop,
        VenueSettings.from_json(info.get("settings") or {}),
        len(stored),
        len(places),
        len(additions),
        len(photos),
        len(recordings),
        len(walks),
    )
