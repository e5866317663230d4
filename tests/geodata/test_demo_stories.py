"""The demo's stories (``geodata/demo/lisbon_stories.geojson``): every text of the file on
the map, verbatim but for HTML markup, with its source and licence, in one place per
``place_key``, on the place the demo already holds where there is one."""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter

import pytest

from geodata.demo import PLACES, STORIES, STORY_MATCH_M, demo_path, load_demo
from geodata.store.base import PlaceFilter

BELEM = "Monastery of the Hieronymites and Tower of Belém in Lisbon"


def features(name: str) -> list[dict]:
    return json.loads(demo_path(name).read_text(encoding="utf-8"))["features"]


STORY_FEATURES = features(STORIES)


def cleaned(text: str) -> str:
    """What the demo should show of a source text: markup removed, nothing else changed.
    (Written apart from the importer's HTML reader, to check it.)"""
    if "<" not in text and not re.search(r"&#?\w+;", text):
        return text
    return re.sub(r"<[^>]+>", "", html.unescape(text)).strip()


def metres(a: list[float], b: list[float]) -> float:
    dx = (a[0] - b[0]) * 111_195 * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dx, (a[1] - b[1]) * 111_195)


aml_prefix = "aml_cultural_facilities_carris:"


def stored_elsewhere() -> dict[str, list[float]]:
    """Where the demo's other files put each row that ``matches_existing`` names."""
    (aml, _), (osm, _) = PLACES[0], PLACES[1]
    where = {}
    for prefix, name, key in ((aml_prefix, aml, "id"), ("osm_museums_lisbon:", osm, "osm_id")):
        for f in features(name):
            where[prefix + f["properties"][key]] = f["geometry"]["coordinates"]
    return where


@pytest.fixture
def demo(store):
    results = load_demo(store)
    return store, results


def test_every_story_of_the_file_is_on_the_map_as_the_source_wrote_it(demo):
    store, results = demo
    stories = results[-1]
    assert (stories.read, stories.rejected) == (len(STORY_FEATURES), [])
    told = Counter(
        (n.language, n.text, n.source, n.licence)
        for p in store.list(PlaceFilter(status="published"))
        for n in p.narratives
        if n.source is not None
    )
    expected = {
        (f["properties"]["language"], cleaned(f["properties"]["story"]),
         f["properties"]["source"], f["properties"]["licence"])
        for f in STORY_FEATURES
    }  # fmt: skip
    assert len(expected) == len(STORY_FEATURES) == 213
    # Every sourced text on the map is one of the file's, as the file has it.
    assert set(told) <= expected
    # The file's other texts were on the map already, word for word: descriptions of
    # museums whose OpenStreetMap record (in the demo's OSM museums file) has them too.
    # They are not added twice, and the place's own licence credits OpenStreetMap.
    osm_places = {
        (n.language, n.text)
        for p in store.list()
        if (p.licence, p.attribution) == ("ODbL-1.0", "© OpenStreetMap contributors")
        for n in p.narratives
        if n.source is None
    }
    missing = expected - set(told)
    assert len(missing) == 1
    for lang, text, _, licence in missing:
        assert (lang, text) in osm_places and "OpenStreetMap" in licence
    # Only the UNESCO texts had markup; all the others are stored exactly as written.
    changed = [
        p for p in (f["properties"] for f in STORY_FEATURES) if cleaned(p["story"]) != p["story"]
    ]
    assert [p["place_key"] for p in changed] == ["unesco-whc-263"] * 2


def test_html_entities_and_tags_are_cleaned_and_nothing_else(demo):
    store, _ = demo
    (belem,) = [p for p in store.list() if p.title == BELEM]
    english = next(n.text for n in belem.narratives if n.language == "en")
    source = next(f for f in STORY_FEATURES if f["properties"]["story"].startswith("<p>Standing"))
    assert "Bel&eacute;m" in source["properties"]["story"]  # as UNESCO publishes it
    assert english.startswith("Standing at the entrance to Lisbon harbour, the Monastery of")
    assert "the Hieronymites – construction of which began in 1502 – exemplifies" in english
    assert "The nearby Tower of Belém, built" in english
    assert "<" not in english and "&" not in english and english.endswith("modern world.")
    french = next(n.text for n in belem.narratives if n.language == "fr")
    assert french.startswith("À l'entrée du port de Lisbonne, le monastère des hiéronymites")
    # A bare ampersand in plain text is not markup: kept as written.
    assert [
        n.text
        for p in store.list()
        for n in p.narratives
        if n.text.startswith("O Arquivo & Biblioteca da Fundação Mário Soares")
    ] == [
        next(
            f["properties"]["story"]
            for f in STORY_FEATURES
            if "Arquivo &" in f["properties"]["story"]
        )
    ]


def test_belem_is_one_place_with_unescos_english_and_french_text_and_credit(demo):
    store, _ = demo
    (belem,) = [p for p in store.list() if p.title == BELEM]
    assert [n.language for n in belem.narratives] == ["en", "fr"]
    assert {n.licence for n in belem.narratives} == {
        "CC BY-SA 3.0 IGO (© UNESCO World Heritage Centre)"
    }
    en, fr = belem.narratives
    assert "id_no 263, column short_description_en" in en.source
    assert "id_no 263, column short_description_fr" in fr.source
    assert (belem.licence, belem.attribution) == (
        "CC-BY-SA-3.0-IGO",
        "© UNESCO World Heritage Centre",
    )
    assert store.neighbourhood(belem.neighbourhood_id).name == "Belém"


def test_a_story_about_a_place_the_demo_holds_goes_to_that_place(demo):
    store, results = demo
    (aml, osm, stories) = results
    where = stored_elsewhere()
    # The file names the demo's places of the same name; those within STORY_MATCH_M are the
    # same place. One is not: a building 2.3 km from the museum of its name.
    near, far = [], []
    for f in STORY_FEATURES:
        ids = [i for i in f["properties"]["matches_existing"].split("|") if i]
        if ids:
            d = min(metres(f["geometry"]["coordinates"], where[i]) for i in ids)
            (near if d <= STORY_MATCH_M else far).append(f["properties"])
    assert len(near) == 23 and [p["name"] for p in far] == ["Imprensa Nacional - Casa da Moeda"]
    assert stories.attached == len(near)
    keys = {f["properties"]["place_key"] for f in STORY_FEATURES}
    assert stories.imported == len(keys) - len(near) == 189
    assert store.count() == aml.imported + osm.imported + stories.imported == 557
    places = list(store.list())
    for p in near:
        named = [x for x in places if x.title == p["name"]]
        assert len(named) >= 1 and all(
            any(n.text == p["story"] for n in x.narratives) for x in named
        ), p["name"]  # on each record of it; none was added a second time
        assert all(
            Counter((n.language, n.text) for n in x.narratives).most_common(1)[0][1] == 1
            for x in named
        )
    mint = [x for x in places if x.title == far[0]["name"]]
    assert len(mint) == 3  # the museum in both files, and the building the story is about
    assert [x.category for x in mint if x.narratives] == ["building"]


def test_the_demo_shows_a_story_on_many_places(demo):
    store, _ = demo
    places = list(store.list())
    with_story = [p for p in places if p.narratives]
    # 189 new places from the file, 29 places the demo held that the file's stories reached,
    # and 19 museums whose OpenStreetMap record had a description already.
    assert len(with_story) == 237
    assert sum(bool(p.narratives) for p in places if p.category == "building") == 189
