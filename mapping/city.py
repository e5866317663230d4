"""The city overview: neighbourhoods shaded by how many places they hold, places on top."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import folium

from geodata.models import Neighbourhood
from geodata.vocabulary import Vocabulary
from mapping.elements import (
    Legend,
    LegendEntry,
    NeighbourhoodLayer,
    TitleControl,
    add_places,
    base_map,
    client_config,
)
from mapping.features import bounds_of, neighbourhood_features
from mapping.options import MapOptions
from mapping.places_list import Listing, add_places_list
from mapping.style import category_styles, choropleth_classes, class_for


def choropleth(
    neighbourhoods: Sequence[Neighbourhood],
    counts: dict[int | None, int],
    options: MapOptions,
    url_for: Callable[[int], str],
) -> tuple[NeighbourhoodLayer, Legend]:
    """Neighbourhood shapes shaded by their count of places, and the legend that reads them."""
    classes = choropleth_classes([counts.get(n.id, 0) for n in neighbourhoods], options.k, options)
    urls = {n.id: url_for(n.id) for n in neighbourhoods}
    features = neighbourhood_features(neighbourhoods, counts, options.k, urls, options=options)
    for n, feature in zip(neighbourhoods, features, strict=True):
        shade = class_for(counts.get(n.id, 0), classes)
        feature["properties"]["style"] = {
            "fillColor": shade.colour,
            "fillOpacity": 0.6,
            "color": "#5b5b5b",
            "weight": 1.2,
        }
        feature["properties"]["shade"] = shade.label
    _ = options.gettext
    note = _(
        "Counts below {k} are shown as “fewer than {k}” so that no small group stands out."
    ).format(k=options.number(options.k))
    legend = Legend(
        _("Places per neighbourhood"),
        [LegendEntry(c.label, c.colour) for c in classes],
        position="bottomright",
        note=note if options.k > 1 else None,
    )
    return NeighbourhoodLayer(features, _("Neighbourhoods")), legend


def city_subtitle(places: int, neighbourhoods: int, options: MapOptions) -> str:
    """ "1,234 places in 12 neighbourhoods", each count with its own plural form."""
    in_places = options.ngettext("{n} place", "{n} places", places).format(n=options.number(places))
    in_hoods = options.ngettext("{n} neighbourhood", "{n} neighbourhoods", neighbourhoods).format(
        n=options.number(neighbourhoods)
    )
    return options.gettext("{places} in {neighbourhoods}").format(
        places=in_places, neighbourhoods=in_hoods
    )


def city_map(
    neighbourhoods: Sequence[Neighbourhood],
    counts: dict[int | None, int],
    vocabulary: Vocabulary,
    options: MapOptions,
    url_for: Callable[[int], str],
    *,
    title: str = "Heritage Atlas",
    listed: Listing | None = None,
) -> folium.Map:
    """The overview: choropleth with legend, a layer per category, search, clusters.

    ``counts`` are public places per neighbourhood, hidden ones included (they are
    counted, never drawn); ``url_for`` gives each neighbourhood's own map; ``listed`` the
    places the list beside the map shows as served (:mod:`mapping.places_list`).
    """
    bounds = bounds_of([n.geometry for n in neighbourhoods])
    m = base_map(options, bounds, title)
    layer, legend = choropleth(neighbourhoods, counts, options, url_for)
    layer.add_to(m)
    legend.add_to(m)
    styles = category_styles(vocabulary, options.language)
    config = client_config(
        options,
        styles,
        source={"kind": "api", "url": f"{options.api_base}/places", "params": {}},
        placeUrl=f"{options.api_base}/places/{{id}}",
        search={"url": f"{options.api_base}/search"},
        pinsBelow=150,
    )
    add_places(m, styles, config)
    add_places_list(m, listed, options)
    total = sum(n for n in counts.values())
    TitleControl(title, city_subtitle(total, len(neighbourhoods), options)).add_to(m)
    return m
