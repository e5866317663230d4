"""What every map draws under its places: the local basemap, else the configured tile
server, and beneath either an orientation layer (neighbourhood outlines and names, the
river or coast) so that no map is ever a blank page, online or off.

:func:`background_config` is the one description all map clients read
(``atlas-background.js``): the folium maps through :class:`BackgroundLayer`, the place,
walk, contribution and moderation pages through a ``data-background`` attribute.
"""

from __future__ import annotations

from typing import Any

import folium
from folium.template import Template

from mapping.escaping import js_json
from mapping.options import MapOptions

MAX_ZOOM = 19  # the deepest the maps zoom (basemaps are enlarged past their own last zoom)


def background_config(options: MapOptions) -> dict[str, Any]:
    """The background of a map, as ``AtlasBackground.draw`` takes it."""
    basemap = None
    if options.basemap is not None:
        b = options.basemap
        w, s, e, n = b.bounds
        basemap = {
            "url": b.url,
            "vector": b.vector,
            "minzoom": b.minzoom,
            "maxzoom": b.maxzoom,
            "bounds": [[s, w], [n, e]],
            "attribution": b.attribution,  # plain text: the client escapes it
        }
    return {
        "basemap": basemap,
        "tiles": None if basemap else options.tiles,
        "tilesAttribution": "" if basemap else options.tiles_attribution,  # operator's HTML
        "orientation": options.orientation_url,
        "maxZoom": MAX_ZOOM,
    }


class BackgroundLayer(folium.MacroElement):
    """Draws the background on a folium map through ``atlas-background.js``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        AtlasBackground.draw({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}
    """)

    def __init__(self, options: MapOptions) -> None:
        super().__init__()
        self._name = "BackgroundLayer"
        self.config = background_config(options)

    @property
    def config_json(self) -> str:
        return js_json(self.config)
