"""The sync API a venue laptop talks to (``heritage-atlas sync push`` and ``pull``), and the
conflicts it leaves for moderators. Facilitators' and admins' API tokens only: a wrong or
revoked token gets 401 before a byte of the body is read, so nothing is stored.

- ``POST /api/sync/changes``: a batch of changes (places, memories and translations,
  recording details, removals), applied once each by submission id;
- ``POST /api/sync/files``: one new photo or recording (multipart: ``change``, ``file``);
- ``POST /api/sync/pull``: how the records a laptop holds stand here (erasures, withdrawals);
- ``GET /api/sync/conflicts`` and ``POST /api/sync/conflicts/{id}/resolve``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from geodata.contributions import project_index
from geodata.errors import InvalidInput
from geodata.schemas import Problem
from geodata.store.base_sync import SyncConflict
from geodata.sync_conflicts import resolve
from geodata.sync_places import Receiving, parse
from geodata.sync_receive import receive_batch, receive_file, record_states
from geodata.sync_schema import BatchIn, FileChangeIn, PullIn
from web.auth import FACILITATOR, SignedIn
from web.json_body import parse_json, require_json
from web.routes.audio import audio_body_limit, audio_limits
from web.routes.media import photo_limits
from web.settings import Settings

router = APIRouter(prefix="/api/sync", tags=["sync"])
CHANGES_PATH = r"/api/sync/changes"
FILES_PATH = r"/api/sync/files"
CHANGES_BODY_LIMIT = 8 * 2**20  # 100 changes of places with ten long stories each
_PROBLEM = {"content": {"application/problem+json": {}}}
_ERRORS = {code: _PROBLEM for code in (400, 401, 403, 413, 415, 422)}


def body_limits(settings: Settings) -> dict[str, int]:
    """The request-size limits of the sync routes (for the app's body-size guard)."""
    return {CHANGES_PATH: CHANGES_BODY_LIMIT, FILES_PATH: audio_body_limit(settings)}


def receiving(request: Request, who: SignedIn, kit_id: str) -> Receiving:
    """What applying a push (or deciding a conflict) needs, from the app."""
    store = request.app.state.store
    settings: Settings = request.app.state.settings
    return Receiving(
        store=store,
        kit_id=kit_id,
        actor=who.actor,
        index=project_index(store, settings.project_margin_m),
        vocabulary=request.app.state.vocabulary,
        media_dir=settings.media_path,
    )


def _json(body: Any) -> Response:
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/changes", summary="Push a batch of a venue's changes (facilitators)", responses=_ERRORS
)
async def push_changes(request: Request, who: SignedIn = Depends(FACILITATOR)) -> Response:
    """Each answer says ``stored``, ``already`` (the same submission id came before: nothing
    is stored twice) or ``conflict`` (kept for a moderator, with its reason)."""
    require_json(request)
    batch = parse_json(BatchIn, await request.body())

    def work() -> list[dict[str, Any]]:
        return [a.to_json() for a in receive_batch(receiving(request, who, batch.kit), batch)]

    return _json({"answers": await run_in_threadpool(work)})


@router.post(
    "/files",
    summary="Push one new photo or recording from a venue (facilitators)",
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["change", "file"],
                        "properties": {
                            "change": {"type": "string", "description": "the change, as JSON"},
                            "file": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
async def push_file(request: Request, who: SignedIn = Depends(FACILITATOR)) -> Response:
    """Checked, stripped and stored as an upload from a resident is; kept once by its id."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise InvalidInput("send the file as multipart/form-data with 'change' and 'file'")
    try:
        form = await request.form(max_files=1, max_fields=4)
    except ClientDisconnect:
        return Response(status_code=400)
    try:
        raw, upload = form.get("change"), form.get("file")
        if not isinstance(raw, str) or not isinstance(upload, UploadFile):
            raise InvalidInput(
                "send 'change' (the change as JSON) and 'file'",
                problems=[Problem("file", "required", "send the file")],
            )
        try:
            change = parse(FileChangeIn, orjson.loads(raw))
        except orjson.JSONDecodeError:
            raise InvalidInput("'change' is not JSON") from None
        settings: Settings = request.app.state.settings

        def work() -> dict[str, Any]:
            answer = receive_file(
                receiving(request, who, change.kit),
                change,
                upload.file,
                photo_limits(settings),
                audio_limits(settings),
            )
            return answer.to_json()

        return _json(await run_in_threadpool(work))
    finally:
        await form.close()


@router.post("/pull", summary="How a venue's records stand here (facilitators)", responses=_ERRORS)
async def pull(request: Request, who: SignedIn = Depends(FACILITATOR)) -> Response:
    """``gone`` for a record erased here; else a place's or memory's status, ``present``
    for a photo, a recording's consent scope: the laptop follows erasures and withdrawals."""
    require_json(request)
    asked = parse_json(PullIn, await request.body())

    def work() -> list[dict[str, str]]:
        return record_states(receiving(request, who, asked.kit), asked.records)

    return _json({"records": await run_in_threadpool(work)})


def conflict_json(c: SyncConflict) -> dict[str, Any]:
    """A conflict as moderators see it: what the venue sent, personal data included."""
    return {
        "id": c.id,
        "submission_id": c.submission_id,
        "kit_id": c.kit_id,
        "kind": c.kind,
        "record_id": c.record_id,
        "place_id": c.place_id,
        "reason": c.reason,
        "detail": c.detail,
        "venue": c.venue,
        "status": c.status,
        "resolution": c.resolution,
        "resolved_by": c.resolved_by,
        "created_at": c.created_at.isoformat(),
        "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
    }


@router.get(
    "/conflicts",
    summary="What pushes could not apply (facilitators)",
    responses={401: _PROBLEM, 403: _PROBLEM},
)
def conflicts(
    request: Request,
    status: str | None = Query("open", pattern="^(open|resolved)$"),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    who: SignedIn = Depends(FACILITATOR),
) -> Response:
    store = request.app.state.store
    items = store.sync_conflicts(status, limit=100, offset=offset)
    return _json(
        {
            "conflicts": [conflict_json(c) for c in items],
            "total": store.count_sync_conflicts(status),
        }
    )


class Decision(BaseModel):
    keep: str = Field(
        pattern="^(central|venue)$",
        description="'central': keep this atlas's version; 'venue': apply the venue's change",
    )


@router.post(
    "/conflicts/{conflict_id}/resolve",
    summary="Decide a conflict (facilitators)",
    responses={**_ERRORS, 404: _PROBLEM, 409: _PROBLEM},
)
def decide(
    request: Request,
    conflict_id: str,
    body: Decision,
    who: SignedIn = Depends(FACILITATOR),
) -> Response:
    conflict = request.app.state.store.sync_conflict(conflict_id)
    decided = resolve(receiving(request, who, conflict.kit_id), conflict.id, body.keep)
    return _json(conflict_json(decided))
