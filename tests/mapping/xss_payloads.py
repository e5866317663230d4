"""Script-injection payloads people could type as titles, stories, names or tags.

Each one, if it ever ran, would set ``window.__pwned`` (the browser tests look for it);
the template ones would print a marker the server-side tests look for.
"""

from __future__ import annotations

MARK = "window.__pwned=1"

HTML_PAYLOADS = [
    f"<script>{MARK}</script>",
    f"</script><script>{MARK}</script>",
    f'<img src=x onerror="{MARK}">',
    f"<svg onload={MARK}>",
    f"<svg><script>{MARK}</script></svg>",
    f'"><img src=x onerror={MARK}>',
    f"'><svg/onload={MARK}>",
    f'" onmouseover="{MARK}" x="',
    f"javascript:{MARK}",
    f'<a href="javascript:{MARK}">click</a>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    f"<details open ontoggle={MARK}>",
    f"<!--<script>{MARK}//-->",
    f"<style>@import 'javascript:{MARK}';</style>",
    "\u2028\u2029" + f"<script>{MARK}</script>",
]

# Jinja2 syntax: folium's page builder renders element output as a template a second time.
TEMPLATE_PAYLOADS = [
    "{{ 1234 * 1000 }}",
    "{% for x in range(3) %}ZQ{% endfor %}",
    "{{ cycler.__init__.__globals__.os.getpid() }}",
    "{# comment #}kept",
    "${7*7} #{7*7} <%= 7*7 %>",
]
TEMPLATE_MARKERS = ["1234000", "ZQZQZQ"]

PAYLOADS = HTML_PAYLOADS + TEMPLATE_PAYLOADS
