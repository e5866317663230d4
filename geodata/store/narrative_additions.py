"""The store's side of the memories and translations residents add to places
(:class:`~geodata.models.NarrativeAddition`): the interface every backend implements,
mixed into :class:`~geodata.store.base.PlaceStore`. SQLite's is
:mod:`geodata.store.sqlite_narrative_additions`, PostGIS's
:mod:`geodata.store.postgis_narrative_additions` (migration 0011_narrative_additions).
"""

from __future__ import annotations

from collections.abc import Sequence

from geodata.models import NarrativeAddition, Status

# The columns of narrative_additions, in the order the backends read and write them.
COLUMNS = (
    "id, place_id, kind, text, language, provenance, author, contributor_contact, "
    "translates, translates_hash, translates_version, status, reason, consent_given_at, "
    "created_at, updated_at"
)


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
