"""The map's search box: neighbourhoods by name, public places by title and story.

Both fold text the same way (:func:`geodata.search.fold`): any script, any case, with
or without accents. Places come from the store's index (:meth:`PlaceStore.search`),
published places with consent to be shown only; a hidden place is never found (it has
no location to show) and a generalised one is shown on its grid, as on the map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from geodata.models import Neighbourhood, Sensitivity
from geodata.privacy import public_filter, public_view
from geodata.search import MAX_QUERY_CHARS, fold
from geodata.store.base import PlaceFilter, PlaceStore
from mapping.features import COORD_DECIMALS
from mapping.options import MapOptions

MAX_QUERY = MAX_QUERY_CHARS
# Where the public sees a place at all: hidden places are left out by the database.
SHOWN = (Sensitivity.PUBLIC.value, Sensitivity.GENERALISED.value)


def search_map(
    store: PlaceStore,
    query: str,
    neighbourhoods: Sequence[Neighbourhood],
    options: MapOptions,
    url_for: Callable[[int], str],
    *,
    flt: PlaceFilter | None = None,
    limit: int = 8,
) -> dict[str, Any]:
    """Neighbourhoods whose name holds every word of ``query``, and public places whose
    title or narratives do, best first (see :mod:`geodata.search`)."""
    q = query.strip()[:MAX_QUERY]
    words = fold(q).split()
    hoods = []
    for n in neighbourhoods:
        name = fold(n.name)
        if words and all(w in name for w in words):
            minx, miny, maxx, maxy = n.geometry.bounds
            hoods.append(
                {
                    "id": n.id,
                    "name": n.name,
                    "url": url_for(n.id),
                    "bbox": [round(v, COORD_DECIMALS) for v in (minx, miny, maxx, maxy)],
                }
            )
    places = []
    if len(q) >= 2:
        scope = PlaceFilter(**_base(flt), sensitivity=SHOWN)
        for place in store.search(q, public_filter(scope, "map"), limit=limit):
            shown = public_view(place, options.grid_m)
            if shown.geometry is None:
                continue
            pt = (
                shown.geometry
                if shown.geometry.geom_type == "Point"
                else (shown.geometry.representative_point())
            )
            places.append(
                {
                    "id": shown.id,
                    "title": shown.title,
                    "category": shown.category,
                    "lon": round(pt.x, COORD_DECIMALS),
                    "lat": round(pt.y, COORD_DECIMALS),
                }
            )
            if len(places) >= limit:
                break
    return {"query": q, "neighbourhoods": hoods[:limit], "places": places}


def _base(flt: PlaceFilter | None) -> dict[str, Any]:
    if flt is None:
        return {}
    return {
        "neighbourhood_id": flt.neighbourhood_id,
        "workshop": flt.workshop,
        "category": flt.category,
    }
