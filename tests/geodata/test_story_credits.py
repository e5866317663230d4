"""When each story was told, and whether the place's contributor told it, read from the
audit trail: a translation a moderator added is not credited to the resident."""

from __future__ import annotations

from datetime import UTC, datetime

from geodata.account_records import AuditEvent
from geodata.audit import RESIDENT
from geodata.models import Narrative, Provenance
from geodata.story_credits import StoryOrigin, story_origins

T1, T2, T3 = (datetime(2025, 5, d, tzinfo=UTC) for d in (1, 2, 3))
PT = Narrative("Aqui corria a água.", "pt")
EN = Narrative("Water ran here.", "en", Provenance.COMMUNITY_TRANSLATION)
EN_FIXED = Narrative("Water ran here, once.", "en", Provenance.COMMUNITY_TRANSLATION)


def event(at, before, after, actor=RESIDENT.name, actor_id=None, action="edit") -> AuditEvent:
    def snap(ns):
        return None if ns is None else {"narratives": [n.to_json() for n in ns]}

    return AuditEvent(action, actor, actor_id, "pl_x", None, snap(before), snap(after), at=at)


def test_stories_the_resident_sent_are_theirs_from_when_they_sent_them():
    events = [
        event(T1, None, [PT, EN], action="create"),
        event(T2, [PT, EN], [PT, EN], "mod (facilitator)", "ac_1", "publish"),
    ]
    assert story_origins(events, [PT, EN]) == [StoryOrigin(T1, True), StoryOrigin(T1, True)]


def test_a_moderators_correction_is_not_the_residents():
    events = [
        event(T1, None, [PT, EN], action="create"),
        event(T2, [PT, EN], [PT, EN_FIXED], "mod (facilitator)", "ac_1"),
    ]
    assert story_origins(events, [PT, EN_FIXED]) == [
        StoryOrigin(T1, True),
        StoryOrigin(T2, False),
    ]


def test_a_story_removed_and_told_again_counts_from_its_return():
    events = [
        event(T1, None, [PT, EN], action="create"),
        event(T2, [PT, EN], [PT], "mod (facilitator)", "ac_1"),
        event(T3, [PT], [PT, EN]),
    ]
    assert story_origins(events, [PT, EN])[1] == StoryOrigin(T3, True)


def test_a_story_the_trail_never_saw_has_no_date_and_no_teller():
    imported = [event(T1, None, [PT], "import", action="create")]
    assert story_origins(imported, [PT, EN]) == [
        StoryOrigin(T1, False),
        StoryOrigin(None, False),
    ]
    assert story_origins([], [PT]) == [StoryOrigin(None, False)]
