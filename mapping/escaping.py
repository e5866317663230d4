"""Putting untrusted text into a folium page safely.

Two dangers, not one. The browser's: text read as HTML or script (stored XSS). And
the server's: branca compiles the output of every folium element *again* as a Jinja2
template (``MacroElement.render`` wraps it in ``Element(...)``), so a title containing
``{{ ... }}`` would be evaluated on the server. Folium's own ``tojson``/``tojavascript``
leave braces alone, so no text a person typed may go through folium's own templates:
it goes through :func:`html_text` or :func:`js_json` into our elements only.
"""

from __future__ import annotations

import html
import re
from typing import Any

import orjson

# "{{", "{%" and "{#" open Jinja2 tags; a single "{" not followed by those is harmless,
# but escaping every brace keeps the rule simple to check.
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


def html_text(text: object) -> str:
    """Text for HTML element content or a quoted attribute value; braces as entities."""
    return html.escape(str(text), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def js_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element and through branca's second Jinja pass.

    ``<``, ``>`` and ``&`` are escaped (no ``</script>``, no ``<!--``), as are the line
    separators JavaScript once refused in strings, and every ``{`` that would open a
    Jinja2 tag (only possible inside strings: JSON objects never start with ``{{``).
    """
    text = orjson.dumps(value).decode("utf-8")
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return _JINJA_OPEN.sub(r"\\u007b", text)
