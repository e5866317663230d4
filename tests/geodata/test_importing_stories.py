"""Importing files of stories: chosen fields, several features of one place, HTML texts,
each story's source and licence, and stories of places the store holds already."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import orjson
import pytest
from shapely.geometry import Point

from geodata import moderation
from geodata.audit import Actor
from geodata.demo import NEIGHBOURHOODS, demo_path
from geodata.errors import InvalidInput, SourceError
from geodata.importer import ImportOptions, import_places
from geodata.io.csv_export import write_places_csv
from geodata.io.geojson import write_places_geojson
from geodata.models import Narrative, Place, Status
from geodata.neighbourhoods import read_neighbourhoods
from geodata.vocabulary import Vocabulary

OSM = "ODbL 1.0 (© OpenStreetMap contributors)"
UNESCO = "CC BY-SA 3.0 IGO (© UNESCO World Heritage Centre)"
STORY_OPTIONS = dict(
    category="building",
    title_field="name",
    narrative_field="story",
    narrative_language_field="language",
    narrative_source_field="source",
    narrative_licence_field="licence",
    narrative_format="html",
    licence_field="place_licence",
    attribution_field="place_attribution",
    group_field="place_key",
)


@pytest.fixture
def lisbon(store):
    store.replace_neighbourhoods(read_neighbourhoods(demo_path(NEIGHBOURHOODS), "NOME").items)
    return store


def story(key, name, text, language, lon=-9.1335, lat=38.7115, **extra) -> dict:
    props = {
        "place_key": key,
        "name": name,
        "story": text,
        "language": language,
        "source": f"record {key} ({language})",
        "licence": OSM,
        "place_licence": "ODbL-1.0",
        "place_attribution": "© OpenStreetMap contributors",
        **extra,
    }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def write(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_features_of_one_place_become_one_place_with_all_their_stories(lisbon, tmp_path):
    path = write(
        tmp_path / "stories.geojson",
        [
            story("whc-1", "Torre", "<p>The Tower of Bel&eacute;m &ndash; 1519.</p>", "en",
                  licence=UNESCO, place_licence="CC-BY-SA-3.0-IGO",
                  place_attribution="© UNESCO World Heritage Centre"),
            story("osm-2", "Casa", "Uma casa,com história.", "pt", lon=-9.14, lat=38.71),
            story("whc-1", "Tour", "<p>La tour de Bel&eacute;m.</p>", "fr", licence=UNESCO),
        ],
    )  # fmt: skip
    result = import_places(lisbon, path, ImportOptions(**STORY_OPTIONS))
    assert (result.read, result.imported, result.merged, result.rejected) == (3, 2, 1, [])
    places = {p.title: p for p in lisbon.list()}
    assert set(places) == {"Torre", "Casa"}  # the group's first feature names the place
    torre = places["Torre"]
    assert [(n.language, n.text) for n in torre.narratives] == [
        ("en", "The Tower of Belém – 1519."),
        ("fr", "La tour de Belém."),
    ]
    assert [n.source for n in torre.narratives] == ["record whc-1 (en)", "record whc-1 (fr)"]
    assert {n.licence for n in torre.narratives} == {UNESCO}
    assert (torre.licence, torre.attribution) == (
        "CC-BY-SA-3.0-IGO",
        "© UNESCO World Heritage Centre",
    )
    casa = places["Casa"]
    assert casa.narratives == [
        Narrative("Uma casa,com história.", "pt", source="record osm-2 (pt)", licence=OSM)
    ]
    assert (casa.licence, casa.attribution) == ("ODbL-1.0", "© OpenStreetMap contributors")


def test_stories_and_their_credit_reach_every_download(lisbon, tmp_path):
    path = write(tmp_path / "s.geojson", [story("k", "Casa", "Uma casa.", "pt")])
    import_places(lisbon, path, ImportOptions(**STORY_OPTIONS))
    buf = io.BytesIO()
    write_places_geojson(lisbon, None, buf)
    (feature,) = orjson.loads(buf.getvalue())["features"]
    assert feature["properties"]["narratives"] == [
        {"text": "Uma casa.", "language": "pt", "provenance": "original",
         "source": "record k (pt)", "licence": OSM}
    ]  # fmt: skip
    assert feature["properties"]["licence"] == "ODbL-1.0"
    raw = io.BytesIO()
    write_places_csv(lisbon, None, raw)
    (row,) = csv.DictReader(io.StringIO(raw.getvalue().decode("utf-8-sig")))
    assert json.loads(row["narratives"])[0]["licence"] == OSM


def test_a_group_spread_over_two_locations_is_refused(lisbon, tmp_path):
    path = write(
        tmp_path / "two.geojson",
        [story("k", "Casa", "Uma.", "pt"), story("k", "House", "One.", "en", lon=-9.15)],
    )
    result = import_places(lisbon, path, ImportOptions(**STORY_OPTIONS))
    assert result.imported == 0 and lisbon.count() == 0
    ((index, code, message),) = [(r.index, r.code, r.message) for r in result.rejected]
    assert (index, code) == (1, "not_same_place")
    assert "place_key 'k' like feature 1 but another location" in message


def test_a_bad_story_in_a_group_is_named_and_the_rest_kept_only_if_asked(lisbon, tmp_path):
    path = write(
        tmp_path / "bad.geojson",
        [story("k", "Casa", "Uma.", "pt"), story("k", "House", "One.", "not a language")],
    )
    result = import_places(lisbon, path, ImportOptions(**STORY_OPTIONS))
    assert result.imported == 0 and [(r.index, r.code) for r in result.rejected] == [
        (1, "bad_language")
    ]
    kept = import_places(lisbon, path, ImportOptions(**STORY_OPTIONS, skip_invalid=True))
    assert kept.imported == 1 and [n.language for n in next(lisbon.list()).narratives] == ["pt"]


def test_a_field_no_feature_has_is_refused_naming_those_there_are(lisbon, tmp_path):
    path = write(tmp_path / "s.geojson", [story("k", "Casa", "Uma.", "pt")])
    with pytest.raises(SourceError, match="no feature has a field 'storie'; the fields are: "):
        import_places(lisbon, path, ImportOptions(**{**STORY_OPTIONS, "narrative_field": "storie"}))
    with pytest.raises(InvalidInput, match="narrative format must be one of text, html"):
        import_places(lisbon, path, ImportOptions(**{**STORY_OPTIONS, "narrative_format": "md"}))
    assert lisbon.count() == 0


def stored(title: str, lon: float, lat: float, narratives=()) -> Place:
    return Place(Point(lon, lat), title, list(narratives), "museum", status=Status.PUBLISHED,
                 licence="ODbL-1.0", attribution="Carris Metropolitana")  # fmt: skip


def test_a_story_of_a_stored_place_is_added_to_it_not_made_a_second_point(lisbon, tmp_path):
    near = lisbon.add(stored("Casa dos Bicos", -9.1335, 38.7115))
    twin = lisbon.add(stored("CASA DOS BICOS", -9.1336, 38.7115))  # the same place, twice
    other = lisbon.add(stored("Casa dos Bicos", -9.1270, 38.7115))  # 560 m east: another one
    path = write(
        tmp_path / "s.geojson",
        [
            story("a", "Casa dos Bicos", "Fachada de bicos.", "pt", lat=38.7116),
            story("a", "Casa dos Bicos", "A façade of points.", "en", lat=38.7116),
            story("b", "Casa dos Bicos (loja)", "Outra.", "pt", lat=38.7116),  # another title
        ],
    )
    options = ImportOptions(**STORY_OPTIONS, attach_within_m=150)
    result = import_places(lisbon, path, options)
    assert (result.imported, result.attached, result.updated) == (1, 1, 2)
    for place in (near, twin):
        after = lisbon.get(place.id)
        assert [n.text for n in after.narratives] == ["Fachada de bicos.", "A façade of points."]
        assert after.version == 2 and after.licence == "ODbL-1.0"  # the place stays its own
        (event,) = [e for e in lisbon.audit_events(place_id=place.id) if e.action == "edit"]
        assert event.actor == "import" and event.detail == "stories imported"
    assert lisbon.get(other.id).narratives == []
    assert lisbon.count() == 4
    # Importing the same file again adds nothing twice.
    again = import_places(lisbon, path, options)
    assert (again.imported, again.attached, again.updated) == (0, 2, 0)
    assert lisbon.count() == 4 and lisbon.get(near.id).version == 2


def test_a_moderators_correction_keeps_where_an_imported_story_came_from(lisbon, tmp_path):
    path = write(tmp_path / "s.geojson", [story("k", "Casa", "Uma casa ,velha.", "pt")])
    import_places(lisbon, path, ImportOptions(**STORY_OPTIONS))
    place = next(lisbon.list())
    after = moderation.edit(
        lisbon, place.id, Actor("ana (facilitator)"), Vocabulary(),
        narratives=[{"text": "Uma casa velha.", "language": "pt", "provenance": "original"}],
    )  # fmt: skip
    assert after.narratives == [
        Narrative("Uma casa velha.", "pt", source="record k (pt)", licence=OSM)
    ]
