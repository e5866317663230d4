"""The Lisbon demo's walks, built only from its real places and their real stories.

``geodata/demo/lisbon_walks.json`` names each stop by a demo place's title and where it
is. A stop's chapter is that place's own stories, word for word with their source and
licence; nothing is written for a stop. The title and introduction are plain facts the
loader states from the stops (neighbourhood, number of places, length, their names), in
English, and the walk is marked ``editorial``: the pages say it is the atlas's own
wording, not a resident's.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from shapely.geometry import Point

from geodata.errors import SourceError
from geodata.models import Narrative, Place, Status
from geodata.store.base import PlaceFilter, PlaceStore, near_box
from geodata.walks import Walk, WalkStop, metres, stop_to_stop

WALKS = "lisbon_walks.json"
MATCH_M = 150.0  # a stop's place lies this close to the point the file gives


def _place(store: PlaceStore, stop: dict[str, Any]) -> Place:
    """The published demo place with the stop's title near its point, with sourced stories."""
    at = Point(stop["lon"], stop["lat"])
    box = near_box(at, MATCH_M)
    found = [
        p
        for p in store.list(PlaceFilter(bbox=box, status=str(Status.PUBLISHED)))
        if p.title.casefold() == stop["title"].casefold()
        and p.narratives
        and all(n.source and n.licence for n in p.narratives)
    ]
    if not found:
        raise SourceError(f"the demo has no place {stop['title']!r} with a sourced story there")
    return max(found, key=lambda p: len(p.narratives))


def _chapters(place: Place) -> list[Narrative]:
    # The place's stories as they are, with the one original first (provenance rules).
    return sorted(place.narratives, key=lambda n: n.provenance != "original")


def demo_walk(store: PlaceStore, spec: dict[str, Any], names: dict[int, str]) -> Walk:
    places = [_place(store, s) for s in spec["stops"]]
    hood = Counter(p.neighbourhood_id for p in places).most_common(1)[0][0]
    area = names.get(hood, "Lisbon") if hood is not None else "Lisbon"
    line = stop_to_stop([p.geometry for p in places])
    km = metres(line) / 1000 if line is not None else 0.0
    title = f"{area}: {len(places)} places with stories, {km:.1f} km"
    intro = (
        f"A walk past {len(places)} places of the Lisbon demo that have a story in the "
        f"atlas, in this order: {'; '.join(p.title for p in places)}. Each stop's text is "
        "the place's own story, with its source and licence."
    )
    return Walk(
        titles=[Narrative(title, "en")],
        introductions=[Narrative(intro, "en")],
        stops=[WalkStop(p.id, _chapters(p)) for p in places],
        status=Status.PUBLISHED,
        editorial=True,
        # The walk's own words are the atlas's facts; each chapter keeps its story's licence.
        licence="CC0-1.0",
    )


def load_demo_walks(store: PlaceStore, path: Path) -> list[Walk]:
    """Add the demo's walks (call after its places are loaded, in the same transaction)."""
    specs = json.loads(path.read_text(encoding="utf-8"))["walks"]
    names = {n.id: n.name for n in store.neighbourhoods()}
    walks = [demo_walk(store, spec, names) for spec in specs]
    for walk in walks:
        store.add_walk(walk)
    return walks
