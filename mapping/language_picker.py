"""The interface-language picker on every map page."""

from __future__ import annotations

import folium
from folium.template import Template

from mapping.escaping import html_text, js_json
from mapping.options import MapOptions


class LanguagePicker(folium.MacroElement):
    """The interface-language picker in a corner of the map: a plain GET form (``?lang=``),
    so it works without any script of ours."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var control = L.control({position: "topleft"});
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "atlas-language");
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, options: MapOptions) -> None:
        super().__init__()
        self._name = "LanguagePicker"
        self.options = options

    @property
    def html_json(self) -> str:
        return js_json(self.html)

    @property
    def html(self) -> str:
        e, current = html_text, self.options.language
        choices = "".join(
            f'<option value="{e(code)}" lang="{e(code)}"{" selected" if code == current else ""}>'
            f"{e(name)}</option>"
            for code, name in self.options.languages.items()
        )
        return (
            '<form method="get" action="">'
            f'<label for="atlas-lang">{e(self.options.gettext("Language"))}</label>'
            f'<select id="atlas-lang" name="lang">{choices}</select> '
            f'<button type="submit">{e(self.options.gettext("Change"))}</button></form>'
        )
