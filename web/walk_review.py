"""What a moderator sees of a proposed walk: every text in every language with its
provenance, each stop with its place's title (public or not), the stops the public no
longer sees and why, what the moderators last told the proposer, and a preview of the
map the public would get (the static drawing the walk pages use without JavaScript).

Staff only: it names places that are not public and carries the proposer's details.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from geodata import walk_lifecycle
from geodata.models import Narrative, Provenance
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.walk_lifecycle import ModeratorNote
from geodata.walk_views import HiddenStop, PublicWalk, hidden_stops, public_walk, shown_places
from geodata.walks import Walk
from mapping.walk_map import static_walk_svg


@dataclass(frozen=True)
class ReviewStop:
    position: int
    place_id: str
    title: str
    chapters: list[Narrative]
    hidden: HiddenStop | None  # None: the public sees it


@dataclass(frozen=True)
class WalkReview:
    walk: Walk
    title: Narrative  # the original version, for headings
    stops: list[ReviewStop]
    hidden: list[HiddenStop]
    view: PublicWalk | None  # what the public would see; None: no stop left to show
    preview: str | None  # an SVG drawing of ``view``
    note: ModeratorNote | None

    @property
    def km(self) -> float | None:
        return round(self.view.length_m / 1000, 1) if self.view else None


def original(narratives: Sequence[Narrative]) -> Narrative:
    """The version marked original (a stored walk has exactly one)."""
    return next((n for n in narratives if n.provenance == Provenance.ORIGINAL), narratives[0])


def walk_reviews(store: PlaceStore, walks: Sequence[Walk]) -> list[WalkReview]:
    """The reviews of ``walks``, reading their places in two queries."""
    ids = list(dict.fromkeys(s.place_id for w in walks for s in w.stops))
    titles = {p.id: p.title for p in store.list(PlaceFilter(ids=ids))} if ids else {}
    places = shown_places(store, ids)
    out = []
    for walk in walks:
        hidden = hidden_stops(store, walk, places)
        by_position = {h.position: h for h in hidden}
        view = public_walk(walk, places, require_published=False)
        title = original(walk.titles)
        out.append(
            WalkReview(
                walk=walk,
                title=title,
                stops=[
                    ReviewStop(
                        i,
                        s.place_id,
                        titles.get(s.place_id, s.place_id),
                        s.chapters,
                        by_position.get(i),
                    )
                    for i, s in enumerate(walk.stops, start=1)
                ],
                hidden=hidden,
                view=view,
                preview=static_walk_svg(view, title.text) if view is not None else None,
                note=walk_lifecycle.moderator_note(store, walk),
            )
        )
    return out
