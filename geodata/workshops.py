"""Workshops: a facilitator opens a mapping session with a short join code residents can
type from a projected slide or hear read aloud, and closes it at the end.

Submissions carrying the code are attached to the workshop only inside its time window
(checked by :mod:`geodata.contributions`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from geodata.audit import Actor, record_account_event
from geodata.errors import Conflict, InvalidInput, NotFound
from geodata.models import Moderation, Status, Workshop, utcnow
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.text import check_language, check_text

# Letters and digits that neither look nor sound alike: no 0/O/Q/D, 1/I/L, 2/Z, 5/S,
# 8/B, 6/G, U/V, and none of the letters that rhyme when spelt out in English (B, C, D,
# E, G, P, T, V, Z all end in "ee"; J and K rhyme with A; N with M).
JOIN_ALPHABET = "ACFHMRWXY34679"
CODE_LENGTH = 6  # 14**6: about 7.5 million codes
MAX_TITLE = 200
MAX_LANGUAGES = 10
MAX_DURATION = timedelta(days=31)


def new_join_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(length))


def spoken(code: str) -> str:
    """The code in groups of three, as it is easiest to read out: ``HX7 R4M``."""
    return " ".join(code[i : i + 3] for i in range(0, len(code), 3))


@dataclass
class WorkshopPlan:
    """What a facilitator asks for; checked by :func:`create_workshop`."""

    title: str
    starts_at: datetime
    ends_at: datetime
    neighbourhood_id: int | None = None
    moderation: Moderation | str = Moderation.PRE
    languages: Sequence[str] = ()


def shows_at_once(store: PlaceStore, code: str | None, now: datetime | None = None) -> bool:
    """Whether what residents send to workshop ``code`` is public at once: the workshop
    moderates afterwards (``post``) and is open now."""
    if not code:
        return False
    try:
        workshop = store.get_workshop(code)
    except NotFound:
        return False
    return workshop.moderation == Moderation.POST and workshop.is_open(now or utcnow())


def check_plan(store: PlaceStore, plan: WorkshopPlan) -> WorkshopPlan:
    title = check_text(plan.title, "title", max_length=MAX_TITLE)
    if plan.starts_at.tzinfo is None or plan.ends_at.tzinfo is None:
        raise InvalidInput("give the times with their time zone", code="naive_time")
    if plan.ends_at <= plan.starts_at:
        raise InvalidInput("the workshop must end after it starts", code="times_reversed")
    if plan.ends_at - plan.starts_at > MAX_DURATION:
        raise InvalidInput(
            f"a workshop lasts at most {MAX_DURATION.days} days; open another one later",
            code="too_long",
        )
    if plan.ends_at <= utcnow():
        raise InvalidInput("this time window is already over", code="in_the_past")
    if plan.neighbourhood_id is not None:
        if not 0 < plan.neighbourhood_id < 2**31:  # not an id either database could hold
            raise NotFound(f"there is no neighbourhood {plan.neighbourhood_id}")
        store.neighbourhood(plan.neighbourhood_id)  # NotFound names the wrong id
    try:
        moderation = Moderation(str(plan.moderation))
    except ValueError:
        raise InvalidInput(
            "moderation is 'pre' (publish by hand) or 'post' (shown at once)",
            code="bad_moderation",
        ) from None
    languages = list(dict.fromkeys(check_language(t) for t in plan.languages if t.strip()))
    if len(languages) > MAX_LANGUAGES:
        raise InvalidInput(f"choose at most {MAX_LANGUAGES} languages", code="too_many")
    return WorkshopPlan(
        title, plan.starts_at, plan.ends_at, plan.neighbourhood_id, moderation, languages
    )


def create_workshop(store: PlaceStore, plan: WorkshopPlan, actor: Actor) -> Workshop:
    """A new workshop with a fresh join code (drawn again in the rare case it is taken)."""
    plan = check_plan(store, plan)
    for _ in range(20):
        workshop = Workshop(
            code=new_join_code(),
            title=plan.title,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            neighbourhood_id=plan.neighbourhood_id,
            moderation=Moderation(str(plan.moderation)),
            languages=list(plan.languages),
            created_by=actor.name,
        )
        try:
            with store.transaction():
                store.add_workshop(workshop)
                record_account_event(
                    store, "workshop_create", actor, f"{workshop.code}: {workshop.title}"
                )
        except Conflict:
            continue
        return workshop
    raise Conflict("could not find a free join code; try again")  # pragma: no cover


def close_workshop(store: PlaceStore, code: str, actor: Actor) -> Workshop:
    """End the workshop now: later submissions with its code are refused."""
    workshop = store.get_workshop(code)
    now = utcnow()
    if workshop.ends_at > now:
        # One that has not started yet is called off: its window shrinks to this moment.
        workshop.starts_at = min(workshop.starts_at, now)
        workshop.ends_at = now
        with store.transaction():
            store.update_workshop(workshop)
            record_account_event(store, "workshop_close", actor, workshop.code)
    return workshop


def workshop_counts(store: PlaceStore, code: str) -> dict[str, int]:
    """How many of the workshop's places are in each status."""
    return {
        str(s): store.count(PlaceFilter(workshop=code, status=str(s)))
        for s in (Status.PENDING, Status.PUBLISHED, Status.REJECTED, Status.WITHDRAWN)
    }


def state(workshop: Workshop, at: datetime | None = None) -> str:
    """``upcoming``, ``open`` or ``closed``."""
    at = at or utcnow()
    if at < workshop.starts_at:
        return "upcoming"
    return "open" if workshop.is_open(at) else "closed"
