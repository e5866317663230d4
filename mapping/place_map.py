"""The small map on a place's own page: that place alone, drawn as the public sees it.

Input is what :func:`geodata.privacy.public_view` let through, so a generalised place is
its grid cell's centre (drawn with a circle wide enough to cover the cell, since that
is all anyone may know) and a hidden place has no map at all.
"""

from __future__ import annotations

import math
from typing import Any

from geodata.privacy import PublicPlace
from geodata.vocabulary import Vocabulary
from mapping.background import background_config
from mapping.features import geometry_json
from mapping.options import MapOptions
from mapping.style import FALLBACK_COLOUR, category_styles

POINT_ZOOM = 17  # a point alone is framed this close
GENERALISED_ZOOM = 15  # a generalised one further out: its whole grid cell in view


def place_map_data(
    place: PublicPlace, vocabulary: Vocabulary, options: MapOptions
) -> dict[str, Any] | None:
    """What ``/static/place.js`` draws: the place's public geometry in its category's
    colour, the background, and (when generalised) the radius of uncertainty in metres;
    None for a hidden place (nothing to draw, and nothing of where it is is sent)."""
    if place.geometry is None:
        return None
    colours = {s.key: s.colour for s in category_styles(vocabulary, options.language)}
    generalised = place.location_generalised
    return {
        "geometry": geometry_json(place.geometry),
        "colour": colours.get(place.category, colours.get("other", FALLBACK_COLOUR)),
        # Half the cell's diagonal: the circle covers every point the place may be at.
        "radius_m": round(options.grid_m * math.sqrt(0.5)) if generalised else None,
        "zoom": GENERALISED_ZOOM if generalised else POINT_ZOOM,
        "background": background_config(options),
    }
