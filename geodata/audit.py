"""The audit trail: who changed what, when, with a place's content before and after.

Every create, edit, publish, reject, hide, withdraw and erase goes through
:func:`record`, which keeps a snapshot of the place before and after the change, so
a place's history lists each change and its earlier versions can be read back. The
snapshots never hold personal data: of the contributor's name, contact and display
name only whether each was given is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import mapping

from geodata.account_records import Account, AuditEvent
from geodata.models import Place, Status
from geodata.store.base import PlaceStore

# The actions the trail knows, in words for the history page.
ACTIONS = {
    "create": "submitted",
    "edit": "edited",
    "consent": "changed consent",
    "publish": "published",
    "reject": "rejected",
    "hide": "hid",
    "withdraw": "withdrew",
    "erase": "erased",
    "labels": "set cultural-protocol labels",
    "account_create": "created an account",
    "token_revoke": "revoked a token",
    "workshop_create": "created a workshop",
    "workshop_close": "closed a workshop",
    "login_lock": "locked sign-in",
    "walk_create": "proposed a walk",
    "walk_publish": "published a walk",
    "walk_reject": "rejected a walk",
    "walk_hide": "hid a walk",
    "walk_withdraw": "withdrew a walk",
    "narrative_add": "added a memory or translation",
    "narrative_publish": "published a memory or translation",
    "narrative_reject": "rejected a memory or translation",
    "narrative_hide": "hid a memory or translation",
}
# Fields of a snapshot a person reads in a history entry (geometry compared as a whole).
CONTENT_FIELDS = (
    "title",
    "narratives",
    "category",
    "period",
    "year_from",
    "year_to",
    "tags",
    "geometry",
    "sensitivity",
    "licence",
    "consent",
    "status",
    "workshop",
    "contributor",
    "labels",
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff account, a resident with their edit link, or the command line."""

    name: str
    account_id: str | None = None

    @classmethod
    def of(cls, account: Account) -> Actor:
        return cls(f"{account.name} ({account.role})", account.id)


RESIDENT = Actor("resident (edit link)")
COMMAND_LINE = Actor("admin (command line)")


def snapshot(place: Place) -> dict[str, Any]:
    """A place's content as JSON-ready values, without personal data."""
    return {
        "title": place.title,
        # The place's own story: what others added has its own events (narrative_*),
        # which an erasure of their contributor removes.
        "narratives": [n.to_json() for n in place.narratives if not n.added],
        "category": place.category,
        "period": place.period,
        "year_from": place.year_from,
        "year_to": place.year_to,
        "tags": list(place.tags),
        "geometry": mapping(place.geometry),
        "sensitivity": str(place.sensitivity),
        "licence": place.licence,
        "consent": {
            "publish": place.consent.publish,
            "open_data": place.consent.open_data,
            "research": place.consent.research,
            "given_at": place.consent.given_at.isoformat() if place.consent.given_at else None,
        },
        "status": str(place.status),
        "workshop": place.workshop,
        "neighbourhood_id": place.neighbourhood_id,
        "version": place.version,
        # Whether each was given, never the value: the trail outlives a withdrawal.
        "contributor": {
            "name": place.contributor_name is not None,
            "contact": place.contributor_contact is not None,
            "display_name": place.display_name is not None,
        },
    }


def _personal(place: Place) -> tuple[str | None, ...]:
    return place.contributor_name, place.contributor_contact, place.display_name


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """The content fields that differ between two snapshots (all of ``after``'s if new)."""
    if before is None or after is None:
        return []
    return [f for f in CONTENT_FIELDS if before.get(f) != after.get(f)]


def record(
    store: PlaceStore,
    action: str,
    actor: Actor,
    *,
    before: Place | None = None,
    after: Place | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Append one event to the trail, with snapshots of the place before and after."""
    place = after or before
    before_snap = snapshot(before) if before is not None else None
    after_snap = snapshot(after) if after is not None else None
    if before is not None and after is not None and _personal(before) != _personal(after):
        # A changed contact leaves the given/not-given flags alike: say that it changed.
        after_snap["contributor"] = {**after_snap["contributor"], "changed": True}  # type: ignore[index]
    return store.add_audit(
        AuditEvent(
            action=action,
            actor=actor.name,
            actor_id=actor.account_id,
            place_id=place.id if place is not None else None,
            version=after.version if after is not None else None,
            before=before_snap,
            after=after_snap,
            detail=detail,
        )
    )


def record_account_event(store: PlaceStore, action: str, actor: Actor, detail: str) -> AuditEvent:
    """An event about accounts, tokens or workshops rather than a place."""
    return store.add_audit(
        AuditEvent(action=action, actor=actor.name, actor_id=actor.account_id, detail=detail)
    )


def edit_action(before: Place, after: Place) -> str:
    """``consent`` when an edit changed only what the contributor consented to."""
    changes = changed_fields(snapshot(before), snapshot(after))
    return "consent" if changes == ["consent"] else "edit"


@dataclass
class Change:
    """One entry of a place's history, as the history page shows it."""

    event: AuditEvent
    fields: list[str] = field(default_factory=list)  # what changed

    @property
    def verb(self) -> str:
        return ACTIONS.get(self.event.action, self.event.action)

    def values(self, name: str) -> tuple[Any, Any]:
        """The field's value before and after this change."""
        before = (self.event.before or {}).get(name)
        after = (self.event.after or {}).get(name)
        return before, after


def history(store: PlaceStore, place_id: str) -> list[Change]:
    """A place's changes, oldest first, each with the fields it changed."""
    return [
        Change(e, changed_fields(e.before, e.after)) for e in store.audit_events(place_id=place_id)
    ]


def versions(store: PlaceStore, place_id: str) -> list[dict[str, Any]]:
    """Every version the place has had, oldest first, as snapshots (no personal data)."""
    out: dict[int, dict[str, Any]] = {}
    for e in store.audit_events(place_id=place_id):
        for snap in (e.before, e.after):
            if snap is not None and snap.get("version") is not None:
                out.setdefault(snap["version"], snap)
    return [out[v] for v in sorted(out)]


def rejection_reason(store: PlaceStore, place: Place) -> str | None:
    """Why a moderator rejected (or hid) the place, for its contributor; None if it is
    not rejected now."""
    if place.status != Status.REJECTED:
        return None
    for e in reversed(store.audit_events(place_id=place.id, limit=50)):
        if e.action in ("reject", "hide"):
            return e.detail
    return None
