"""Live updates for the workshop projection: what changed since the client's cursor.

The cursor is the server's clock at the previous answer. Each query looks a little
further back than the cursor (``OVERLAP``), because a transaction that started before
the previous answer may commit after it with an earlier ``updated_at``; the client
drops what it already shows by id and version, so the overlap costs nothing visible.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from geodata.models import Status, Workshop, utcnow
from geodata.privacy import public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.records import iso
from mapping.features import place_feature
from mapping.options import MapOptions
from mapping.style import ENGLISH

OVERLAP = timedelta(seconds=10)
LATEST = 6  # titles listed in the panel


def workshop_summary(
    store: PlaceStore, workshop: Workshop, options: MapOptions = ENGLISH
) -> dict[str, Any]:
    """The panel's numbers and latest titles (published places only, newest first)."""
    shown = public_filter(PlaceFilter(workshop=workshop.code), "map")
    count = store.count(shown)
    pending = store.count(PlaceFilter(workshop=workshop.code, status=str(Status.PENDING)))
    latest = list(store.list(shown, limit=LATEST, offset=max(count - LATEST, 0)))
    return {
        "count": count,
        "count_label": options.ngettext("{n} place", "{n} places", count).format(
            n=options.number(count)
        ),
        "pending": pending,
        "pending_label": options.ngettext(
            "{n} waiting for review", "{n} waiting for review", pending
        ).format(n=options.number(pending))
        if pending
        else "",
        "latest": [{"id": p.id, "title": p.title} for p in reversed(latest)],
    }


def workshop_updates(
    store: PlaceStore, workshop: Workshop, since: datetime | None, options: MapOptions
) -> dict[str, Any]:
    """Places of the workshop to draw or remove since ``since``, with the panel's numbers."""
    now = utcnow()
    features: list[dict[str, Any]] = []
    removed: list[str] = []
    if since is not None:
        changed = PlaceFilter(workshop=workshop.code, updated_since=since - OVERLAP)
        drawn = set()
        for place in store.list(public_filter(changed, "map")):
            feature = place_feature(public_view(place, options.grid_m))
            if feature is not None:
                features.append(feature)
                drawn.add(place.id)
        # Anything else that changed (rejected, withdrawn, now hidden) leaves the map.
        removed = [p.id for p in store.list(changed) if p.id not in drawn]
    return {
        "cursor": iso(now),
        "features": features,
        "removed": removed,
        **workshop_summary(store, workshop, options),
    }
