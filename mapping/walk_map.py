"""A walk's maps: the data ``/static/walk.js`` draws (route and numbered stops), and a
static SVG drawing of the same for pages read without JavaScript and for print.

Input is a :class:`geodata.walk_views.PublicWalk`: only the stops the public may see,
and a route that never passes by a hidden one.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from geodata.walk_views import PublicWalk
from mapping.background import background_config
from mapping.options import MapOptions

ROUTE_COLOUR = "#b03a2e"
STOP_COLOUR = "#1f4e79"


def _xy(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator in units of the world's width (what slippy maps draw)."""
    lat = max(min(lat, 85.0), -85.0)
    x = (lon + 180.0) / 360.0
    y = (
        1.0 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi
    ) / 2
    return x, y


def _stop_point(stop: Any) -> tuple[float, float]:
    c = stop.place.geometry.centroid  # a route or area place: its middle marks the stop
    return c.x, c.y


def walk_map_data(walk: PublicWalk, options: MapOptions) -> dict[str, Any]:
    """The route as [lat, lon] pairs, the stops with their numbers, and the background."""
    route = [[round(y, 6), round(x, 6)] for x, y in walk.route.coords] if walk.route else []
    stops = []
    for s in walk.stops:
        lon, lat = _stop_point(s)
        stops.append(
            {"number": s.number, "lat": round(lat, 6), "lon": round(lon, 6), "id": s.place.id}
        )
    return {
        "route": route,
        "stops": stops,
        "background": background_config(options),
        "route_colour": ROUTE_COLOUR,
        "stop_colour": STOP_COLOUR,
    }


def static_walk_svg(walk: PublicWalk, title: str, width: int = 640, height: int = 420) -> str:
    """An SVG drawing of the route and the numbered stops, framed to fit (no tiles: it
    needs nothing from the network, and prints)."""
    points = [_xy(*_stop_point(s)) for s in walk.stops]
    line = [_xy(x, y) for x, y in walk.route.coords] if walk.route else []
    xs = [p[0] for p in points + line]
    ys = [p[1] for p in points + line]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-7)
    pad = 28.0
    scale = min((width - 2 * pad) / max(max(xs) - min(xs), span / 4),
                (height - 2 * pad) / max(max(ys) - min(ys), span / 4))  # fmt: skip
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def px(p: tuple[float, float]) -> str:
        return f"{width / 2 + (p[0] - cx) * scale:.1f},{height / 2 + (p[1] - cy) * scale:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="walk-static-map" role="img" aria-label="{escape(title)}">',
        f'<rect width="{width}" height="{height}" fill="#f4f1ea"/>',
    ]
    if line:
        parts.append(
            f'<polyline points="{" ".join(px(p) for p in line)}" fill="none" '
            f'stroke="{ROUTE_COLOUR}" stroke-width="4" stroke-linejoin="round" '
            'stroke-linecap="round" stroke-dasharray="10 6"/>'
        )
    for s, p in zip(walk.stops, points, strict=True):
        x, y = px(p).split(",")
        parts.append(
            f'<g><circle cx="{x}" cy="{y}" r="13" fill="{STOP_COLOUR}" stroke="#fff" '
            f'stroke-width="2"/><text x="{x}" y="{y}" dy="0.35em" text-anchor="middle" '
            f'font-size="13" font-family="sans-serif" font-weight="bold" fill="#fff">'
            f"{s.number}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
