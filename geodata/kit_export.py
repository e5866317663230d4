"""Writing a workshop kit: everything a laptop needs to run one workshop offline.

The kit holds the city's neighbourhoods, the public places with their stories and the
memories and translations published on them, their cultural-protocol labels, photos
scaled to projector size, public recordings, the published walks, the workshop and the
settings the venue runs with. It is built from public outputs only: each place through
:func:`geodata.privacy.public_view` (a generalised place at its grid cell, never its
true point; a place whose location is hidden is left out, as the maps leave it out),
with no contributor's name, contact or display name (as in the open-data downloads), no
account, no pending or rejected record.
A basemap rides along in the manifest's ``basemap`` slot when there is one
(:mod:`geodata.kit_basemap` chooses it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from geodata.kit_basemap import KitBasemap
from geodata.kit_format import KitWriter, Manifest
from geodata.media import PhotoError, PhotoLimits, media_file, process_photo
from geodata.models import NarrativeAddition, Place, Sensitivity, Status, utcnow
from geodata.privacy import PublicPlace, public_filter, public_view
from geodata.store.base import PlaceStore
from geodata.store.records import iso
from geodata.voices import playable
from geodata.walk_views import public_walk, shown_places
from geodata.walks import Walk

PROJECTOR_SIDE = 1920  # a full-HD projector: photos need no more pixels than this
Progress = Callable[[str], None]


@dataclass(frozen=True)
class VenueSettings:
    """The central atlas's settings a venue laptop runs with, so it shows the same."""

    privacy_grid_m: float = 250.0
    privacy_k: int = 3
    project_margin_m: float = 1000.0
    default_language: str = "en"
    open_data_title: str = "Heritage Atlas places"
    open_data_licence: str = "CC-BY-4.0"
    open_data_attribution: str = "Heritage Atlas contributors"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VenueSettings:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True)
class KitSummary:
    path: Path
    kit_id: str
    neighbourhoods: int
    places: int
    additions: int
    photos: int
    recordings: int
    walks: int
    left_out_hidden: int
    basemap: bool
    basemap_tiles: int = 0


def _ts(value: datetime | None) -> str | None:
    return iso(value) if value else None


def place_feature(view: PublicPlace, place: Place) -> dict[str, Any]:
    """A public place as the kit keeps it: what an open-data download shows of it (no
    contributor's name, contact or chosen display name), plus the consent flags."""
    return {
        "type": "Feature",
        "id": view.id,
        "geometry": mapping(view.geometry),
        "properties": {
            "title": view.title,
            "narratives": [n.to_json() for n in view.narratives if not n.added],
            "category": view.category,
            "period": view.period,
            "year_from": view.year_from,
            "year_to": view.year_to,
            "tags": view.tags,
            "licence": view.licence,
            "attribution": view.attribution,
            "sensitivity": str(
                Sensitivity.GENERALISED if view.location_generalised else Sensitivity.PUBLIC
            ),
            "open_data": place.consent.open_data,
            "research": place.consent.research,
            "neighbourhood_id": view.neighbourhood_id,
            "workshop": view.workshop,
            "created_at": _ts(view.created_at),
            "updated_at": _ts(view.updated_at),
            "protocol_labels": [
                {"label_id": x.label_id, "name": x.name, "text": x.text, "url": x.url}
                for x in view.protocol_labels
            ],
        },
    }


def addition_json(a: NarrativeAddition) -> dict[str, Any]:
    """A published memory or translation: its words, never its teller's contact nor the
    name they chose to show (a kit is a file that travels, as downloads are)."""
    return {
        "id": a.id,
        "place_id": a.place_id,
        "kind": str(a.kind),
        "text": a.text,
        "language": a.language,
        "provenance": str(a.provenance),
        "translates": a.translates,
        "translates_hash": a.translates_hash,
        "translates_version": a.translates_version,
        "consent_given_at": _ts(a.consent_given_at),
        "created_at": _ts(a.created_at),
        "updated_at": _ts(a.updated_at),
    }


def walk_json(walk: Walk, stops: Sequence[tuple[str, list[Any]]], route: Any) -> dict[str, Any]:
    return {
        "id": walk.id,
        "titles": [n.to_json() for n in walk.titles],
        "introductions": [n.to_json() for n in walk.introductions],
        "stops": [{"place_id": pid, "chapters": ch} for pid, ch in stops],
        "route": mapping(route) if route is not None else None,
        "editorial": walk.editorial,
        "licence": walk.licence,
        "open_data": walk.consent.open_data,
        "created_at": _ts(walk.created_at),
    }


def _public_additions(store: PlaceStore, ids: set[str]) -> list[NarrativeAddition]:
    out, offset = [], 0
    while page := store.narrative_additions(status=Status.PUBLISHED, limit=1000, offset=offset):
        out.extend(a for a in page if a.place_id in ids)
        offset += len(page)
    return out


def _walks(store: PlaceStore, kept: set[str]) -> list[dict[str, Any]]:
    walks = store.walks("published", limit=1000)
    places = shown_places(store, [s.place_id for w in walks for s in w.stops])
    out = []
    for w in walks:
        view = public_walk(w, {k: v for k, v in places.items() if k in kept})
        if view is None:
            continue
        stops = [(s.place.id, [c.to_json() for c in s.chapters]) for s in view.stops]
        out.append(walk_json(w, stops, w.route if view.route_drawn else None))
    return out


def export_kit(
    store: PlaceStore,
    workshop_code: str,
    target: Path,
    media_dir: str | Path,
    venue: VenueSettings,
    *,
    basemap: KitBasemap | None = None,
    source: str | None = None,
    progress: Progress | None = None,
) -> KitSummary:
    """Write the kit of workshop ``workshop_code`` to ``target`` (replacing it only once
    the new kit is complete); raise NotFound for an unknown workshop."""
    say = progress or (lambda _: None)
    workshop = store.get_workshop(workshop_code)
    kit_id = str(uuid.uuid4())
    with KitWriter(Path(target)) as kit:
        say("neighbourhoods")
        neighbourhoods = store.neighbourhoods()
        kit.add_json(
            "data/neighbourhoods.json",
            [
                {"id": n.id, "name": n.name, "code": n.code, "geometry": mapping(n.geometry)}
                for n in neighbourhoods
            ],
        )
        say("places")
        places = list(store.list(public_filter(None, "map")))
        labels = store.protocol_labels([p.id for p in places])
        features, hidden = [], 0
        for p in places:
            view = public_view(p, venue.privacy_grid_m, labels.get(p.id, ()))
            if view.geometry is None:
                hidden += 1  # a hidden location has no place on a map, nor in a kit
                continue
            features.append(place_feature(view, p))
        kit.add_json("data/places.json", features)
        kept = {f["id"] for f in features}
        additions = _public_additions(store, kept)
        kit.add_json("data/additions.json", [addition_json(a) for a in additions])
        say("photos")
        photos = _add_photos(kit, store, media_dir, sorted(kept))
        kit.add_json("data/photos.json", photos)
        say("recordings")
        recordings = _add_recordings(kit, store, media_dir, sorted(kept))
        kit.add_json("data/recordings.json", recordings)
        walks = _walks(store, kept)
        kit.add_json("data/walks.json", walks)
        slot = None
        if basemap is not None:
            say("basemap")
            member = f"basemap/basemap.{basemap.container}"
            kit.add_file(member, basemap.path)
            slot = {
                "path": member,
                "format": basemap.container,
                "attribution": basemap.attribution,
                "tiles": basemap.tiles,
            }
        info = {
            "source": source,
            "workshop": {
                "code": workshop.code,
                "title": workshop.title,
                "starts_at": _ts(workshop.starts_at),
                "ends_at": _ts(workshop.ends_at),
                "neighbourhood_id": workshop.neighbourhood_id,
                "moderation": str(workshop.moderation),
                "languages": workshop.languages,
            },
            "settings": venue.to_json(),
            "counts": {
                "neighbourhoods": len(neighbourhoods),
                "places": len(features),
                "additions": len(additions),
                "photos": len(photos),
                "recordings": len(recordings),
                "walks": len(walks),
            },
        }
        kit.finish(Manifest(kit_id, 1, iso(utcnow()), {}, slot, info))
    return KitSummary(
        Path(target),
        kit_id,
        len(neighbourhoods),
        len(features),
        len(additions),
        len(photos),
        len(recordings),
        len(walks),
        hidden,
        basemap is not None,
        basemap.tiles if basemap is not None else 0,
    )


def _add_photos(
    kit: KitWriter, store: PlaceStore, media_dir: str | Path, ids: list[str]
) -> list[dict[str, Any]]:
    limits = PhotoLimits(max_side=PROJECTOR_SIDE)
    out = []
    for place_id, items in store.media_for_places(ids).items():
        for m in items:
            try:
                photo = process_photo(media_file(media_dir, m.path).read_bytes(), limits)
            except (OSError, PhotoError):
                continue  # a file lost from the media folder: the kit goes without it
            path = f"media/{place_id}/{m.id}.{photo.extension}"
            thumb = f"media/{place_id}/{m.id}.thumb.{photo.extension}"
            kit.add_bytes(path, photo.data)
            kit.add_bytes(thumb, photo.thumbnail)
            out.append(
                {
                    "id": m.id,
                    "place_id": place_id,
                    "path": path,
                    "thumb_path": thumb,
                    "mime_type": photo.mime_type,
                    "width": photo.width,
                    "height": photo.height,
                    "thumb_width": photo.thumb_width,
                    "thumb_height": photo.thumb_height,
                    "caption": m.caption,
                    "created_at": _ts(m.created_at),
                }
            )
    return out


def _add_recordings(
    kit: KitWriter, store: PlaceStore, media_dir: str | Path, ids: list[str]
) -> list[dict[str, Any]]:
    out = []
    for place_id, items in store.recordings_for_places(ids).items():
        for r in items:
            if not playable(r):  # public ones only: the others are for staff or archive
                continue
            source = media_file(media_dir, r.path)
            if not source.is_file():
                continue
            path = f"media/{place_id}/{r.id}{Path(r.path).suffix}"
            kit.add_file(path, source)
            out.append(
                {
                    "id": r.id,
                    "place_id": place_id,
                    "path": path,
                    "mime_type": r.mime_type,
                    "duration_s": r.duration_s,
                    "sha256": r.sha256,
                    "title": r.title,
                    "transcript": r.transcript,
                    "transcript_language": r.transcript_language,
                    "created_at": _ts(r.created_at),
                }
            )
    return out
