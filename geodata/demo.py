"""The bundled Lisbon demo: real parish boundaries and real heritage places."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from geodata.demo_walks import WALKS, load_demo_walks
from geodata.importer import ImportOptions, ImportResult, import_places
from geodata.neighbourhoods import read_neighbourhoods
from geodata.store.base import PlaceStore

DEMO = resources.files("geodata") / "demo"
NEIGHBOURHOODS = "lisbon_freguesias_2012.geojson"
STORIES = "lisbon_stories.geojson"
# A story whose place the demo holds already goes to that place instead of a second point.
# The file's ``matches_existing`` column names those places by exact name only, and a name
# is not enough: "Imprensa Nacional - Casa da Moeda" there is a building 2.3 km from the
# museum of that name. So a story joins a stored place with the same name (case, accents
# and punctuation aside) within 150 m: the 23 others of the 24 it names lie 0 to 123 m
# away (the outline centroid of a large building against the entrance point of another
# file). Where the demo holds one place twice (a museum in both files above), each of them
# gets the story.
STORY_MATCH_M = 150.0
# (file, options): every place keeps the licence and attribution of its source.
PLACES = (
    (
        "aml_monuments_museums_theatres.geojson",
        ImportOptions(
            language="pt",
            licence="ODbL-1.0",
            attribution="Carris Metropolitana",
            skip_invalid=True,
            margin_m=0,
        ),
    ),
    (
        "lisbon_museums_osm.geojson",
        ImportOptions(
            language="pt",
            category="museum",
            licence="ODbL-1.0",
            attribution="© OpenStreetMap contributors",
            skip_invalid=True,
            margin_m=0,
        ),
    ),
    # Stories: one feature per text (OpenStreetMap descriptions, UNESCO's English and French
    # text for Belém), read through the same import path as any file. Loaded last, so that
    # a text about a place the files above hold already is added to that place.
    (
        STORIES,
        ImportOptions(
            category="building",  # the file has none; nearly all are palaces, churches, convents
            title_field="name",
            narrative_field="story",
            narrative_language_field="language",
            narrative_source_field="source",
            narrative_licence_field="licence",
            narrative_format="html",  # UNESCO's texts are HTML; no other text has markup
            licence_field="place_licence",
            attribution_field="place_attribution",
            group_field="place_key",  # UNESCO's site: one place, its text in en and fr
            attach_within_m=STORY_MATCH_M,
            margin_m=0,
        ),
    ),
)


def demo_path(name: str) -> Path:
    return Path(str(DEMO / name))


def load_demo(store: PlaceStore) -> list[ImportResult] | None:
    """Load Lisbon's 24 parishes, its heritage places and the walks built from them
    (:mod:`geodata.demo_walks`) into an empty store.

    Returns None (and changes nothing) when the store already holds places or
    neighbourhoods, so restarting with ``--demo`` never duplicates anything.
    """
    if store.count() or store.neighbourhoods():
        return None
    boundaries = read_neighbourhoods(demo_path(NEIGHBOURHOODS), "NOME", "COD_SIG")
    results = []
    with store.transaction():
        store.replace_neighbourhoods(boundaries.items)
        for name, options in PLACES:
            results.append(import_places(store, demo_path(name), options))
        load_demo_walks(store, demo_path(WALKS))
    return results
