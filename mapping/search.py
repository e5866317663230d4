"""The map's search box: neighbourhoods by name, public places by title."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from geodata.models import Neighbourhood
from geodata.privacy import public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore
from mapping.features import COORD_DECIMALS
from mapping.options import MapOptions

MAX_QUERY = 100


def folded(text: str) -> str:
    """Lower case without accents: "São Vicente" matches "sao vicente"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


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
    """Neighbourhoods whose name contains ``query`` and public places whose title does."""
    q = query.strip()[:MAX_QUERY]
    needle = folded(q)
    hoods = []
    for n in neighbourhoods:
        if needle and needle in folded(n.name):
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
        # Ask for a few more than shown: hidden places match but have no location to show.
        found = store.list(
            public_filter(PlaceFilter(**_base(flt), title_contains=q), "map"), limit=limit * 2
        )
        for place in found:
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
