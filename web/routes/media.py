"""Photos: uploaded with a place's edit token, served back re-encoded and stripped.

A photo of a place the public may see (published, consent to publish) is public; a
photo of any other place (pending, say) is served only with that place's edit token.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from geodata import contributions
from geodata.errors import HeritageError, InvalidInput, NotFound
from geodata.media import (
    PhotoLimits,
    ProcessedPhoto,
    check_room,
    open_photo,
    reencode,
    remove_photo,
    store_photo,
)
from geodata.models import Status
from geodata.schemas import Problem
from geodata.store.base import PlaceStore
from geodata.text import check_text
from web.i18n import localised_problem
from web.json_body import UnsupportedMediaType
from web.language_choice import request_language
from web.routes.places import _PROBLEM, _guarded, edit_token_of, media_json
from web.settings import Settings
from web.stored_files import stored_file_response

router = APIRouter(tags=["contributions"])
# Requests that may carry a photo, given the larger body limit.
UPLOAD_PATH = r"/api/places/[^/]+/media|/contribute/edit/[^/]+"
NEW_PLACE_PATH = "/contribute"  # a photo and a recording
MAX_CAPTION = 300
_SECURITY = {"security": [{"EditTokenBearer": []}, {"EditTokenHeader": []}]}


def photo_limits(settings: Settings) -> PhotoLimits:
    return PhotoLimits(max_bytes=settings.max_photo_bytes, max_pixels=settings.max_photo_pixels)


def processed_upload(request: Request, data: bytes) -> ProcessedPhoto:
    """Check an upload from its header (cheap, never refused for being busy), then decode
    and re-encode it in one of this worker's photo slots: PhotosBusy if none is free.
    Call it in a worker thread, after everything else about the request has been checked."""
    limits = photo_limits(request.app.state.settings)
    image = open_photo(data, limits)
    try:
        with request.app.state.photo_slots.slot():
            return reencode(image, limits)
    finally:
        image.close()


def _add(request: Request, place_id: str, data: bytes, caption: str | None) -> Response:
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    contributions.check_edit_token(store, place_id, edit_token_of(request))
    place = store.get(place_id)
    if place.status == Status.WITHDRAWN:
        raise contributions.Withdrawn("this place was withdrawn; it cannot get new photos")
    check_room(store, place_id, photo_limits(settings))
    photo = processed_upload(request, data)
    item = store_photo(store, settings.media_path, place_id, photo, caption)
    return Response(
        orjson.dumps(media_json(item)),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/media/{item.id}"},
    )


@router.post(
    "/api/places/{place_id}/media",
    status_code=201,
    summary="Add a photo to your place (with its edit token)",
    openapi_extra={
        **_SECURITY,
        "requestBody": {
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
                                "description": "a JPEG, PNG or WebP photo",
                            },
                            "caption": {
                                "type": "string",
                                "description": "what the photo shows (alt text)",
                            },
                        },
                    }
                }
            },
        },
    },
    responses={
        401: _PROBLEM,
        403: _PROBLEM,
        404: _PROBLEM,
        413: _PROBLEM,
        415: _PROBLEM,
        422: _PROBLEM,
        503: _PROBLEM,
    },
)
async def upload_photo(request: Request, place_id: str) -> Response:
    """The type is recognised from the content, not the name, and a file declaring more
    pixels than the limit is refused before it is decoded. The photo is re-encoded
    without any EXIF (GPS position first of all) and a thumbnail is made; photos keep
    the order they were added in. When this worker is already decoding as many photos
    as it may, the answer is 503 with ``Retry-After``."""
    language = request_language(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type != "multipart/form-data":
            raise UnsupportedMediaType(
                "send the photo as multipart/form-data with a 'file' field (as an HTML form does)"
            )
        settings: Settings = request.app.state.settings
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "choose a photo to send",
                code="no_file",
                problems=[Problem("file", "required", "choose a photo to send")],
            )
        data = await upload.read(settings.max_photo_bytes + 1)
        raw_caption = form.get("caption")
        caption = None
        if isinstance(raw_caption, str) and raw_caption.strip():
            try:
                caption = check_text(raw_caption, "caption", max_length=MAX_CAPTION)
            except HeritageError as exc:
                exc.problems = [
                    Problem(
                        "caption",
                        exc.code,
                        exc.message,
                        {
                            "label": "caption",
                            "limit": MAX_CAPTION,
                            "length": len(raw_caption.strip()),
                        },
                    )
                ]
                raise
    except HeritageError as exc:
        return localised_problem(exc, language, request.url.path)
    return await _guarded(request, _add, place_id, data, caption)


def _remove(request: Request, place_id: str, media_id: str) -> Response:
    store: PlaceStore = request.app.state.store
    contributions.check_edit_token(store, place_id, edit_token_of(request))
    item = store.get_media(media_id)
    if item.place_id != place_id:
        raise NotFound(f"place {place_id} has no photo {media_id}")
    remove_photo(store, request.app.state.settings.media_path, item)
    return Response(status_code=204)


@router.delete(
    "/api/places/{place_id}/media/{media_id}",
    status_code=204,
    summary="Remove a photo from your place (with its edit token)",
    openapi_extra=_SECURITY,
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
)
async def delete_photo(request: Request, place_id: str, media_id: str) -> Response:
    return await _guarded(request, _remove, place_id, media_id)


def _serve(request: Request, media_id: str, thumbnail: bool) -> Response:
    store: PlaceStore = request.app.state.store
    item = store.get_media(media_id)
    place = store.get(item.place_id)
    public = place.status == Status.PUBLISHED and place.consent.publish
    if not public:
        token = edit_token_of(request) or request.query_params.get("token")
        try:
            contributions.check_edit_token(store, place.id, token)
        except (contributions.EditTokenRequired, contributions.WrongEditToken):
            # Not yet public: as far as anyone without the token knows, it is not there.
            raise NotFound(f"there is no photo {media_id}") from None
    return stored_file_response(
        request.app.state.settings.media_path,
        item.thumb_path if thumbnail else item.path,
        item.mime_type,
        public=public,
        missing=f"the file of photo {media_id} is missing",
    )


@router.get(
    "/media/{media_id}",
    summary="A photo",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        404: _PROBLEM,
    },
)
async def photo(request: Request, media_id: str) -> Response:
    return await _guarded(request, _serve, media_id, False)


@router.get(
    "/media/{media_id}/thumbnail",
    summary="A photo's thumbnail",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        404: _PROBLEM,
    },
)
async def thumbnail(request: Request, media_id: str) -> Response:
    return await _guarded(request, _serve, media_id, True)
