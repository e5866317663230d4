"""The folium elements our maps are made of: category layers, legends, the data client.

Everything a person typed (titles, names, labels) reaches the page through
:mod:`mapping.escaping` only: escaped HTML in our own elements, or JSON that
``atlas-map.js`` puts into the page with ``textContent``; never through folium's own
templates (see that module for why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Element, Figure
from folium.map import Layer
from folium.template import Template

from mapping.assets import ATLAS, Asset, use_local_assets
from mapping.background import MAX_ZOOM, BackgroundLayer
from mapping.escaping import html_text, js_json
from mapping.language_picker import LanguagePicker
from mapping.options import N_, MapOptions
from mapping.plurals import client_plurals, plural_rule
from mapping.style import CategoryStyle

ATLAS_ICON = Asset("atlas_icon", "image", ATLAS, "favicon.svg")


class CategoryLayer(Layer):
    """An (initially empty) layer holding one category's places; the layer switcher
    turns it on and off, and ``atlas-map.js`` fills it with what is in view."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        {% endmacro %}
    """)

    def __init__(self, style: CategoryStyle, show: bool = True) -> None:
        # Leaflet's layer switcher puts names in the page as HTML: escaped in swatch_html.
        super().__init__(name=style.swatch_html(), overlay=True, control=True, show=show)
        self._name = "CategoryLayer"
        self.style = style


class AtlasClient(folium.MacroElement):
    """Starts ``atlas-map.js`` on the map: it loads places for the view and draws them."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = AtlasMap.start({{ this._parent.get_name() }},
            {{ this.config_json }}, {{ this.layers_js }},
            function (n) { return Number({{ this.plural_rule }}); });
        {% endmacro %}
    """)

    def __init__(self, config: dict[str, Any], layers: dict[str, CategoryLayer]) -> None:
        super().__init__()
        self._name = "AtlasClient"
        self.config = config
        self.layers = layers
        # The catalog's plural rule goes into the page as script: plural_rule refuses
        # anything that is not one.
        self.plural_rule = config.get("pluralRule", "n != 1")
        plural_rule(self.plural_rule)

    @property
    def config_json(self) -> str:
        return js_json(self.config)

    @property
    def layers_js(self) -> str:
        pairs = ", ".join(f"{js_json(k)}: {v.get_name()}" for k, v in self.layers.items())
        return "{" + pairs + "}"


class NeighbourhoodLayer(Layer):
    """Neighbourhood shapes, each styled by its ``style`` property; names and links are
    bound by ``AtlasMap.neighbourhood`` with ``textContent``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data_json }}, {
            style: function (feature) { return feature.properties.style; },
            interactive: {{ this.interactive|tojson }},
            onEachFeature: {{ "AtlasMap.neighbourhood" if this.interactive else "null" }}
        });
        {% endmacro %}
    """)

    def __init__(
        self,
        features: list[dict[str, Any]],
        name: str = "Neighbourhoods",
        *,
        interactive: bool = True,
        control: bool = True,
    ) -> None:
        super().__init__(name=html_text(name), overlay=True, control=control, show=True)
        self._name = "NeighbourhoodLayer"
        self.features = features
        self.interactive = interactive

    @property
    def data_json(self) -> str:
        return js_json({"type": "FeatureCollection", "features": self.features})


@dataclass(frozen=True)
class LegendEntry:
    label: str
    colour: str
    icon: str | None = None  # Font Awesome name: a category; None: a shaded area


class Legend(folium.MacroElement):
    """A legend box in a corner of the map; every label is escaped."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "atlas-legend");
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(
        self,
        title: str,
        entries: Sequence[LegendEntry],
        position: str = "bottomright",
        note: str | None = None,
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.entries = list(entries)
        self.position = position
        self.note = note

    @property
    def html_json(self) -> str:
        return js_json(self.html)

    @property
    def html(self) -> str:
        rows = []
        for e in self.entries:
            if e.icon:
                mark = (
                    f'<span class="atlas-swatch" style="--atlas-colour:{e.colour}">'
                    f'<i class="fa-solid fa-{e.icon}" aria-hidden="true"></i></span>'
                )
            else:
                mark = f'<span class="atlas-shade" style="background:{e.colour}"></span>'
            rows.append(f"<li>{mark} {html_text(e.label)}</li>")
        note = f'<p class="atlas-legend-note">{html_text(self.note)}</p>' if self.note else ""
        return f"<h2>{html_text(self.title)}</h2><ul>{''.join(rows)}</ul>{note}"


class PageHtml(folium.MacroElement):
    """A block of HTML in the page body (outside the map), built and escaped by the caller."""

    _template = Template("""
        {% macro html(this, kwargs) %}{{ this.markup }}{% endmacro %}
    """)

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "PageHtml"
        self.markup = markup


_FIGURE = Template(
    "<!DOCTYPE html>\n"
    '<html lang="{{ this.lang|e }}" dir="{{ this.dir }}">\n'
    "<head>\n"
    "{% if this.title %}<title>{{ this.title|e }}</title>{% endif %}"
    "    {{ this.header.render(**kwargs) }}\n"
    "</head>\n"
    '<body class="{{ this.body_class|e }}">\n'
    "    {{ this.html.render(**kwargs) }}\n"
    "</body>\n"
    "<script>\n"
    "    {{ this.script.render(**kwargs) }}\n"
    "</script>\n"
    "</html>\n"
)
_RTL = {"ar", "he", "fa", "ur", "ps", "yi", "dv", "ckb", "sd", "ug"}


def base_map(
    options: MapOptions,
    bounds: tuple[float, float, float, float],
    title: str,
    body_class: str = "atlas-page",
) -> folium.Map:
    """An empty map framed on ``bounds`` with our assets, its background and page title."""
    minx, miny, maxx, maxy = bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=13,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        maxZoom=MAX_ZOOM,
    )
    BackgroundLayer(options).add_to(m)
    use_local_assets(m, base=options.static_base)
    # Framed by atlas-map.js without animation, before it loads anything: an animated
    # fitBounds would end after the first load and trigger a second one.
    m.atlas_bounds = [[miny, minx], [maxy, maxx]]  # type: ignore[attr-defined]
    figure = m.get_root()
    assert isinstance(figure, Figure)
    # Browsers ask for /favicon.ico otherwise (a 404 in the console of every page).
    figure.header.add_child(
        Element(f'<link rel="icon" href="{ATLAS_ICON.url(options.static_base)}">'),
        name="atlas_icon",
    )
    figure._template = _FIGURE
    figure.title = title  # escaped by the template
    figure.lang = options.language
    figure.dir = "rtl" if options.language.split("-")[0].lower() in _RTL else "ltr"
    figure.body_class = body_class
    if options.languages:
        LanguagePicker(options).add_to(m)
    return m


def add_category_layers(m: folium.Map, styles: Sequence[CategoryStyle]) -> dict[str, CategoryLayer]:
    """One switchable layer per category, added to ``m``; returned by category key."""
    layers = {}
    for style in styles:
        layer = CategoryLayer(style)
        layer.add_to(m)
        layers[style.key] = layer
    return layers


def client_config(
    options: MapOptions,
    styles: Sequence[CategoryStyle],
    *,
    source: dict[str, Any],
    text: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What ``atlas-map.js`` needs: where the data is, how categories look, what to say."""
    return {
        "source": source,
        "k": options.k,
        "language": options.language,
        "categories": {
            s.key: {"label": s.label, "colour": s.colour, "icon": s.icon} for s in styles
        },
        "text": {
            **{key: options.gettext(message) for key, message in DEFAULT_TEXT.items()},
            **options.text,
            **(text or {}),
        },
        "plurals": client_plurals(options),
        "pluralRule": options.plural_rule,
        "contributeUrl": options.contribute_url,
        "placePageUrl": options.place_page_url,
        **extra,
    }


# Interface strings of the map client, translated through ``MapOptions.translations``;
# ``MapOptions.text`` may still replace any of them.
DEFAULT_TEXT = {
    "loading": N_("Loading…"),
    "load_failed": N_("The map could not load its places; retrying."),
    "period": N_("Period"),
    "licence": N_("Licence"),
    "by": N_("Shared by"),
    "in_language": N_("Written in {language}"),
    "translated": N_("Translation ({provenance})"),
    "generalised": N_("Location shown approximately, to protect it."),
    "search": N_("Search a place or neighbourhood"),
    "no_results": N_("Nothing found"),
    "open_map": N_("Open the map of {name}"),
    "places": N_("places"),
    "zoom_in": N_("Zoom in to see these places"),
    "reconnecting": N_("Connection lost; trying again…"),
    "neighbourhood": N_("Neighbourhood"),
    "place": N_("Place"),
    "story_licence": N_("Story: {licence}"),
    "story_source": N_("Source"),
    "no_story": N_("Do you know this place's story?"),
    "tell_story": N_("Tell it"),
    "place_page": N_("Open this place's page"),
    # Leaflet's own controls, which it titles in English.
    "zoom_in_button": N_("Zoom in"),
    "zoom_out_button": N_("Zoom out"),
    "layers": N_("Layers"),
    "places_heading": N_("Places in view"),
    "skip_to_list": N_("Skip the map to the list of places"),
    "list_cut": N_("The list shows the first {shown} of them."),
    "map_label": N_("Map of the places"),
}


def add_places(
    m: folium.Map,
    styles: Sequence[CategoryStyle],
    config: dict[str, Any],
    *,
    switcher: bool = True,
    collapsed: bool = False,
) -> AtlasClient:
    """Category layers, the layer switcher and the client that fills them, added to ``m``."""
    layers = add_category_layers(m, styles)
    client = AtlasClient({**config, "bounds": getattr(m, "atlas_bounds", None)}, layers)
    client.add_to(m)
    if switcher:
        folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)
    return client


def category_legend(
    styles: Sequence[CategoryStyle], options: MapOptions, position: str = "bottomright"
) -> Legend:
    """The categories' colours and icons, titled in the viewer's language."""
    entries = [LegendEntry(s.label, s.colour, s.icon) for s in styles]
    return Legend(options.gettext("Categories"), entries, position)


class TitleControl(folium.MacroElement):
    """The page's heading on the map, with an optional link back (a path on this service)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "atlas-title");
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(
        self,
        heading: str,
        subtitle: str | None = None,
        link: tuple[str, str] | None = None,
        position: str = "bottomleft",
    ) -> None:
        super().__init__()
        self._name = "TitleControl"
        self.heading, self.subtitle, self.link, self.position = heading, subtitle, link, position

    @property
    def html_json(self) -> str:
        return js_json(self.html)

    @property
    def html(self) -> str:
        parts = [f"<h1>{html_text(self.heading)}</h1>"]
        if self.subtitle:
            parts.append(f"<p>{html_text(self.subtitle)}</p>")
        if self.link and self.link[0].startswith("/") and not self.link[0].startswith("//"):
            parts.append(
                f'<p><a href="{html_text(self.link[0])}">{html_text(self.link[1])}</a></p>'
            )
        return "".join(parts)
