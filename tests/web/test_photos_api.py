"""Photos through the API: recognised by content, stripped of EXIF, bombs refused before
they are decoded, large photos scaled while they are read, a bounded number decoded at
once, kept in order, private until the place is public, gone when the place is withdrawn."""

from __future__ import annotations

import functools
import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from geodata.media import PhotoLimits, process_photo
from geodata.models import Status
from geodata.store.base import PlaceStore
from tests.web.photo_helpers import all_photo_slots_taken

PROBLEM = "application/problem+json"


@pytest.fixture
def db(lisbon_store: PlaceStore) -> PlaceStore:
    return lisbon_store


@pytest.fixture
def media_dir(settings) -> Path:
    return settings.media_path


@pytest.fixture
def place(client) -> dict:
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
        "properties": {
            "title": "Miradouro",
            "narratives": [{"text": "View", "language": "en"}],
            "category": "public_space",
            "consent": {"publish": True},
        },
    }
    response = client.post("/api/places", json=body)
    assert response.status_code == 201
    return response.json()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 120, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.BodySerialNumber] = "SN-12345"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (38.0, 42.0, 36.36)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (9.0, 8.0, 24.72)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # really there
    return data


def png_bytes(size=(300, 200), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (0, 128, 255, 128) if mode == "RGBA" else (0, 128, 255)).save(out, "PNG")
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` one-bit pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    # Only a few rows are actually sent: the claim alone must be refused.
    idat = compressor.compress(row * 16) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def solid_png(width: int, height: int) -> bytes:
    """A real, complete single-colour RGB PNG, compressed row by row (never whole in memory):
    40 megapixels of it are about 125 kB."""
    row = b"\x00" + bytes((46, 139, 87)) * width
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims ``width`` x ``height`` pixels."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def jpeg(size: tuple[int, int], colour="red", **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=60, **save)
    return out.getvalue()


def upload(
    client,
    place: dict,
    data: bytes,
    filename: str,
    content_type: str,
    token: str | None = None,
    caption: str | None = None,
):
    headers = {"X-Edit-Token": token if token is not None else place["edit_token"]}
    return client.post(
        f"/api/places/{place['id']}/media",
        headers=headers,
        files={"file": (filename, data, content_type)},
        data={"caption": caption} if caption else None,
    )


def files_in(media_dir: Path) -> list[Path]:
    return [p for p in media_dir.rglob("*") if p.is_file()] if media_dir.exists() else []


def test_exif_gps_is_gone_after_upload(client, place, media_dir):
    response = upload(
        client, place, jpeg_with_gps(), "IMG_0001.jpg", "image/jpeg", caption="The view at dusk"
    )
    assert response.status_code == 201, response.text
    photo = response.json()
    assert (photo["mime_type"], photo["position"], photo["caption"]) == (
        "image/jpeg",
        1,
        "The view at dusk",
    )
    for url in (photo["url"], photo["thumbnail_url"]):
        served = client.get(url, headers={"X-Edit-Token": place["edit_token"]})
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        image = Image.open(io.BytesIO(served.content))
        assert len(image.getexif()) == 0 and "exif" not in image.info
        assert b"Exif" not in served.content and b"PhoneMaker" not in served.content
        assert b"SN-12345" not in served.content
    # Nothing on disk keeps it either.
    for path in files_in(media_dir):
        assert b"PhoneMaker" not in path.read_bytes()


def test_a_png_renamed_jpg_is_accepted_as_png(client, place):
    response = upload(client, place, png_bytes(), "holiday.jpg", "image/jpeg")
    assert response.status_code == 201, response.text
    assert response.json()["mime_type"] == "image/png"
    served = client.get(response.json()["url"], headers={"X-Edit-Token": place["edit_token"]})
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).format == "PNG"


def test_webp_is_accepted(client, place):
    out = io.BytesIO()
    Image.new("RGB", (120, 90), "green").save(out, "WEBP")
    response = upload(client, place, out.getvalue(), "x.webp", "image/webp")
    assert response.status_code == 201 and response.json()["mime_type"] == "image/webp"


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"GIF89a not really a photo at all", "photo.jpg", "not_a_photo"),
        (b"<html><script>alert(1)</script></html>", "photo.jpg", "not_a_photo"),
        (b"%PDF-1.4 a document", "scan.png", "not_a_photo"),
        (b"", "empty.jpg", "empty_photo"),
        (png_bomb(60_000, 60_000), "bomb.png", "too_many_pixels"),  # past Pillow's own guard
        (png_bomb(7_000, 7_000), "bomb2.png", "too_many_pixels"),  # past ours, under Pillow's
    ],
    ids=[
        "text renamed jpg",
        "html renamed jpg",
        "pdf renamed png",
        "empty",
        "bomb",
        "smaller bomb",
    ],
)
def test_files_that_are_not_acceptable_photos_are_refused(
    client, db, place, media_dir, data, name, code
):
    response = upload(client, place, data, name, "image/jpeg")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    errors = response.json()["errors"]
    assert errors[0]["field"] == "file" and errors[0]["code"] == code and errors[0]["message"]
    assert db.media(place["id"]) == [] and files_in(media_dir) == []


def test_a_truncated_jpeg_is_refused(client, db, place, media_dir):
    data = jpeg_with_gps()
    response = upload(client, place, data[: len(data) // 2], "cut.jpg", "image/jpeg")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] in ("broken_photo", "not_a_photo")
    assert db.media(place["id"]) == [] and files_in(media_dir) == []


def test_a_large_photo_is_scaled_down_and_gets_a_thumbnail(client, place):
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), "red").save(out, "JPEG", quality=50)
    photo = upload(client, place, out.getvalue(), "big.jpg", "image/jpeg").json()
    assert max(photo["width"], photo["height"]) == 2560
    thumb = client.get(photo["thumbnail_url"], headers={"X-Edit-Token": place["edit_token"]})
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 400


def test_uploads_need_the_right_token_and_multipart(client, db, place, media_dir):
    assert (
        upload(client, place, png_bytes(), "a.png", "image/png", token="nope-nope").status_code
        == 403
    )
    raw = client.post(
        f"/api/places/{place['id']}/media",
        content=png_bytes(),
        headers={"X-Edit-Token": place["edit_token"], "content-type": "image/png"},
    )
    assert raw.status_code == 415
    missing = client.post(
        f"/api/places/{place['id']}/media",
        data={"caption": "no file"},
        headers={"X-Edit-Token": place["edit_token"]},
        files={"other": ("x.txt", b"x", "text/plain")},
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    assert db.media(place["id"]) == [] and files_in(media_dir) == []


def test_photos_keep_their_order_and_can_be_removed(client, db, place, media_dir):
    ids = [
        upload(client, place, png_bytes((50 + i, 40), "RGB"), f"{i}.png", "image/png").json()["id"]
        for i in range(3)
    ]
    seen = client.get(f"/api/places/{place['id']}", headers={"X-Edit-Token": place["edit_token"]})
    assert [m["id"] for m in seen.json()["properties"]["media"]] == ids
    assert [m["position"] for m in seen.json()["properties"]["media"]] == [1, 2, 3]
    gone = client.delete(
        f"/api/places/{place['id']}/media/{ids[1]}", headers={"X-Edit-Token": place["edit_token"]}
    )
    assert gone.status_code == 204
    assert [m.id for m in db.media(place["id"])] == [ids[0], ids[2]]
    assert len(files_in(media_dir)) == 4  # two photos, two thumbnails


def test_pending_photos_are_private_published_ones_public(client, db, place):
    photo = upload(client, place, png_bytes(), "a.png", "image/png").json()
    assert client.get(photo["url"]).status_code == 404
    assert client.get(photo["url"], params={"token": place["edit_token"]}).status_code == 200
    stored = db.get(place["id"])
    stored.status = Status.PUBLISHED
    db.update(stored)
    public = client.get(photo["thumbnail_url"])
    assert public.status_code == 200 and "public" in public.headers["cache-control"]
    assert public.headers["x-content-type-options"] == "nosniff"


def test_withdrawal_deletes_the_photos(client, db, place, media_dir):
    photo = upload(client, place, jpeg_with_gps(), "a.jpg", "image/jpeg").json()
    assert files_in(media_dir)
    client.delete(f"/api/places/{place['id']}", headers={"X-Edit-Token": place["edit_token"]})
    assert db.media(place["id"]) == [] and files_in(media_dir) == []
    assert client.get(photo["url"], params={"token": place["edit_token"]}).status_code == 404
    again = upload(client, place, png_bytes(), "b.png", "image/png")
    assert again.status_code == 409


def test_a_photo_over_the_size_limit_is_refused(settings, db):
    from fastapi.testclient import TestClient

    from web.app import create_app

    small = settings.model_copy(update={"max_photo_bytes": 20_000})
    with TestClient(create_app(small, store=db), base_url="http://127.0.0.1") as c:
        body = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
            "properties": {
                "title": "T",
                "narratives": [{"text": "N", "language": "en"}],
                "category": "other",
                "consent": {"publish": True},
            },
        }
        place = c.post("/api/places", json=body).json()
        noisy = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
        out = io.BytesIO()
        noisy.save(out, "PNG")
        assert len(out.getvalue()) > 20_000
        response = upload(c, place, out.getvalue(), "n.png", "image/png")
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "photo_too_large"


# ---------------------------------------------------------------------------
# Bounded work: refused before decoding, scaled while decoding, a few at a time
# ---------------------------------------------------------------------------


def test_a_40_megapixel_png_is_refused_before_it_is_decoded(app, client, db, place, media_dir):
    data = solid_png(8000, 5000)
    assert len(data) < 200_000  # what the attack costs: a small file
    # With every decoding slot taken, a photo that got as far as decoding would get a
    # 503: the 422 shows the refusal came from the header alone.
    with all_photo_slots_taken(app):
        response = upload(client, place, data, "flat.png", "image/png")
        french = client.post(
            f"/api/places/{place['id']}/media",
            headers={"X-Edit-Token": place["edit_token"], "Accept-Language": "fr"},
            files={"file": ("flat.png", data, "image/png")},
        )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("file", "too_many_pixels")
    assert "8000 x 5000" in error["message"] and "12.5 megapixels" in error["message"]
    assert "12.5 megapixels" in response.json()["detail"]
    assert (
        french.status_code == 422 and "la limite est de 12.5 mégapixels" in french.json()["detail"]
    )
    assert db.media(place["id"]) == [] and files_in(media_dir) == []


@pytest.mark.parametrize(
    ("width", "height"),
    [(5000, 4000), (20000, 15000), (65000, 65000)],
    ids=["20 MP (past our limit)", "300 MP (past Pillow's own guard)", "largest a JPEG can say"],
)
def test_a_jpeg_declaring_huge_dimensions_is_refused_before_it_is_decoded(
    app, client, db, place, media_dir, width, height
):
    with all_photo_slots_taken(app):
        response = upload(client, place, jpeg_claiming(width, height), "huge.jpg", "image/jpeg")
    # Decoding it would have failed as a broken photo (its data is for 64 x 48 pixels).
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "too_many_pixels" and "12.5 megapixels" in error["message"]
    assert db.media(place["id"]) == [] and files_in(media_dir) == []


def test_the_pixel_limit_is_a_setting(settings, db):
    from fastapi.testclient import TestClient

    from web.app import create_app

    strict = settings.model_copy(update={"max_photo_pixels": 1_000_000})
    with TestClient(create_app(strict, store=db), base_url="http://127.0.0.1") as c:
        body = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
            "properties": {
                "title": "T",
                "narratives": [{"text": "N", "language": "en"}],
                "category": "other",
                "consent": {"publish": True},
            },
        }
        place = c.post("/api/places", json=body).json()
        refused = upload(c, place, jpeg((1200, 900)), "a.jpg", "image/jpeg")
        assert refused.status_code == 422
        assert "the limit is 1 megapixels" in refused.json()["errors"][0]["message"]
        assert upload(c, place, jpeg((1000, 1000)), "b.jpg", "image/jpeg").status_code == 201


def test_a_large_allowed_jpeg_is_scaled_down_while_it_is_decoded(client, place):
    data = jpeg((8000, 1500))  # 12 MP, a panorama: allowed, and twice as wide as stored
    photo = process_photo(data, PhotoLimits())
    # libjpeg decoded it at half size (draft), never at 8000 x 1500.
    assert photo.decoded_size == (4000, 750)
    assert (photo.width, photo.height, photo.thumb_width, photo.thumb_height) == (
        2560,
        480,
        400,
        75,
    )
    # A photo under twice the stored size is decoded as it is, then scaled.
    assert process_photo(jpeg((4032, 3024)), PhotoLimits()).decoded_size == (4032, 3024)
    stored = upload(client, place, data, "wide.jpg", "image/jpeg")
    assert stored.status_code == 201 and (stored.json()["width"], stored.json()["height"]) == (
        2560,
        480,
    )
    served = client.get(stored.json()["url"], headers={"X-Edit-Token": place["edit_token"]})
    assert Image.open(io.BytesIO(served.content)).size == (2560, 480)


def test_a_turned_phone_photo_is_stored_upright_after_scaling(client, place):
    # Stored sideways with EXIF orientation 6, as phones do: its left (red) half is the top.
    image = Image.new("RGB", (6000, 2000), "blue")
    image.paste((255, 0, 0), (0, 0, 3000, 2000))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=80)
    photo = upload(client, place, out.getvalue(), "turned.jpg", "image/jpeg").json()
    assert (photo["width"], photo["height"]) == (853, 2560)
    served = client.get(photo["url"], headers={"X-Edit-Token": place["edit_token"]})
    upright = Image.open(io.BytesIO(served.content)).convert("RGB")
    top, bottom = upright.getpixel((426, 100)), upright.getpixel((426, 2460))
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]
    thumb = client.get(photo["thumbnail_url"], headers={"X-Edit-Token": place["edit_token"]})
    assert Image.open(io.BytesIO(thumb.content)).size == (133, 400)


def test_png_text_exif_and_colour_profile_are_gone(client, place):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at Rua dos Fanqueiros 7731")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "orange").save(
        out, "PNG", pnginfo=info, exif=exif, icc_profile=profile
    )
    photo = upload(client, place, out.getvalue(), "a.png", "image/png").json()
    served = client.get(photo["url"], headers={"X-Edit-Token": place["edit_token"]})
    assert b"7731" not in served.content and b"PhoneMaker" not in served.content
    assert not {"icc_profile", "exif", "Comment"} & set(Image.open(io.BytesIO(served.content)).info)


def test_an_mpo_photo_from_a_phone_is_stored_as_a_jpeg(client, place):
    # Some phones save a JPEG followed by a second picture (MPO); Pillow names it MPO.
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "red").save(
        out, "MPO", save_all=True, append_images=[Image.new("RGB", (640, 480), "blue")]
    )
    response = upload(client, place, out.getvalue(), "IMG_0002.jpg", "image/jpeg")
    assert response.status_code == 201, response.text
    assert response.json()["mime_type"] == "image/jpeg"


def test_uploads_past_the_decoding_slots_get_503_with_retry_after(
    app, client, db, place, media_dir
):
    assert app.state.photo_slots.count == 2  # the default: HERITAGE_PHOTO_CONCURRENCY
    with all_photo_slots_taken(app):
        busy = upload(client, place, jpeg_with_gps(), "a.jpg", "image/jpeg")
        portuguese = client.post(
            f"/api/places/{place['id']}/media",
            headers={"X-Edit-Token": place["edit_token"], "Accept-Language": "pt"},
            files={"file": ("a.jpg", jpeg_with_gps(), "image/jpeg")},
        )
    assert busy.status_code == 503, busy.text
    assert busy.headers["content-type"].startswith(PROBLEM)
    assert busy.headers["retry-after"] == "3"
    assert (
        busy.json()["code"] == "photos_busy" and "again in a few seconds" in busy.json()["detail"]
    )
    assert portuguese.status_code == 503 and "alguns segundos" in portuguese.json()["detail"]
    assert db.media(place["id"]) == [] and files_in(media_dir) == []
    # The slots are free again once the uploads in progress are done.
    again = upload(client, place, jpeg_with_gps(), "a.jpg", "image/jpeg")
    assert again.status_code == 201 and len(db.media(place["id"])) == 1


def test_a_full_place_is_refused_before_its_photo_is_decoded(app, client, db, place):
    for i in range(10):
        assert upload(
            client, place, png_bytes((20 + i, 20), "RGB"), "p.png", "image/png"
        ).is_success
    with all_photo_slots_taken(app):
        response = upload(client, place, jpeg_with_gps(), "b.jpg", "image/jpeg")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "too_many_photos"
    assert len(db.media(place["id"])) == 10
