"""Voices at walk stops through the API: the walk's proposer adds a recording to a stop
(with the walk's edit token), lists, changes and removes them; anyone lists the public
ones of a public walk. Uploads are read exactly as a place's (:mod:`web.routes.audio`):
streamed to disk, recognised by content, stripped, measured, limited in size.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from starlette.responses import Response

from geodata import walk_lifecycle
from geodata.errors import NotFound
from geodata.models import Status
from geodata.place_attachments import Recording
from geodata.store.base import PlaceStore
from geodata.voices import RecordingDetails, playable, remove_recording
from geodata.walk_voices import (
    add_stop_recording,
    public_walk_with_voices,
    stop_number,
    walk_recording_list,
)
from geodata.walks import Walk
from web.routes.audio import (
    EDIT_TOKEN_SECURITY,
    PATCH_ERRORS,
    UPLOAD_BODY,
    UPLOAD_ERRORS,
    answer_added,
    audio_limits,
    change_recording_details,
    json_response,
    multipart_upload,
    patch_body,
    recording_json,
)
from web.routes.listeners import is_staff, owns_walk
from web.routes.places import _PROBLEM, _guarded, edit_token_of

router = APIRouter(prefix="/api/walks", tags=["walks"])


def stop_recording_json(item: Recording, walk: Walk) -> dict[str, Any]:
    """A stop's recording, with the stop it is at (numbered in the walk's own order)."""
    return {**recording_json(item), "stop": stop_number(walk, item.place_id),
            "place_id": item.place_id}  # fmt: skip


def _owned(request: Request, walk_id: str) -> Walk:
    return walk_lifecycle.check_walk_token(request.app.state.store, walk_id, edit_token_of(request))


def store_stop_upload(
    request: Request, walk: Walk, number: int, source: BinaryIO, details: RecordingDetails
) -> Any:
    """Add a recording to stop ``number`` of a walk whose edit token was checked."""
    if walk.status == Status.WITHDRAWN:
        raise walk_lifecycle.WithdrawnWalk(
            "this walk was withdrawn; its stops cannot get new recordings"
        )
    settings = request.app.state.settings
    return add_stop_recording(
        request.app.state.store, settings.media_path, walk, number, source, details,
        audio_limits(settings),
    )  # fmt: skip


def _add(
    request: Request, walk_id: str, number: int, source: BinaryIO, details: RecordingDetails
) -> Response:
    walk = _owned(request, walk_id)
    added = store_stop_upload(request, walk, number, source, details)
    return answer_added(added, stop_recording_json(added.recording, walk))


@router.post(
    "/{walk_id}/stops/{number}/audio",
    status_code=201,
    summary="Add a recording to a stop of your walk (with the walk's edit token)",
    openapi_extra={**EDIT_TOKEN_SECURITY, "requestBody": UPLOAD_BODY},
    responses={200: {"description": "the same file was sent before: that recording"},
               **UPLOAD_ERRORS},
)  # fmt: skip
async def upload_stop_recording(request: Request, walk_id: str, number: int) -> Response:
    """``number`` is the stop's place in the walk (1 for the first, as the walk lists
    them). The file is checked, stripped and measured as a place's recording; its scope
    (public, workshop, archive) is its own consent. A public one plays on the walk's
    page at that stop once the walk is published."""
    return await multipart_upload(request, _add, walk_id, number)


def listed(request: Request, walk_id: str) -> tuple[Walk, list[Recording], bool]:
    """The walk, the recordings of its stops this caller may hear, and whether they are
    private to the caller (the proposer or staff); NotFound if the caller may not see
    the walk at all."""
    store: PlaceStore = request.app.state.store
    walk = store.get_walk(walk_id)
    if owns_walk(request, walk_id):
        return walk, walk_recording_list(store, walk), True
    if is_staff(request):
        items = walk_recording_list(store, walk)
        return walk, [r for r in items if playable(r, staff=True)], True
    view = public_walk_with_voices(store, walk)
    if view is None:
        raise NotFound(f"there is no walk {walk_id}")
    heard = [r for s in view.stops for r in s.voices if r.walk_id == walk.id]
    return walk, heard, False


def _list(request: Request, walk_id: str) -> Response:
    walk, items, private = listed(request, walk_id)
    return json_response(
        {"recordings": [stop_recording_json(r, walk) for r in items]},
        headers={"Cache-Control": "private, no-store" if private else "no-cache"},
    )


@router.get(
    "/{walk_id}/audio",
    summary="A walk's stop recordings: the public ones, or all of them with its edit token",
    responses={404: _PROBLEM},
)
async def list_stop_recordings(request: Request, walk_id: str) -> Response:
    """Public recordings of the stops the public sees, for a public walk; every one with
    the walk's edit token; public and workshop ones to signed-in staff."""
    return await _guarded(request, _list, walk_id)


def _own_recording(request: Request, walk_id: str, recording_id: str) -> tuple[Walk, Recording]:
    walk = _owned(request, walk_id)
    item = request.app.state.store.get_recording(recording_id)
    if item.walk_id != walk_id:
        raise NotFound(f"walk {walk_id} has no recording {recording_id}")
    return walk, item


@router.patch(
    "/{walk_id}/audio/{recording_id}",
    summary="Change a stop recording's scope, title or transcript (with the walk's edit token)",
    openapi_extra=EDIT_TOKEN_SECURITY,
    responses=PATCH_ERRORS,
)
async def change_stop_recording(request: Request, walk_id: str, recording_id: str) -> Response:
    body = await patch_body(request)
    if isinstance(body, Response):
        return body

    def work(request: Request) -> Response:
        _, item = _own_recording(request, walk_id, recording_id)
        return change_recording_details(request, item, body)

    return await _guarded(request, work)


def _remove(request: Request, walk_id: str, recording_id: str) -> Response:
    _, item = _own_recording(request, walk_id, recording_id)
    remove_recording(request.app.state.store, request.app.state.settings.media_path, item)
    return Response(status_code=204)


@router.delete(
    "/{walk_id}/audio/{recording_id}",
    status_code=204,
    summary="Remove a recording from a stop of your walk (with the walk's edit token)",
    openapi_extra=EDIT_TOKEN_SECURITY,
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
)
async def delete_stop_recording(request: Request, walk_id: str, recording_id: str) -> Response:
    return await _guarded(request, _remove, walk_id, recording_id)
