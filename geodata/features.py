"""Public places as RFC 7946 GeoJSON features, encoded as bytes: one layout for every
download and OGC API page.

A feature is written in two parts. Its *head* holds what only the place's own record
decides (id, geometry, title, narratives, licence, consent, times...) and ends inside
``properties``; its *tail* adds what other records decide (the neighbourhood's name, the
Local Contexts labels a facilitator attached) and closes it::

    {"type":"Feature","id":...,"geometry":...,"properties":{"title":...,"version":3
    ,"neighbourhood_id":7,"neighbourhood":"Alfama","protocol_labels":[]}}

The store keeps each place's head, encoded when the place is written (see
:func:`geodata.store.records.place_row`), so a download of a million places copies bytes
instead of building a million dictionaries. Only places shown where they are get one: a
generalised or hidden place's public location comes from
:func:`geodata.privacy.public_view` at export time, and the same encoder runs there on its
public view.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import orjson
import shapely

PRECISION = 6  # decimals: about 10 cm
# (n, 2) CRS84 coordinates to published ones in another CRS (geodata.crs.projection).
Projection = Callable[[np.ndarray], np.ndarray]

# What the contributor agreed to, as the list each feature carries (one shared list per
# combination of the three consent flags).
_SCOPE_NAMES = ("publish", "open_data", "research")
CONSENT_SCOPES: dict[tuple[int, int, int], list[str]] = {
    (a, b, c): [n for n, flag in zip(_SCOPE_NAMES, (a, b, c), strict=True) if flag]
    for a in (0, 1)
    for b in (0, 1)
    for c in (0, 1)
}
# The properties of every feature, in order: the head's, then (from "neighbourhood_id")
# the tail's.
PROPERTIES = (
    "title",
    "narratives",
    "languages",
    "category",
    "period",
    "year_from",
    "year_to",
    "tags",
    "licence",
    "attribution",
    "consent",
    "workshop",
    "location_generalised",
    "created_at",
    "updated_at",
    "version",
    "neighbourhood_id",
    "neighbourhood",
    "protocol_labels",
)


def _round(coords: np.ndarray) -> np.ndarray:
    return np.round(coords, PRECISION)


def geometry_members(geometries: np.ndarray, project: Projection | None = None) -> list[Any]:
    """Each geometry as an RFC 7946 ``geometry`` member (None stays None).

    Points become small dicts from one vectorised coordinate array; routes and areas are
    oriented (right-hand rule), rounded and written by GEOS, then embedded as fragments.
    ``project`` (:func:`geodata.crs.projection`) gives the coordinates in another CRS,
    after orienting, so rings keep their orientation on the ground whatever the axis order.
    """
    out: list[Any] = [None] * len(geometries)
    type_ids = shapely.get_type_id(geometries)
    points = np.flatnonzero(type_ids == 0)
    if len(points):
        out_points = point_members(shapely.get_coordinates(geometries[points]), project)
        for i, member in zip(points.tolist(), out_points, strict=True):
            out[i] = member
    others = np.flatnonzero(type_ids > 0)
    if len(others):
        shapes = shapely.transform(shapely.orient_polygons(geometries[others]), project or _round)
        for i, text in zip(others.tolist(), shapely.to_geojson(shapes).tolist(), strict=True):
            out[i] = orjson.Fragment(text)
    return out


def point_members(xy: np.ndarray, project: Projection | None = None) -> list[dict[str, Any]]:
    """``geometry`` members of points given as an (n, 2) lon/lat array (in another CRS
    through ``project``)."""
    return [{"type": "Point", "coordinates": c} for c in (project or _round)(xy).tolist()]


def head(
    place_id: str,
    geometry: Any,
    title: str,
    narratives: str,
    languages: list[str],
    category: str,
    period: str | None,
    year_from: int | None,
    year_to: int | None,
    tags: str,
    licence: str,
    attribution: str | None,
    consent: list[str],
    workshop: str | None,
    location_generalised: bool,
    created_at: str,
    updated_at: str,
    version: int,
) -> bytes:
    """A feature's head (``narratives`` and ``tags`` as stored JSON text, ``languages`` the
    narratives' languages (:func:`narrative_languages`), times as ISO 8601 UTC text): the
    feature up to its last own property, left open for :func:`tail`."""
    (encoded,) = heads(
        [place_id], [geometry], [title], [narratives], [languages], [category], [period],
        [year_from], [year_to], [tags], licence=licence, attribution=attribution, consent=consent,
        workshop=workshop, location_generalised=location_generalised,
        created_at=created_at, updated_at=updated_at, version=version,
    )  # fmt: skip
    return encoded


def heads(
    place_ids: Sequence[str],
    geometries: Sequence[Any],
    titles: Sequence[str],
    narratives: Sequence[str],
    languages: Sequence[list[str]],
    categories: Sequence[str],
    periods: Sequence[str | None],
    years_from: Sequence[int | None],
    years_to: Sequence[int | None],
    tags: Sequence[str],
    *,
    licence: str,
    attribution: str | None,
    consent: list[str],
    workshop: str | None,
    location_generalised: bool,
    created_at: str,
    updated_at: str,
    version: int,
    licences: Sequence[str] | None = None,
    attributions: Sequence[str | None] | None = None,
) -> list[bytes]:
    """The heads of places that share their last properties (from ``licence`` on), as a
    bulk import's do: those are encoded once and appended to each place's own part.

    ``licences`` and ``attributions``, when given, are each place's own (an import that
    reads them from the file): the last part is then encoded once per distinct pair."""
    ends: dict[tuple[str, str | None], bytes] = {}

    def end(lic: str, by: str | None) -> bytes:
        if (lic, by) not in ends:
            shared = orjson.dumps(
                {
                    "licence": lic,
                    "attribution": by,
                    "consent": consent,
                    "workshop": workshop,
                    "location_generalised": location_generalised,
                    "created_at": created_at,
                    "updated_at": updated_at,
                    "version": version,
                }
            )
            ends[lic, by] = b"," + shared[1:-1]
        return ends[lic, by]

    frag = orjson.Fragment
    own = zip(
        place_ids, geometries, titles, narratives, languages, categories, periods, years_from,
        years_to, tags, strict=True,
    )  # fmt: skip
    if licences is not None or attributions is not None:
        n = len(place_ids)
        pairs = zip(licences or [licence] * n, attributions or [attribution] * n, strict=True)
        rests = [end(lic, by) for lic, by in pairs]
    else:
        rests = itertools.repeat(end(licence, attribution))
    return [
        orjson.dumps(
            {
                "type": "Feature",
                "id": place_id,
                "geometry": geometry,
                "properties": {
                    "title": title,
                    "narratives": frag(narrative),
                    "languages": langs,
                    "category": category,
                    "period": period,
                    "year_from": year_from,
                    "year_to": year_to,
                    "tags": frag(tag),
                },
            }
        )[:-2]  # without the closing "}}"
        + rest
        for (
            place_id,
            geometry,
            title,
            narrative,
            langs,
            category,
            period,
            year_from,
            year_to,
            tag,
        ), rest in zip(own, rests, strict=False)  # rests may repeat one part without end
    ]


def narrative_languages(languages: Iterable[str]) -> list[str]:
    """The languages of a place's narratives, each once, in the narratives' order (the
    ``languages`` property: what a planner filters on without reading the narratives)."""
    return list(dict.fromkeys(languages))


def tail(neighbourhood_id: int | None, name: str | None, labels: Sequence[str] = ()) -> bytes:
    """What closes a head: the neighbourhood and the place's Local Contexts label ids."""
    return (
        b',"neighbourhood_id":'
        + orjson.dumps(neighbourhood_id)
        + b',"neighbourhood":'
        + orjson.dumps(name)
        + b',"protocol_labels":'
        + orjson.dumps(list(labels))
        + b"}}"
    )
