"""The workshop projection: a full-screen live map with the join link, its QR code,
the count of contributions and the latest titles, readable from the back of a room."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import folium
import segno

from geodata.models import Neighbourhood, Workshop
from geodata.vocabulary import Vocabulary
from mapping.elements import PageHtml, add_places, base_map, category_legend, client_config
from mapping.escaping import html_text
from mapping.features import bounds_of
from mapping.neighbourhood import outline_layer
from mapping.options import MapOptions
from mapping.places_list import Listing, add_places_list
from mapping.style import category_styles

POLL_MS = 2000  # new places show up within this (plus one request) of being published
HIGHLIGHT_MS = 6000


def qr_svg(url: str) -> str:
    """The join link as an inline SVG QR code (scaled by CSS; no text from the URL inside)."""
    return segno.make(url, error="m").svg_inline(omitsize=True, border=2, dark="#000", light="#fff")


def panel_html(
    workshop: Workshop, join_url: str, summary: dict[str, Any], options: MapOptions
) -> str:
    """The corner panel; every piece of text escaped, the lists refreshed by the client."""
    e, _ = html_text, options.gettext
    latest = "".join(f"<li>{e(p['title'])}</li>" for p in summary["latest"])
    ids = " ".join(p["id"] for p in summary["latest"])
    link = e(join_url) if join_url.startswith(("http://", "https://", "/")) else "#"
    pending = summary.get("pending_label") or ""
    words = {
        "panel": _("Workshop"),
        "join": _("Add your place:"),
        "qr": _("QR code of the join link"),
        "code": _("Code"),
        "latest": _("Latest"),
        "fullscreen": _("Full screen"),
    }
    w = {key: e(text) for key, text in words.items()}
    return (
        f'<aside class="atlas-panel" aria-label="{w["panel"]}">'
        f"<h1>{e(workshop.title)}</h1>"
        f'<p class="atlas-join">{w["join"]} <a href="{link}" dir="ltr">'
        f"{e(join_url)}</a></p>"
        f'<div class="atlas-qr" role="img" aria-label="{w["qr"]}">'
        f"{qr_svg(join_url)}</div>"
        f'<p class="atlas-join-code">{w["code"]} <strong dir="ltr">{e(workshop.code)}</strong>'
        "</p>"
        f'<p class="atlas-count" id="atlas-count" aria-live="polite">'
        f"{e(summary['count_label'])}</p>"
        f'<p class="atlas-pending" id="atlas-pending"{"" if pending else " hidden"}>'
        f"{e(pending)}</p>"
        f"<h2>{w['latest']}</h2>"
        f'<ol class="atlas-latest" id="atlas-latest" data-ids="{e(ids)}">{latest}</ol>'
        '<p class="atlas-live-status" id="atlas-live-status" role="status" hidden></p>'
        '<button type="button" class="atlas-fullscreen" id="atlas-fullscreen" hidden>'
        f"{w['fullscreen']}</button>"
        "</aside>"
    )


def workshop_map(
    workshop: Workshop,
    neighbourhood: Neighbourhood | None,
    all_neighbourhoods: list[Neighbourhood],
    vocabulary: Vocabulary,
    options: MapOptions,
    *,
    join_url: str,
    summary: dict[str, Any],
    cursor: str,
    live_url: str,
    poll_ms: int = POLL_MS,
    listed: Listing | None = None,
) -> folium.Map:
    """The projection for ``workshop``, framed on its neighbourhood (else on all of them).

    ``summary`` is :func:`mapping.live.workshop_summary`; ``cursor`` the server time the
    first poll of ``live_url`` starts from.
    """
    if neighbourhood is not None:
        bounds = neighbourhood.geometry.bounds
    else:
        bounds = bounds_of([n.geometry for n in all_neighbourhoods])
    title = options.gettext("{title} — live map").format(title=workshop.title)
    m = base_map(options, bounds, title, body_class="atlas-workshop")
    if neighbourhood is not None:
        outline_layer(neighbourhood).add_to(m)
    styles = category_styles(vocabulary, options.language)
    config = client_config(
        options,
        styles,
        source={
            "kind": "api",
            "url": f"{options.api_base}/places",
            "params": {"workshop": workshop.code},
        },
        placeUrl=f"{options.api_base}/places/{{id}}",
        # A story told from the projection's popup joins the workshop.
        contributeUrl=(
            f"{options.contribute_url}?workshop={quote(workshop.code)}"
            if options.contribute_url
            else None
        ),
        pins=True,
        pinSize=40,
        dotRadius=10,
        live={"url": live_url, "interval": poll_ms, "cursor": cursor, "highlightMs": HIGHLIGHT_MS},
    )
    add_places(m, styles, config, switcher=False)
    add_places_list(m, listed, options)
    category_legend(styles, options, position="bottomleft").add_to(m)
    PageHtml(panel_html(workshop, join_url, summary, options)).add_to(m)
    return m
