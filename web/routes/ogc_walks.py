"""The ``walks`` collection of the OGC API: one feature per public walk whose proposer
consented to open data, its geometry the route (drawn, or from stop to stop through the
stops shown), its properties one flat row (:func:`geodata.io.walks.walk_record`).

Coordinates in any offered CRS (``crs=``); the stops are the places the open-data
audience may see. ``bbox`` (in ``bbox-crs``) keeps the walks whose route crosses the box,
``datetime`` those proposed in that instant or interval (as a place's creation time).
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import box, mapping

from geodata.crs import CRS84, Projection
from geodata.io.export import coarse_bbox
from geodata.io.walks import WALK_FIELDS, walk_record
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.walk_views import PublicWalk, open_data_walks
from web.routes.ogc_property_words import WALK_WORDS

ITEM_PARAMS = {"f", "crs", "limit", "offset", "bbox", "bbox-crs", "datetime"}
_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean"}


def walk_feature(walk: PublicWalk, base_url: str, project: Projection | None) -> dict[str, Any]:
    route = walk.route
    if route is not None and project is not None:
        route = shapely.transform(route, project)
    return {
        "type": "Feature",
        "id": walk.id,
        "geometry": mapping(route) if route is not None else None,
        "properties": walk_record(walk, base_url),
    }


def _matches(walk: PublicWalk, flt: PlaceFilter) -> bool:
    if flt.bbox is not None and (walk.route is None or not walk.route.intersects(box(*flt.bbox))):
        return False
    if flt.since is not None and walk.created_at < flt.since:
        return False
    return flt.until is None or walk.created_at < flt.until


def walk_features(
    store: PlaceStore,
    base_url: str,
    project: Projection | None = None,
    flt: PlaceFilter | None = None,
) -> list[dict[str, Any]]:
    """The open-data walks as features, those matching ``flt``'s bbox and time span."""
    walks = open_data_walks(store)
    if flt is not None:
        walks = [w for w in walks if _matches(w, flt)]
    return [walk_feature(w, base_url, project) for w in walks]


def walks_extent(store: PlaceStore) -> dict[str, Any]:
    bounds = [w.route.bounds for w in open_data_walks(store) if w.route is not None]
    box = None
    if bounds:
        box = [min(b[0] for b in bounds), min(b[1] for b in bounds),
               max(b[2] for b in bounds), max(b[3] for b in bounds)]  # fmt: skip
    return {"spatial": {"bbox": [coarse_bbox(box) or [-180, -90, 180, 90]], "crs": CRS84}}


def walks_schema(url: str, title: str) -> dict[str, Any]:
    """``/collections/walks/schema``."""
    properties: dict[str, Any] = {
        "id": {**WALK_WORDS["id"].schema(), "type": "string", "x-ogc-role": "id"},
        "geometry": {
            **WALK_WORDS["geometry"].schema(),
            "format": "geometry-linestring",
            "x-ogc-role": "primary-geometry",
        },
    }
    for name, kind in WALK_FIELDS.items():
        properties[name] = {**WALK_WORDS[name].schema(), "type": _TYPES[kind]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": title,
        "properties": properties,
    }
