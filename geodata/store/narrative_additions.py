"""The store's side of the memories and translations residents add to places
(:class:`~geodata.models.NarrativeAddition`): the interface every backend implements,
mixed into :class:`~geodata.store.base.PlaceStore`. SQLite's is
:mod:`geodata.store.sqlite_narrative_additions`, PostGIS's
:mod:`geodata.store.postgis_narrative_additions` (migration 0011_narrative_additions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from geodata.models import NarrativeAddition, NarrativeKind, Provenance, Status
from geodata.store.records import unchanged

# The columns of narrative_additions, in the order the backends read and write them.
COLUMNS = (
    "id, place_id, kind, text, language, provenance, author, contributor_contact, "
    "translates, translates_hash, translates_version, status, reason, consent_given_at, "
    "created_at, updated_at"
)


def addition_row(
    a: NarrativeAddition, store_ts: Callable[[datetime], Any] = unchanged
) -> tuple[Any, ...]:
    """An addition as the values of :data:`COLUMNS`; ``store_ts`` writes its timestamps
    the backend's way."""
    return (
        a.id,
        a.place_id,
        str(a.kind),
        a.text,
        a.language,
        str(a.provenance),
        a.author,
        a.contributor_contact,
        a.translates,
        a.translates_hash,
        a.translates_version,
        str(a.status),
        a.reason,
        store_ts(a.consent_given_at),
        store_ts(a.created_at),
        store_ts(a.updated_at),
    )


def addition_from_row(
    r: Sequence[Any], parse_ts: Callable[[Any], datetime] = unchanged
) -> NarrativeAddition:
    """An addition from the values of :data:`COLUMNS`; ``parse_ts`` reads its timestamps
    the backend's way."""
    return NarrativeAddition(
        id=r[0], place_id=r[1], kind=NarrativeKind(r[2]), text=r[3], language=r[4],
        provenance=Provenance(r[5]), author=r[6], contributor_contact=r[7], translates=r[8],
        translates_hash=r[9], translates_version=r[10], status=Status(r[11]), reason=r[12],
        consent_given_at=parse_ts(r[13]), created_at=parse_ts(r[14]),
        updated_at=parse_ts(r[15]),
    )  # fmt: skip


class NarrativeAdditionsInterface:
    """What a store keeps of narrative additions. Not abstract, so a backend still being
    ported keeps working for everything else."""

    def _no_additions(self) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} does not keep narrative additions yet")

    def lock_place(self, place_id: str) -> None:
        """Inside :meth:`transaction`: hold the place so that concurrent changes to its
        narratives wait for each other (NotFound if there is no such place)."""
        raise self._no_additions()

    def add_narrative_addition(self, addition: NarrativeAddition) -> NarrativeAddition:
        """Store a new addition; NotFound without its place, Conflict if its id exists."""
        raise self._no_additions()

    def narrative_addition(self, addition_id: str) -> NarrativeAddition:
        """The addition with this id; raise NotFound."""
        raise self._no_additions()

    def narrative_additions(
        self,
        *,
        place_id: str | None = None,
        status: Status | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[NarrativeAddition]:
        """Additions, oldest first, of one place and/or in one status (None: all)."""
        raise self._no_additions()

    def count_narrative_additions(
        self, *, place_id: str | None = None, status: Status | str | None = None
    ) -> int:
        """How many additions :meth:`narrative_additions` would give without a limit."""
        raise self._no_additions()

    def update_narrative_addition(self, addition: NarrativeAddition) -> NarrativeAddition:
        """Save an addition's status, reason and ``updated_at``; raise NotFound."""
        raise self._no_additions()

    def narrative_addition_ids_by_contact(self, contact: str) -> list[str]:
        """Ids of the additions whose contributor contact is ``contact`` (trimmed, any
        case), oldest first."""
        raise self._no_additions()

    def delete_narrative_additions(self, addition_ids: Sequence[str]) -> int:
        """Remove these additions for good, with every audit event about them (erasure);
        return how many additions went."""
        raise self._no_additions()
