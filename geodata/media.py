"""Photos of places: recognised by content, limited in size, re-encoded without metadata.

An upload is opened with Pillow (never trusting its name or declared type), refused
if it is not a JPEG, PNG or WebP, too many bytes or too many pixels, then decoded and
written again from its pixels alone, so no EXIF (GPS position, camera serial), XMP or
comment survives. A thumbnail is made at the same time. Files live under a media
directory, one folder per place; their description lives in the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from geodata.errors import InvalidInput
from geodata.models import Media, new_media_id
from geodata.store.base import PlaceStore

# format (as Pillow names it) -> (MIME type, file extension)
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
DEFAULT_MAX_PIXELS = 40_000_000  # a 40-megapixel camera; more is a bomb, not a photo
# Pillow's own guard against decompression bombs, lowered to our limit for the whole
# process: an image over twice this raises DecompressionBombError on open.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS
# Between once and twice the limit Pillow only warns; make that a refusal too.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


# Web page code hidden in an image file (a "polyglot": a valid JPEG that a browser told
# the wrong type would run as a page). Real photos carry none; XMP metadata is XML but
# uses none of these tags.
_MARKUP = re.compile(
    rb"<\s*(?:script|html|body|iframe|svg|object|embed|meta)[\s>/]|javascript:", re.IGNORECASE
)


class PhotoError(InvalidInput):
    """A file that cannot be accepted as a photo; the message says why."""

    code = "invalid_photo"


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = 2560  # stored photos are scaled down to this many pixels at most
    thumb_side: int = 400
    max_per_place: int = 10


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes
    thumbnail: bytes
    mime_type: str
    extension: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int


def _open(data: bytes, limits: PhotoLimits) -> tuple[Image.Image, str]:
    if not data:
        raise PhotoError("the file is empty; choose a photo", code="empty_photo")
    if len(data) > limits.max_bytes:
        raise PhotoError(
            f"the photo is {len(data) / 2**20:.1f} MB; the limit is "
            f"{limits.max_bytes / 2**20:.0f} MB - send a smaller one",
            code="photo_too_large",
        )
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(
            "the image claims far too many pixels to be a photo", code="too_many_pixels"
        ) from None
    except (OSError, SyntaxError, ValueError):
        # Pillow raises UnidentifiedImageError (an OSError) for anything it cannot read
        # as one of the formats allowed above: text, PDF, GIF, a renamed file...
        raise PhotoError(
            "this file is not a JPEG, PNG or WebP photo (whatever its name says); choose a photo",
            code="not_a_photo",
        ) from None
    if _MARKUP.search(data):
        raise PhotoError(
            "this file hides web page code (HTML or script) besides the picture; send the "
            "photo as the camera or phone saved it",
            code="photo_with_markup",
        )
    width, height = image.size
    if width * height > limits.max_pixels:
        raise PhotoError(
            f"the image is {width} x {height} pixels; the limit is "
            f"{limits.max_pixels / 1e6:.0f} megapixels",
            code="too_many_pixels",
        )
    return image, image.format or ""


def process_photo(data: bytes, limits: PhotoLimits | None = None) -> ProcessedPhoto:
    """Check and re-encode an uploaded photo; raise PhotoError with the reason."""
    limits = limits or PhotoLimits()
    image, fmt = _open(data, limits)
    mime_type, extension = FORMATS[fmt]
    try:
        image.seek(0)  # animated WebP/PNG: the first frame only
        image = ImageOps.exif_transpose(image)  # keep it upright once the EXIF is gone
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(
            "the image claims far too many pixels to be a photo", code="too_many_pixels"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise PhotoError(
            "the photo is damaged or cut short; send it again", code="broken_photo"
        ) from None
    keep_alpha = fmt != "JPEG" and ("A" in image.getbands() or "transparency" in image.info)
    mode = "RGBA" if keep_alpha else "RGB"
    pixels = image.convert(mode)
    # A new image from the pixels alone: nothing of the original's metadata comes along.
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    if max(clean.size) > limits.max_side:
        clean.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    thumb = clean.copy()
    thumb.thumbnail((limits.thumb_side, limits.thumb_side), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        _encode(clean, fmt),
        _encode(thumb, fmt),
        mime_type,
        extension,
        clean.width,
        clean.height,
        thumb.width,
        thumb.height,
    )


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=80, method=4)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def media_file(media_dir: str | Path, relative: str) -> Path:
    """The absolute path of a stored file; refuses anything outside the media directory."""
    root = Path(media_dir).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"{relative!r} is outside the media directory")
    return path


def add_photo(
    store: PlaceStore,
    media_dir: str | Path,
    place_id: str,
    data: bytes,
    caption: str | None = None,
    limits: PhotoLimits | None = None,
) -> Media:
    """Check, re-encode and store a photo after the place's others."""
    limits = limits or PhotoLimits()
    check_room(store, place_id, limits)
    return store_photo(store, media_dir, place_id, process_photo(data, limits), caption)


def check_room(store: PlaceStore, place_id: str, limits: PhotoLimits) -> None:
    if len(store.media(place_id)) >= limits.max_per_place:
        raise PhotoError(
            f"this place already has {limits.max_per_place} photos, the most it can have; "
            "remove one first",
            code="too_many_photos",
        )


def store_photo(
    store: PlaceStore,
    media_dir: str | Path,
    place_id: str,
    photo: ProcessedPhoto,
    caption: str | None = None,
) -> Media:
    """Write a processed photo's files, then its record: a stored record always has its
    files (and a failed record leaves no files behind)."""
    media_id = new_media_id()
    relative = f"{place_id}/{media_id}.{photo.extension}"
    thumb_relative = f"{place_id}/{media_id}.thumb.{photo.extension}"
    _write_atomically(media_file(media_dir, relative), photo.data)
    _write_atomically(media_file(media_dir, thumb_relative), photo.thumbnail)
    record = Media(
        id=media_id,
        place_id=place_id,
        mime_type=photo.mime_type,
        width=photo.width,
        height=photo.height,
        bytes=len(photo.data),
        path=relative,
        thumb_path=thumb_relative,
        thumb_width=photo.thumb_width,
        thumb_height=photo.thumb_height,
        sha256=hashlib.sha256(photo.data).hexdigest(),
        caption=caption,
    )
    try:
        return store.add_media(record)
    except BaseException:
        remove_files(media_dir, [record])
        raise


def remove_files(media_dir: str | Path, items: list[Media]) -> None:
    """Delete the files of these photos (missing files are fine: the goal is their absence)."""
    for item in items:
        for relative in (item.path, item.thumb_path):
            with contextlib.suppress(FileNotFoundError, ValueError):
                media_file(media_dir, relative).unlink()


def remove_photo(store: PlaceStore, media_dir: str | Path, media: Media) -> None:
    store.delete_media(media.id)
    remove_files(media_dir, [media])


def remove_all_photos(store: PlaceStore, media_dir: str | Path, place_id: str) -> int:
    """Delete every photo of a place, records and files; return how many."""
    items = store.media(place_id)
    with store.transaction():
        for item in items:
            store.delete_media(item.id)
    remove_files(media_dir, items)
    with contextlib.suppress(OSError):
        media_file(media_dir, place_id).rmdir()
    return len(items)
