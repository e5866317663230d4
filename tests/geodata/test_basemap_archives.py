"""Basemap archives: MBTiles and PMTiles, raster and vector, read and checked through; a
file that is neither, or whose tile index is broken, refused with a readable reason; an
import that fails leaves the installed basemap as it was."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest
from pmtiles.tile import Compression

from geodata.basemap.archive import BasemapError, plain_attribution
from geodata.basemap.coverage import count_tiles, parse_bbox, parse_zooms, tile_range
from geodata.basemap.installed import (
    POINTER,
    install_basemap,
    installed_basemap,
    remove_basemap,
)
from geodata.basemap.opening import open_archive
from tests.geodata.basemap_archives import BAIXA, png_tile, write_mbtiles, write_pmtiles

KINDS = [
    ("mbtiles", False),
    ("mbtiles", True),
    ("pmtiles", False),
    ("pmtiles", True),
]


def make(tmp_path: Path, container: str, vector: bool, **kw) -> Path:
    path = tmp_path / f"source.{container}"
    writer = write_mbtiles if container == "mbtiles" else write_pmtiles
    return writer(path, vector=vector, **kw)


@pytest.mark.parametrize(("container", "vector"), KINDS)
def test_each_kind_of_archive_is_read_with_its_zooms_area_and_credit(tmp_path, container, vector):
    archive = open_archive(make(tmp_path, container, vector))
    info = archive.info
    assert (info.container, info.vector, info.minzoom, info.maxzoom) == (container, vector, 13, 15)
    assert info.format == ("pbf" if vector else "png")
    assert info.bounds == pytest.approx(BAIXA)
    assert info.attribution == "© Test tiles"
    assert info.tiles == sum(tile_range(BAIXA, z).count for z in (13, 14, 15))
    assert info.gzipped is vector
    z, x, y = 14, *next(tile_range(BAIXA, 14).tiles())
    data = archive.tile(z, x, y)
    if vector:
        assert gzip.decompress(data)[:1] == b"\x1a"  # a layer: a vector tile
    else:
        assert data == png_tile(14)
    assert archive.tile(14, 0, 0) is None  # outside its area: no tile
    archive.close()


def test_an_uncompressed_vector_pmtiles_is_read_as_such(tmp_path):
    path = write_pmtiles(tmp_path / "plain.pmtiles", vector=True, compression=Compression.NONE)
    info = open_archive(path).info
    assert info.vector and not info.gzipped


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"type": "FeatureCollection", "features": []}', "neither an MBTiles nor a PMTiles"),
        (png_tile(3), "neither an MBTiles nor a PMTiles"),
        (b"", "neither an MBTiles nor a PMTiles"),
    ],
)
def test_a_file_that_is_no_archive_is_refused_by_its_content(tmp_path, content, reason):
    path = tmp_path / "lisbon.mbtiles"  # the name says MBTiles; the bytes do not
    path.write_bytes(content)
    with pytest.raises(BasemapError, match=reason):
        open_archive(path)


def test_an_sqlite_database_without_tiles_is_not_an_mbtiles(tmp_path):
    path = tmp_path / "other.mbtiles"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE places (id TEXT)")
    con.commit()
    con.close()
    with pytest.raises(BasemapError, match="not an MBTiles archive: it has no 'tiles' table"):
        open_archive(path)


def test_an_mbtiles_without_tiles_is_refused(tmp_path):
    path = write_mbtiles(tmp_path / "empty.mbtiles", zooms=[])
    with pytest.raises(BasemapError, match="holds no tiles"):
        open_archive(path)


def test_a_truncated_mbtiles_has_a_broken_tile_index(tmp_path):
    path = write_mbtiles(tmp_path / "cut.mbtiles", zooms=range(12, 17))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BasemapError, match="tile index is damaged"):
        open_archive(path)


def test_an_mbtiles_with_a_damaged_index_page_is_refused(tmp_path):
    path = write_mbtiles(tmp_path / "damaged.mbtiles", zooms=range(12, 17))
    con = sqlite3.connect(path)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tile_index'").fetchone()
    con.close()
    data = bytearray(path.read_bytes())
    start = (root[0] - 1) * page_size
    data[start + 8 : start + 200] = b"\xff" * 192  # the index's cell pointers, scrambled
    path.write_bytes(bytes(data))
    with pytest.raises(BasemapError, match="tile index is damaged"):
        open_archive(path)


def test_an_mbtiles_listing_tiles_outside_the_grid_is_refused(tmp_path):
    path = write_mbtiles(tmp_path / "odd.mbtiles")
    con = sqlite3.connect(path)
    con.execute("INSERT INTO tiles VALUES (3, 9, 1, ?)", (png_tile(3),))
    con.commit()
    con.close()
    with pytest.raises(BasemapError, match="outside zoom 3's grid"):
        open_archive(path)


def test_an_mbtiles_whose_metadata_lies_about_images_is_refused(tmp_path):
    path = write_mbtiles(tmp_path / "lies.mbtiles", vector=True)
    con = sqlite3.connect(path)
    con.execute("UPDATE metadata SET value = 'png' WHERE name = 'format'")
    con.commit()
    con.close()
    with pytest.raises(BasemapError, match="says png images but its tiles are not images"):
        open_archive(path)


def _header_field(path: Path, offset: int, value: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + 8] = value.to_bytes(8, "little")
    path.write_bytes(bytes(data))


def test_a_pmtiles_whose_directory_points_past_the_file_is_broken(tmp_path):
    path = write_pmtiles(tmp_path / "far.pmtiles")
    _header_field(path, 8, 10**9)  # the root directory's offset
    with pytest.raises(BasemapError, match="tile index is broken"):
        open_archive(path)


def test_a_pmtiles_with_a_garbled_directory_is_broken(tmp_path):
    path = write_pmtiles(tmp_path / "garbled.pmtiles")
    data = bytearray(path.read_bytes())
    data[127 + 10 : 127 + 30] = b"\x00" * 20  # inside the gzip of the root directory
    path.write_bytes(bytes(data))
    with pytest.raises(BasemapError, match="tile index is broken"):
        open_archive(path)


def test_a_pmtiles_whose_tiles_lie_past_its_data_is_broken(tmp_path):
    path = write_pmtiles(tmp_path / "short.pmtiles")
    _header_field(path, 64, 10)  # the tile data's length: shorter than its tiles
    with pytest.raises(BasemapError, match="lies past the tile data"):
        open_archive(path)


def test_a_truncated_pmtiles_is_broken(tmp_path):
    path = write_pmtiles(tmp_path / "cut.pmtiles")
    path.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(BasemapError, match="tile index is broken"):
        open_archive(path)


def test_vector_tiles_compressed_with_brotli_are_refused_with_a_way_out(tmp_path):
    path = write_pmtiles(tmp_path / "br.pmtiles", vector=True, compression=Compression.NONE)
    data = bytearray(path.read_bytes())
    data[98] = Compression.BROTLI.value
    path.write_bytes(bytes(data))
    with pytest.raises(BasemapError, match=r"compressed with brotli.*pmtiles convert"):
        open_archive(path)


def test_attribution_markup_becomes_plain_text():
    assert plain_attribution('<a href="javascript:x()">&copy; OSM</a> <b>x</b>') == "© OSM x"
    assert plain_attribution(None) == ""


def test_an_import_installs_a_checked_copy_and_replaces_the_previous_one(tmp_path):
    folder = tmp_path / "basemap"
    first = install_basemap(make(tmp_path, "mbtiles", False), folder)
    assert installed_basemap(folder) == first
    second = install_basemap(make(tmp_path, "pmtiles", True), folder, attribution="<i>Ours</i>")
    assert second.info.attribution == "Ours" and second.info.vector
    assert not first.path.exists()  # the old archive is gone
    assert sorted(p.name for p in folder.iterdir()) == sorted([POINTER, second.path.name])
    assert installed_basemap(folder).open().tile(14, *next(tile_range(BAIXA, 14).tiles()))


def test_a_failed_import_leaves_the_installed_basemap_and_no_partial_file(tmp_path):
    folder = tmp_path / "basemap"
    good = install_basemap(make(tmp_path, "mbtiles", False), folder)
    before = sorted(p.name for p in folder.iterdir())
    broken = write_pmtiles(tmp_path / "broken.pmtiles")
    _header_field(broken, 8, 10**9)
    with pytest.raises(BasemapError, match="tile index is broken"):
        install_basemap(broken, folder)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert installed_basemap(folder) == good


def test_an_archive_without_attribution_needs_one_given(tmp_path):
    source = write_mbtiles(tmp_path / "anon.mbtiles", attribution="")
    with pytest.raises(BasemapError, match="names no attribution; give the tiles' credit"):
        install_basemap(source, tmp_path / "basemap")
    assert not (tmp_path / "basemap" / POINTER).exists()
    assert [p for p in (tmp_path / "basemap").iterdir()] == []
    done = install_basemap(source, tmp_path / "basemap", attribution="Our own survey")
    assert done.info.attribution == "Our own survey"


def test_removing_the_basemap_deletes_its_file(tmp_path):
    folder = tmp_path / "basemap"
    installed = install_basemap(make(tmp_path, "pmtiles", False), folder)
    assert remove_basemap(folder) == installed
    assert installed_basemap(folder) is None and not installed.path.exists()
    assert remove_basemap(folder) is None


def test_a_damaged_pointer_is_reported(tmp_path):
    folder = tmp_path / "basemap"
    install_basemap(make(tmp_path, "mbtiles", False), folder)
    (folder / POINTER).write_text(json.dumps({"file": "x"}))
    with pytest.raises(BasemapError, match="import the basemap again"):
        installed_basemap(folder)


def test_tile_counts_and_ranges_match_the_web_mercator_grid():
    import morecantile

    tms = morecantile.tms.get("WebMercatorQuad")
    for z in (3, 10, 16):
        r = tile_range(BAIXA, z)
        listed = list(tms.tiles(*BAIXA, zooms=[z]))
        assert r.count == len(listed)
        assert {(t.x, t.y) for t in listed} == set(r.tiles())
    assert count_tiles(BAIXA, range(10, 17)) == sum(
        tile_range(BAIXA, z).count for z in range(10, 17)
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1,2,3", "not four numbers"),
        ("a,b,c,d", "not four numbers"),
        ("-9,38,-10,39", "empty or reversed"),
        ("-9,38,-8,38", "empty or reversed"),
        ("-200,38,-8,39", "outside the world"),
        ("-9,86,-8,89", "beyond the 85"),
        ("nan,38,-8,39", "not finite"),
    ],
)
def test_a_bad_bbox_says_what_is_wrong(text, reason):
    with pytest.raises(BasemapError, match=reason):
        parse_bbox(text)


def test_zooms_are_a_zoom_or_a_range():
    assert parse_zooms("10-16") == range(10, 17)
    assert parse_zooms("14") == range(14, 15)
    for bad in ("16-10", "x", "0-30", "-3"):
        with pytest.raises(BasemapError):
            parse_zooms(bad)
