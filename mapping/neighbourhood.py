"""A neighbourhood's own map: its outline and its places, coloured and iconed by category."""

from __future__ import annotations

from typing import Any

import folium

from geodata.models import Neighbourhood
from geodata.vocabulary import Vocabulary
from mapping.elements import (
    NeighbourhoodLayer,
    TitleControl,
    add_places,
    base_map,
    category_legend,
    client_config,
)
from mapping.features import geometry_json, outline
from mapping.options import N_, MapOptions
from mapping.places_list import Listing, add_places_list
from mapping.style import category_styles, count_label

PINS_BELOW = 300  # with fewer points in view, draw icon pins instead of plain dots


def outline_layer(neighbourhood: Neighbourhood) -> NeighbourhoodLayer:
    """The neighbourhood's boundary, drawn under its places and not clickable."""
    feature = {
        "type": "Feature",
        "geometry": geometry_json(outline(neighbourhood.geometry), 5),
        "properties": {
            "style": {"color": "#1d3557", "weight": 3, "fillColor": "#1d3557", "fillOpacity": 0.04}
        },
    }
    return NeighbourhoodLayer([feature], "Outline", interactive=False, control=False)


def neighbourhood_map(
    neighbourhood: Neighbourhood,
    count: int,
    vocabulary: Vocabulary,
    options: MapOptions,
    *,
    source: dict[str, Any] | None = None,
    search: dict[str, Any] | None = None,
    back_link: tuple[str, str] | None = ("/maps/city", N_("All neighbourhoods")),
    listed: Listing | None = None,
) -> folium.Map:
    """Places of ``neighbourhood`` (``count`` public ones) loaded for the view from the API,
    or from ``source`` when given (a standalone file carries its places inline)."""
    counted = count_label(count, options.k, options)
    title = f"{neighbourhood.name} — {counted}"
    m = base_map(options, neighbourhood.geometry.bounds, title)
    outline_layer(neighbourhood).add_to(m)
    styles = category_styles(vocabulary, options.language)
    params = {"neighbourhood": str(neighbourhood.id)}
    config = client_config(
        options,
        styles,
        source=source or {"kind": "api", "url": f"{options.api_base}/places", "params": params},
        placeUrl=f"{options.api_base}/places/{{id}}",
        search=search or {"url": f"{options.api_base}/search", "params": params},
        pinsBelow=PINS_BELOW,
        title=title,
    )
    add_places(m, styles, config, switcher=True, collapsed=True)
    add_places_list(m, listed, options)
    category_legend(styles, options).add_to(m)
    link = (back_link[0], options.gettext(back_link[1])) if back_link else None
    TitleControl(neighbourhood.name, counted, link).add_to(m)
    return m
