"""What the public sees of a walk: its stops whose places are still public, numbered in
order, and its route; and, for staff, the stops it no longer shows and why.

A stop whose place stopped being public (hidden, withdrawn, erased, its location made
protected) is left out, and so is its position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shapely.geometry import LineString

from geodata.models import Narrative, Place, Status
from geodata.place_attachments import Recording
from geodata.privacy import Audience, PublicPlace, public_filter, public_view, shows_exact_location
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.walks import Walk, metres, stop_to_stop, walking_minutes


@dataclass(frozen=True)
class PublicStop:
    """A stop as the public sees it: numbered among the stops still shown."""

    number: int
    place: PublicPlace
    chapters: list[Narrative]
    # What anyone may hear here: the walk's own public recordings for the stop, then the
    # place's (see geodata.walk_voices.public_stop_voices); empty where not asked for.
    voices: tuple[Recording, ...] = ()


@dataclass(frozen=True)
class PublicWalk:
    id: str
    titles: list[Narrative]
    introductions: list[Narrative]
    stops: list[PublicStop]
    route: LineString | None
    route_drawn: bool  # True: the proposer's own line; False: stop to stop
    length_m: float
    minutes: int
    editorial: bool
    licence: str
    display_name: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def languages(self) -> list[str]:
        """Every language the walk is told in, in first-seen order."""
        seen: dict[str, None] = {}
        for n in (*self.titles, *self.introductions, *(c for s in self.stops for c in s.chapters)):
            seen.setdefault(n.language, None)
        return list(seen)

    @property
    def neighbourhood_ids(self) -> list[int]:
        seen: dict[int, None] = {}
        for s in self.stops:
            if s.place.neighbourhood_id is not None:
                seen.setdefault(s.place.neighbourhood_id, None)
        return list(seen)


def shown_places(
    store: PlaceStore, place_ids: Sequence[str], audience: Audience = "map"
) -> dict[str, PublicPlace]:
    """The places among ``place_ids`` a walk may show to ``audience``: public (for
    ``open_data``, with that consent too), at their exact location."""
    if not place_ids:
        return {}
    found = store.list(public_filter(PlaceFilter(ids=list(place_ids)), audience))
    return {p.id: public_view(p) for p in found if shows_exact_location(p.sensitivity)}


def public_walk(
    walk: Walk,
    places: dict[str, PublicPlace],
    *,
    require_published: bool = True,
    voices: dict[str, list[Recording]] | None = None,
) -> PublicWalk | None:
    """What the public sees of ``walk`` given the ``places`` it may show (see
    :func:`shown_places`); None if the walk is not public or has no stop left to show.
    ``voices`` gives each stop (by place id) the recordings it plays.

    A stop whose place stopped being public is left out, and so is its position: the
    proposer's route line, which passes by it, gives way to the line between the stops
    still shown."""
    if require_published and (walk.status != Status.PUBLISHED or not walk.consent.publish):
        return None
    stops = [s for s in walk.stops if s.place_id in places]
    if not stops:
        return None
    voices = voices or {}
    shown = [
        PublicStop(i, places[s.place_id], list(s.chapters), tuple(voices.get(s.place_id, ())))
        for i, s in enumerate(stops, start=1)
    ]
    drawn = walk.route is not None and len(stops) == len(walk.stops)
    route = walk.route if drawn else stop_to_stop([s.place.geometry for s in shown])  # type: ignore[misc]
    length = metres(route) if route is not None else 0.0
    return PublicWalk(
        id=walk.id,
        titles=list(walk.titles),
        introductions=list(walk.introductions),
        stops=shown,
        route=route,  # type: ignore[arg-type]
        route_drawn=drawn,
        length_m=length,
        minutes=walking_minutes(length),
        editorial=walk.editorial,
        licence=walk.licence,
        display_name=walk.display_name,
        version=walk.version,
        created_at=walk.created_at,
        updated_at=walk.updated_at,
    )


@dataclass(frozen=True)
class HiddenStop:
    """For staff: a stop the public no longer sees, and why.

    ``code`` is ``place_not_published`` (its place is pending, rejected or withdrawn:
    ``status`` says which), ``location_protected`` (its place is shown only
    approximately, or not at all: ``sensitivity`` says which) or ``place_not_public``
    (its consent to be shown is gone)."""

    position: int
    place_id: str
    title: str
    code: str
    status: str
    sensitivity: str
    reason: str


def _why(position: int, place: Place) -> tuple[str, str]:
    if place.status != Status.PUBLISHED:
        return "place_not_published", (
            f"stop {position} ({place.id}) is hidden: its place is {place.status}, no longer public"
        )
    if not shows_exact_location(place.sensitivity):
        return "location_protected", (
            f"stop {position} ({place.id}) is hidden: its place's location is protected "
            f"({place.sensitivity}), and a walk never shows where it is"
        )
    return (
        "place_not_public",
        f"stop {position} ({place.id}) is hidden: its place is no longer public",
    )


def hidden_stops(store: PlaceStore, walk: Walk, places: dict[str, PublicPlace]) -> list[HiddenStop]:
    """The stops of ``walk`` whose place the public may no longer see, each with why
    (for staff only: it names places that are not public)."""
    missing = [s.place_id for s in walk.stops if s.place_id not in places]
    if not missing:
        return []
    found = {p.id: p for p in store.list(PlaceFilter(ids=missing))}
    out = []
    for i, s in enumerate(walk.stops, start=1):
        place = found.get(s.place_id)
        if s.place_id in places or place is None:  # an erased place leaves its walks
            continue
        code, reason = _why(i, place)
        out.append(
            HiddenStop(
                i, s.place_id, place.title, code, str(place.status), str(place.sensitivity), reason
            )
        )
    return out


def public_walks(
    store: PlaceStore, walks: Sequence[Walk], audience: Audience = "map"
) -> list[PublicWalk]:
    """The public views of ``walks`` (published, with a stop to show), in one place query;
    for ``open_data``, only the walks (and stops) with that consent."""
    if audience == "open_data":
        walks = [w for w in walks if w.consent.open_data]
    ids = list(dict.fromkeys(s.place_id for w in walks for s in w.stops))
    places = shown_places(store, ids, audience)
    out = []
    for w in walks:
        view = public_walk(w, places)
        if view is not None:
            out.append(view)
    return out


MAX_OPEN_WALKS = 1000  # what one open-data output holds at most (OGC pages, GeoPackage)


def open_data_walks(store: PlaceStore) -> list[PublicWalk]:
    """The walks an open-data output may hold, newest first."""
    return public_walks(store, store.walks("published", limit=MAX_OPEN_WALKS), "open_data")


def walk_versions(store: PlaceStore) -> list[tuple[str, int]]:
    """(id, version) of the published walks: what a download's ETag follows."""
    return store.walk_versions("published", limit=MAX_OPEN_WALKS)
