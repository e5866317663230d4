"""Voices: recordings added to a place with its edit token, listed, changed, removed, and
played back as their consent scope allows.

Uploads are multipart (as an HTML form sends them): the body streams through the
multipart parser into a spooled temporary file (memory up to 1 MB, then disk), is copied
block by block beside the place's other files, checked and stripped there
(:mod:`geodata.voices`). A body past the limit is cut off as it streams (413), and a
client that goes away mid-upload leaves nothing behind.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import orjson
from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from geodata import contributions
from geodata.audio import FORMATS, AudioLimits
from geodata.errors import HeritageError, InvalidInput, NotFound
from geodata.models import Status
from geodata.place_attachments import Recording
from geodata.schemas import Problem
from geodata.voices import (
    Added,
    RecordingDetails,
    add_recording,
    check_details,
    playable,
    remove_recording,
)
from web.i18n import N_, TEMPLATES, localised_problem
from web.json_body import UnsupportedMediaType
from web.language_choice import request_language
from web.routes.listeners import is_staff, may_hear, owns_place, place_public
from web.routes.places import _PROBLEM, _guarded, edit_token_of
from web.settings import Settings
from web.stored_files import stored_file_response
from web.voice_view import format_duration

router = APIRouter(tags=["contributions"])
AUDIO_UPLOAD_PATH = (
    r"/api/places/[^/]+/audio|/contribute/edit/[^/]+/audio"
    r"|/api/walks/[^/]+/stops/[^/]+/audio|/walks/[^/]+/voices"
)
# Room in an upload's body for the multipart framing and the other fields (a transcript
# of 20,000 characters is 80 kB at most in UTF-8).
FORM_ALLOWANCE = 256 * 1024
EDIT_TOKEN_SECURITY = {"security": [{"EditTokenBearer": []}, {"EditTokenHeader": []}]}

TEMPLATES.update(
    {
        "empty_audio": N_("The file is empty; choose a recording."),
        "not_audio": N_(
            "This file is not a recording we can take, whatever its name says; send MP3, "
            "Ogg, M4A, WAV or WebM."
        ),
        "unsupported_audio": N_(
            "Recordings of this kind are not accepted; send MP3, Ogg (Opus or Vorbis), M4A "
            "(AAC), WAV or WebM (Opus) with sound only."
        ),
        "broken_audio": N_("The recording is damaged or cut short; send it again."),
        "audio_too_large": N_("The recording is larger than {limit} MB; send a shorter one."),
        "too_many_recordings": N_(
            "This place already has {limit} recordings, the most it can have; remove one first."
        ),
        "too_many_stop_recordings": N_(
            "This stop already has {limit} recordings, the most it can have; remove one first."
        ),
        "no_recording": N_("Choose a recording to send, or record one."),
        "choose_stop": N_("Choose the stop the recording is for."),
        "transcript_language": N_("Say which language the transcript is in."),
    }
)


def audio_limits(settings: Settings) -> AudioLimits:
    return AudioLimits(
        max_bytes=settings.max_audio_bytes, max_per_place=settings.max_recordings_per_place
    )


def audio_body_limit(settings: Settings) -> int:
    """The largest request body an upload of the largest recording needs."""
    return settings.max_audio_bytes + FORM_ALLOWANCE


def recording_json(item: Recording) -> dict[str, Any]:
    return {
        "id": item.id,
        "position": item.position,
        "url": f"/audio/{item.id}",
        "mime_type": item.mime_type,
        "duration_s": item.duration_s,
        "duration": format_duration(item.duration_s),
        "bytes": item.bytes,
        "scope": str(item.scope),
        "title": item.title,
        "transcript": item.transcript,
        "transcript_language": item.transcript_language,
    }


def answer_added(added: Added, body: dict[str, Any] | None = None) -> Response:
    """201 with the new recording (``body``, or its JSON), or 200 with the one already
    kept (the same file sent again)."""
    item = added.recording
    return json_response(
        body or recording_json(item), 201 if added.new else 200, {"Location": f"/audio/{item.id}"}
    )


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


DETAIL_FIELDS = ("scope", "title", "transcript", "transcript_language")


def sent_values(form: FormData, names: tuple[str, ...] = DETAIL_FIELDS) -> dict[str, str]:
    """The text a resident typed in a recording's fields, to show again with a problem."""
    return {k: v for k in names if isinstance(v := form.get(k), str)}


def read_upload(form: FormData) -> tuple[UploadFile, RecordingDetails]:
    """The recording and its details from a submitted form; raise InvalidInput."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or (upload.size == 0 and not upload.filename):
        message = "choose a recording to send, or record one"
        raise InvalidInput(
            message, code="no_recording", problems=[Problem("file", "no_recording", message)]
        )

    def text(name: str) -> str | None:
        value = form.get(name)
        return value if isinstance(value, str) else None

    details = check_details(
        text("scope"), text("title"), text("transcript"), text("transcript_language")
    )
    return upload, details


def store_upload(
    request: Request, place_id: str, source: BinaryIO, details: RecordingDetails
) -> Added:
    """Add a recording to a place whose edit token was checked; raise a HeritageError."""
    store = request.app.state.store
    settings: Settings = request.app.state.settings
    place = store.get(place_id)
    if place.status == Status.WITHDRAWN:
        raise contributions.Withdrawn("this place was withdrawn; it cannot get new recordings")
    return add_recording(
        store, settings.media_path, place_id, source, details, audio_limits(settings)
    )


def _add(request: Request, place_id: str, source: BinaryIO, details: RecordingDetails) -> Response:
    contributions.check_edit_token(request.app.state.store, place_id, edit_token_of(request))
    return answer_added(store_upload(request, place_id, source, details))


async def multipart_upload(request: Request, work: Any, *args: Any) -> Response:
    """Read a recording sent as multipart (``file`` and its details) and hand it to
    ``work(request, *args, file, details)`` in the thread pool; problems answer as
    localised problem+json."""
    language = request_language(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        exc = UnsupportedMediaType(
            "send the recording as multipart/form-data with a 'file' field (as an HTML form does)"
        )
        return localised_problem(exc, language, request.url.path)
    try:
        form = await request.form(max_files=1, max_fields=8)
    except ClientDisconnect:
        return Response(status_code=400)  # no one is listening; the parser kept nothing
    try:
        try:
            upload, details = read_upload(form)
        except HeritageError as exc:
            return localised_problem(exc, language, request.url.path)
        return await _guarded(request, work, *args, upload.file, details)
    finally:
        await form.close()  # the spooled upload goes at once


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "MP3, Ogg (Opus or Vorbis), M4A (AAC), WAV or WebM (Opus)",
                    },
                    "scope": {
                        "type": "string",
                        "enum": ["public", "workshop", "archive"],
                        "description": "who may hear it (default public)",
                    },
                    "title": {"type": "string"},
                    "transcript": {"type": "string"},
                    "transcript_language": {"type": "string", "example": "pt"},
                },
            }
        }
    },
}
UPLOAD_ERRORS = {code: _PROBLEM for code in (400, 401, 403, 404, 409, 413, 415, 422)}


@router.post(
    "/api/places/{place_id}/audio",
    status_code=201,
    summary="Add a recording to your place (with its edit token)",
    openapi_extra={**EDIT_TOKEN_SECURITY, "requestBody": UPLOAD_BODY},
    responses={200: {"description": "the same file was sent before: that recording"},
               **UPLOAD_ERRORS},
)  # fmt: skip
async def upload_recording(request: Request, place_id: str) -> Response:
    """The kind is recognised from the content, not the name; every tag (names, GPS
    positions, devices) is removed before the file is kept, and its duration measured.
    A body over the limit is refused with 413 as it streams; a file that is not a
    recording, or one in a container not accepted, 415; a damaged one 422."""
    return await multipart_upload(request, _add, place_id)


def _list(request: Request, place_id: str) -> Response:
    store = request.app.state.store
    owner = owns_place(request, place_id)
    if not owner and not place_public(store, place_id):
        raise NotFound(f"there is no place {place_id}")
    staff = not owner and is_staff(request)
    items = [r for r in store.recordings(place_id) if playable(r, staff=staff, owner=owner)]
    return json_response(
        {"recordings": [recording_json(r) for r in items]},
        headers={"Cache-Control": "private, no-store" if owner or staff else "no-cache"},
    )


@router.get(
    "/api/places/{place_id}/audio",
    summary="A place's recordings: public ones, or all of them with the edit token",
    responses={404: _PROBLEM},
)
async def list_recordings(request: Request, place_id: str) -> Response:
    return await _guarded(request, _list, place_id)


def _own_recording(request: Request, place_id: str, recording_id: str) -> Recording:
    store = request.app.state.store
    contributions.check_edit_token(store, place_id, edit_token_of(request))
    item = store.get_recording(recording_id)
    if item.place_id != place_id or item.walk_id is not None:  # a walk stop's is its walk's
        raise NotFound(f"place {place_id} has no recording {recording_id}")
    return item


def change_recording_details(request: Request, item: Recording, body: dict) -> Response:
    """Apply a PATCH body's fields to ``item`` and answer with the recording saved."""
    details = check_details(
        body.get("scope", str(item.scope)),
        body.get("title", item.title),
        body.get("transcript", item.transcript),
        body.get("transcript_language", item.transcript_language),
    )
    item.scope, item.title = details.scope, details.title
    item.transcript, item.transcript_language = details.transcript, details.transcript_language
    updated = request.app.state.store.update_recording(item)
    return json_response(recording_json(updated))


async def patch_body(request: Request) -> dict | Response:
    """A PATCH body: a JSON object of text fields, or the problem to answer."""
    try:
        body = orjson.loads(await request.body())
        if not isinstance(body, dict) or not all(isinstance(v, str | None) for v in body.values()):
            raise ValueError
    except ValueError:
        exc = InvalidInput(
            "send a JSON object of text fields: scope, title, transcript, transcript_language",
            code="json_invalid",
        )
        return localised_problem(exc, request_language(request), request.url.path)
    return body


PATCH_ERRORS = {code: _PROBLEM for code in (400, 401, 403, 404, 415, 422)}


@router.patch(
    "/api/places/{place_id}/audio/{recording_id}",
    summary="Change a recording's scope, title or transcript (with the edit token)",
    openapi_extra=EDIT_TOKEN_SECURITY,
    responses=PATCH_ERRORS,
)
async def change_recording(request: Request, place_id: str, recording_id: str) -> Response:
    body = await patch_body(request)
    if isinstance(body, Response):
        return body

    def work(request: Request) -> Response:
        item = _own_recording(request, place_id, recording_id)
        return change_recording_details(request, item, body)

    return await _guarded(request, work)


def _remove(request: Request, place_id: str, recording_id: str) -> Response:
    item = _own_recording(request, place_id, recording_id)
    remove_recording(request.app.state.store, request.app.state.settings.media_path, item)
    return Response(status_code=204)


@router.delete(
    "/api/places/{place_id}/audio/{recording_id}",
    status_code=204,
    summary="Remove a recording from your place (with its edit token)",
    openapi_extra=EDIT_TOKEN_SECURITY,
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
)
async def delete_recording(request: Request, place_id: str, recording_id: str) -> Response:
    return await _guarded(request, _remove, place_id, recording_id)


def _serve(request: Request, recording_id: str) -> Response:
    item = request.app.state.store.get_recording(recording_id)
    allowed, public = may_hear(request, item)
    if not allowed:
        # Not for this listener: as far as they know, it is not there.
        raise NotFound(f"there is no recording {recording_id}")
    return stored_file_response(
        request.app.state.settings.media_path,
        item.path,
        item.mime_type,
        public=public,
        missing=f"the file of recording {recording_id} is missing",
    )


@router.get(
    "/audio/{recording_id}",
    summary="A recording (byte ranges served, for seeking)",
    response_class=Response,
    responses={
        200: {"content": {mime: {} for mime, _ in FORMATS.values()}},
        404: _PROBLEM,
    },
)
async def recording_file(request: Request, recording_id: str) -> Response:
    """Public recordings of public places and walk stops to anyone; the others to whom
    their scope allows (the edit token as ``?token=``, or a staff session)."""
    return await _guarded(request, _serve, recording_id)
