"""Erasure: everything one contributor submitted, gone for good, on their request.

Withdrawal (by the resident, with the edit link) takes a place off every output and
drops the personal data but keeps the record. Erasure goes further: every place whose
contributor gave that contact is deleted with its stories, every memory or translation
they added to other places is taken off them, every walk they proposed is deleted,
photos, recordings (of their places, of their walks' stops, and of other walks' stops at
their places), labels, flags, edit
token and audit history, changes pushed from a workshop venue and kept as conflicts, the
database is compacted so no copy lingers in free pages,
and only an audit record that an erasure happened (and how much it removed) remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geodata import narrative_additions
from geodata.audit import Actor, record_account_event
from geodata.errors import InvalidInput
from geodata.media import remove_files
from geodata.place_attachments import Media, Recording
from geodata.store.base import PlaceStore
from geodata.voices import remove_recording_files
from geodata.walk_lifecycle import erase_walks_by_contact
from geodata.walk_voices import remove_empty_folders


@dataclass(frozen=True)
class ErasureReport:
    places: int
    photos: int
    audit_events: int
    narratives: int = 0  # memories and translations added to other people's places
    walks: int = 0


def erase_contact(
    store: PlaceStore, contact: str, media_dir: str | Path, actor: Actor
) -> ErasureReport:
    """Erase every place submitted with ``contact`` (trimmed, any case); the report says
    how much went. The contact itself is not recorded anywhere."""
    if not contact.strip():
        raise InvalidInput("give the contact (e-mail or phone) to erase", code="required")
    photos: list[Media] = []
    recordings: list[Recording] = []
    with store.transaction():
        ids = store.place_ids_by_contact(contact)
        narratives = narrative_additions.erase_by_contact(store, contact, ids)
        for media in store.media_for_places(ids).values():
            photos.extend(media)
        recordings.extend(store.recordings_at_places(ids))  # walk stops' there too
        walk_ids = store.walk_ids_by_contact(contact)
        for walk_id in walk_ids:
            for items in store.walk_recordings(walk_id).values():
                recordings.extend(items)
        removed_events = store.delete_audit_events(ids)
        for place_id in ids:
            store.delete(place_id)  # stories, photos' and recordings' records, labels...
        walks, walk_events = erase_walks_by_contact(store, contact)  # and their stops
        removed_events += walk_events
        # What a venue pushed with this contact and a moderator has not decided yet.
        store.delete_sync_conflicts_by_contact(contact)
        record_account_event(
            store,
            "erase",
            actor,
            f"erased {len(ids)} place(s), {walks} walk(s), {len(photos)} photo(s), "
            f"{narratives} added memory(ies) or translation(s) and {removed_events} audit "
            "record(s) submitted by one contact",
        )
    # Files after the commit: a rollback must not leave records pointing at nothing.
    remove_files(media_dir, photos)
    remove_recording_files(media_dir, recordings)
    remove_empty_folders(
        media_dir, [*ids, *walk_ids, *{r.walk_id for r in recordings if r.walk_id}]
    )
    store.compact()
    return ErasureReport(len(ids), len(photos), removed_events, narratives, walks)
