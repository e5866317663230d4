"""The moderation API for facilitators (and admins): the queue as GeoJSON with the
contributors' details, publish, reject or hide with a reason, corrections, protocol
labels, bulk publishing and each place's history; and photos of places not yet public.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field
from shapely.geometry import mapping
from starlette.responses import FileResponse, Response

from geodata import audit, moderation
from geodata.errors import InvalidInput, NotFound
from geodata.media import media_file
from geodata.models import Status
from geodata.moderation import QueueItem
from geodata.place_attachments import Media
from geodata.protocols import label_json, label_types
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from web.auth import FACILITATOR, SignedIn
from web.dependencies import get_language, get_settings, get_store, get_vocabulary
from web.flag_notes import flag_note
from web.settings import Settings

router = APIRouter(tags=["moderation"])
PAGE_SIZE = 50
STATUSES = [str(s) for s in Status]


# ---------------------------------------------------------------------------
# What a moderator sees of a place (personal data included: this router only)
# ---------------------------------------------------------------------------


def _photo_json(m: Media) -> dict[str, Any]:
    return {
        "id": m.id,
        "url": f"/moderation/media/{m.id}",
        "thumbnail_url": f"/moderation/media/{m.id}/thumbnail",
        "width": m.width,
        "height": m.height,
        "caption": m.caption,
    }


def item_json(item: QueueItem, vocabulary: Vocabulary, language: str = "en") -> dict[str, Any]:
    """A place as moderators see it; its hints (``flags``) said in ``language``, with the
    values they were made from (``params``) for programs."""
    p = item.place
    return {
        "type": "Feature",
        "id": p.id,
        "geometry": mapping(p.geometry),
        "properties": {
            "title": p.title,
            "narratives": [n.to_json() for n in p.narratives],
            "category": p.category,
            "category_label": vocabulary[p.category].label("en")
            if p.category in vocabulary
            else p.category,
            "period": p.period,
            "year_from": p.year_from,
            "year_to": p.year_to,
            "tags": p.tags,
            "status": str(p.status),
            "rejection_reason": item.reason,
            "sensitivity": str(p.sensitivity),
            "licence": p.licence,
            "consent": {
                "publish": p.consent.publish,
                "open_data": p.consent.open_data,
                "research": p.consent.research,
                "given_at": p.consent.given_at.isoformat() if p.consent.given_at else None,
            },
            "contributor": {
                "name": p.contributor_name,
                "contact": p.contributor_contact,
                "display_name": p.display_name,
            },
            "workshop": p.workshop,
            "neighbourhood_id": p.neighbourhood_id,
            "created_at": p.created_at.isoformat(),
            "updated_at": p.updated_at.isoformat(),
            "version": p.version,
            "photos": [_photo_json(m) for m in item.media],
            "flags": [
                {
                    "kind": f.kind,
                    "other_place_id": f.other_place_id,
                    "params": dict(f.params),
                    "detail": flag_note(f, language),
                }
                for f in item.flags
            ],
            "protocol_labels": [label_json(label) for label in item.labels],
        },
    }


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _if_match(value: str | None) -> int | None:
    if not value:
        return None
    digits = value.strip().strip('"').rsplit("-v", 1)[-1]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
        raise InvalidInput('If-Match must be an ETag like "pl_...-v3"', code="bad_if_match")
    return int(digits)


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------

api = APIRouter(prefix="/api/moderation", tags=["moderation"])


@api.get("/places", summary="The moderation queue (facilitators)")
def api_queue(
    status: str = Query("pending", description="pending, published, rejected or withdrawn"),
    workshop: str | None = Query(None, max_length=40),
    neighbourhood: int | None = Query(None, ge=1, le=2**31 - 1),
    limit: int = Query(PAGE_SIZE, ge=1, le=500),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
    language: str = Depends(get_language),
) -> Response:
    """Oldest first, with the contributor's details, photos, duplicate hints (in the
    reader's language: ``?lang=`` or Accept-Language) and labels."""
    items, total = moderation.queue(
        store,
        status=parse_status(status),
        workshop=workshop,
        neighbourhood_id=neighbourhood,
        limit=limit,
        offset=offset,
    )
    return _json(
        {
            "type": "FeatureCollection",
            "total": total,
            "features": [item_json(i, vocabulary, language) for i in items],
        }
    )


def queue_context(
    request: Request,
    *,
    status: str,
    offset: int,
    total: int,
    done: str | None,
    error: str | None,
) -> dict[str, Any]:
    """What every moderation queue page shows around its items: the status tabs, the
    paging, the outcome of the last form, and ``here`` (the page's own path and query,
    where its forms come back to)."""
    query = request.url.query
    return {
        "total": total,
        "status": status,
        "statuses": STATUSES,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "done": done,
        "error": error,
        "here": request.url.path + (f"?{query}" if query else ""),
    }


def parse_status(text: str) -> Status:
    try:
        return Status(text)
    except ValueError:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}", code="bad_status") from None


@api.get("/places/{place_id}", summary="One place, as moderators see it")
def api_place(
    place_id: str,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
    language: str = Depends(get_language),
) -> Response:
    item = moderation.queue_item(store, place_id)
    response = _json(item_json(item, vocabulary, language))
    response.headers["ETag"] = f'"{place_id}-v{item.place.version}"'
    return response


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000, description="shown to the contributor")


class EditIn(BaseModel):
    title: str | None = Field(None, max_length=1000)
    category: str | None = Field(None, max_length=100)
    narratives: list[dict[str, Any]] | None = Field(None, max_length=20)


class BulkIn(BaseModel):
    ids: list[str] = Field(max_length=moderation.MAX_BULK)


class LabelIn(BaseModel):
    label_id: str = Field(max_length=20)
    text: str = Field(max_length=5000)
    url: str | None = Field(None, max_length=1000)


class LabelsIn(BaseModel):
    labels: list[LabelIn] = Field(max_length=50)


def _answer(store: PlaceStore, vocabulary: Vocabulary, place_id: str, language: str) -> Response:
    return _json(item_json(moderation.queue_item(store, place_id), vocabulary, language))


@api.post("/places/{place_id}/publish", summary="Publish a place")
def api_publish(
    place_id: str,
    if_match: str | None = Header(None, alias="If-Match"),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
    language: str = Depends(get_language),
) -> Response:
    moderation.publish(store, place_id, who.actor, _if_match(if_match))
    return _answer(store, vocabulary, place_id, language)


@api.post("/places/{place_id}/reject", summary="Reject (or hide) a place, with a reason")
def api_reject(
    place_id: str,
    body: ReasonIn,
    if_match: str | None = Header(None, alias="If-Match"),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
    language: str = Depends(get_language),
) -> Response:
    """A published place is hidden at once; the contributor reads the reason through
    their edit link."""
    moderation.reject(store, place_id, who.actor, body.reason, _if_match(if_match))
    return _answer(store, vocabulary, place_id, language)


@api.patch("/places/{place_id}", summary="Correct a place's title, category or stories")
def api_edit(
    place_id: str,
    body: EditIn,
    if_match: str | None = Header(None, alias="If-Match"),
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
    language: str = Depends(get_language),
) -> Response:
    moderation.edit(
        store,
        place_id,
        who.actor,
        vocabulary,
        title=body.title,
        category=body.category,
        narratives=body.narratives,
        expected_version=_if_match(if_match),
    )
    return _answer(store, vocabulary, place_id, language)


@api.put("/places/{place_id}/labels", summary="Set a place's cultural-protocol labels")
def api_labels(
    place_id: str,
    body: LabelsIn,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
    language: str = Depends(get_language),
) -> Response:
    moderation.set_labels(store, place_id, who.actor, [x.model_dump() for x in body.labels])
    return _answer(store, vocabulary, place_id, language)


@api.post("/publish", summary="Publish several places at once (all or none)")
def api_bulk_publish(
    body: BulkIn,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
) -> Response:
    published = moderation.publish_many(store, body.ids, who.actor)
    return _json({"published": [p.id for p in published]})


def change_json(change: audit.Change) -> dict[str, Any]:
    e = change.event
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "action": e.action,
        "actor": e.actor,
        "version": e.version,
        "changed": change.fields,
        "before": {f: change.values(f)[0] for f in change.fields} if e.before else None,
        "after": {f: change.values(f)[1] for f in change.fields} if e.before else e.after,
        "detail": e.detail,
    }


@api.get("/places/{place_id}/history", summary="Who changed a place, when, and how")
def api_history(
    place_id: str, who: SignedIn = Depends(FACILITATOR), store: PlaceStore = Depends(get_store)
) -> Response:
    """Every change with the values before and after, and every earlier version."""
    store.get(place_id)
    return _json(
        {
            "changes": [change_json(c) for c in audit.history(store, place_id)],
            "versions": audit.versions(store, place_id),
        }
    )


@api.get("/labels", summary="The cultural-protocol labels a place may carry")
def api_label_types(who: SignedIn = Depends(FACILITATOR)) -> Response:
    return _json(label_types())


# ---------------------------------------------------------------------------
# Photos of places not yet public
# ---------------------------------------------------------------------------


def _photo(store: PlaceStore, settings: Settings, media_id: str, thumbnail: bool) -> Response:
    item = store.get_media(media_id)
    path = media_file(settings.media_path, item.thumb_path if thumbnail else item.path)
    if not path.exists():
        raise NotFound(f"the file of photo {media_id} is missing")
    return FileResponse(
        path,
        media_type=item.mime_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/moderation/media/{media_id}", summary="A photo, for moderators")
def moderation_photo(
    media_id: str,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    return _photo(store, settings, media_id, False)


@router.get("/moderation/media/{media_id}/thumbnail", summary="A thumbnail, for moderators")
def moderation_thumbnail(
    media_id: str,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    return _photo(store, settings, media_id, True)
