"""Write the hostile-input corpus next to this file (run it again to rebuild it).

``python tests/hostile/build_corpus.py``. Every file is deterministic, so a rebuild
changes nothing unless this script changes. The expected answer of each file is in
``tests/web/test_hostile_input.py``; the enormous inputs (a 100 MB body) are made on
the fly by the test rather than kept here.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
# A valid place in the Lisbon demo area: each case below spoils one thing of it.
POINT = {"type": "Point", "coordinates": [-9.1402, 38.7101]}
PROPERTIES = {
    "title": "Tasca do Chico",
    "narratives": [{"text": "Fado vadio every Monday since 1993.", "language": "pt"}],
    "category": "memory",
    "consent": {"publish": True},
}


def feature(geometry: dict | str | None = None, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry or POINT, "properties": PROPERTIES | properties}


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def with_raw(placeholder: str, raw: bytes, obj) -> bytes:
    """``obj`` as JSON with a placeholder string replaced by raw bytes (what json.dumps
    would never write: duplicate members, huge literals, broken UTF-8)."""
    return dumps(obj).replace(f'"{placeholder}"'.encode(), raw)


def json_cases() -> dict[str, bytes]:
    ring = [[170, 10], [-170, 10], [-170, 20], [170, 20], [170, 10]]
    return {
        # malformed and enormous JSON
        "deep_array.json": b'{"type":"Feature","geometry":' + b"[" * 5000 + b"]" * 5000 + b"}",
        "deep_object.json": b'{"a":' * 5000 + b"1" + b"}" * 5000,
        "number_1e400.json": with_raw(
            "X", b"1e400", feature({"type": "Point", "coordinates": ["X", 38.71]})
        ),
        "integer_10_pow_1000_coordinate.json": with_raw(
            "X", b"1" + b"0" * 1000, feature({"type": "Point", "coordinates": ["X", 38.71]})
        ),
        "integer_10_pow_1000_year.json": with_raw("X", b"1" + b"0" * 1000, feature(year_from="X")),
        "integer_10_pow_5000_year.json": with_raw("X", b"1" + b"0" * 5000, feature(year_from="X")),
        "nan_coordinate.json": with_raw(
            "X", b"NaN", feature({"type": "Point", "coordinates": ["X", 38.71]})
        ),
        "infinity_coordinate.json": with_raw(
            "X", b"-Infinity", feature({"type": "Point", "coordinates": [-9.14, "X"]})
        ),
        "trailing_garbage.json": dumps(feature()) + b"<script>",
        "two_documents.json": dumps(feature()) + dumps(feature()),
        "byte_order_mark.json": b"\xef\xbb\xbf" + dumps(feature()),
        "utf16.json": json.dumps(feature()).encode("utf-16"),
        "top_level_array.json": dumps([feature()]),
        "top_level_string.json": b'"Feature"',
        "empty.json": b"",
        "unclosed.json": dumps(feature())[:-7],
        # GeoJSON edge cases
        "antimeridian_line.json": dumps(
            feature({"type": "LineString", "coordinates": [[179.9, 38.7], [-179.9, 38.7]]})
        ),
        "antimeridian_polygon.json": dumps(feature({"type": "Polygon", "coordinates": [ring]})),
        "north_pole.json": dumps(feature({"type": "Point", "coordinates": [0, 90]})),
        "south_pole_line.json": dumps(
            feature({"type": "LineString", "coordinates": [[-180, -90], [180, -90]]})
        ),
        "beyond_the_pole.json": dumps(feature({"type": "Point", "coordinates": [-9.14, 90.5]})),
        "longitude_540.json": dumps(feature({"type": "Point", "coordinates": [540, 38.71]})),
        "empty_point.json": dumps(feature({"type": "Point", "coordinates": []})),
        "empty_linestring.json": dumps(feature({"type": "LineString", "coordinates": []})),
        "empty_polygon.json": dumps(feature({"type": "Polygon", "coordinates": []})),
        "polygon_with_empty_ring.json": dumps(feature({"type": "Polygon", "coordinates": [[]]})),
        "multipolygon_of_empties.json": dumps(
            feature({"type": "MultiPolygon", "coordinates": [[[]], []]})
        ),
        "collection_of_empty_collection.json": dumps(
            feature(
                {
                    "type": "GeometryCollection",
                    "geometries": [{"type": "GeometryCollection", "geometries": []}],
                }
            )
        ),
        "null_geometry.json": dumps({**feature(), "geometry": None}),
        "mixed_dimensions_line.json": dumps(
            feature(
                {
                    "type": "LineString",
                    "coordinates": [[-9.1402, 38.7101], [-9.1410, 38.7110, 25.0]],
                }
            )
        ),
        "point_with_altitude_and_measure.json": dumps(
            feature({"type": "Point", "coordinates": [-9.1402, 38.7101, 25.0, 3.0]})
        ),
        "one_number_point.json": dumps(feature({"type": "Point", "coordinates": [-9.1402]})),
        "string_coordinates.json": dumps(
            feature({"type": "Point", "coordinates": ["-9.1402", "38.7101"]})
        ),
        "unknown_geometry_type.json": dumps(
            feature({"type": "Circle", "coordinates": [-9.1402, 38.7101], "radius": 10})
        ),
        "duplicate_geometry_type.json": with_raw(
            "X",
            b'{"type":"Point","type":"LineString","coordinates":[-9.1402,38.7101]}',
            feature("X"),
        ),
        "duplicate_coordinates.json": with_raw(
            "X",
            b'{"type":"Point","coordinates":[-9.1402,38.7101],"coordinates":[0,0]}',
            feature("X"),
        ),
        "duplicate_title.json": dumps(feature()).replace(
            b'"title": "Tasca do Chico"', b'"title": "Tasca do Chico", "title": "Other"'
        ),
        "duplicate_properties.json": dumps(feature())[:-1] + b', "properties": {}}',
        # text: invalid UTF-8, direction overrides, invisible controls
        "invalid_utf8_title.json": dumps(feature(title="TITLE")).replace(
            b"TITLE", b"Tasca \xff\xfe"
        ),
        "overlong_utf8_slash.json": dumps(feature(title="TITLE")).replace(b"TITLE", b"\xc0\xaf"),
        "lone_surrogate_title.json": dumps(feature(title="TITLE")).replace(
            b"TITLE", b"Tasca \\ud800"
        ),
        "right_to_left_override_title.json": dumps(feature(title="Tasca \u202egpj.exe")),
        "left_to_right_override_story.json": dumps(
            feature(narratives=[{"text": "A story \u202dwith a hidden turn", "language": "pt"}])
        ),
        "isolate_in_category.json": dumps(feature(category="memory\u2066")),
        "pop_directional_in_tag.json": dumps(feature(tags=["fado\u202c"])),
        "nul_in_title.json": dumps(feature(title="Tasca\u0000do Chico")),
        "escape_sequence_in_story.json": dumps(
            feature(narratives=[{"text": "Story \u001b[2J\u001b[31mred", "language": "pt"}])
        ),
        "line_separator_in_title.json": dumps(feature(title="Tasca\u2028do Chico")),
    }


def png(width: int, height: int, idat: bytes) -> bytes:
    """A PNG from its parts, so the header may claim what the data does not hold."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def small_jpeg(comment: bytes | None = None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 90, 40)).save(out, "JPEG", quality=80)
    data = out.getvalue()
    if comment is None:
        return data
    # A COM segment right after SOI: valid JPEG, and the text sits near the start where a
    # browser sniffing for HTML would look.
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


def image_cases() -> dict[str, bytes]:
    script = b"<html><body><script>window.__pwned=1</script></body></html>"
    jpeg = small_jpeg()
    good_png = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(good_png, "PNG")
    # 100,000 x 100,000 pixels claimed by a 100-byte file: a decompression bomb.
    bomb_rows = zlib.compress(b"\x00" * 1024)
    return {
        "bomb_100k_by_100k.png": png(100_000, 100_000, bomb_rows),
        "bomb_1_by_50m.png": png(1, 50_000_000, bomb_rows),
        "bomb_compressed_zeros.png": png(8000, 6000, zlib.compress(b"\x00" * (8000 * 3 + 1) * 8)),
        "polyglot_jpeg_html_comment.jpg": small_jpeg(script),
        "polyglot_jpeg_script_after_end.jpg": jpeg + script,
        "polyglot_png_svg_trailer.png": good_png.getvalue()
        + b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1"/>',
        "javascript_url_in_jpeg_comment.jpg": small_jpeg(b"javascript:window.__pwned=1"),
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "truncated.png": good_png.getvalue()[: len(good_png.getvalue()) // 2],
        "header_only.jpg": jpeg[:20],
        "empty.jpg": b"",
        "html_named_jpg.jpg": script,
        "svg_with_script.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>'
        b"window.__pwned=1</script></svg>",
        "gif_named_png.png": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "pdf_named_jpg.jpg": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    }


def main() -> None:
    for folder, cases in (("json", json_cases()), ("images", image_cases())):
        target = HERE / folder
        target.mkdir(exist_ok=True)
        for name, data in cases.items():
            (target / name).write_bytes(data)
        print(f"{len(cases)} files in {target}")


if __name__ == "__main__":
    main()
