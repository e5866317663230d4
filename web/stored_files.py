"""Serving a photo or a recording kept under the media directory, the same way for both."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse

from geodata.errors import NotFound
from geodata.media import media_file


def stored_file_response(
    media_dir: str | Path, relative: str, mime_type: str, *, public: bool, missing: str
) -> FileResponse:
    """The stored file as a response (byte ranges served): cached for an hour when anyone
    may see it, never stored otherwise, and never run or rendered as anything but itself.
    NotFound with ``missing`` when the file is gone."""
    path = media_file(media_dir, relative)
    if not path.exists():
        raise NotFound(missing)
    return FileResponse(
        path,
        media_type=mime_type,
        headers={
            "Cache-Control": "public, max-age=3600" if public else "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Referrer-Policy": "no-referrer",
        },
    )
