"""The background map a workshop kit carries: the installed basemap cut to the workshop's
area (every zoom, only the tiles that touch it), installed where the kit is opened so
the venue's maps draw it; a file given by hand goes whole once it passes the import's
checks; a cut above the tile limit, or a file that is no basemap, is refused before any
kit is written."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from geodata.basemap.archive import BasemapError
from geodata.basemap.area_cut import overlap
from geodata.basemap.coverage import count_tiles, tile_range
from geodata.basemap.installed import install_basemap, installed_basemap
from geodata.kit_basemap import kit_basemap, workshop_area
from geodata.kit_folder import folder_for, open_folder
from geodata.kit_format import read_kit
from geodata.models import Workshop
from geodata.store.base import PlaceStore
from tests.geodata.basemap_archives import LISBON, png_tile, write_mbtiles, write_pmtiles
from tests.kit_helpers import Central, central_atlas, make_kit

ZOOMS = range(11, 15)


@pytest.fixture
def central(store: PlaceStore, tmp_path: Path) -> tuple[PlaceStore, Central, Path]:
    media = tmp_path / "central-media"
    return store, central_atlas(store, media), media


def _installed(tmp_path: Path, container: str = "mbtiles"):
    """The city's basemap installed as ``basemap import`` installs it."""
    write = write_mbtiles if container == "mbtiles" else write_pmtiles
    source = write(tmp_path / f"lisbon.{container}", LISBON, ZOOMS, attribution="© City tiles")
    return install_basemap(source, tmp_path / "central-basemap")


def _in_a_neighbourhood(store: PlaceStore, code: str) -> Workshop:
    """The kit's workshop, moved to the smallest neighbourhood (its area is the cut)."""
    smallest = min(store.neighbourhoods(), key=lambda n: n.geometry.area)
    return store.update_workshop(replace(store.get_workshop(code), neighbourhood_id=smallest.id))


@pytest.mark.parametrize("container", ["mbtiles", "pmtiles"])
def test_a_kit_carries_the_basemap_of_its_workshops_area_and_opens_with_it_installed(
    central, tmp_path, container
):
    store, c, media = central
    workshop = _in_a_neighbourhood(store, c.code)
    installed = _installed(tmp_path, container)
    area = workshop_area(store, workshop)
    inside = overlap(area, LISBON)
    assert inside is not None
    expected = count_tiles(inside, ZOOMS)
    assert 0 < expected < installed.info.tiles  # a cut, not the whole city

    target = tmp_path / "venue" / "mouraria.atlaskit"
    target.parent.mkdir()
    scratch = tmp_path / "venue" / ".cut.mbtiles"
    chosen = kit_basemap(store, workshop, given=None, attribution=None, installed=installed,
                         scratch=scratch, max_tiles=expected)  # fmt: skip
    assert chosen is not None and chosen.tiles == expected and chosen.scratch
    summary = make_kit(store, c.code, target, media, basemap=chosen)
    assert summary.basemap and summary.basemap_tiles == expected
    with read_kit(target) as kit:
        assert kit.manifest.basemap == {
            "path": "basemap/basemap.mbtiles",
            "format": "mbtiles",
            "attribution": "© City tiles",
            "tiles": expected,
        }

    folder, _ = open_folder(target)
    assert folder.has_basemap
    at_venue = installed_basemap(folder.basemap_folder)
    assert at_venue is not None
    assert at_venue.info.tiles == expected and at_venue.info.attribution == "© City tiles"
    assert (at_venue.info.minzoom, at_venue.info.maxzoom) == (ZOOMS[0], ZOOMS[-1])
    # No unpacked copy is left beside the installed one.
    assert [p.name for p in folder.root.iterdir() if p.suffix in (".mbtiles", ".pmtiles")] == []
    venue, city = at_venue.open(), installed.open()
    try:
        z = ZOOMS[-1]
        x, y = next(tile_range(inside, z).tiles())
        assert venue.tile(z, x, y) == city.tile(z, x, y) == png_tile(z)
        outside = tile_range(LISBON, z)
        far = (outside.xmin, outside.ymin)
        assert far not in tile_range(inside, z)
        assert city.tile(z, *far) is not None and venue.tile(z, *far) is None
    finally:
        venue.close()
        city.close()


def test_a_workshop_without_a_neighbourhood_takes_the_whole_citys_area(central):
    store, c, _ = central
    w, s, e, n = workshop_area(store, store.get_workshop(c.code))
    cw, cs, ce, cn = (min(b[i] for b in (x.geometry.bounds for x in store.neighbourhoods()))
                      if i < 2 else max(b[i] for b in (x.geometry.bounds for x in
                                                       store.neighbourhoods()))
                      for i in range(4))  # fmt: skip
    assert w < cw and s < cs and e > ce and n > cn  # with a margin all round
    assert (cw - w) < 0.01 and (n - cn) < 0.01


def test_an_area_above_the_tile_limit_is_refused_before_any_kit_is_written(central, tmp_path):
    store, c, _ = central
    workshop = store.get_workshop(c.code)
    scratch = tmp_path / ".cut.mbtiles"
    with pytest.raises(BasemapError, match=r"more than the limit of 10 .*--no-basemap"):
        kit_basemap(store, workshop, given=None, attribution=None,
                    installed=_installed(tmp_path), scratch=scratch, max_tiles=10)  # fmt: skip
    assert not scratch.exists()


def test_a_basemap_away_from_the_workshop_is_refused(central, tmp_path):
    store, c, _ = central
    porto = write_mbtiles(tmp_path / "porto.mbtiles", (-8.70, 41.10, -8.55, 41.20), range(11, 13))
    installed = install_basemap(porto, tmp_path / "central-basemap")
    with pytest.raises(BasemapError, match="does not reach this workshop's area"):
        kit_basemap(store, store.get_workshop(c.code), given=None, attribution=None,
                    installed=installed, scratch=tmp_path / ".cut", max_tiles=1000)  # fmt: skip


def test_a_file_given_by_hand_goes_whole_once_it_passes_the_import_checks(central, tmp_path):
    store, c, media = central
    workshop = store.get_workshop(c.code)
    given = write_pmtiles(tmp_path / "area.pmtiles", LISBON, range(11, 13), attribution="")

    def choose(path: Path, attribution: str | None = None):
        return kit_basemap(store, workshop, given=path, attribution=attribution,
                           installed=None, scratch=tmp_path / ".cut", max_tiles=1)  # fmt: skip

    with pytest.raises(BasemapError, match="names no attribution"):
        choose(given)
    chosen = choose(given, "© <b>OSM</b> contributors")
    assert not chosen.scratch and chosen.container == "pmtiles"
    assert chosen.attribution == "© OSM contributors"
    target = tmp_path / "kit" / "whole.atlaskit"
    target.parent.mkdir()
    make_kit(store, c.code, target, media, basemap=chosen)
    folder, _ = open_folder(target)
    at_venue = installed_basemap(folder.basemap_folder)
    assert at_venue is not None and at_venue.path.read_bytes() == given.read_bytes()
    assert at_venue.info.attribution == "© OSM contributors"

    (tmp_path / "notes.mbtiles").write_text("not a map")
    with pytest.raises(BasemapError):
        choose(tmp_path / "notes.mbtiles", "x")
    with pytest.raises(BasemapError, match="no basemap file"):
        choose(tmp_path / "missing.pmtiles", "x")


def test_no_installed_basemap_and_none_given_means_a_kit_without_one(central, tmp_path):
    store, c, media = central
    chosen = kit_basemap(store, store.get_workshop(c.code), given=None, attribution=None,
                         installed=None, scratch=tmp_path / ".cut", max_tiles=1)  # fmt: skip
    assert chosen is None
    target = tmp_path / "kit" / "plain.atlaskit"
    target.parent.mkdir()
    assert not make_kit(store, c.code, target, media).basemap
    folder, _ = open_folder(target)
    assert not folder.has_basemap and installed_basemap(folder.basemap_folder) is None
    assert folder_for(target) == folder.root
