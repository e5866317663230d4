"""A workshop's printable map: its published places, numbered on an SVG drawing of its
neighbourhood, with the list of their stories beside it. No tiles, no script: it
prints the same on any printer and opens without a network.

Only what the public may see: :func:`geodata.privacy.public_filter` picks the places
(published, consent to be shown) and :func:`~geodata.privacy.public_view` places them
(generalised locations on their grid, hidden ones listed but never drawn).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Request
from shapely.geometry.base import BaseGeometry
from starlette.responses import HTMLResponse

from geodata.errors import NotFound
from geodata.models import Neighbourhood
from geodata.privacy import PublicPlace, public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.vocabulary import Vocabulary
from web.auth import FACILITATOR_PAGE, SignedIn
from web.dependencies import get_settings, get_store, get_vocabulary
from web.i18n import gettext_for
from web.language_choice import request_language
from web.routes.accounts import staff_page
from web.settings import Settings

router = APIRouter(tags=["workshops"])
WIDTH = 1000.0
MAX_PLACES = 2000  # a workshop collects tens; the page stays printable


class Projection:
    """Longitude/latitude to SVG units: equirectangular around the middle latitude
    (true enough at neighbourhood scale), north up, ``WIDTH`` units wide."""

    def __init__(self, bounds: Sequence[float]) -> None:
        minx, miny, maxx, maxy = bounds
        pad_x, pad_y = max((maxx - minx) * 0.05, 0.001), max((maxy - miny) * 0.05, 0.001)
        self.minx, self.maxy = minx - pad_x, maxy + pad_y
        self.kx = math.cos(math.radians((miny + maxy) / 2))
        span_x = (maxx - minx + 2 * pad_x) * self.kx
        self.scale = WIDTH / span_x
        self.height = (maxy - miny + 2 * pad_y) * self.scale

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy)
        out[:, 0] = (xy[:, 0] - self.minx) * self.kx * self.scale
        out[:, 1] = (self.maxy - xy[:, 1]) * self.scale
        return out


def _ring(coords: np.ndarray) -> str:
    points = " L".join(f"{x:.1f} {y:.1f}" for x, y in coords)
    return f"M{points}"


def svg_path(geometry: BaseGeometry) -> str:
    """The ``d`` attribute of a projected line or (multi)polygon."""
    if geometry.geom_type == "LineString":
        return _ring(np.asarray(geometry.coords))
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in (polygon.exterior, *polygon.interiors):
            parts.append(_ring(np.asarray(ring.coords)) + " Z")
    return " ".join(parts)


def print_map_svg(
    area: BaseGeometry | None,
    places: Sequence[PublicPlace],
    title: str = "Map of the places, numbered as in the list",
) -> tuple[str, list[int]]:
    """An SVG drawing of ``area`` and the numbered places, and the numbers it drew.

    Every string in the drawing is made here from numbers (and its ``title``, one of our
    own sentences): nobody's text is inside it.
    """
    shown = [(i, p.geometry) for i, p in enumerate(places, start=1) if p.geometry is not None]
    geoms = [g for _, g in shown] + ([area] if area is not None else [])
    if not geoms:
        return "", []
    project = Projection(shapely.total_bounds(geoms).tolist())
    parts = []
    if area is not None:
        parts.append(f'<path class="area" d="{svg_path(shapely.transform(area, project))}"/>')
    for number, geometry in shown:
        g = shapely.transform(geometry, project)
        if g.geom_type == "Point":
            parts.append(f'<circle class="place" cx="{g.x:.1f}" cy="{g.y:.1f}" r="9"/>')
            anchor = g
        else:
            kind = "route" if g.geom_type == "LineString" else "placearea"
            parts.append(f'<path class="{kind}" d="{svg_path(g)}"/>')
            anchor = g.representative_point() if kind == "placearea" else g.interpolate(0.5, True)
        parts.append(f'<text x="{anchor.x + 11:.1f}" y="{anchor.y + 5:.1f}">{number}</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} '
        f'{project.height:.0f}" role="img" aria-labelledby="map-title">'
        f'<title id="map-title">{html.escape(title)}</title>' + "".join(parts) + "</svg>"
    )
    return svg, [n for n, _ in shown]


@router.get(
    "/workshops/{code}/print",
    response_class=HTMLResponse,
    summary="A workshop's printable map (facilitators)",
)
def print_page(
    request: Request,
    code: str,
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> HTMLResponse:
    workshop = store.get_workshop(code)
    neighbourhood: Neighbourhood | None = None
    if workshop.neighbourhood_id is not None:
        try:
            neighbourhood = store.neighbourhood(workshop.neighbourhood_id)
        except NotFound:
            neighbourhood = None
    found = list(
        store.list(public_filter(PlaceFilter(workshop=workshop.code), "map"), limit=MAX_PLACES)
    )
    labels = store.protocol_labels([p.id for p in found])
    places = [public_view(p, settings.privacy_grid_m, labels.get(p.id, ())) for p in found]
    _ = gettext_for(request_language(request))
    title = _("Map of the places, numbered as in the list")
    svg, drawn = print_map_svg(neighbourhood.geometry if neighbourhood else None, places, title)
    context = {
        "w": workshop,
        "neighbourhood": neighbourhood,
        "places": places,
        "svg": svg,
        "drawn": set(drawn),
        "vocabulary": vocabulary,
    }
    return staff_page(request, "workshop_print.html", context, who)
