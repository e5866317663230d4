"""A recording sent with the new-place form (``/contribute``): its fields (named
``voice…``, beside the place's own), read and checked as the API checks a recording's.

Without JavaScript the whole form posts here with the file; with JavaScript
(``static/contribute.js``) the place goes through the API and the recording after it.
Either way a recording is taken (checked, stripped) only from a form that is right
otherwise, before the place is stored, and kept once it is; a form shown again for a
problem says that its recording was not kept, so it is never lost without a word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from geodata.errors import FieldProblem, InvalidInput
from geodata.media import media_file
from geodata.schemas import Problem
from geodata.voices import RecordingDetails, Taken, check_details, take_recording
from web.i18n import N_, gettext_for
from web.routes.audio import audio_limits
from web.routes.contribute_voice import VOICE_FIELDS

# The new-place form's names for a recording's fields (the API's are file, scope, ...).
FORM_NAMES = {api: form for api, form in VOICE_FIELDS.items() if api != "stop"}
TEXT_FIELDS = tuple(name for api, name in FORM_NAMES.items() if api != "file")
INCOMING = ".incoming"  # hidden folder of the media directory: recordings not yet a place's
NOT_KEPT = N_(
    "Your recording was not kept, because of the problems above: choose it again (or "
    "record it again) before you send the form."
)


def form_voice(form: FormData) -> UploadFile | None:
    """The recording sent with the form, if one was."""
    upload = form.get(FORM_NAMES["file"])
    if isinstance(upload, UploadFile) and (upload.size or upload.filename):
        return upload
    return None


def _on_form(problem: FieldProblem) -> Problem:
    return Problem(
        FORM_NAMES.get(problem.field, "voice"),
        problem.code,
        problem.message,
        dict(getattr(problem, "params", {}) or {}),
    )


def voice_details(values: Mapping[str, Any], problems: list[Problem]) -> RecordingDetails | None:
    """The recording's details as typed; their problems added to ``problems``, named
    after the form's fields."""
    try:
        return check_details(
            values.get(FORM_NAMES["scope"]),
            values.get(FORM_NAMES["title"]),
            values.get(FORM_NAMES["transcript"]),
            values.get(FORM_NAMES["transcript_language"]),
        )
    except InvalidInput as exc:
        problems.extend(_on_form(p) for p in exc.problems)
        return None


def take_form_voice(request: Request, voice: UploadFile) -> Taken:
    """Receive and prepare the recording before the place is stored; InvalidInput (its
    status: 413, 415 or 422) naming the voice field if it cannot be taken."""
    settings = request.app.state.settings
    folder = media_file(settings.media_path, INCOMING)
    try:
        return take_recording(voice.file, folder, audio_limits(settings))
    except InvalidInput as exc:
        refused = InvalidInput("check the form", problems=[_on_form(p) for p in exc.problems])
        refused.status = exc.status
        raise refused from None


def upload_fingerprint(voice: UploadFile | None) -> bytes:
    """Enough of the recording to tell a resent form from a changed one (its size, name
    and first bytes), read without holding the file."""
    if voice is None:
        return b""
    head = voice.file.read(65536)
    voice.file.seek(0)
    return f"{voice.size}:{voice.filename}:".encode() + head


def voice_not_kept(
    errors: dict[str, list[str]], voice: UploadFile | None, language: str
) -> dict[str, list[str]]:
    """``errors``, saying by the voice field that the recording sent was not kept (a
    file field cannot be filled again) unless it says why already."""
    if voice is None or errors.get("voice"):
        return errors
    return {**errors, "voice": [gettext_for(language)(NOT_KEPT)]}
