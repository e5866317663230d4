"""When each story of a place was told, and whether its own contributor told it.

The audit trail keeps every version of a place (without personal data), so the event
that first put a story's text in its current form says when, and whether the resident
(through the form or their edit link) or someone else (a moderator, an import) added it.
A place's page credits a community translation to the name its contributor chose to
show only when the contributor added it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geodata.account_records import AuditEvent
from geodata.audit import RESIDENT
from geodata.models import Narrative


@dataclass(frozen=True)
class StoryOrigin:
    """Where a story's current text came from."""

    at: datetime | None  # when it appeared as it reads now; None: not in the trail
    by_contributor: bool  # the place's contributor added it (not a moderator or an import)


def _texts(snapshot: dict[str, Any] | None) -> set[tuple[str, str]]:
    narratives = (snapshot or {}).get("narratives") or []
    return {(str(n.get("language")), str(n.get("text"))) for n in narratives}


def story_origins(
    events: Sequence[AuditEvent], narratives: Sequence[Narrative]
) -> list[StoryOrigin]:
    """For each of ``narratives``, the latest event (of ``events``, oldest first) that put
    its text in the place; a story removed and told again counts from its return."""
    origins: dict[tuple[str, str], StoryOrigin] = {}
    for event in events:
        before, after = _texts(event.before), _texts(event.after)
        by_contributor = event.actor == RESIDENT.name and event.actor_id is None
        for key in after - before:
            origins[key] = StoryOrigin(event.at, by_contributor)
    missing = StoryOrigin(None, False)
    return [origins.get((n.language, n.text), missing) for n in narratives]
