"""On a venue laptop: bringing the central atlas's erasures and withdrawals of consent here.

The laptop asks how each record it shares with the atlas stands there (those in its
ledger: what came in the kit and what it pushed) and follows: a record erased there is
erased here, photos and files included; a place its contributor withdrew is withdrawn
(its personal data erased); a record that came in the kit and is no longer public there
leaves the laptop, which only ever held public copies of them; a recording whose
consent changed gets the same scope. Each record's ledger entry is brought up to date, so
the laptop's next push does not send back what it just received.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from geodata.contributions import withdraw
from geodata.errors import NotFound
from geodata.media import media_file, remove_files
from geodata.models import Status, utcnow
from geodata.narrative_additions import sync_narratives
from geodata.place_attachments import AudioScope
from geodata.store.base import PlaceStore
from geodata.store.base_sync import LedgerEntry
from geodata.sync_outbox import SETTLED
from geodata.sync_state import (
    place_fields,
    place_revision,
    place_state,
    recording_revision,
    recording_state,
)
from geodata.voices import remove_recording_files


@dataclass
class PullReport:
    erased: int = 0  # records erased on the atlas, erased here too
    withdrawn: int = 0  # places withdrawn by their contributors
    unpublished: int = 0  # records from the kit no longer public on the atlas, removed here
    rescoped: int = 0  # recordings whose consent scope changed

    @property
    def changed(self) -> int:
        return self.erased + self.withdrawn + self.unpublished + self.rescoped


_FIRST = {"place": 0, "narrative": 1, "photo": 2, "recording": 3}


def pull_targets(store: PlaceStore) -> list[dict[str, str]]:
    """The records to ask the atlas about: every one the ledger says both sides hold,
    places first. (Asked in batches: a place erased in an earlier batch takes its
    memories, photos and recordings with it, so the report counts it once, however the
    batches fall.)"""
    held = [
        key
        for key, e in store.sync_ledger().items()
        if e.outcome not in SETTLED and not (e.origin == "venue" and e.outcome == "conflict")
    ]
    held.sort(key=lambda k: (_FIRST.get(k[0], 4), k[1]))
    return [{"kind": kind, "id": record} for kind, record in held]


def _gone(entry: LedgerEntry) -> LedgerEntry:
    return replace(entry, outcome="gone", detail="erased on the central atlas", pushed_at=utcnow())


def _erase_place(store: PlaceStore, media_dir: str | Path, place_id: str) -> None:
    photos = store.media(place_id)
    voices = store.recordings(place_id)
    with store.transaction():
        store.delete_audit_events([place_id])
        store.delete(place_id)
    remove_files(media_dir, photos)
    remove_recording_files(media_dir, voices)
    with contextlib.suppress(OSError):
        media_file(media_dir, place_id).rmdir()


def apply_pull(
    store: PlaceStore, media_dir: str | Path, answers: list[dict[str, Any]]
) -> PullReport:
    """Follow the atlas's answers (``{"kind", "id", "state"}`` each, see
    :func:`geodata.sync_receive.record_states`)."""
    ledger = store.sync_ledger()
    report = PullReport()
    updated: list[LedgerEntry] = []
    # Places first: the photos and recordings of an erased place go with it, uncounted.
    for answer in sorted(answers, key=lambda a: _FIRST.get(str(a["kind"]), 4)):
        key = (str(answer["kind"]), str(answer["id"]))
        entry, state = ledger.get(key), str(answer["state"])
        if entry is None:
            continue  # not asked about: never trust an answer about something else
        kind, record = key
        try:
            if kind == "place":
                place = store.get(record)
                if state == "gone" or (entry.origin == "kit" and state != "published"):
                    _erase_place(store, media_dir, record)
                    updated.append(_gone(entry))
                    if state == "gone":
                        report.erased += 1
                    else:
                        report.unpublished += 1
                elif state == "withdrawn" and place.status != Status.WITHDRAWN:
                    after = withdraw(store, place, media_dir)
                    new = place_state(after, None, place_fields(entry.origin))
                    updated.append(replace(entry, revision=place_revision(after), base=new))
                    report.withdrawn += 1
            elif kind == "narrative":
                addition = store.narrative_addition(record)
                if state == "gone" or (entry.origin == "kit" and state != "published"):
                    store.delete_narrative_additions([record])
                    sync_narratives(store, addition.place_id)
                    updated.append(_gone(entry))
                    report.erased += state == "gone"
                    report.unpublished += state != "gone"
            elif kind == "photo":
                if state == "gone":
                    photo = store.get_media(record)
                    store.delete_media(record)
                    remove_files(media_dir, [photo])
                    updated.append(_gone(entry))
                    report.erased += 1
            else:
                recording = store.get_recording(record)
                if state == "gone":
                    store.delete_recording(record)
                    remove_recording_files(media_dir, [recording])
                    updated.append(_gone(entry))
                    report.erased += 1
                elif state != str(recording.scope) and state in {s.value for s in AudioScope}:
                    after = store.update_recording(replace(recording, scope=AudioScope(state)))
                    updated.append(
                        replace(
                            entry, revision=recording_revision(after), base=recording_state(after)
                        )
                    )
                    report.rescoped += 1
        except NotFound:  # gone here already (erased at the venue meanwhile)
            updated.append(_gone(entry))
    store.save_ledger(updated)
    return report
