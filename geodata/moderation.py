"""Moderation: facilitators publish, reject (with a reason the contributor sees), hide,
correct and label the places residents send. Every action lands in the audit trail.

A workshop chooses when places become public: ``pre`` moderation keeps them pending
until a facilitator publishes them; ``post`` moderation publishes them at once (see
:mod:`geodata.contributions`) and a facilitator hides the ones that should not be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from geodata import audit
from geodata.account_records import AuditEvent
from geodata.audit import Actor
from geodata.errors import Conflict, HeritageError, InvalidInput
from geodata.models import Narrative, Place, Provenance, Status
from geodata.place_attachments import Media, PlaceFlag, ProtocolLabel
from geodata.protocols import check_labels, label_json
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.text import check_language, check_text
from geodata.vocabulary import Vocabulary

MAX_REASON = 500
MAX_TITLE = 200
MAX_NARRATIVE = 10_000
MAX_BULK = 500


class WithdrawnPlace(HeritageError):
    code = "withdrawn"
    status = 409


def _live(store: PlaceStore, place_id: str) -> Place:
    place = store.get(place_id)
    if place.status == Status.WITHDRAWN:
        raise WithdrawnPlace(f"place {place_id} was withdrawn by its contributor")
    return place


def _version(place: Place, expected: int | None) -> None:
    if expected is not None and place.version != expected:
        raise Conflict(
            f"place {place.id} changed since you read it (now version {place.version}, "
            f"you had {expected}); reload it"
        )


def publish(
    store: PlaceStore, place_id: str, actor: Actor, expected_version: int | None = None
) -> Place:
    """Make a pending (or rejected) place public; publishing a published place is a no-op."""
    with store.transaction():
        before = _live(store, place_id)
        _version(before, expected_version)
        if before.status == Status.PUBLISHED:
            return before
        after = store.update(replace(before, status=Status.PUBLISHED))
        audit.record(store, "publish", actor, before=before, after=after)
    return after


def publish_many(store: PlaceStore, place_ids: Sequence[str], actor: Actor) -> list[Place]:
    """Publish several places in one transaction: all of them, or (on any error) none."""
    ids = list(dict.fromkeys(place_ids))
    if not ids:
        raise InvalidInput("choose at least one place to publish", code="nothing_chosen")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"publish at most {MAX_BULK} places at once", code="too_many")
    with store.transaction():
        return [publish(store, pid, actor) for pid in ids]


def check_reason(reason: str | None) -> str:
    if reason is None:
        raise InvalidInput(
            "say why, in a sentence the contributor will read", code="reason_required"
        )
    return check_text(reason, "reason", max_length=MAX_REASON)


def reject(
    store: PlaceStore,
    place_id: str,
    actor: Actor,
    reason: str | None,
    expected_version: int | None = None,
) -> Place:
    """Take a place off (or keep it off) the public map, with a reason its contributor
    reads through their edit link. A published place is *hidden*; a pending one
    *rejected*; both end up rejected until published again."""
    text = check_reason(reason)
    with store.transaction():
        before = _live(store, place_id)
        _version(before, expected_version)
        action = "hide" if before.status == Status.PUBLISHED else "reject"
        after = store.update(replace(before, status=Status.REJECTED))
        audit.record(store, action, actor, before=before, after=after, detail=text)
    return after


def _narratives(items: Sequence[dict[str, Any]]) -> list[Narrative]:
    if not items:
        raise InvalidInput("keep at least one version of the story", code="required")
    out, languages = [], set()
    # Memories and translations residents added (they have an id) are not the place's
    # own story: an edit leaves them as they are.
    items = [item for item in items if not item.get("id")]
    for i, item in enumerate(items):
        try:
            text = check_text(str(item.get("text") or ""), "story", max_length=MAX_NARRATIVE)
            language = check_language(str(item.get("language") or ""))
            provenance = Provenance(item.get("provenance") or Provenance.ORIGINAL)
        except ValueError:
            raise InvalidInput(
                f"version {i + 1}: provenance must be original, community_translation or "
                "machine_translation",
                code="bad_provenance",
            ) from None
        except InvalidInput as exc:
            raise InvalidInput(f"version {i + 1}: {exc.message}", code=exc.code) from None
        if language.lower() in languages:
            raise InvalidInput(f"the story in {language} is given twice", code="repeated_language")
        languages.add(language.lower())
        out.append(Narrative(text, language, provenance))
    if sum(n.provenance == Provenance.ORIGINAL for n in out) != 1:
        raise InvalidInput(
            "mark exactly one version as the original, the others as translations",
            code="one_original",
        )
    return out


def edit(
    store: PlaceStore,
    place_id: str,
    actor: Actor,
    vocabulary: Vocabulary,
    *,
    title: str | None = None,
    category: str | None = None,
    narratives: Sequence[dict[str, Any]] | None = None,
    expected_version: int | None = None,
) -> Place:
    """Correct a place's title, category and/or stories; the change (and the earlier
    version) is kept in the audit trail. Its status stays as it is."""
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = check_text(title, "title", max_length=MAX_TITLE)
    if category is not None:
        if category.strip() not in vocabulary:
            raise InvalidInput(
                f"{category!r:.40} is not a category; choose one of: "
                f"{', '.join(vocabulary.keys())}",
                code="unknown_category",
            )
        changes["category"] = category.strip()
    if narratives is not None:
        changes["narratives"] = _narratives(narratives)
    if not changes:
        raise InvalidInput("send a title, a category or the stories to change", code="no_change")
    with store.transaction():
        store.lock_place(place_id)
        before = _live(store, place_id)
        _version(before, expected_version)
        if "narratives" in changes:
            edited = _sources_kept(before.narratives, changes["narratives"])
            changes["narratives"] = edited + [n for n in before.narratives if n.added]
        if all(getattr(before, k) == v for k, v in changes.items()):
            return before
        after = store.update(replace(before, **changes))
        audit.record(store, "edit", actor, before=before, after=after)
    return after


def _sources_kept(before: Sequence[Narrative], after: list[Narrative]) -> list[Narrative]:
    """A correction keeps where a story came from: the version in a language whose story
    was imported with a source and licence keeps them (the form does not carry them)."""
    taken = {n.language.lower(): n for n in before if n.source or n.licence}
    out = []
    for n in after:
        old = taken.get(n.language.lower())
        out.append(replace(n, source=old.source, licence=old.licence) if old else n)
    return out


def set_labels(
    store: PlaceStore, place_id: str, actor: Actor, items: Sequence[dict[str, Any]]
) -> list[ProtocolLabel]:
    """Replace a place's cultural-protocol labels (an empty list removes them)."""
    labels = check_labels(items)
    with store.transaction():
        place = _live(store, place_id)
        old = store.protocol_labels([place_id]).get(place_id, [])
        store.set_protocol_labels(place_id, labels)
        store.add_audit(
            AuditEvent(
                action="labels",
                actor=actor.name,
                actor_id=actor.account_id,
                place_id=place_id,
                version=place.version,
                before={"labels": [label_json(x) for x in old]},
                after={"labels": [label_json(x) for x in labels]},
            )
        )
    return labels


# ---------------------------------------------------------------------------
# The queue
# ---------------------------------------------------------------------------


@dataclass
class QueueItem:
    """A place as a moderator sees it, with what helps decide about it."""

    place: Place
    media: list[Media] = field(default_factory=list)
    flags: list[PlaceFlag] = field(default_factory=list)
    labels: list[ProtocolLabel] = field(default_factory=list)
    reason: str | None = None  # why it was rejected or hidden, if it is


def queue(
    store: PlaceStore,
    *,
    status: Status | str = Status.PENDING,
    workshop: str | None = None,
    neighbourhood_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[QueueItem], int]:
    """Places with ``status`` (oldest first), filtered by workshop and neighbourhood, and
    how many match in all."""
    code = store.get_workshop(workshop).code if workshop else None
    if neighbourhood_id is not None:
        store.neighbourhood(neighbourhood_id)  # NotFound for a wrong one
    flt = PlaceFilter(status=str(status), workshop=code, neighbourhood_id=neighbourhood_id)
    places = list(store.list(flt, limit=limit, offset=offset))
    ids = [p.id for p in places]
    media = store.media_for_places(ids)
    labels = store.protocol_labels(ids)
    items = []
    for p in places:
        reason = audit.rejection_reason(store, p) if p.status == Status.REJECTED else None
        items.append(
            QueueItem(p, media.get(p.id, []), store.flags(p.id), labels.get(p.id, []), reason)
        )
    return items, store.count(flt)


def queue_item(store: PlaceStore, place_id: str) -> QueueItem:
    place = store.get(place_id)
    return QueueItem(
        place,
        store.media(place_id),
        store.flags(place_id),
        store.protocol_labels([place_id]).get(place_id, []),
        audit.rejection_reason(store, place),
    )
