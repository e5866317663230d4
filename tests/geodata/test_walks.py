"""Walks in the store and through their lifecycle, on every backend."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from shapely.geometry import LineString, Point

from geodata import walk_lifecycle
from geodata.audit import Actor
from geodata.erasure import erase_contact
from geodata.errors import Conflict, InvalidInput, NotFound
from geodata.geometry_rules import GeometryRules
from geodata.models import Narrative, Place, Sensitivity, Status
from geodata.store.base import PlaceStore
from geodata.walk_checks import WalkSubmission, prepare_walk
from geodata.walk_views import hidden_stops, public_walk, public_walks, shown_places

FACILITATOR = Actor("ana (facilitator)", "ac_test")


def place(store: PlaceStore, x: float, y: float, **kw) -> Place:
    kw.setdefault("status", Status.PUBLISHED)
    return store.add(
        Place(
            geometry=Point(x, y),
            title=f"place at {x}",
            narratives=[Narrative("A story told at the market", "pt")],
            category="memory",
            **kw,
        )
    )


def text(words: str, language: str = "en", provenance: str = "original") -> dict:
    return {"text": words, "language": language, "provenance": provenance}


def proposal(place_ids: list[str], **kw) -> WalkSubmission:
    body = {
        "titles": [text("Along the river"), text("Ao longo do rio", "pt", "community_translation")],
        "introductions": [text("Three places by the water.")],
        "stops": [{"place_id": pid, "chapters": [text(f"Chapter {i}")]}
                  for i, pid in enumerate(place_ids, 1)],
        "consent": {"publish": True},
        "contributor": {"name": "Rita", "contact": "rita@example.org", "display_name": "Rita"},
        **kw,
    }  # fmt: skip
    return WalkSubmission.model_validate_json(json.dumps(body))


@pytest.fixture
def three(store: PlaceStore) -> list[str]:
    return [place(store, x, 38.710).id for x in (-9.140, -9.138, -9.136)]


def test_a_walk_is_stored_and_read_back_with_its_stops_in_order(store, three):
    walk = prepare_walk(store, proposal(three[::-1]), GeometryRules())
    receipt = walk_lifecycle.save_walk(store, walk)
    back = store.get_walk(walk.id)
    assert [s.place_id for s in back.stops] == three[::-1]
    assert back.titles[1] == Narrative("Ao longo do rio", "pt", walk.titles[1].provenance)
    assert back.stops[0].chapters[0].text == "Chapter 1"
    assert back.status == Status.PENDING and back.contributor_contact == "rita@example.org"
    assert back.route is None and back.version == 1
    assert receipt.edit_token and walk_lifecycle.check_walk_token(
        store, walk.id, receipt.edit_token
    )
    assert store.count_walks("pending") == 1 and store.count_walks("published") == 0


def test_a_route_is_kept_and_length_and_time_come_from_it(store, three):
    route = {
        "type": "LineString",
        "coordinates": [[-9.140, 38.710], [-9.137, 38.7105], [-9.136, 38.710]],
    }
    walk = prepare_walk(store, proposal(three, route=route), GeometryRules())
    walk_lifecycle.save_walk(store, walk)
    walk_lifecycle.publish(store, walk.id, FACILITATOR)
    back = store.get_walk(walk.id)
    assert back.route.equals(LineString(route["coordinates"]))
    view = public_walk(back, shown_places(store, three))
    assert view.route_drawn and 300 < view.length_m < 400 and view.minutes == 5


@pytest.mark.parametrize(
    "change, codes",
    [
        (lambda ids: {"stops": []}, {"stops": "no_stops"}),
        (
            lambda ids: {
                "stops": [
                    {"place_id": ids[0], "chapters": [text("a")]},
                    {"place_id": ids[0], "chapters": [text("b")]},
                ]
            },
            {"stops.1.place_id": "duplicate_stop"},
        ),
        (
            lambda ids: {"stops": [{"place_id": "pl_nothere", "chapters": [text("a")]}]},
            {"stops.0.place_id": "not_public_place"},
        ),
        (
            lambda ids: {"route": {"type": "LineString", "coordinates": [[-9.14, 38.71]]}},
            {"route": "too_few_points"},
        ),
        (
            lambda ids: {"route": {"type": "Point", "coordinates": [-9.14, 38.71]}},
            {"route": "route_not_a_line"},
        ),
    ],
)
def test_bad_walks_are_refused_with_each_problem_named_and_nothing_written(
    store, three, change, codes
):
    with pytest.raises(InvalidInput) as caught:
        prepare_walk(store, proposal(three, **change(three)), GeometryRules())
    assert {p.field: p.code for p in caught.value.problems} == codes
    assert store.count_walks() == 0


def test_every_problem_is_named_at_once(store, three):
    pending = place(store, -9.13, 38.71, status=Status.PENDING).id
    generalised = place(store, -9.13, 38.72, sensitivity=Sensitivity.GENERALISED).id
    stops = [
        {"place_id": i, "chapters": [text("a")]} for i in (three[0], pending, three[0], generalised)
    ]
    bad_route = {"type": "LineString", "coordinates": [[-9.14, 38.71], [200, 38.71]]}
    with pytest.raises(InvalidInput) as caught:
        prepare_walk(store, proposal(three, stops=stops, route=bad_route), GeometryRules())
    codes = {(p.field, p.code) for p in caught.value.problems}
    assert codes == {
        ("stops.1.place_id", "not_public_place"),
        ("stops.2.place_id", "duplicate_stop"),
        ("stops.3.place_id", "not_public_place"),
        ("route", "out_of_range"),
    }


def test_publish_reject_and_withdraw_are_audited(store, three, tmp_path):
    walk = prepare_walk(store, proposal(three), GeometryRules())
    walk_lifecycle.save_walk(store, walk)
    assert public_walks(store, store.walks()) == []
    published = walk_lifecycle.publish(store, walk.id, FACILITATOR, expected_version=1)
    assert [w.id for w in public_walks(store, store.walks())] == [walk.id]
    with pytest.raises(Conflict):
        walk_lifecycle.reject(store, walk.id, FACILITATOR, "off topic", expected_version=1)
    walk_lifecycle.reject(store, walk.id, FACILITATOR, "off topic", published.version)
    assert walk_lifecycle.rejection_reason(store, store.get_walk(walk.id)) == "off topic"
    withdrawn = walk_lifecycle.withdraw(store, store.get_walk(walk.id), tmp_path)
    assert withdrawn.contributor_contact is None and withdrawn.status == Status.WITHDRAWN
    events = store.audit_events(place_id=walk.id)
    assert [e.action for e in events] == [
        "walk_create", "walk_publish", "walk_hide", "walk_withdraw"
    ]  # fmt: skip
    assert "rita" not in str([e.before for e in events] + [e.after for e in events])


def test_walk_versions_follow_what_walks_lists_without_reading_the_walks(store, three):
    first = walk_lifecycle.save_walk(store, prepare_walk(store, proposal(three), GeometryRules()))
    second = prepare_walk(store, proposal(three[:2]), GeometryRules())
    walk_lifecycle.save_walk(store, second)
    assert store.walk_versions("published") == []
    assert store.walk_versions("pending") == [(w.id, w.version) for w in store.walks("pending")]
    published = walk_lifecycle.publish(store, second.id, FACILITATOR, expected_version=1)
    assert store.walk_versions("published") == [(second.id, published.version)]
    walk_lifecycle.publish(store, first.walk.id, FACILITATOR, expected_version=1)
    listed = [(w.id, w.version) for w in store.walks("published")]
    assert store.walk_versions("published") == listed and len(listed) == 2
    assert store.walk_versions("published", limit=1) == listed[:1]


def test_a_stop_that_stops_being_public_is_hidden_with_its_position_and_staff_are_told(
    store, three
):
    route = {"type": "LineString", "coordinates": [[-9.140, 38.710], [-9.136, 38.710]]}
    walk = prepare_walk(store, proposal(three, route=route), GeometryRules())
    walk_lifecycle.save_walk(store, walk)
    walk_lifecycle.publish(store, walk.id, FACILITATOR)
    middle = store.get(three[1])
    store.update(replace(middle, status=Status.REJECTED))
    stored = store.get_walk(walk.id)
    places = shown_places(store, three)
    view = public_walk(stored, places)
    assert [s.place.id for s in view.stops] == [three[0], three[2]]
    assert [s.number for s in view.stops] == [1, 2]
    # The proposer's line passes by the hidden stop: it gives way to stop-to-stop.
    assert not view.route_drawn and list(view.route.coords) == [(-9.140, 38.710), (-9.136, 38.710)]
    hidden = hidden_stops(store, stored, places)
    assert [(h.position, h.place_id, h.code, h.status) for h in hidden] == [
        (2, three[1], "place_not_published", "rejected")
    ]  # fmt: skip
    store.update(replace(store.get(three[2]), sensitivity=Sensitivity.HIDDEN))
    places = shown_places(store, three)
    hidden = hidden_stops(store, store.get_walk(walk.id), places)
    assert [(h.position, h.code, h.sensitivity) for h in hidden] == [
        (2, "place_not_published", "public"), (3, "location_protected", "hidden")
    ]  # fmt: skip


def test_erasure_removes_the_proposers_walks_and_erased_places_leave_every_walk(
    store, three, tmp_path
):
    walk = prepare_walk(store, proposal(three), GeometryRules())
    walk_lifecycle.save_walk(store, walk)
    other = prepare_walk(store, proposal(three[:2], contributor=None), GeometryRules())
    walk_lifecycle.save_walk(store, other)
    store.update(replace(store.get(three[0]), contributor_contact="erase@example.org"))
    report = erase_contact(store, " RITA@example.org ", tmp_path, FACILITATOR)
    assert report.walks == 1
    with pytest.raises(NotFound):
        store.get_walk(walk.id)
    assert store.audit_events(place_id=walk.id) == []
    erase_contact(store, "erase@example.org", tmp_path, FACILITATOR)
    assert [s.place_id for s in store.get_walk(other.id).stops] == [three[1]]


def test_asking_for_changes_keeps_a_walk_pending_until_its_proposer_revises_it(store, three):
    walk = prepare_walk(store, proposal(three), GeometryRules())
    walk_lifecycle.save_walk(store, walk)
    with pytest.raises(InvalidInput):
        walk_lifecycle.request_changes(store, walk.id, FACILITATOR, None)  # say what
    with pytest.raises(Conflict):
        walk_lifecycle.request_changes(store, walk.id, FACILITATOR, "More.", expected_version=7)
    asked = walk_lifecycle.request_changes(store, walk.id, FACILITATOR, "Name the river.")
    assert asked.status == Status.PENDING and asked.version == 1
    note = walk_lifecycle.moderator_note(store, asked)
    assert note is not None and (note.kind, note.text) == ("changes_requested", "Name the river.")
    better = prepare_walk(
        store, proposal(three, introductions=[text("Three places by the Tagus.")]), GeometryRules()
    )
    revised = walk_lifecycle.revise(store, store.get_walk(walk.id), better)
    assert revised.id == walk.id and revised.version == 2 and revised.status == Status.PENDING
    assert revised.introductions[0].text == "Three places by the Tagus."
    assert revised.created_at == walk.created_at
    assert walk_lifecycle.moderator_note(store, revised) is None  # answered
    assert walk_lifecycle.revise(store, revised, better) is revised  # nothing changed, no event
    published = walk_lifecycle.publish(store, walk.id, FACILITATOR)
    with pytest.raises(walk_lifecycle.WalkNotPending):
        walk_lifecycle.request_changes(store, walk.id, FACILITATOR, "More.")
    actions = [e.action for e in store.audit_events(place_id=walk.id)]
    assert actions == ["walk_create", "walk_changes_requested", "walk_edit", "walk_publish"]
    changes = walk_lifecycle.history(store, walk.id)
    assert changes[2].fields == ["introductions"] and changes[3].fields == ["status"]
    assert "rita" not in str([c.event.after for c in changes]).lower()
    assert published.status == Status.PUBLISHED


def test_a_revision_of_a_published_walk_goes_back_to_moderation_unless_only_consent_changed(
    store, three, tmp_path
):
    walk = prepare_walk(store, proposal(three, consent={"publish": True, "open_data": True}),
                        GeometryRules())  # fmt: skip
    walk_lifecycle.save_walk(store, walk)
    published = walk_lifecycle.publish(store, walk.id, FACILITATOR)
    closed = prepare_walk(store, proposal(three), GeometryRules())  # open data not ticked
    kept = walk_lifecycle.revise(store, published, closed)
    assert kept.status == Status.PUBLISHED and not kept.consent.open_data
    assert store.audit_events(place_id=walk.id)[-1].action == "walk_consent"
    shorter = prepare_walk(store, proposal(three[:2]), GeometryRules())
    again = walk_lifecycle.revise(store, kept, shorter)
    assert again.status == Status.PENDING and len(again.stops) == 2
    rejected = walk_lifecycle.reject(store, walk.id, FACILITATOR, "Too short.")
    assert walk_lifecycle.moderator_note(store, rejected).kind == "rejected"
    gone = walk_lifecycle.withdraw(store, rejected, tmp_path)
    with pytest.raises(walk_lifecycle.WithdrawnWalk):
        walk_lifecycle.revise(store, gone, shorter)
