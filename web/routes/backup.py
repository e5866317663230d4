"""The admins' full backup: every place in every status with everything stored about it,
every memory or translation residents added to places, and every walk with its stops and
their recordings (archive-only ones too), the contributors' names and contacts included,
streamed as one GeoJSON document.

Admins only, and nobody else: this is the one output that carries personal data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Depends
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import StreamingResponse

from geodata.moderation import QueueItem
from geodata.place_attachments import PlaceFlag
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from web.auth import ADMIN, SignedIn
from web.dependencies import get_store, get_vocabulary
from web.routes.accounts import account_json
from web.routes.audio import recording_json
from web.routes.moderation_api import item_json
from web.routes.narrative_moderation import addition_json
from web.routes.walks_api import walk_json

router = APIRouter(tags=["accounts"])
BATCH = 500


def backup_chunks(store: PlaceStore, vocabulary: Vocabulary) -> Iterator[bytes]:
    head = {
        "type": "FeatureCollection",
        "name": "heritage-atlas-backup",
        "exported_at": datetime.now(UTC).isoformat(),
        "warning": "contains personal data: keep it as safe as the database itself",
        "workshops": [
            {
                "code": w.code,
                "title": w.title,
                "neighbourhood_id": w.neighbourhood_id,
                "starts_at": w.starts_at.isoformat(),
                "ends_at": w.ends_at.isoformat(),
                "moderation": str(w.moderation),
                "languages": w.languages,
                "created_by": w.created_by,
            }
            for w in store.workshops()
        ],
        "accounts": [account_json(a) for a in store.accounts()],
    }
    yield orjson.dumps(head)[:-1] + b',"features":['
    flags: dict[str, list[PlaceFlag]] = {}
    for f in store.flags():
        flags.setdefault(f.place_id, []).append(f)
    offset, first = 0, True
    while True:
        places = list(store.list(None, limit=BATCH, offset=offset))
        if not places:
            break
        ids = [p.id for p in places]
        media, labels = store.media_for_places(ids), store.protocol_labels(ids)
        recordings = store.recordings_for_places(ids)
        for p in places:
            item = QueueItem(p, media.get(p.id, []), flags.get(p.id, []), labels.get(p.id, []))
            feature = item_json(item, vocabulary)
            # every recording, whatever its scope (its file stays under the media dir)
            feature["properties"]["recordings"] = [
                recording_json(r) for r in recordings.get(p.id, [])
            ]
            yield (b"" if first else b",") + orjson.dumps(feature)
            first = False
        offset += len(places)
    # Memories and translations residents added to places, in every status.
    yield b'],"narrative_additions":['
    offset, first = 0, True
    while additions := store.narrative_additions(limit=BATCH, offset=offset):
        for a in additions:
            yield (b"" if first else b",") + orjson.dumps(addition_json(a))
            first = False
        offset += len(additions)
    # Walks in every status, each stop with all its recordings, whatever their scope.
    yield b'],"walks":['
    offset, first = 0, True
    while walks := store.walks(None, limit=BATCH, offset=offset):
        for w in walks:
            yield (b"" if first else b",") + orjson.dumps(
                walk_json(w, store, personal=True, owner=True)
            )
            first = False
        offset += len(walks)
    yield b"]}"


@router.get(
    "/api/admin/backup",
    summary="Everything, personal data included (admins only)",
    responses={200: {"content": {"application/geo+json": {}}}},
)
def backup(
    who: SignedIn = Depends(ADMIN),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> StreamingResponse:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        iterate_in_threadpool(backup_chunks(store, vocabulary)),
        media_type="application/geo+json",
        headers={
            "Content-Disposition": f'attachment; filename="heritage-atlas-backup-{stamp}.geojson"',
            "Cache-Control": "no-store",
        },
    )
