"""Places, clusters and neighbourhoods as the JSON the map client draws.

Input is always what :func:`geodata.privacy.public_view` let through: nothing here
sees a contributor's name or contact, or a generalised place's true location.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import langcodes
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.models import Narrative, NarrativeKind, Neighbourhood, Provenance
from geodata.privacy import PublicPlace
from geodata.protocols import label_json
from geodata.vocabulary import Vocabulary
from mapping.options import N_, MapOptions
from mapping.style import ENGLISH, count_label, short_count

COORD_DECIMALS = 6  # about 10 cm: more would only make responses bigger
OUTLINE_TOLERANCE_DEG = 0.00005  # about 5 m: outlines stay true, pages stay small


def _rounded(coords: Any, ndigits: int) -> Any:
    if isinstance(coords, (int, float)):
        return round(coords, ndigits)
    return [_rounded(c, ndigits) for c in coords]


def geometry_json(geometry: BaseGeometry, ndigits: int = COORD_DECIMALS) -> dict[str, Any]:
    """A GeoJSON geometry object with coordinates rounded to ``ndigits``."""
    if geometry.geom_type == "Point":
        return {
            "type": "Point",
            "coordinates": [round(geometry.x, ndigits), round(geometry.y, ndigits)],
        }
    data = shapely.geometry.mapping(geometry)
    return {"type": data["type"], "coordinates": _rounded(data["coordinates"], ndigits)}


def place_feature(place: PublicPlace) -> dict[str, Any] | None:
    """The small feature drawn for a place (None for a hidden one: it is never drawn)."""
    if place.geometry is None:
        return None
    return {
        "type": "Feature",
        "id": place.id,
        "geometry": geometry_json(place.geometry),
        "properties": {
            "title": place.title,
            "category": place.category,
            "generalised": place.location_generalised,
            "version": place.version,
        },
    }


def place_features(places: Iterable[PublicPlace]) -> list[dict[str, Any]]:
    return [f for f in (place_feature(p) for p in places) if f is not None]


@dataclass(frozen=True)
class Cluster:
    """Places drawn as one bubble: where, and how many."""

    lon: float
    lat: float
    count: int


def cluster_feature(cluster: Cluster, k: int, options: MapOptions = ENGLISH) -> dict[str, Any]:
    """A cluster bubble; below ``k`` its exact count is not sent at all."""
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [round(cluster.lon, COORD_DECIMALS), round(cluster.lat, COORD_DECIMALS)],
        },
        "properties": {
            "cluster": True,
            "count": cluster.count if cluster.count >= k else None,
            "label": short_count(cluster.count, k),
            "title": count_label(cluster.count, k, options),
        },
    }


# -- popups ---------------------------------------------------------------------------
def _primary(tag: str) -> str:
    return tag.split("-")[0].lower()


def choose_narrative(narratives: Sequence[Narrative], language: str) -> Narrative | None:
    """The narrative in the viewer's language if there is one, else the original."""
    if not narratives:
        return None
    # A resident's memory is theirs, not the place's story: shown only if nothing else is.
    narratives = [n for n in narratives if n.kind != NarrativeKind.MEMORY] or narratives
    wanted = language.lower()
    for test in (
        lambda n: n.language.lower() == wanted,
        lambda n: _primary(n.language) == _primary(wanted),
    ):
        for n in narratives:
            if test(n):
                return n
    return next((n for n in narratives if n.provenance == Provenance.ORIGINAL), narratives[0])


def language_name(tag: str, in_language: str = "en") -> str:
    """``pt`` -> "Portuguese" (in the viewer's language where known)."""
    try:
        return langcodes.Language.get(tag).display_name(in_language)
    except (LookupError, ValueError):
        return tag


_PROVENANCE_LABELS = {
    Provenance.COMMUNITY_TRANSLATION: N_("community translation"),
    Provenance.MACHINE_TRANSLATION: N_("machine translation"),
}


def period_text(place: PublicPlace, options: MapOptions = ENGLISH) -> str | None:
    years = None
    if place.year_from is not None and place.year_to is not None:
        years = (
            str(place.year_from)
            if place.year_from == place.year_to
            else f"{place.year_from}–{place.year_to}"
        )
    elif place.year_from is not None:
        years = options.gettext("from {year}").format(year=place.year_from)
    elif place.year_to is not None:
        years = options.gettext("until {year}").format(year=place.year_to)
    if place.period and years:
        return f"{place.period} ({years})"
    return place.period or years


@dataclass(frozen=True)
class Photo:
    """A thumbnail the service serves for a place."""

    url: str  # a path on this service
    width: int
    height: int
    caption: str | None = None


def place_details(
    place: PublicPlace,
    vocabulary: Vocabulary,
    language: str = "en",
    photo: Photo | None = None,
    options: MapOptions = ENGLISH,
) -> dict[str, Any]:
    """What a popup shows: title, the narrative for this viewer, period, photo, licence
    (the popup's own words in ``options``' catalog)."""
    narrative = choose_narrative(place.narratives, language)
    category = vocabulary[place.category] if place.category in vocabulary else None  # noqa: SIM401
    story = None
    if narrative is not None:
        story = {
            "text": narrative.text,
            "language": narrative.language,
            "language_name": language_name(narrative.language, language),
            "is_viewer_language": _primary(narrative.language) == _primary(language),
            "translated": narrative.provenance != Provenance.ORIGINAL,
            "provenance": str(narrative.provenance),
            "provenance_label": options.gettext(_PROVENANCE_LABELS.get(narrative.provenance, ""))
            if narrative.provenance in _PROVENANCE_LABELS
            else "",
            # A story taken from elsewhere: where from, and its licence with the credit it
            # asks for (None: the place's own licence below covers it).
            "source": narrative.source,
            "licence": narrative.licence,
        }
    return {
        "id": place.id,
        "title": place.title,
        "category": place.category,
        "category_label": category.label(language) if category else place.category,
        "narrative": story,
        "languages": [n.language for n in place.narratives],
        "period": period_text(place, options),
        "tags": list(place.tags),
        "licence": place.licence,
        "attribution": place.attribution,
        # Only a name the contributor chose to publish (never their real name or contact).
        "display_name": place.display_name,
        # Local Contexts TK/BC labels: the community's own words about how to treat this.
        "protocol_labels": [label_json(label) for label in place.protocol_labels],
        "location_generalised": place.location_generalised,
        "photo": (
            {
                "thumb": photo.url,
                "width": photo.width,
                "height": photo.height,
                "alt": photo.caption or place.title,
            }
            if photo
            else None
        ),
    }


# -- neighbourhoods -----------------------------------------------------------------------
def outline(geometry: BaseGeometry) -> BaseGeometry:
    """A neighbourhood outline simplified for drawing (a few metres; topology kept)."""
    return shapely.simplify(geometry, OUTLINE_TOLERANCE_DEG, preserve_topology=True)


def neighbourhood_features(
    neighbourhoods: Sequence[Neighbourhood],
    counts: dict[int | None, int],
    k: int,
    url_for: dict[int, str] | None = None,
    ndigits: int = 5,
    options: MapOptions = ENGLISH,
) -> list[dict[str, Any]]:
    """Neighbourhoods with their (k-anonymous) count of places, for a choropleth."""
    out = []
    for n in neighbourhoods:
        count = counts.get(n.id, 0)
        out.append(
            {
                "type": "Feature",
                "id": n.id,
                "geometry": geometry_json(outline(n.geometry), ndigits),
                "properties": {
                    "id": n.id,
                    "name": n.name,
                    "count_label": count_label(count, k, options),
                    "url": (url_for or {}).get(n.id),
                },
            }
        )
    return out


def bounds_of(geometries: Sequence[BaseGeometry]) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of some geometries (the whole world if none)."""
    if not geometries:
        return (-180.0, -60.0, 180.0, 75.0)
    b = shapely.total_bounds(list(geometries))
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
