"""Self-contained map files for a workshop laptop with no server: every script, style,
font and place inside one HTML file, places clustered in the browser."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from geodata.privacy import public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.vocabulary import Vocabulary
from mapping.assets import CLUSTER_ASSETS, PAGE_ASSETS, inline_assets, use_local_assets
from mapping.features import place_details, place_feature
from mapping.neighbourhood import neighbourhood_map
from mapping.options import MapOptions
from mapping.places_list import listing


def standalone_neighbourhood_html(
    store: PlaceStore, neighbourhood_id: int, vocabulary: Vocabulary, options: MapOptions
) -> str:
    """The neighbourhood's map as one HTML file: its public places and their popups inline."""
    # No service to send stories to; popups link to a place's page only where the file was
    # given the service's public address (a path means nothing in a file opened alone).
    page = options.place_page_url
    if page is not None and not page.startswith(("http://", "https://")):
        page = None
    options = dataclasses.replace(options, contribute_url=None, place_page_url=page)
    neighbourhood = store.neighbourhood(neighbourhood_id)
    features = []
    drawn = []
    count = 0
    for place in store.list(public_filter(PlaceFilter(neighbourhood_id=neighbourhood_id), "map")):
        count += 1  # hidden places count, as on the served maps, but are not drawn
        shown = public_view(place, options.grid_m)
        feature = place_feature(shown)
        if feature is not None:
            # No photos: their files live on the server this file does without.
            feature["properties"]["details"] = place_details(
                shown, vocabulary, options.language, options=options
            )
            features.append(feature)
            drawn.append(place)
    m = neighbourhood_map(
        neighbourhood,
        count,
        vocabulary,
        options,
        source={"kind": "inline", "features": features},
        search={"inline": True},
        back_link=None,
        listed=listing(drawn, len(drawn)),
    )
    use_local_assets(m, PAGE_ASSETS + CLUSTER_ASSETS, options.static_base)
    return inline_assets(m.get_root().render(), options.static_base)


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write ``path`` whole or not at all (a half-written map is worse than none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
