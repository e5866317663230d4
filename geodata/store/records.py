"""Turning places into database rows and back; shared by every backend."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import shapely

from geodata import features
from geodata.models import (
    Consent,
    Moderation,
    Narrative,
    Neighbourhood,
    NewPlaces,
    Place,
    Sensitivity,
    Status,
    Workshop,
)
from geodata.privacy import shows_exact_location
from geodata.search import narratives_search_text, search_columns, search_text

# Column order used by every backend's INSERT and SELECT.
COLUMNS = (
    "id",
    "geom",
    "geom_type",
    "minx",
    "miny",
    "maxx",
    "maxy",
    "title",
    "narratives",
    "category",
    "status",
    "period",
    "year_from",
    "year_to",
    "tags",
    "sensitivity",
    "licence",
    "attribution",
    "consent_publish",
    "consent_open_data",
    "consent_research",
    "consent_given_at",
    "contributor_name",
    "contributor_contact",
    "neighbourhood_id",
    "workshop",
    "created_at",
    "updated_at",
    "version",
    "display_name",
)
# What a write stores: the columns above, the place's encoded GeoJSON head
# (``features.head``; NULL unless the public sees the place where it is; only open-data
# exports read it) and its title and narratives folded for search
# (:func:`geodata.search.search_text`; only searches read them).
SEARCH_COLUMNS = ("search_title", "search_body")
ROW_COLUMNS = (*COLUMNS, "public_feature", *SEARCH_COLUMNS)


@functools.lru_cache(maxsize=4096)  # bulk imports stamp thousands of rows with one time
def iso(ts: datetime) -> str:
    """UTC ISO 8601 with microseconds: sorts as text in the same order as in time."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def unchanged(value: Any) -> Any:
    """A value stored and read back as it is: PostGIS keeps timestamps as datetimes where
    SQLite keeps :func:`iso` text."""
    return value


def narratives_json(narratives: Sequence[Narrative]) -> str:
    if not narratives:
        return _EMPTY_LIST  # most imported places have none
    return orjson.dumps([n.to_json() for n in narratives]).decode()


def tags_json(tags: Sequence[str]) -> str:
    return orjson.dumps(list(tags)).decode() if tags else _EMPTY_LIST


_EMPTY_LIST = "[]"
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def place_row(
    p: Place,
    wkb: bytes | None = None,
    bounds: Sequence[float] | None = None,
    geom_type: str | None = None,
    geometry_member: Any = None,
) -> tuple[Any, ...]:
    """One place as a row in :data:`ROW_COLUMNS` order (WKB, bounds, type and GeoJSON
    geometry member may be precomputed)."""
    if wkb is None:
        wkb = shapely.to_wkb(p.geometry)
    if bounds is None:
        bounds = p.geometry.bounds
    narratives = narratives_json(p.narratives)
    tags = tags_json(p.tags)
    created_at, updated_at = iso(p.created_at), iso(p.updated_at)
    consent = (int(p.consent.publish), int(p.consent.open_data), int(p.consent.research))
    head = None
    if shows_exact_location(p.sensitivity):
        if geometry_member is None:
            geometry_member = features.geometry_members(np.array([p.geometry]))[0]
        head = features.head(
            p.id, geometry_member, p.title, narratives,
            features.narrative_languages(n.language for n in p.narratives), p.category,
            p.period, p.year_from, p.year_to, tags, p.licence, p.attribution,
            features.CONSENT_SCOPES[consent], p.workshop, False, created_at, updated_at,
            p.version,
        )  # fmt: skip
    return (
        p.id,
        wkb,
        geom_type or p.geometry.geom_type,
        *bounds,
        p.title,
        narratives,
        p.category,
        str(p.status),
        p.period,
        p.year_from,
        p.year_to,
        tags,
        str(p.sensitivity),
        p.licence,
        p.attribution,
        *consent,
        iso(p.consent.given_at) if p.consent.given_at else None,
        p.contributor_name,
        p.contributor_contact,
        p.neighbourhood_id,
        p.workshop,
        created_at,
        updated_at,
        p.version,
        p.display_name,
        head,
        search_text(p.title),
        narratives_search_text(n.text for n in p.narratives),
    )


def place_rows(places: Sequence[Place], wkbs: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows for many places, with WKB (unless given), bounds and GeoJSON geometry members
    computed as arrays."""
    if not places:
        return []
    geoms = np.array([p.geometry for p in places], dtype=object)
    if wkbs is None:
        wkbs = shapely.to_wkb(geoms)
    bounds = shapely.bounds(geoms).tolist()
    types = [_TYPE_NAMES.get(t) for t in shapely.get_type_id(geoms).tolist()]
    members = features.geometry_members(geoms)
    return [
        place_row(p, w, b, t, m)
        for p, w, b, t, m in zip(places, wkbs, bounds, types, members, strict=True)
    ]


@dataclass(frozen=True)
class Shared:
    """One value for every row of a batch: a column a bulk import fills alike."""

    value: Any


def new_place_columns(batch: NewPlaces, wkbs: Sequence[Any] | None = None) -> list[Any]:
    """The rows of new places as columns in :data:`ROW_COLUMNS` order: a list for each
    column whose values differ from place to place, a :class:`Shared` for the others.

    Built column by column (WKB, bounds and GeoJSON geometry as arrays, the feature heads
    from one encoded common part), so no :class:`Place` and no row is made per place.
    """
    geoms = np.asarray(batch.geometries, dtype=object)
    if wkbs is None:
        wkbs = shapely.to_wkb(geoms).tolist()
    bounds = shapely.bounds(geoms).T.tolist() if len(geoms) else [[], [], [], []]
    types = [_TYPE_NAMES.get(t) for t in shapely.get_type_id(geoms).tolist()]
    narratives = [narratives_json(n) for n in batch.narratives]
    tags = [tags_json(t) for t in batch.tags]
    created_at = iso(batch.created_at)
    search_titles, search_bodies = search_columns(
        batch.titles, [[n.text for n in ns] for ns in batch.narratives]
    )
    c = batch.consent
    consent = (int(c.publish), int(c.open_data), int(c.research))
    heads = features.heads(
        batch.ids, features.geometry_members(geoms), batch.titles, narratives,
        [features.narrative_languages(n.language for n in items) for items in batch.narratives],
        batch.categories, batch.periods, batch.years_from, batch.years_to, tags,
        licence=batch.licence, attribution=batch.attribution,
        consent=features.CONSENT_SCOPES[consent], workshop=None, location_generalised=False,
        created_at=created_at, updated_at=created_at, version=1,
        licences=batch.licences, attributions=batch.attributions,
    )  # fmt: skip
    return [
        list(batch.ids),
        wkbs,
        types,
        *bounds,
        list(batch.titles),
        narratives,
        list(batch.categories),
        Shared(str(batch.status)),
        list(batch.periods),
        list(batch.years_from),
        list(batch.years_to),
        tags,
        Shared(str(Sensitivity.PUBLIC)),  # new places are shown where they are
        Shared(batch.licence) if batch.licences is None else list(batch.licences),
        Shared(batch.attribution) if batch.attributions is None else list(batch.attributions),
        *(Shared(flag) for flag in consent),
        Shared(iso(c.given_at) if c.given_at else None),
        Shared(None),  # contributor_name
        Shared(None),  # contributor_contact
        list(batch.neighbourhood_ids),
        Shared(None),  # workshop
        Shared(created_at),
        Shared(created_at),  # updated_at
        Shared(1),  # version
        Shared(None),  # display_name
        heads,
        search_titles,
        search_bodies,
    ]


def stored_heads(rows: Sequence[Sequence[Any]]) -> list[bytes | None]:
    """The GeoJSON heads (``public_feature``) of places read back in :data:`COLUMNS` order:
    what a migration stores for places written before there was such a column."""
    head = ROW_COLUMNS.index("public_feature")
    return [row[head] for row in place_rows(places_from_rows(rows))]


def _ts(value: str | datetime) -> datetime:
    return parse_iso(value) if isinstance(value, str) else value


def places_from_rows(rows: Sequence[Sequence[Any]]) -> list[Place]:
    """Rows in :data:`COLUMNS` order back to places (geometries decoded as one array)."""
    if not rows:
        return []
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
    out = []
    for r, g in zip(rows, geoms, strict=True):
        out.append(
            Place(
                id=r[0],
                geometry=g,
                title=r[7],
                narratives=[Narrative.from_json(n) for n in orjson.loads(r[8])],
                category=r[9],
                status=Status(r[10]),
                period=r[11],
                year_from=r[12],
                year_to=r[13],
                tags=orjson.loads(r[14]),
                sensitivity=Sensitivity(r[15]),
                licence=r[16],
                attribution=r[17],
                consent=Consent(
                    publish=bool(r[18]),
                    open_data=bool(r[19]),
                    research=bool(r[20]),
                    given_at=_ts(r[21]) if r[21] else None,
                ),
                contributor_name=r[22],
                contributor_contact=r[23],
                neighbourhood_id=r[24],
                workshop=r[25],
                created_at=_ts(r[26]),
                updated_at=_ts(r[27]),
                version=r[28],
                display_name=r[29],
            )
        )
    return out


# Column order of the workshops table, used by every backend's INSERT and SELECT.
WORKSHOP_COLUMNS = (
    "code, title, neighbourhood_id, starts_at, ends_at, moderation, "
    "languages, created_by, created_at"
)


def workshop_from_row(row: Sequence[Any]) -> Workshop:
    """A row in :data:`WORKSHOP_COLUMNS` order (``languages`` as JSON text) as a workshop."""
    return Workshop(
        code=row[0],
        title=row[1],
        neighbourhood_id=row[2],
        starts_at=_ts(row[3]),
        ends_at=_ts(row[4]),
        moderation=Moderation(row[5]),
        languages=orjson.loads(row[6]),
        created_by=row[7],
        created_at=_ts(row[8]),
    )


def neighbourhoods_from_rows(rows: Sequence[Sequence[Any]]) -> list[Neighbourhood]:
    """(id, name, code, WKB) rows as neighbourhoods, geometries decoded as one array."""
    geoms = shapely.from_wkb([bytes(r[3]) for r in rows]) if rows else []
    return [
        Neighbourhood(id=r[0], name=r[1], code=r[2], geometry=g)
        for r, g in zip(rows, geoms, strict=True)
    ]
