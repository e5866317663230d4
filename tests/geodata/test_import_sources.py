"""Readers of community tools' exports: detection from content, hostile XML and zips
refused, the field map, and each source imported through the store on every backend."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from geodata.errors import InvalidInput, SourceError
from geodata.importer import ImportOptions, import_places
from geodata.io.sources.field_map import FieldMap
from geodata.io.sources.kml import MAX_KML_BYTES, MAX_KMZ_ENTRIES
from geodata.io.sources.registry import detect_source, read_source
from geodata.neighbourhoods import read_neighbourhoods

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources"
KINDS = {
    "ushahidi_rni_reports_subset.geojson": "ushahidi",
    "ushahidi_rni_reports_subset.csv": "ushahidi",
    "umap_map.umap": "umap",
    "my_maps.kml": "kml",
    "my_maps.kmz": "kml",
    "walk.gpx": "gpx",
    "kobo_export.csv": "kobo",
    "odk_export.csv": "odk",
    "purwodinatan_project_area.geojson": None,
}


@pytest.mark.parametrize(("name", "kind"), KINDS.items())
def test_the_source_is_told_from_the_content_not_the_name(name, kind, tmp_path):
    assert detect_source(FIXTURES / name) == kind
    renamed = tmp_path / "export.dat"
    shutil.copy(FIXTURES / name, renamed)
    assert detect_source(renamed) == kind


def test_a_plain_geojson_is_read_as_before():
    source, read = read_source(FIXTURES / "purwodinatan_project_area.geojson")
    assert source is None and len(read.features) == 1


def test_ushahidi_text_is_cleaned_and_credited():
    _, read = read_source(FIXTURES / "ushahidi_rni_reports_subset.geojson", "ushahidi")
    texts = [p["narrative"] for p in read.features.properties]
    assert any('"community-based"' in t for t in texts)
    assert not any("&quot;" in t for t in texts)
    assert read.features.properties[0]["narrative_source"] == "Ushahidi report, posted 2015-10-25"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&xxe;</name>
<Point><coordinates>110.4288,-6.9702</coordinates></Point></Placemark></Document></kml>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<gpx version="1.1"><wpt lat="-6.97" lon="110.42"><name>&d;</name></wpt></gpx>"""


@pytest.mark.parametrize(("data", "kind"), [(XXE, "kml"), (LAUGHS, "gpx")])
def test_document_types_and_entities_are_refused(data, kind, tmp_path):
    path = tmp_path / f"hostile.{kind}"
    path.write_bytes(data)
    with pytest.raises(SourceError, match="declares a document type or entities"):
        read_source(path, kind)
    kmz = tmp_path / "hostile.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("doc.kml", XXE)
    with pytest.raises(SourceError, match="declares a document type"):
        read_source(kmz)


def test_a_kmz_bomb_is_refused_by_its_real_size(tmp_path):
    bomb = tmp_path / "bomb.kmz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("doc.kml", "w") as fh:
        fh.write(b"<kml>")
        chunk = b" " * 2**20
        for _ in range(MAX_KML_BYTES // 2**20 + 1):
            fh.write(chunk)
    assert bomb.stat().st_size < 1_000_000  # a small file...
    with pytest.raises(SourceError, match="unpacks to over 64 MB"):  # ...that unpacks big
        read_source(bomb, "kml")


def test_a_kmz_of_too_many_entries_is_refused(tmp_path):
    many = tmp_path / "many.kmz"
    with zipfile.ZipFile(many, "w") as zf:
        zf.writestr("doc.kml", (FIXTURES / "my_maps.kml").read_bytes())
        for i in range(MAX_KMZ_ENTRIES):
            zf.writestr(f"images/{i}.png", b"")
    with pytest.raises(SourceError, match="entries is refused"):
        read_source(many, "kml")


def test_field_map_from_toml_and_options(tmp_path):
    toml = tmp_path / "map.toml"
    toml.write_text('[fields]\ntitle = "site_name"\n[categories]\ntemple = "religious"\n')
    fmap = FieldMap.load(toml)
    assert fmap.fields == {"title": "site_name"} and fmap.categories == {"temple": "religious"}
    for bad in ("title", "nonsense=x", "=x"):
        with pytest.raises(InvalidInput):
            FieldMap().add(bad)
    toml.write_text("[other]\nx = 1\n")
    with pytest.raises(SourceError, match=r"unknown table \[other\]"):
        FieldMap.load(toml)
    toml.write_text("not toml = = =")
    with pytest.raises(SourceError, match="is not a readable TOML"):
        FieldMap.load(toml)


def test_a_wrong_geopoint_column_is_named():
    with pytest.raises(SourceError, match="no geopoint column 'where'"):
        read_source(FIXTURES / "kobo_export.csv", "kobo", geopoint="where")


CASES = [
    ("ushahidi_rni_reports_subset.csv", ["category.RNI Activities=monument"], 4),
    ("umap_map.umap", [], 4),
    ("my_maps.kmz", ["category.Temples=religious"], 3),
    ("walk.gpx", ["category.temple=religious"], 3),
    ("kobo_export.csv", ["title=site_name", "tags=features"], 2),
    ("odk_export.csv", ["title=site-name", "narrative=story"], 1),
]


@pytest.mark.parametrize(("name", "maps", "count"), CASES)
def test_each_source_through_the_store(store, name, maps, count):
    store.replace_neighbourhoods(
        read_neighbourhoods(FIXTURES / "purwodinatan_project_area.geojson", "title").items
    )
    fmap = FieldMap()
    for spec in maps:
        fmap.add(spec)
    dry = import_places(
        store, FIXTURES / name, ImportOptions(category="monument", dry_run=True), field_map=fmap
    )
    assert dry.imported == count and store.count() == 0 and sum(dry.categories.values()) == count
    result = import_places(
        store,
        FIXTURES / name,
        ImportOptions(category="monument"),
        field_map=FieldMap(dict(fmap.fields), dict(fmap.categories)),
    )
    assert result.imported == count and not result.rejected
    assert store.count() == count
