"""On the central atlas: checking and applying what a venue pushed about places (memories
and translations are :mod:`geodata.sync_additions`, the rest :mod:`geodata.sync_receive`).

Each change is planned first (everything read and checked, nothing written: a problem
raises :class:`Clash` for a conflict or InvalidInput for what cannot be accepted), and the
plan's ``write`` then stores it. A change applies only if the atlas's own state of the
record still equals the change's base; if the atlas changed it meanwhile (or erased it),
the change is a conflict, never an overwrite. Every check is the one a resident's or a
moderator's change goes through here (:mod:`geodata.contribution_checks`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from geodata import audit, narrative_additions
from geodata.audit import Actor
from geodata.contribution_checks import (
    MAX_PERIOD,
    MAX_TITLE,
    FieldChecker,
    check_category,
    check_contributor,
    check_geometry,
    check_licence,
    check_tags,
    check_years,
)
from geodata.duplicates import possible_duplicates
from geodata.errors import InvalidInput, NotFound
from geodata.media import remove_all_photos
from geodata.models import (
    Consent,
    Narrative,
    Place,
    Status,
    utcnow,
)
from geodata.moderation import MAX_REASON
from geodata.project_index import ProjectIndex
from geodata.schemas import validation_problems
from geodata.store.base import PlaceStore
from geodata.store.records import parse_iso
from geodata.sync_schema import (
    ChangeIn,
    NewPlaceExtra,
    PlaceState,
)
from geodata.sync_state import (
    VENUE_PLACE_FIELDS,
    place_fields,
    place_state,
)
from geodata.text import check_language
from geodata.vocabulary import Vocabulary
from geodata.voices import remove_all_recordings

MAX_NARRATIVE = 10_000
RESIDENT_AT_VENUE = Actor("resident (at the venue)")
Write = Callable[[], None]


class Clash(Exception):
    """The atlas's own record differs from the change's base, or is gone."""

    def __init__(self, reason: str, detail: str, place_id: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.place_id = place_id


@dataclass
class Receiving:
    """What applying a push needs: the store, who pushes, the rules of the atlas, and
    the file removals that wait until the push's transaction has committed."""

    store: PlaceStore
    kit_id: str
    actor: Actor
    index: ProjectIndex
    vocabulary: Vocabulary
    media_dir: Path
    after_commit: list[Write] = field(default_factory=list)

    @property
    def venue_actor(self) -> Actor:
        return Actor(f"{self.actor.name}, from the venue", self.actor.account_id)


def parse(model: Any, value: Any) -> Any:
    """``value`` read as ``model``; InvalidInput naming each field that is wrong."""
    try:  # as JSON, the form it came in (strict JSON mode reads enums from their values)
        return model.model_validate_json(orjson.dumps(value or {}))
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise InvalidInput(
            f"{problems[0].field}: {problems[0].message}", problems=problems
        ) from None


def parse_time(text: str, what: str) -> datetime:
    try:
        value = parse_iso(text)
    except ValueError:
        raise InvalidInput(f"{what} is not a date and time: {text!r:.40}") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{what} has no time zone")
    return value


def _narratives(c: FieldChecker, items: list[Any]) -> list[Narrative]:
    out, seen = [], set()
    for i, n in enumerate(items):
        text = c.text(n.text, f"state.narratives.{i}.text", "story", MAX_NARRATIVE)
        try:
            language = check_language(n.language)
        except InvalidInput as exc:
            c.add(f"state.narratives.{i}.language", exc.code, exc.message, tag=n.language)
            continue
        if language.lower() in seen:
            c.add(f"state.narratives.{i}.language", "repeated_language", "a language twice")
        seen.add(language.lower())
        if text is not None:
            out.append(Narrative(text, language, n.provenance, n.source, n.licence))
    if not items:
        c.add("state.narratives", "required", "tell the place's story in at least one language")
    return out


def checked_fields(r: Receiving, state: dict[str, Any]) -> dict[str, Any]:
    """The domain values of a place's shared fields as the venue sent them; InvalidInput
    listing every problem (the checks of a submission and of a moderator's correction)."""
    s = parse(PlaceState, state)
    given = s.model_fields_set
    c = FieldChecker()
    out: dict[str, Any] = {}
    if "title" in given:
        out["title"] = c.text(s.title, "state.title", "title", MAX_TITLE)
    if "narratives" in given:
        out["narratives"] = _narratives(c, s.narratives or [])
    if "category" in given:
        out["category"] = check_category(c, s.category or "", r.vocabulary)
    if "period" in given:
        out["period"] = c.text(s.period, "state.period", "period", MAX_PERIOD, required=False)
    for year in ("year_from", "year_to"):
        if year in given:
            out[year] = getattr(s, year)
    check_years(c, s.year_from, s.year_to)
    if "tags" in given:
        out["tags"] = check_tags(c, s.tags or [])
    if "status" in given:
        out["status"] = s.status or Status.PENDING
    if "reason" in given:
        out["reason"] = c.text(s.reason, "state.reason", "reason", MAX_REASON, required=False)
    if "geometry" in given:
        out["geometry"] = check_geometry(c, s.geometry, r.index.rules)[0]
    if "sensitivity" in given and s.sensitivity is not None:
        out["sensitivity"] = s.sensitivity
    if "licence" in given:
        out["licence"] = check_licence(c, s.licence or "")
    if "consent" in given:
        if s.consent is None or not s.consent.publish:
            c.add("state.consent.publish", "consent_required", "consent to publish is required")
        else:
            given_at = parse_time(s.consent.given_at, "consent") if s.consent.given_at else None
            out["consent"] = Consent(True, s.consent.open_data, s.consent.research, given_at)
    if "contributor" in given:
        name, contact, shown = check_contributor(c, s.contributor)
        out.update(contributor_name=name, contributor_contact=contact, display_name=shown)
    if "workshop" in given:
        out["workshop"] = _known_workshop(r.store, s.workshop)
    c.raise_if_any()
    return out


def _known_workshop(store: PlaceStore, code: str | None) -> str | None:
    if not code:
        return None
    try:
        return store.get_workshop(code).code
    except NotFound:
        return None  # a workshop this atlas does not know: the place stays on its own


def _reason(store: PlaceStore, place: Place) -> str | None:
    return audit.rejection_reason(store, place) if place.status == Status.REJECTED else None


def place_state_now(store: PlaceStore, place_id: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """A stored place's ``fields`` now, as a change's base gives them; NotFound."""
    place = store.get(place_id)
    return place_state(place, _reason(store, place), fields)


def _status_action(before: Status | None, after: Status) -> str | None:
    if before == after:
        return None
    return {
        Status.PUBLISHED: "publish",
        Status.REJECTED: "hide" if before == Status.PUBLISHED else "reject",
        Status.WITHDRAWN: "withdraw",
    }.get(after)


def _erase_personal(place: Place) -> None:
    place.contributor_name = place.contributor_contact = place.display_name = None


# ---------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------


def plan_place(r: Receiving, ch: ChangeIn) -> Write:
    """The plan of a place's change: new (no base) or a change from its base."""
    allowed = place_fields(ch.origin)
    if ch.state is None or not set(ch.state) <= set(allowed):
        raise InvalidInput(f"a place's change carries only these fields: {', '.join(allowed)}")
    try:
        current = r.store.get(ch.record)
    except NotFound:
        current = None
    if ch.base is None:
        if current is not None:
            raise InvalidInput(f"there is already a place {ch.record} on this atlas")
        return _plan_new_place(r, ch)
    if set(ch.base) != set(ch.state):
        raise InvalidInput("a change's base and state must name the same fields")
    if current is None:
        raise Clash(
            "erased_centrally",
            f"place {ch.record} was erased on this atlas; the venue changed it meanwhile",
            ch.record,
        )
    fields = tuple(ch.base)
    now = place_state(current, _reason(r.store, current), fields)
    if now == ch.state:
        return lambda: None  # both sides hold the same already
    if now != ch.base:
        if current.status == Status.WITHDRAWN:
            raise Clash(
                "withdrawn_centrally",
                f"place {ch.record} was withdrawn by its contributor on this atlas; the venue "
                "changed it meanwhile",
                ch.record,
            )
        changed = ", ".join(k for k in fields if now[k] != ch.base[k])
        raise Clash(
            "edited_centrally",
            f"place {ch.record} was changed on this atlas too ({changed}) since the venue "
            "last had it",
            ch.record,
        )
    values = checked_fields(r, {k: v for k, v in ch.state.items() if v != ch.base[k]})
    return lambda: _write_place_change(r, ch.record, values, fields)


def _write_place_change(
    r: Receiving, place_id: str, values: dict[str, Any], fields: tuple[str, ...]
) -> None:
    store = r.store
    store.lock_place(place_id)
    before = store.get(place_id)
    reason = values.pop("reason", None)
    changes = dict(values)
    if "narratives" in changes:  # the place's own story; what others added stays
        changes["narratives"] = narrative_additions.keep_additions(
            before.narratives, changes["narratives"]
        )
    if "geometry" in changes:
        changes["neighbourhood_id"] = r.index.assign(changes["geometry"])
    after = replace(before, **changes)
    status = after.status
    if status == Status.WITHDRAWN:
        _erase_personal(after)
        r.after_commit += [
            lambda: remove_all_photos(store, r.media_dir, place_id),
            lambda: remove_all_recordings(store, r.media_dir, place_id),
        ]
    saved = store.update(after)
    action = _status_action(before.status, status) or audit.edit_action(before, saved)
    who = RESIDENT_AT_VENUE if status == Status.WITHDRAWN else r.venue_actor
    audit.record(store, action, who, before=before, after=saved, detail=reason)


def _plan_new_place(r: Receiving, ch: ChangeIn) -> Write:
    assert ch.state is not None
    missing = [k for k in VENUE_PLACE_FIELDS if k not in ch.state]
    if missing:
        raise InvalidInput(f"a new place needs every field; missing: {', '.join(missing)}")
    extra = parse(NewPlaceExtra, ch.extra)
    v = checked_fields(r, ch.state)
    now = utcnow()
    place = Place(
        geometry=v["geometry"],
        title=v["title"],
        narratives=v["narratives"],
        category=v["category"],
        id=ch.record,
        status=v["status"],
        period=v["period"],
        year_from=v["year_from"],
        year_to=v["year_to"],
        tags=v["tags"],
        sensitivity=v["sensitivity"],
        licence=v["licence"],
        consent=v["consent"],
        contributor_name=v["contributor_name"],
        contributor_contact=v["contributor_contact"],
        display_name=v["display_name"],
        neighbourhood_id=r.index.assign(v["geometry"]),
        workshop=v["workshop"],
        created_at=parse_time(extra.created_at, "created_at"),
        updated_at=now,
    )
    if place.status == Status.WITHDRAWN:
        _erase_personal(place)
    flags = possible_duplicates(r.store, place)

    def write() -> None:
        store = r.store
        submitted = replace(place, status=Status.PENDING)
        store.add(place)
        if extra.edit_token_hash:  # the resident's edit link keeps working here
            store.set_edit_token_hash(place.id, extra.edit_token_hash)
        if flags:
            store.add_flags(flags)
        audit.record(store, "create", RESIDENT_AT_VENUE, after=submitted)
        action = _status_action(Status.PENDING, place.status)
        if action is not None:
            who = RESIDENT_AT_VENUE if action == "withdraw" else r.venue_actor
            audit.record(store, action, who, before=submitted, after=place, detail=v.get("reason"))

    return write
