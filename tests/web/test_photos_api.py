"""Photos through the API: recognised by content, stripped of EXIF, bombs refused, kept in
order, private until the place is public, gone when the place is withdrawn."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from geodata.models import Status
from geodata.store.base import PlaceStore

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
