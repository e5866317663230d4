"""Write the hostile-input corpus next to this file (run it again to rebuild it).

``python tests/hostile/build_corpus.py``. Every file is deterministic, so a rebuild
changes nothing unless this script changes. The expected answer of each file is in
``tests/web/test_hostile_input.py``; the enormous inputs (a 100 MB body) are made on
the fly by the test rather than kept here.
"""

from __future__ import annotations

import io
import json
import math
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


# ---------------------------------------------------------------------------
# Pathological shapes: each one cheap to send (at most a few hundred kB, under the 1 MiB
# body limit), and each once expensive to check or repair. All lie in central Lisbon,
# inside the project area and the size limits, so the geometry rules are what refuse
# them. Coordinates are rounded to 7 decimals (1 cm) unless the case is about closeness.
# ---------------------------------------------------------------------------

LON, LAT, R = -9.14, 38.71, 0.003  # about 260 m east-west and 330 m north-south


def _xy(x: float, y: float, digits: int | None = 7) -> list[float]:
    lon, lat = LON + R * x, LAT + R * y
    return [round(lon, digits), round(lat, digits)] if digits else [lon, lat]


def _closed(points: list[list[float]]) -> list[list[float]]:
    return [*points, points[0]]


def _polygon(*rings: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": [_closed(r) for r in rings]}


def _line(points: list[list[float]]) -> dict:
    return {"type": "LineString", "coordinates": points}


def star(n: int, step: int) -> list[list[float]]:
    """n points on a circle joined every ``step``-th: {n/step}, whose points cross
    n*(step-1) times (a pentagram is star(5, 2)); n and step have no common divisor."""
    assert math.gcd(n, step) == 1
    return [
        _xy(math.cos(2 * math.pi * (i * step % n) / n), math.sin(2 * math.pi * (i * step % n) / n))
        for i in range(n)
    ]


def spiral(n: int, turns: int) -> list[list[float]]:
    """n points winding inwards ``turns`` times; closing it crosses every turn."""
    return [
        _xy(
            (1 - 0.9 * i / n) * math.cos(2 * math.pi * turns * i / n),
            (1 - 0.9 * i / n) * math.sin(2 * math.pi * turns * i / n),
        )
        for i in range(n)
    ]


def coil(n: int, loops: int) -> list[list[float]]:
    """A stretched telephone cord: ``loops`` loops along a line, each crossing the next."""
    return [
        _xy(
            -1 + 2 * i / n + 0.3 * math.cos(2 * math.pi * loops * i / n),
            0.3 * math.sin(2 * math.pi * loops * i / n),
        )
        for i in range(n)
    ]


def _slanted(x: float, y: float) -> list[float]:
    # turned 45 degrees: then every long edge's box overlaps every other's
    return _xy(-0.7 + 0.7 * (x - y), -0.7 + 0.7 * (x + y))


def comb(n: int, overlap: bool = False) -> list[list[float]]:
    """n points zigzagging between two slanted lines (a valid, simple line); with
    ``overlap`` each tooth leans over the next ones, so every edge crosses hundreds."""
    lean = 0.5 if overlap else 0.0
    return [_slanted(i / n + lean * (i % 2), i % 2) for i in range(n)]


def comb_area(n: int) -> list[list[float]]:
    """A valid comb: n - 2 teeth points, closed under a slanted base."""
    return [*comb(n - 2), _slanted(1.0, -0.2), _slanted(0.0, -0.2)]


def near_duplicates(n: int) -> list[list[float]]:
    """A star whose every point is followed by a twin 1e-12 degrees away: distinct,
    so never removed as a repeat, but as good as the same point."""
    points = []
    for x, y in star(n // 2, (n // 2 - 1) // 2):
        points += [[x, y], [x + 1e-12, y - 1e-12]]
    return points


def tangle_in_a_pinhead(n: int) -> list[list[float]]:
    """n points scattered within a millionth of a degree: a dense knot."""
    return [
        _xy(1e-4 * math.sin(i * 12.9898), 1e-4 * math.sin(i * 78.233), digits=None)
        for i in range(n)
    ]


def squares(count: int, size: float, shift: float) -> list[list[list[float]]]:
    """``count`` squares in a row across the centre, each moved by ``shift`` from the last."""
    out = []
    for k in range(count):
        x, y = -0.8 + k * shift, -size / 2
        out.append([_xy(x, y), _xy(x, y + size), _xy(x + size, y + size), _xy(x + size, y)])
    return out


def bowtie(scale: float) -> list[list[float]]:
    return [_xy(-scale, -scale), _xy(scale, scale), _xy(scale, -scale), _xy(-scale, scale)]


def flower(petals: int) -> list[list[float]]:
    """Petals that all touch at the centre: the outline passes the centre every time."""
    points = []
    for k in range(petals):
        a, w = 2 * math.pi * k / petals, math.pi / petals
        points += [_xy(0, 0), _xy(math.cos(a), math.sin(a)), _xy(math.cos(a + w), math.sin(a + w))]
    return points


def geometry_cases() -> dict[str, bytes]:
    a, b = _xy(-0.5, -0.5), _xy(0.5, 0.5)
    triangle = [_xy(0, 1), _xy(-0.9, -0.5), _xy(0.9, -0.5)]
    shell = [_xy(-1, -1), _xy(1, -1), _xy(1, 1), _xy(-1, 1)]
    cases = {
        # the star family, from the 100 points to beyond the area limit
        "geometry_star_50_step_3.json": _polygon(star(50, 3)),
        "geometry_star_50_step_23.json": _polygon(star(50, 23)),
        "geometry_star_100_step_49.json": _polygon(star(100, 49)),
        "geometry_star_150_step_73.json": _polygon(star(150, 73)),
        "geometry_star_1000_step_3.json": _polygon(star(1000, 3)),
        "geometry_star_1000_step_499.json": _polygon(star(1000, 499)),
        "geometry_star_4999_step_2499.json": _polygon(star(4999, 2499)),
        "geometry_star_10000_step_4999.json": _polygon(star(10_000, 4999)),
        "geometry_star_route_10000_step_4999.json": _line(star(10_000, 4999)),
        # spirals, coils, combs and zigzags
        "geometry_spiral_4999_closed_across_200_turns.json": _polygon(spiral(4999, 200)),
        # 32 crossings: the most the scan lets through to GEOS (make_valid on it took 30 ms)
        "geometry_spiral_4999_closed_across_33_turns.json": _polygon(spiral(4999, 33)),
        "geometry_coil_route_10000_points_1000_loops.json": _line(coil(10_000, 1000)),
        "geometry_comb_area_4999_slanted_teeth.json": _polygon(comb_area(4999)),
        "geometry_comb_route_10000_slanted_teeth.json": _line(comb(10_000)),
        "geometry_zigzag_route_10000_overlapping_teeth.json": _line(comb(10_000, overlap=True)),
        # retracing: the same ground again and again
        "geometry_route_retracing_itself_5000_times.json": _line([a, b] * 5000),
        "geometry_area_retracing_a_triangle_1666_times.json": _polygon(triangle * 1666),
        "geometry_flower_area_1666_petals_touching.json": _polygon(flower(1666)),
        # closeness
        "geometry_near_duplicate_vertices_4998.json": _polygon(near_duplicates(4998)),
        "geometry_tangle_in_a_pinhead_5000.json": _line(tangle_in_a_pinhead(5000)),
        # rings
        "geometry_area_with_1249_holes.json": _polygon(shell, *squares(1249, 0.001, 0.0012)),
        "geometry_area_with_100_overlapping_holes.json": _polygon(shell, *squares(100, 0.3, 0.012)),
        "geometry_area_with_100_identical_holes.json": _polygon(shell, *squares(100, 0.3, 0.0)),
        "geometry_area_with_100000_empty_holes.json": {
            "type": "Polygon",
            "coordinates": [_closed(shell)] + [[]] * 100_000,
        },
        "geometry_nested_bowties_100.json": _polygon(
            bowtie(1.0), *(bowtie(0.99 - k * 0.0095) for k in range(99))
        ),
        "geometry_bowtie_chain_4999.json": _polygon(
            [_xy(-1 + 2 * k / 2499, (-1) ** k * 0.5) for k in range(2500)]
            + [_xy(1 - 2 * k / 2499, (-1) ** (k + 1) * 0.5) for k in range(2499)]
        ),
    }
    return {
        name: json.dumps(feature(geometry), separators=(",", ":")).encode()
        for name, geometry in cases.items()
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


def cql2_cases() -> dict[str, bytes]:
    """Filters for ``GET /ogc/collections/places/items?filter=...``: ``.txt`` files are CQL2
    text, ``.json`` files CQL2 JSON. Those named ``harmless_*`` are well-formed (and must
    select nothing they should not); every other one must be refused with a 400."""
    bowtie = "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"
    nested = {"op": "=", "args": [{"property": "year_from"}, 1]}
    for _ in range(30):
        nested = {"op": "not", "args": [nested]}
    cases: dict[str, str | dict | list] = {
        # too deep, too large, too long
        "deep_not_1990.txt": "NOT " * 1990 + "year_from = 1",
        "deep_parentheses_3990.txt": "(" * 3990 + "year_from = 1" + ")" * 3990,
        "deep_casei_100.txt": "CASEI(" * 100 + "title" + ")" * 100 + " = 'a'",
        "or_chain_250_terms.txt": " OR ".join(f"year_from = {i}" for i in range(250)),
        "in_list_1500_values.txt": "year_from IN (" + ", ".join(["1"] * 1500) + ")",
        "overlong_9000_characters.txt": "title = '" + "a" * 9000 + "'",
        "integer_of_5000_digits.txt": "year_from = " + "9" * 5000,
        "number_1e400.txt": "year_from = 1e400",
        "polygon_1500_vertices.txt": "S_INTERSECTS(geometry, LINESTRING("
        + ", ".join(f"{i % 9} {i % 7}" for i in range(1500))
        + "))",
        "json_deep_not_30.json": nested,
        "json_bracket_bomb_5000.json": "[" * 5000 + "]" * 5000,
        "json_in_list_5000.json": {
            "op": "in",
            "args": [{"property": "year_from"}, list(range(5000))],
        },
        # malformed
        "unterminated_string.txt": "title = 'never closed",
        "unbalanced_parentheses.txt": "((year_from = 1)",
        "sql_comment.txt": "year_from = 1 -- and the rest",
        "statement_after_semicolon.txt": "year_from = 1; DROP TABLE places",
        "nan_coordinate.txt": "S_INTERSECTS(geometry, POINT(nan 38.7))",
        "nul_in_string.txt": "title = 'a\x00b'",
        "json_nan_literal.json": '{"op": "=", "args": [{"property": "year_from"}, NaN]}',
        "json_not_an_operation.json": {"filter": "year_from = 1"},
        "json_unknown_geometry_type.json": {
            "op": "s_intersects",
            "args": [{"property": "geometry"}, {"type": "Pointy", "coordinates": [1, 2]}],
        },
        "json_string_coordinates.json": {
            "op": "s_intersects",
            "args": [{"property": "geometry"}, {"type": "Point", "coordinates": ["-9", "38"]}],
        },
        "json_nul_escape.json": '{"op": "=", "args": [{"property": "title"}, "a\\u0000b"]}',
        # private or unknown fields, unknown functions
        "private_contact.txt": "contributor_contact LIKE '%@%'",
        "private_name_quoted.txt": '"contributor_name" IS NOT NULL',
        "private_sensitivity.txt": "sensitivity = 'hidden'",
        "private_status_behind_or.txt": "year_from > 1 OR status = 'pending'",
        "private_exact_geometry.txt": "S_INTERSECTS(geom, POINT(-9.14 38.71))",
        "private_workshop_code.txt": "workshop LIKE 'H%'",
        "json_private_contact.json": {
            "op": "isNull",
            "args": [{"property": "contributor_contact"}],
        },
        "identifier_injection.txt": '"p.title) OR (1=1" = 1',
        "unknown_function_pg_sleep.txt": "pg_sleep(10) = 1",
        "unknown_function_randomblob.txt": "randomblob(1000000000) = 'x'",
        # wrong types and values
        "text_greater_than_number.txt": "title > 5",
        "year_compared_to_text.txt": "year_from = 'eighteen hundred'",
        "geometry_compared_to_number.txt": "geometry = 1",
        "bowtie_polygon.txt": f"S_INTERSECTS(geometry, {bowtie})",
        "point_off_the_earth.txt": "S_INTERSECTS(geometry, POINT(500 500))",
        "dwithin_1000_km.txt": "S_DWITHIN(geometry, POINT(-9.14 38.71), 1000000)",
        "dwithin_negative.txt": "S_DWITHIN(geometry, POINT(-9.14 38.71), -5)",
        "interval_reversed.txt": "T_DURING(INTERVAL(year_from, year_to), "
        "INTERVAL('2000-01-01', '1900-01-01'))",
        "date_february_30.txt": "T_AFTER(created_at, DATE('2024-02-30'))",
        "date_year_zero.txt": "T_AFTER(created_at, DATE('0000-01-01'))",
        "timestamp_past_year_9999.txt": "T_AFTER(created_at, "
        "TIMESTAMP('9999-12-31T23:59:59-01:00'))",
        # well-formed: text that looks like SQL stays text
        "harmless_quote_or_1_eq_1.txt": "title = 'x'' OR 1=1 --'",
        "harmless_union_select.txt": "title = 'x'' UNION SELECT contributor_contact "
        "FROM places --'",
        "harmless_backslash_quote.txt": "title = 'x\\' OR 1=1 --'",
        "harmless_like_many_wildcards.txt": "title LIKE '" + "%a" * 40 + "%b'",
        "harmless_right_to_left_override.txt": "title = '\u202eelif.exe'",
        "harmless_arabic_title.txt": "title = 'مسجد' OR CASEI(title) LIKE '%مسجد%'",
        "harmless_collection_of_overlapping_areas.txt": "S_WITHIN(geometry, "
        "GEOMETRYCOLLECTION(POLYGON((-9.15 38.70, -9.13 38.70, -9.13 38.72, -9.15 38.70)), "
        "POLYGON((-9.14 38.70, -9.12 38.70, -9.12 38.72, -9.14 38.70)), POINT(-9.2 38.71)))",
        "harmless_json_injection.json": {
            "op": "like",
            "args": [{"property": "title"}, "%' OR '1'='1"],
        },
    }
    out = {}
    for name, case in cases.items():
        if isinstance(case, str):
            body = case.encode()
        else:
            body = json.dumps(case, ensure_ascii=False).encode()
        out[name] = body
    return out


def ogc_cases() -> dict[str, bytes]:
    """Requests to OGC API – Features and Tiles with a parameter that cannot be used: each
    file says the path, the query, and the status and parameter the problem must name."""
    epsg = "http://www.opengis.net/def/crs/EPSG/0/"
    items, tiles = "/ogc/collections/places/items", "/ogc/collections/places/tiles"
    walk_tiles = "/ogc/collections/walks/tiles/WebMercatorQuad"
    cases: dict[str, tuple[str, dict[str, str], int, str]] = {
        # Part 2: a CRS not on offer, however it is written
        "crs_unknown_epsg": (items, {"crs": epsg + "9999"}, 400, "crs"),
        "crs_short_form_not_offered": (items, {"crs": "EPSG:32629"}, 400, "crs"),
        "crs_10000_characters": (items, {"crs": epsg + "9" * 10_000}, 400, "crs"),
        "crs_with_nul": (items, {"crs": epsg + "4326\x00"}, 400, "crs"),
        "crs_of_one_feature": (items + "/pl_hostile", {"crs": "urn:ogc:def:crs:EPSG::9999"},
                               400, "crs"),
        "crs_of_walks": ("/ogc/collections/walks/items", {"crs": "CRS84; DROP TABLE walks"},
                         400, "crs"),
        "bbox_crs_unknown": (items, {"bbox": "0,0,1,1", "bbox-crs": epsg + "9999"}, 400,
                             "bbox-crs"),
        "bbox_outside_its_crs": (items, {"bbox": "9e9,9e9,9.1e9,9.1e9", "bbox-crs": epsg + "3763"},
                                 400, "bbox"),
        "filter_crs_unknown": (items, {"filter": "year_from > 1", "filter-crs": epsg + "1"},
                               400, "filter-crs"),
        # Part 3: a filter language, queryable, sort key or property that does not exist
        "filter_lang_sql": (items, {"filter": "year_from > 1", "filter-lang": "sql"}, 400,
                            "filter-lang"),
        "queryable_unknown": (items, {"filter": "colour = 'red'"}, 400, "filter"),
        "queryable_private": (items, {"filter": "contributor_contact IS NOT NULL"}, 400,
                              "filter"),
        "cql2_malformed": (items, {"filter": "year_from >"}, 400, "filter"),
        "cql2_too_deep": (items, {"filter": "NOT (" * 300 + "year_from = 1" + ")" * 300},
                          400, "filter"),
        "sortby_private": (items, {"sortby": "-contributor_contact"}, 400, "sortby"),
        "properties_private": (items, {"properties": "title,contributor_contact"}, 400,
                               "properties"),
        "limit_of_40_digits": (items, {"limit": "9" * 40}, 400, "limit"),
        "offset_negative": (items, {"offset": "-1"}, 400, "offset"),
        "datetime_reversed": (items, {"datetime": "2020-01-01T00:00:00Z/2000-01-01T00:00:00Z"},
                              400, "datetime"),
        # Tiles: outside the tile matrix set, or not a number
        "tile_matrix_23": (tiles + "/WebMercatorQuad/23/0/0", {}, 404, "tileMatrix"),
        "tile_matrix_negative": (tiles + "/WebMercatorQuad/-1/0/0", {}, 404, "tileMatrix"),
        "tile_row_past_the_matrix": (tiles + "/WebMercatorQuad/3/8/0", {}, 404, "tileRow"),
        "tile_col_past_the_matrix": (walk_tiles + "/14/6278/16384", {}, 404, "tileCol"),
        "tile_col_5000_digits": (tiles + "/WebMercatorQuad/3/0/" + "9" * 5000, {}, 400,
                                 "tileCol"),
        "tile_row_not_a_number": (walk_tiles + "/3/1e3/0", {}, 400, "tileRow"),
        "tile_matrix_set_unknown": (tiles + "/WorldCRS84Quad/0/0/0", {}, 404,
                                    "tileMatrixSetId"),
        "tiles_of_an_unknown_collection": ("/ogc/collections/contacts/tiles", {}, 404,
                                           "collectionId"),
        # Formats that are not offered
        "format_xml_items": (items, {"f": "xml"}, 400, "f"),
        "format_shapefile_collection": ("/ogc/collections/places", {"f": "shp"}, 400, "f"),
        "format_html_queryables": ("/ogc/collections/places/queryables", {"f": "pdf"}, 400, "f"),
        "format_png_tile": (walk_tiles + "/0/0/0", {"f": "png"}, 400, "f"),
        "format_xml_tilejson": (tiles + "/WebMercatorQuad/tilejson.json", {"f": "xml"}, 400,
                                "f"),
        "format_shapefile_download": ("/api/export/places.shp", {}, 404, "format"),
        "collection_unknown": ("/ogc/collections/contributors/items", {}, 404, "collectionId"),
        "queryables_of_walks": ("/ogc/collections/walks/queryables", {}, 404, "collectionId"),
    }  # fmt: skip
    return {
        f"{name}.json": json.dumps(
            {"path": path, "query": query, "status": status, "parameter": parameter},
            ensure_ascii=False,
            indent=1,
        ).encode()
        for name, (path, query, status, parameter) in cases.items()
    }


def main() -> None:
    for folder, cases in (
        ("json", json_cases() | geometry_cases()),
        ("images", image_cases()),
        ("cql2", cql2_cases()),
        ("ogc", ogc_cases()),
    ):
        target = HERE / folder
        target.mkdir(exist_ok=True)
        for name, data in cases.items():
            (target / name).write_bytes(data)
        print(f"{len(cases)} files in {target}")


if __name__ == "__main__":
    main()
