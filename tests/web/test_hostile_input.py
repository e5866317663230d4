"""Hostile input: the corpus in ``tests/hostile/`` (rebuilt by its ``build_corpus.py``)
and enormous bodies made on the fly. Every one is answered with a 4xx problem+json that
says what is wrong, and nothing is stored: every table keeps its row count, the place
under attack keeps its version, and the photo folder stays empty.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from geodata.store.base import PlaceStore
from geodata.store.migrate import table_counts
from web.i18n import TEMPLATES, translate_text

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
JSON_CASES = sorted((HOSTILE / "json").glob("*.json"))
IMAGE_CASES = sorted((HOSTILE / "images").iterdir())
PROBLEM = "application/problem+json"
VALID = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
    "properties": {
        "title": "Tasca do Chico",
        "narratives": [{"text": "Fado vadio every Monday since 1993.", "language": "pt"}],
        "category": "memory",
        "consent": {"publish": True},
    },
}
MB = 1024 * 1024
# The pathological shapes (geometry_*.json) and the rule that refuses each: once they
# cost seconds to minutes of CPU (and gigabytes) in make_valid; now each is refused
# within a bounded budget (tests/geodata/test_geometry_budget.py times them).
GEOMETRY_CODES = {
    "geometry_area_retracing_a_triangle_1666_times": "self_intersection",
    "geometry_area_with_100000_empty_holes": "too_many_holes",
    "geometry_area_with_100_identical_holes": "self_intersection",
    "geometry_area_with_100_overlapping_holes": "self_intersection",
    "geometry_area_with_1249_holes": "too_many_holes",
    "geometry_bowtie_chain_4999": "self_intersection",
    "geometry_coil_route_10000_points_1000_loops": "tangled_route",
    "geometry_comb_area_4999_slanted_teeth": "too_intricate",
    "geometry_comb_route_10000_slanted_teeth": "too_intricate",
    "geometry_flower_area_1666_petals_touching": "self_intersection",
    "geometry_near_duplicate_vertices_4998": "self_intersection",
    "geometry_nested_bowties_100": "self_intersection",
    "geometry_route_retracing_itself_5000_times": "tangled_route",
    "geometry_spiral_4999_closed_across_200_turns": "self_intersection",
    "geometry_spiral_4999_closed_across_33_turns": "self_intersection",
    "geometry_star_10000_step_4999": "too_many_vertices",
    "geometry_star_1000_step_3": "self_intersection",
    "geometry_star_1000_step_499": "self_intersection",
    "geometry_star_100_step_49": "self_intersection",
    "geometry_star_150_step_73": "self_intersection",
    "geometry_star_4999_step_2499": "self_intersection",
    "geometry_star_50_step_23": "self_intersection",
    "geometry_star_50_step_3": "self_intersection",
    "geometry_star_route_10000_step_4999": "tangled_route",
    "geometry_tangle_in_a_pinhead_5000": "tangled_route",
    "geometry_zigzag_route_10000_overlapping_teeth": "too_intricate",
}


def test_the_corpus_is_there():
    assert len(JSON_CASES) >= 40 and len(IMAGE_CASES) >= 12
    assert {p.stem for p in JSON_CASES if p.stem.startswith("geometry_")} == set(GEOMETRY_CODES)


def assert_refused(response: httpx.Response, *statuses: int) -> dict:
    """A 4xx problem+json whose detail a person can act on."""
    allowed = statuses or (400, 413, 415, 422)
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == response.status_code
    assert len(body["detail"].strip()) >= 10, body
    assert "Traceback" not in response.text and "Error:" not in body["detail"]
    return body


def media_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


class Unchanged:
    """Row counts of every table (and the photo files) before, to compare after."""

    def __init__(self, store: PlaceStore, media_dir: Path) -> None:
        self.store, self.media_dir = store, media_dir
        self.counts = table_counts(store)
        self.files = media_files(media_dir)

    def check(self) -> None:
        assert table_counts(self.store) == self.counts
        assert media_files(self.media_dir) == self.files


@pytest.fixture
def unchanged(app, lisbon_store: PlaceStore) -> Iterator[Unchanged]:
    state = Unchanged(lisbon_store, app.state.settings.media_path)
    yield state
    state.check()


@pytest.fixture
def own_place(client) -> dict:
    """A place of ours (its receipt, with the edit token) to aim corrections and photos at."""
    response = client.post("/api/places", json=VALID)
    assert response.status_code == 201, response.text
    return response.json()


# ---------------------------------------------------------------------------
# JSON and GeoJSON bodies
# ---------------------------------------------------------------------------


# The whole corpus against one app per backend, each case a subtest reported by its name:
# a fresh app with the demo for each case cost more than the case itself (0.2-0.4 s of
# set-up against 0.04-0.1 s of requests). Nothing a case sends is stored, so each starts
# from the same state, and the counts are compared after every case.
def test_every_hostile_submission_is_refused_with_a_problem_and_stores_nothing(
    client, unchanged, subtests
):
    for case in JSON_CASES:
        with subtests.test(case=case.stem):
            for content_type in ("application/json", "application/geo+json"):
                response = client.post(
                    "/api/places",
                    content=case.read_bytes(),
                    headers={"Content-Type": content_type},
                )
                assert_refused(response)
            unchanged.check()


def test_every_hostile_correction_is_refused_and_the_place_keeps_its_version(
    client, lisbon_store, own_place, subtests
):
    before = lisbon_store.get(own_place["id"])
    counts = table_counts(lisbon_store)
    for case in [p for p in JSON_CASES if p.stem not in ("null_geometry",)]:
        with subtests.test(case=case.stem):
            response = client.patch(
                f"/api/places/{own_place['id']}",
                content=case.read_bytes(),
                headers={
                    "Content-Type": "application/json",
                    "X-Edit-Token": own_place["edit_token"],
                },
            )
            assert_refused(response)
            after = lisbon_store.get(own_place["id"])
            assert (after.version, after.title, after.geometry.wkb) == (
                before.version,
                before.title,
                before.geometry.wkb,
            )
            assert table_counts(lisbon_store) == counts


def test_duplicate_members_are_named_in_the_problem(client, unchanged):
    body = assert_refused(
        client.post(
            "/api/places",
            content=(HOSTILE / "json" / "duplicate_title.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        ),
        422,
    )
    assert body["code"] == "duplicate_member" and "'title'" in body["detail"]


def test_a_bracket_bomb_is_called_what_it_is(client, unchanged):
    body = assert_refused(
        client.post(
            "/api/places",
            content=(HOSTILE / "json" / "deep_array.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        ),
        400,
    )
    assert "nested too deeply" in body["detail"]


@pytest.mark.parametrize(
    "name, words",
    [
        ("integer_10_pow_1000_coordinate", "finite"),
        ("number_1e400", "finite"),
        ("integer_10_pow_5000_year", "number out of range"),
        ("right_to_left_override_title", "U+202E"),
        ("invalid_utf8_title", "not valid JSON"),
        ("antimeridian_polygon", "outside the project area"),
        ("mixed_dimensions_line", "longitude and latitude only"),
        ("polygon_with_empty_ring", "no points"),
    ],
)
def test_the_problem_says_what_is_wrong(client, unchanged, name: str, words: str):
    body = assert_refused(
        client.post(
            "/api/places",
            content=(HOSTILE / "json" / f"{name}.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        )
    )
    assert words in body["detail"], body["detail"]


@pytest.mark.parametrize("name", sorted(GEOMETRY_CODES), ids=lambda n: n.removeprefix("geometry_"))
def test_a_pathological_shape_is_refused_for_its_geometry_in_every_language(
    client, unchanged, name: str
):
    """Refused by the geometry rules (not by a size or parsing limit), with the problem
    in the reader's language: the new problems are in every catalog."""
    for language in ("en", "pt", "fr", "ar"):
        body = assert_refused(
            client.post(
                "/api/places",
                content=(HOSTILE / "json" / f"{name}.json").read_bytes(),
                headers={"Content-Type": "application/json", "Accept-Language": language},
            ),
            422,
        )
        assert body["errors"][0]["field"] == "geometry"
        assert body["errors"][0]["code"] == GEOMETRY_CODES[name]
        template = TEMPLATES[GEOMETRY_CODES[name]]
        if language == "en":  # the domain's own message, which says how to fix it
            assert any(w in body["detail"] for w in ("redraw", "simplify", "leave out"))
        else:
            assert body["detail"] == translate_text(template, language) != template


def test_a_body_declared_at_100_mb_is_refused_before_it_is_read(client, unchanged):
    response = client.post(
        "/api/places",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(100 * MB)},
    )
    assert_refused(response, 413)


# ---------------------------------------------------------------------------
# Photos
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", IMAGE_CASES, ids=lambda p: p.name)
def test_a_hostile_image_is_refused_and_leaves_no_file(
    client, app, lisbon_store, own_place, case: Path
):
    state = Unchanged(lisbon_store, app.state.settings.media_path)
    response = client.post(
        f"/api/places/{own_place['id']}/media",
        files={"file": (case.name, case.read_bytes(), "image/jpeg")},
        headers={"X-Edit-Token": own_place["edit_token"]},
    )
    body = assert_refused(response, 413, 415, 422)
    assert body["errors"][0]["field"] == "file"
    state.check()
    assert lisbon_store.media(own_place["id"]) == []


@pytest.mark.parametrize(
    "name, code",
    [
        ("polyglot_jpeg_html_comment.jpg", "photo_with_markup"),
        ("polyglot_jpeg_script_after_end.jpg", "photo_with_markup"),
        ("polyglot_png_svg_trailer.png", "photo_with_markup"),
        ("bomb_100k_by_100k.png", "too_many_pixels"),
        ("truncated.png", "broken_photo"),
        ("svg_with_script.svg", "not_a_photo"),
    ],
)
def test_an_image_attack_is_named_in_the_problem(client, own_place, name: str, code: str):
    response = client.post(
        f"/api/places/{own_place['id']}/media",
        files={"file": (name, (HOSTILE / "images" / name).read_bytes(), "image/jpeg")},
        headers={"X-Edit-Token": own_place["edit_token"]},
    )
    assert assert_refused(response, 422)["errors"][0]["code"] == code


@pytest.mark.parametrize(
    "filename",
    ["../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd", "photo.jpg\r\nX-Evil: 1"],
)
def test_a_path_in_an_upload_name_goes_nowhere(client, app, lisbon_store, own_place, filename):
    """The name is never used: a hostile file under a hostile name is refused for what it
    is, and nothing is written inside or outside the photo folder."""
    state = Unchanged(lisbon_store, app.state.settings.media_path)
    outside = app.state.settings.media_path.parent
    before = set(outside.rglob("*"))
    response = client.post(
        f"/api/places/{own_place['id']}/media",
        files={"file": (filename, (HOSTILE / "images" / "html_named_jpg.jpg").read_bytes())},
        headers={"X-Edit-Token": own_place["edit_token"]},
    )
    assert_refused(response, 400, 422)
    state.check()
    assert set(outside.rglob("*")) == before


@pytest.mark.parametrize(
    "path",
    [
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/%2e%2e/thumbnail",
        "/media/..%00",
        "/moderation/media/..%2F..%2Fapp.db",
    ],
)
def test_path_traversal_in_media_ids_finds_nothing(client, path):
    response = client.get(path)
    assert response.status_code in (401, 404, 422), response.text
    assert "root:" not in response.text and "SQLite format" not in response.text


# ---------------------------------------------------------------------------
# Over a real socket: enormous streamed bodies, header injection, raw paths
# ---------------------------------------------------------------------------


def raw_exchange(port: int, request: bytes, body_chunks: Iterator[bytes] = iter(())) -> tuple:
    """Send ``request`` and stream ``body_chunks`` until the server answers; returns
    (status, head, body, bytes of body sent). Never builds the body in memory."""
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        for chunk in body_chunks:
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(65536)
            sock.settimeout(20)
            if answer:
                break  # answered before the end of the body: stop sending
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            while b"\r\n\r\n" not in answer and (data := sock.recv(65536)):
                answer += data
            head, _, body = answer.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            while length and len(body) < int(length.group(1)) and (data := sock.recv(65536)):
                body += data
        except (ConnectionResetError, TimeoutError):
            head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, head.decode("latin-1"), body, sent


def chunked(total: int, size: int = MB) -> Iterator[bytes]:
    """``total`` bytes of a JSON-looking body in HTTP chunks, made one chunk at a time."""
    yield b'%x\r\n{"type":"Feature","geometry":\r\n' % len(b'{"type":"Feature","geometry":')
    block = b"[" * size
    for _ in range(total // size):
        yield b"%x\r\n" % size + block + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_100_mb_body_streamed_without_a_length_is_cut_off_early(live_server, unchanged):
    request = (
        b"POST /api/places HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    status, head, body, sent = raw_exchange(live_server.port, request, chunked(100 * MB))
    assert status == 413, head
    assert PROBLEM in head and b"too large" in body
    assert sent < 20 * MB, f"the server read {sent / MB:.0f} MB before refusing"


def test_a_100_mb_declared_body_is_answered_without_reading_it(live_server, unchanged):
    request = (
        b"POST /api/places HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (100 * MB)
    )
    status, head, _body, sent = raw_exchange(
        live_server.port, request, (b"[" * MB for _ in range(100))
    )
    assert status == 413 and PROBLEM in head, head
    assert sent < 20 * MB


def test_a_photo_upload_of_100_mb_is_cut_off_early(live_server, own_place, unchanged):
    boundary = b"hostileboundary"
    request = (
        b"POST /api/places/%s/media HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"X-Edit-Token: %s\r\nContent-Type: multipart/form-data; boundary=%s\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        % (own_place["id"].encode(), own_place["edit_token"].encode(), boundary)
    )

    def parts() -> Iterator[bytes]:
        start = b'--%s\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
        start += b"Content-Type: image/jpeg\r\n\r\n"
        start %= boundary
        yield b"%x\r\n" % len(start) + start + b"\r\n"
        block = b"\xff" * MB
        for _ in range(100):
            yield b"%x\r\n" % MB + block + b"\r\n"

    status, head, _body, sent = raw_exchange(live_server.port, request, parts())
    assert status == 413 and PROBLEM in head, head
    assert sent < 30 * MB


@pytest.mark.parametrize(
    "header",
    [
        b"Idempotency-Key: abc\r\n def",  # obsolete line folding
        b"Idempotency-Key: abc\rX-Injected: 1",
        b"Idempotency-Key: abc\nX-Injected: 1",
        b"X-Edit-Token: a\x00b",
    ],
)
def test_crlf_and_control_characters_in_headers_never_reach_the_store(
    live_server, unchanged, header: bytes
):
    """The HTTP parser refuses these before the app runs (a plain 400, not problem+json:
    there is no request to speak of yet); either way nothing is stored."""
    body = httpx.Request("POST", "http://x", json=VALID).content
    request = (
        b"POST /api/places HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + header
        + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    status, head, _, _ = raw_exchange(live_server.port, request)
    assert 400 <= status < 500, head
    assert "X-Injected" not in head


@pytest.mark.parametrize("key", ["abc\tdefghij", "caf\xe9-key-12345", "k" * 300, "short"])
def test_an_idempotency_key_with_bad_characters_is_a_clear_422(client, unchanged, key: str):
    response = client.post(
        "/api/places",
        json=VALID,
        headers={"Idempotency-Key": key.encode("latin-1")},  # type: ignore[dict-item]
    )
    body = assert_refused(response, 422)
    assert body["code"] == "bad_idempotency_key"


def test_a_header_value_echoed_in_a_download_name_cannot_split_the_answer(client):
    response = client.get(
        "/api/export/places.geojson", params={"category": "memory\r\nSet-Cookie: pwned=1"}
    )
    assert_refused(response, 400, 422)
    assert "set-cookie" not in response.headers
    assert all("\n" not in v and "\r" not in v for v in response.headers.values())


@pytest.mark.parametrize(
    "target",
    [
        b"/media/../../etc/passwd",
        b"/static/../../../../etc/passwd",
        b"/static/vendor/leaflet/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        b"/static/%2e%2e/%2e%2e/web/settings.py",
        b"/ogc/collections/places/items/..%2F..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_raw_traversal_paths_serve_nothing_from_outside(live_server, target: bytes):
    status, head, body, _ = raw_exchange(
        live_server.port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    assert 400 <= status < 500, head
    assert b"root:" not in body and b"pydantic" not in body
