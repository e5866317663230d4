"""Photos of places: recognised by content, limited in size, re-encoded without metadata.

An upload is opened with Pillow (never trusting its name or declared type) and refused
if it is not a JPEG, PNG or WebP, or has too many bytes or declares too many pixels -
all before a pixel is decoded. Only then is it decoded (a large JPEG scaled down while it
is read) and written again from its pixels alone, so no EXIF (GPS position, camera
serial), XMP or comment survives. A thumbnail is made from the scaled picture. Files
live under a media directory, one folder per place; their description lives in the store.
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
from typing import Any

from PIL import ExifTags, Image

from geodata.errors import InvalidInput
from geodata.place_attachments import Media, new_media_id
from geodata.schemas import Problem
from geodata.store.base import PlaceStore

# format (as Pillow names it) -> (MIME type, file extension)
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# A 12-megapixel phone photo (4032 x 3024 = 12.2 MP) with a little room; decoded, that is
# about 50 MB, and every upload is decoded once at most at that size.
DEFAULT_MAX_PIXELS = 12_500_000
# Pillow's own guard against decompression bombs (89 MP; twice that raises
# DecompressionBombError on open) stays in place as a backstop for any use of Pillow in
# the process; uploads are held to their own, lower limit below. Between once and twice
# Pillow only warns: make that a refusal too.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
# EXIF orientation -> the turn that puts the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# Web page code hidden in an image file (a "polyglot": a valid JPEG that a browser told
# the wrong type would run as a page). Real photos carry none; XMP metadata is XML but
# uses none of these tags.
_MARKUP = re.compile(
    rb"<\s*(?:script|html|body|iframe|svg|object|embed|meta)[\s>/]|javascript:", re.IGNORECASE
)


class PhotoError(InvalidInput):
    """A file that cannot be accepted as a photo; the message says why."""

    code = "invalid_photo"

    def __init__(
        self, message: str, *, code: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, code=code)
        # Named after the upload's form field; ``params`` fill the translated sentence.
        self.problems = [Problem("file", self.code, message, params or {})]


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
    # The size the file was decoded at: smaller than declared for a large JPEG, which
    # is scaled down while it is read.
    decoded_size: tuple[int, int] = (0, 0)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}".removesuffix(".0")


def _too_many_pixels(limits: PhotoLimits, size: tuple[int, int] | None = None) -> PhotoError:
    limit = _megapixels(limits.max_pixels)
    claim = (
        f"the image is {size[0]} x {size[1]} pixels ({_megapixels(size[0] * size[1])} megapixels)"
        if size
        else "the image claims far too many pixels to be a photo"
    )
    return PhotoError(
        f"{claim}; the limit is {limit} megapixels - send a smaller photo",
        code="too_many_pixels",
        params={"limit": limit},
    )


def open_photo(data: bytes, limits: PhotoLimits) -> Image.Image:
    """Recognise and check an upload from its bytes and header alone: its type, its size
    in bytes, hidden markup and the pixels it declares. Nothing is decoded yet (Pillow
    reads lazily), so a bomb costs no more than its header."""
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
        raise _too_many_pixels(limits) from None
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
        raise _too_many_pixels(limits, image.size)
    return image


def process_photo(data: bytes, limits: PhotoLimits | None = None) -> ProcessedPhoto:
    """Check and re-encode an uploaded photo; raise PhotoError with the reason."""
    limits = limits or PhotoLimits()
    return reencode(open_photo(data, limits), limits)


def reencode(image: Image.Image, limits: PhotoLimits) -> ProcessedPhoto:
    """Decode a checked photo (``open_photo``) scaled down to ``limits.max_side``, upright,
    and write it again from its pixels alone, with a thumbnail made from the scaled one.

    One full-size copy of the picture is in memory at most, and only while it is scaled
    down: a large JPEG is already scaled by 1/2, 1/4 or 1/8 while it is decoded, every
    later step (colour mode, turning upright, thumbnail) works on the scaled picture, and
    each image is let go as soon as the next one exists. (Palette, 16-bit and CMYK
    pictures are converted before scaling, so two copies exist for that moment.)"""
    fmt = _FORMAT_OF[image.format or ""]
    mime_type, extension = FORMATS[fmt]
    try:
        image.seek(0)  # animated WebP/PNG: the first frame only
        picture, decoded_size = _scaled(image, fmt, limits.max_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(limits) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise PhotoError(
            "the photo is damaged or cut short; send it again", code="broken_photo"
        ) from None
    finally:
        image.close()
    thumb = _fitted(picture, limits.thumb_side)
    result = ProcessedPhoto(
        _encode(picture, fmt),
        _encode(thumb, fmt),
        mime_type,
        extension,
        picture.width,
        picture.height,
        thumb.width,
        thumb.height,
        decoded_size,
    )
    picture.close()
    thumb.close()
    return result


# Pillow reports a JPEG with a second picture (a depth map, a preview: MPO, as some
# phones write) as MPO; its first picture is an ordinary JPEG.
_FORMAT_OF = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
# Modes Pillow resamples as they are; others (palette, 1-bit, 16-bit, CMYK) are converted
# first.
_RESAMPLED = ("RGB", "RGBA", "L", "LA")


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    if max(width, height) <= side:
        return size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _scaled(image: Image.Image, fmt: str, side: int) -> tuple[Image.Image, tuple[int, int]]:
    """The picture decoded, at most ``side`` pixels across, upright, in RGB(A), without
    any metadata; and the size it was decoded at."""
    target = _fit(image.size, side)
    box = None
    if fmt == "JPEG" and target != image.size:
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding, to no less than the target.
        drafted = image.draft(None, target)
        box = drafted[1] if drafted else None
    image.load()
    decoded_size = image.size
    upright = _UPRIGHT.get(image.getexif().get(ExifTags.Base.Orientation, 1))
    keep_alpha = fmt != "JPEG" and ("A" in image.getbands() or "transparency" in image.info)
    mode = "RGBA" if keep_alpha else "RGB"
    picture = image
    if picture.mode not in _RESAMPLED or "transparency" in picture.info:
        picture = picture.convert(mode)
    if picture.size != target:
        picture = picture.resize(target, Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)
    if picture is not image:
        image.close()  # the decoded full-size pixels, now scaled: let them go at once
    if picture.mode != mode:
        picture = picture.convert(mode)
    if upright is not None:
        picture = picture.transpose(upright)
    if picture is image:
        picture = image.copy()  # (small) nothing was done to it: a plain image, not the file
    # Pixels only: no EXIF (GPS position, camera serial), XMP, ICC profile, text or comment
    # is carried into the new file (Pillow writes what ``info`` holds).
    picture.info = {}
    return picture, decoded_size


def _fitted(picture: Image.Image, side: int) -> Image.Image:
    size = _fit(picture.size, side)
    if size == picture.size:
        return picture.copy()
    return picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


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
    media_id: str | None = None,
) -> Media:
    """Check, re-encode and store a photo after the place's others (``media_id``: the id
    it already has elsewhere, for a photo synced from a venue)."""
    limits = limits or PhotoLimits()
    check_room(store, place_id, limits)
    photo = process_photo(data, limits)
    return store_photo(store, media_dir, place_id, photo, caption, media_id)


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
    media_id: str | None = None,
) -> Media:
    """Write a processed photo's files, then its record: a stored record always has its
    files (and a failed record leaves no files behind)."""
    media_id = media_id or new_media_id()
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
