"""Features that are not one new place each: several features of one place (one story per
language, say) gathered into one place, and stories of places already stored added to them.

Both serve files of stories: one feature per text, with a key naming the place it is about
and often a place the map already shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geodata import audit
from geodata.audit import Actor
from geodata.duplicates import same_title
from geodata.errors import Rejection
from geodata.models import Narrative, Place, Status
from geodata.store.base import PlaceFilter, PlaceStore

IMPORT = Actor("import")
# Features of one group must lie where its first one does (degrees: about a centimetre).
SAME_PLACE_TOLERANCE = 1e-7


def group_features(
    properties: Sequence[dict[str, Any]],
    ids: Sequence[str | None],
    geometries: Any,
    valid: Sequence[int],
    field: str,
    rejected: list[Rejection],
) -> tuple[list[int], dict[int, list[int]]]:
    """Gather the ``valid`` features that share a value of ``field`` into one place each.

    Returns the features that become places (the first of each group, and every feature
    without a value) and, for each first feature, the others of its group, whose stories
    join its place (their other fields are not read). A feature whose geometry is not its
    group's is added to ``rejected``: two locations cannot be one place.
    """
    heads: list[int] = []
    members: dict[int, list[int]] = {}
    first: dict[str, int] = {}
    for i in valid:
        key = properties[i].get(field)
        if key in (None, ""):
            heads.append(i)
            continue
        key = str(key)
        head = first.setdefault(key, i)
        if head == i:
            heads.append(i)
        elif shapely.equals_exact(geometries[head], geometries[i], SAME_PLACE_TOLERANCE):
            members.setdefault(head, []).append(i)
        else:
            rejected.append(
                Rejection(
                    i,
                    ids[i],
                    "not_same_place",
                    f"has {field} {key!r} like feature {head + 1} but another location; "
                    "the features of one place must share its geometry",
                )
            )
    return heads, members


def attach_to_stored(
    store: PlaceStore,
    geometries: Sequence[BaseGeometry],
    titles: Sequence[str],
    narratives: Sequence[Sequence[Narrative]],
    within_m: float,
    actor: Actor = IMPORT,
) -> tuple[list[bool], int]:
    """Add the stories of new places that the store already holds to the stored ones.

    A new place is already stored when a pending or published place with the same title
    (case, accents and punctuation aside) lies within ``within_m`` metres; its stories are
    added to every such place, except those told there already (same language and text),
    and each change is recorded in the audit trail. Returns, for each new place, whether
    it was one of those (it is then not to be added again), and how many places changed.
    Call it inside the transaction that adds the others.
    """
    live = PlaceFilter(status=[Status.PENDING, Status.PUBLISHED])
    found: list[bool] = []
    stored: dict[str, Place] = {}  # as read, for the audit trail
    changed: dict[str, Place] = {}  # with the stories added so far
    for geometry, title, stories in zip(geometries, titles, narratives, strict=True):
        near = store.places_near(geometry, within_m, live)
        same = [p for p, _ in near if same_title(p.title, title)]
        found.append(bool(same))
        for place in same:
            stored.setdefault(place.id, place)
            current = changed.get(place.id, place)
            told = {(n.language, n.text) for n in current.narratives}
            new = [n for n in stories if (n.language, n.text) not in told]
            if new:
                changed[place.id] = replace(current, narratives=[*current.narratives, *new])
    for place_id, place in changed.items():
        before = stored[place_id]
        after = store.update(place, expected_version=before.version)
        audit.record(store, "edit", actor, before=before, after=after, detail="stories imported")
    return found, len(changed)
