"""Memories and translations residents add to a place: the store contract (every
backend) and the domain rules (moderation per workshop, out-of-date translations,
edits that keep additions, audit trail, erasure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import orjson
import pytest
from shapely.geometry import Point

from geodata import audit, moderation, narrative_additions
from geodata.erasure import erase_contact
from geodata.errors import Conflict, InvalidInput, NotFound
from geodata.models import (
    Moderation,
    Narrative,
    NarrativeAddition,
    NarrativeKind,
    Place,
    Provenance,
    Status,
    Workshop,
    text_fingerprint,
    utcnow,
)
from geodata.narrative_additions import TooManyAdditions, translation_state
from geodata.schemas import NarrativeAdditionIn
from geodata.store.base import PlaceStore
from geodata.store.base_exports import EXPORT_COLUMNS
from geodata.vocabulary import Vocabulary

STAFF = audit.Actor("ana (facilitator)", "ac_ana")


def _place(store: PlaceStore, **kw) -> Place:
    kw.setdefault("status", Status.PUBLISHED)
    return store.add(
        Place(
            geometry=Point(-9.14, 38.71),
            title="Tasca do Chico",
            narratives=[Narrative("Fado vadio todas as segundas.", "pt")],
            category="memory",
            **kw,
        )
    )


def _addition(place_id: str, **kw) -> NarrativeAddition:
    values = dict(
        place_id=place_id, kind=NarrativeKind.MEMORY, text="My grandfather sang here.",
        language="en", provenance=Provenance.ORIGINAL, consent_given_at=utcnow(),
    )  # fmt: skip
    values.update(kw)
    return NarrativeAddition(**values)


def _memory(**kw) -> NarrativeAdditionIn:
    values = {"kind": "memory", "text": "I danced here in 1974.", "language": "en"}
    values.update(kw)
    values.setdefault("consent", True)
    return NarrativeAdditionIn(**values)


# ---------------------------------------------------------------------------
# Store contract
# ---------------------------------------------------------------------------


def test_addition_round_trips_and_lists_by_place_and_status(store: PlaceStore) -> None:
    place = _place(store)
    first = store.add_narrative_addition(
        _addition(place.id, author="Rui", contributor_contact="r@x")
    )
    second = store.add_narrative_addition(
        _addition(
            place.id, kind=NarrativeKind.TRANSLATION, language="fr", text="Fado chaque lundi.",
            provenance=Provenance.COMMUNITY_TRANSLATION, translates="pt",
            translates_hash="abcd", translates_version=1, status=Status.PUBLISHED,
            created_at=first.created_at + timedelta(seconds=1),
        )
    )  # fmt: skip
    got = store.narrative_addition(first.id)
    assert (got.author, got.contributor_contact, got.kind, got.text) == (
        "Rui", "r@x", NarrativeKind.MEMORY, first.text,
    )  # fmt: skip
    assert got.created_at == first.created_at
    translated = store.narrative_addition(second.id)
    assert (translated.translates, translated.translates_hash, translated.translates_version) == (
        "pt", "abcd", 1,
    )  # fmt: skip
    assert [a.id for a in store.narrative_additions(place_id=place.id)] == [first.id, second.id]
    assert [a.id for a in store.narrative_additions(status="published")] == [second.id]
    assert store.count_narrative_additions(place_id=place.id) == 2
    assert store.count_narrative_additions(status=Status.PENDING) == 1
    assert [a.id for a in store.narrative_additions(limit=1, offset=1)] == [second.id]


def test_addition_needs_its_place_and_a_fresh_id(store: PlaceStore) -> None:
    with pytest.raises(NotFound):
        store.add_narrative_addition(_addition("pl_missing"))
    place = _place(store)
    added = store.add_narrative_addition(_addition(place.id))
    with pytest.raises(Conflict):
        store.add_narrative_addition(_addition(place.id, id=added.id))
    with pytest.raises(NotFound):
        store.narrative_addition("nr_missing")


def test_addition_status_is_updated_and_it_goes_with_its_place(store: PlaceStore) -> None:
    place = _place(store)
    added = store.add_narrative_addition(_addition(place.id))
    store.update_narrative_addition(replace(added, status=Status.REJECTED, reason="off topic"))
    assert store.narrative_addition(added.id).reason == "off topic"
    with pytest.raises(NotFound):
        store.update_narrative_addition(_addition(place.id))
    store.delete(place.id)
    with pytest.raises(NotFound):
        store.narrative_addition(added.id)


def test_additions_are_found_by_contact_and_deleted_with_their_events(store: PlaceStore) -> None:
    place = _place(store)
    mine = store.add_narrative_addition(_addition(place.id, contributor_contact=" Rui@X.org "))
    other = store.add_narrative_addition(_addition(place.id, contributor_contact="someone@else"))
    narrative_additions.record_event(store, "narrative_add", STAFF, mine)
    narrative_additions.record_event(store, "narrative_add", STAFF, other)
    assert store.narrative_addition_ids_by_contact("rui@x.org") == [mine.id]
    assert store.delete_narrative_additions([mine.id]) == 1
    events = store.audit_events(place_id=place.id)
    assert [e.after["narrative"]["id"] for e in events] == [other.id]
    assert store.delete_narrative_additions([]) == 0


# ---------------------------------------------------------------------------
# The domain
# ---------------------------------------------------------------------------


def test_memory_waits_for_moderation_outside_a_post_moderated_workshop(store: PlaceStore) -> None:
    place = _place(store)
    added = narrative_additions.save_addition(
        store, narrative_additions.prepare_addition(store, place, _memory(author="Rui"))
    )
    assert added.status == Status.PENDING
    assert store.get(place.id).narratives == place.narratives  # invisible until published
    narrative_additions.publish(store, added.id, STAFF)
    shown = store.get(place.id).narratives
    assert [n.kind for n in shown] == [None, NarrativeKind.MEMORY]
    assert shown[1].text == "I danced here in 1974." and shown[1].id == added.id
    actions = [e.action for e in store.audit_events(place_id=place.id)]
    assert actions == ["narrative_add", "narrative_publish"]


def test_memory_is_public_at_once_in_an_open_post_moderated_workshop(store: PlaceStore) -> None:
    now = utcnow()
    store.add_workshop(
        Workshop("FADO42", "Fado night", now - timedelta(hours=1), now + timedelta(hours=1),
                 moderation=Moderation.POST)
    )  # fmt: skip
    place = _place(store, workshop="FADO42")
    added = narrative_additions.save_addition(
        store, narrative_additions.prepare_addition(store, place, _memory())
    )
    assert added.status == Status.PUBLISHED
    assert store.get(place.id).narratives[-1].id == added.id
    hidden = narrative_additions.reject(store, added.id, STAFF, "names a private person")
    assert hidden.status == Status.REJECTED
    assert [n.id for n in store.get(place.id).narratives] == [None]
    assert store.audit_events(place_id=place.id)[-1].action == "narrative_hide"
    assert audit.rejection_reason(store, store.get(place.id)) is None  # the place's own


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"text": "   "}, "text", "empty_story"),
        ({"language": "klingon-xx"}, "language", "bad_language"),
        ({"text": "A <b>bold</b> claim"}, "text", "markup"),
        ({"text": "<script>alert(1)</script>"}, "text", "markup"),
        ({"consent": False}, "consent", "addition_consent_required"),
        ({"author": "x" * 81}, "author", "too_long"),
        ({"translates": "pt"}, "translates", "not_a_translation"),
        ({"kind": "translation", "translates": "de"}, "translates", "unknown_story"),
        ({"kind": "translation", "translates": "pt", "language": "pt"}, "language",
         "same_language"),
    ],
)  # fmt: skip
def test_bad_additions_are_refused_with_the_field_and_nothing_is_written(
    store: PlaceStore, given: dict, field: str, code: str
) -> None:
    place = _place(store)
    with pytest.raises(InvalidInput) as caught:
        narrative_additions.prepare_addition(store, place, _memory(**given))
    assert (caught.value.problems[0].field, caught.value.problems[0].code) == (field, code)
    assert store.count_narrative_additions() == 0


def test_plain_text_with_angle_brackets_is_not_markup(store: PlaceStore) -> None:
    place = _place(store)
    added = narrative_additions.prepare_addition(store, place, _memory(text="I <3 this & 2 < 5"))
    assert added.text == "I <3 this & 2 < 5"


def test_translation_goes_out_of_date_when_its_original_is_edited(store: PlaceStore) -> None:
    place = _place(store)
    given = _memory(kind="translation", translates="pt", language="fr", text="Fado le lundi.")
    added = narrative_additions.prepare_addition(store, place, given)
    assert added.provenance == Provenance.COMMUNITY_TRANSLATION
    assert added.translates_hash == text_fingerprint("Fado vadio todas as segundas.")
    narrative_additions.save_addition(store, added)
    narrative_additions.publish(store, added.id, STAFF)
    shown = store.get(place.id).narratives
    assert translation_state(shown, shown[1]).current
    moderation.edit(
        store, place.id, STAFF, Vocabulary(),
        narratives=[{"text": "Fado vadio às segundas, desde 1993.", "language": "pt"}],
    )  # fmt: skip
    edited = store.get(place.id).narratives
    assert edited[0].text == "Fado vadio às segundas, desde 1993."
    assert edited[1].id == added.id  # the edit kept the translation
    state = translation_state(edited, edited[1])
    assert state is not None and not state.current and state.original is edited[0]
    item = narrative_additions.review_queue(store, Status.PUBLISHED)[0][0]
    assert item.translation is not None and not item.translation.current


def test_audit_snapshots_of_the_place_leave_additions_out(store: PlaceStore) -> None:
    place = _place(store)
    added = narrative_additions.save_addition(
        store, narrative_additions.prepare_addition(store, place, _memory(contact="rui@x"))
    )
    narrative_additions.publish(store, added.id, STAFF)
    moderation.edit(store, place.id, STAFF, Vocabulary(), title="Tasca do Chico (Alfama)")
    edit = store.audit_events(place_id=place.id, action="edit")[0]
    assert "I danced" not in orjson.dumps(edit.after).decode()
    assert "rui@x" not in orjson.dumps([e.after for e in store.audit_events()]).decode()


def test_erasure_takes_a_contributors_additions_off_other_places(
    store: PlaceStore, tmp_path
) -> None:
    place = _place(store)
    added = narrative_additions.save_addition(
        store, narrative_additions.prepare_addition(store, place, _memory(contact="Rui@X"))
    )
    narrative_additions.publish(store, added.id, STAFF)
    report = erase_contact(store, "rui@x", tmp_path, STAFF)
    assert (report.places, report.narratives) == (0, 1)
    assert [n.id for n in store.get(place.id).narratives] == [None]
    left = orjson.dumps([(e.before, e.after) for e in store.audit_events()]).decode()
    assert "I danced here" not in left


def test_a_place_takes_a_bounded_number_of_additions(store: PlaceStore, monkeypatch) -> None:
    monkeypatch.setattr(narrative_additions, "MAX_PER_PLACE", 2)
    place = _place(store)
    for _ in range(2):
        narrative_additions.save_addition(
            store, narrative_additions.prepare_addition(store, place, _memory())
        )
    with pytest.raises(TooManyAdditions):
        narrative_additions.save_addition(
            store, narrative_additions.prepare_addition(store, place, _memory())
        )
    assert store.count_narrative_additions() == 2


def test_published_additions_are_in_the_export_rows(store: PlaceStore) -> None:
    place = _place(store)
    added = narrative_additions.save_addition(
        store, narrative_additions.prepare_addition(store, place, _memory(author="Rui"))
    )
    narrative_additions.publish(store, added.id, STAFF)
    column = EXPORT_COLUMNS.index("narratives")
    rows = [r for batch in store.export_rows(None) for r in batch]
    stored = orjson.loads(rows[0][column])
    assert stored[1] == {
        "id": added.id, "kind": "memory", "text": "I danced here in 1974.", "language": "en",
        "provenance": "original",
    }  # fmt: skip
    assert "Rui" not in rows[0][column]  # the author is shown on the page, never exported


def test_the_contributors_own_edit_keeps_what_others_added(store: PlaceStore) -> None:
    from geodata import contributions
    from geodata.schemas import PlacePatch

    place = _place(store)
    added = narrative_additions.save_addition(
        store, narrative_additions.prepare_addition(store, place, _memory())
    )
    stale = store.get(place.id)  # read before the memory is published
    narrative_additions.publish(store, added.id, STAFF)
    patch = PlacePatch.model_validate(
        {"properties": {"narratives": [{"text": "Fado às segundas.", "language": "pt"}]}}
    )
    index = contributions.project_index(store, 1000.0)
    prepared = contributions.apply_patch(store, stale, patch, index, Vocabulary())
    saved = contributions.save_patch(store, prepared, None)
    assert [(n.text, n.id) for n in saved.narratives] == [
        ("Fado às segundas.", None), ("I danced here in 1974.", added.id),
    ]  # fmt: skip
