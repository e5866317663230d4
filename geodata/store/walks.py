"""The walks part of the store contract, and the row format both backends share.

:class:`WalkStore` is mixed into :class:`~geodata.store.base.PlaceStore`; the backends
implement it in :mod:`geodata.store.sqlite_walks` and :mod:`geodata.store.postgis_walks`.
A walk's texts, licence and consent travel as one JSON document (``content``); its stops
are rows of their own so that a place's erasure removes it from every walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
import shapely

from geodata.errors import Conflict
from geodata.models import Consent, Narrative, Status
from geodata.store.records import unchanged
from geodata.walks import Walk, WalkStop

MAX_WALKS_PAGE = 1000


class WalkStore:
    """Store methods for walks; see the backends for the SQL."""

    def add_walk(self, walk: Walk, edit_token_hash: str | None = None) -> Walk:
        """Store a new walk with its stops (and the proposer's edit-token hash)."""
        raise NotImplementedError("walks")

    def get_walk(self, walk_id: str) -> Walk:
        """The walk with this id; NotFound if there is none."""
        raise NotImplementedError("walks")

    def update_walk(self, walk: Walk, *, expected_version: int | None = None) -> Walk:
        """Replace a walk and its stops; its version goes up by one. Conflict if the
        stored version is not ``expected_version``."""
        raise NotImplementedError("walks")

    def walks(self, status: str | None = None, *, limit: int = 100, offset: int = 0) -> list[Walk]:
        """Walks with ``status`` (any if None), newest first."""
        raise NotImplementedError("walks")

    def count_walks(self, status: str | None = None) -> int:
        raise NotImplementedError("walks")

    def walk_edit_token_hash(self, walk_id: str) -> str | None:
        raise NotImplementedError("walks")

    def walk_ids_by_contact(self, contact: str) -> list[str]:
        """Ids of every walk whose proposer's contact is ``contact`` (trimmed, any case)."""
        raise NotImplementedError("walks")

    def delete_walk(self, walk_id: str) -> None:
        """Delete a walk and its stops for good (erasure); NotFound if there is none."""
        raise NotImplementedError("walks")


def check_version(walk_id: str, stored: int | None, expected: int | None) -> None:
    if expected is not None and stored != expected:
        raise Conflict(
            f"walk {walk_id} changed since you read it (now version {stored}, you had "
            f"{expected}); reload it"
        )


def _consent_json(c: Consent) -> dict[str, Any]:
    return {  # in jsonb's key order (shorter first), so both backends keep the same text
        "publish": c.publish,
        "given_at": c.given_at.isoformat() if c.given_at else None,
        "research": c.research,
        "open_data": c.open_data,
    }


def content_json(walk: Walk) -> str:
    """The walk's texts, licence and consent as stored."""
    return orjson.dumps(
        {  # in jsonb's key order, as above
            "titles": [n.to_json() for n in walk.titles],
            "consent": _consent_json(walk.consent),
            "licence": walk.licence,
            "editorial": walk.editorial,
            "introductions": [n.to_json() for n in walk.introductions],
        }
    ).decode()


def chapters_json(stop: WalkStop) -> str:
    return orjson.dumps([n.to_json() for n in stop.chapters]).decode()


def _loaded(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def walk_from_row(
    row: Sequence[Any], stops: Sequence[tuple[str, Any]], route: Any, parse_ts: Any
) -> Walk:
    """A walk from ``(id, status, content, name, contact, display_name, created_at,
    updated_at, version)``, its ``(place_id, chapters)`` stops in order and its route."""
    content = _loaded(row[2])
    consent = content["consent"]
    return Walk(
        titles=[Narrative.from_json(n) for n in content["titles"]],
        introductions=[Narrative.from_json(n) for n in content["introductions"]],
        stops=[WalkStop(pid, [Narrative.from_json(n) for n in _loaded(ch)]) for pid, ch in stops],
        route=route,
        id=row[0],
        status=Status(row[1]),
        editorial=bool(content.get("editorial")),
        licence=content["licence"],
        consent=Consent(
            publish=consent["publish"],
            open_data=consent["open_data"],
            research=consent["research"],
            given_at=datetime.fromisoformat(consent["given_at"]) if consent["given_at"] else None,
        ),
        contributor_name=row[3],
        contributor_contact=row[4],
        display_name=row[5],
        created_at=parse_ts(row[6]),
        updated_at=parse_ts(row[7]),
        version=row[8],
    )


WALK_COLUMNS = (
    "id, status, content, contributor_name, contributor_contact, display_name, "
    "created_at, updated_at, version"
)
# The columns a new walk is written with, in the order of :func:`new_walk_values`.
NEW_WALK_COLUMNS = (
    "id, status, content, route, contributor_name, contributor_contact, display_name, "
    "edit_token_hash, created_at, updated_at, version"
)


def route_wkb(walk: Walk) -> bytes | None:
    return None if walk.route is None else shapely.to_wkb(walk.route)


def _walk_values(
    walk: Walk, edit_token_hash: str | None, store_ts: Callable[[datetime], Any]
) -> dict[str, Any]:
    return {
        "id": walk.id,
        "status": str(walk.status),
        "content": content_json(walk),
        "route": route_wkb(walk),
        "contributor_name": walk.contributor_name,
        "contributor_contact": walk.contributor_contact,
        "display_name": walk.display_name,
        "edit_token_hash": edit_token_hash,
        "created_at": store_ts(walk.created_at),
        "updated_at": store_ts(walk.updated_at),
        "version": walk.version,
    }


def new_walk_values(
    walk: Walk, edit_token_hash: str | None, store_ts: Callable[[datetime], Any] = unchanged
) -> tuple[Any, ...]:
    """A new walk as the values of :data:`NEW_WALK_COLUMNS` (the route as WKB);
    ``store_ts`` writes its timestamps the backend's way."""
    values = _walk_values(walk, edit_token_hash, store_ts)
    return tuple(values[c] for c in NEW_WALK_COLUMNS.split(", "))


# What a change writes, in the order of :func:`changed_walk_values` (the id last, for WHERE).
_CHANGED = (
    "status",
    "content",
    "route",
    "contributor_name",
    "contributor_contact",
    "display_name",
    "updated_at",
    "version",
    "id",
)


def changed_walk_values(
    walk: Walk, store_ts: Callable[[datetime], Any] = unchanged
) -> tuple[Any, ...]:
    """A changed walk as the values of ``status, content, route, contributor_name,
    contributor_contact, display_name, updated_at, version`` and then its ``id`` (for
    the WHERE)."""
    values = _walk_values(walk, None, store_ts)
    return tuple(values[c] for c in _CHANGED)


def walks_from_rows(
    rows: Sequence[Sequence[Any]],
    stop_rows: Iterable[Sequence[Any]],
    parse_ts: Callable[[Any], datetime] = unchanged,
) -> list[Walk]:
    """Walks from rows of :data:`WALK_COLUMNS` and the route's WKB, with their
    ``(walk_id, place_id, chapters)`` stop rows in order of position."""
    stops: dict[str, list[tuple[str, Any]]] = {r[0]: [] for r in rows}
    for walk_id, place_id, chapters in stop_rows:
        stops[walk_id].append((place_id, chapters))
    return [
        walk_from_row(
            r[:9],
            stops[r[0]],
            shapely.from_wkb(bytes(r[9])) if r[9] is not None else None,
            parse_ts,
        )
        for r in rows
    ]
