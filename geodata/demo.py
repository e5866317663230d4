"""The bundled Lisbon demo: real parish boundaries and real heritage places."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from geodata.importer import ImportOptions, ImportResult, import_places
from geodata.neighbourhoods import read_neighbourhoods
from geodata.store.base import PlaceStore

DEMO = resources.files("geodata") / "demo"
NEIGHBOURHOODS = "lisbon_freguesias_2012.geojson"
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
)


def demo_path(name: str) -> Path:
    return Path(str(DEMO / name))


def load_demo(store: PlaceStore) -> list[ImportResult] | None:
    """Load Lisbon's 24 parishes and its heritage places into an empty store.

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
    return results
