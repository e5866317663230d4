"""Store contract for recordings (both backends): order, details, the place they go
with, and their transcripts found by search only while their scope is public."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from geodata.errors import NotFound
from geodata.models import Narrative, Place, Status
from geodata.place_attachments import AudioScope, Recording
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter


def _place(
    title: str = "Mercado de Arroios", story: str = "Onde a minha avó vendia peixe"
) -> Place:
    return Place(
        geometry=Point(-9.134, 38.728),
        title=title,
        narratives=[Narrative(story, "pt")],
        category="memory",
        status=Status.PUBLISHED,
    )


def _recording(place_id: str, n: int, **kw) -> Recording:
    return Recording(
        place_id=place_id,
        mime_type="audio/ogg",
        duration_s=61.5,
        bytes=1234,
        path=f"{place_id}/{n}.ogg",
        sha256="cd" * 32,
        **kw,
    )


def test_recordings_keep_their_order_details_and_go_with_the_place(store) -> None:
    place = store.add(_place())
    first = store.add_recording(
        _recording(
            place.id, 1, title="A avó", transcript="Vendia sardinhas", transcript_language="pt"
        )
    )
    second = store.add_recording(_recording(place.id, 2, scope=AudioScope.ARCHIVE))
    assert (first.position, second.position) == (1, 2)
    got = store.recordings(place.id)
    assert [r.id for r in got] == [first.id, second.id]
    assert got[0].title == "A avó" and got[0].transcript_language == "pt"
    assert got[0].duration_s == 61.5 and got[1].scope == AudioScope.ARCHIVE
    assert store.get_recording(first.id).created_at == first.created_at
    assert store.recordings_for_places([place.id, "pl_none"]) == {place.id: got}
    store.delete(place.id)
    assert store.recordings(place.id) == []
    with pytest.raises(NotFound):
        store.get_recording(first.id)


def test_a_recording_for_a_missing_place_or_a_missing_recording_is_refused(store) -> None:
    with pytest.raises(NotFound):
        store.add_recording(_recording("pl_missing", 1))
    with pytest.raises(NotFound):
        store.delete_recording("au_missing")
    with pytest.raises(NotFound):
        store.update_recording(_recording("pl_missing", 1))


def test_transcripts_are_searched_with_the_narratives_while_public(store) -> None:
    place = store.add(_place())
    store.add(_place("Largo do Intendente", "Azulejos da fábrica Viúva Lamego"))
    public = public_filter(PlaceFilter(), "map")
    assert store.search("sardinhas", public) == []
    rec = store.add_recording(
        _recording(place.id, 1, transcript="Ela vendia sardinhas assadas", transcript_language="pt")
    )
    assert [p.id for p in store.search("sardinhas", public)] == [place.id]
    assert [p.id for p in store.search("avó sardinhas", public)] == [place.id]  # narrative + voice
    rec.scope = AudioScope.WORKSHOP  # no longer public: its words leave the search
    store.update_recording(rec)
    assert store.search("sardinhas", public) == []
    rec.scope = AudioScope.PUBLIC
    rec.transcript = "O pregão das varinas"
    store.update_recording(rec)
    assert store.search("sardinhas", public) == []
    assert [p.id for p in store.search("varinas", public)] == [place.id]
    store.delete_recording(rec.id)
    assert store.search("varinas", public) == []
    # the place's own words are still found, its other changes kept the index right
    assert [p.id for p in store.search("vendia peixe", public)] == [place.id]


def test_a_walk_stops_recordings_are_the_walks_not_the_places(store) -> None:
    from geodata.walks import Walk, WalkStop

    place = store.add(_place())
    other = store.add(_place("Largo do Intendente", "Azulejos"))
    walk = store.add_walk(
        Walk([Narrative("A walk", "en")], [Narrative("Two stops", "en")],
             [WalkStop(place.id, []), WalkStop(other.id, [])])
    )  # fmt: skip
    own = store.add_recording(
        _recording(place.id, 1, transcript="sardinhas", transcript_language="pt")
    )
    at_stop = store.add_recording(
        _recording(place.id, 2, walk_id=walk.id, transcript="castanhas", transcript_language="pt")
    )
    assert (own.position, at_stop.position) == (1, 2)  # one order per place, across both
    assert store.recordings(place.id) == [own]
    assert store.recordings_for_places([place.id, other.id]) == {place.id: [own]}
    assert store.walk_recordings(walk.id) == {place.id: [store.get_recording(at_stop.id)]}
    assert store.get_recording(at_stop.id).walk_id == walk.id
    assert {r.id for r in store.recordings_at_places([place.id])} == {own.id, at_stop.id}
    public = public_filter(PlaceFilter(), "map")
    assert store.search("castanhas", public) == []  # the walk's words are not the place's
    assert [p.id for p in store.search("sardinhas", public)] == [place.id]
    with pytest.raises(NotFound):  # a walk without a stop there
        store.add_recording(_recording(store.add(_place("Sé", "x")).id, 1, walk_id=walk.id))
    with pytest.raises(NotFound):
        store.add_recording(_recording(place.id, 3, walk_id="wk_missing"))
    store.delete(place.id)  # the place erased: its stop and the stop's recordings go too
    assert store.walk_recordings(walk.id) == {}
    second = store.add_recording(_recording(other.id, 1, walk_id=walk.id))
    store.delete_walk(walk.id)  # the walk erased: its recordings go
    with pytest.raises(NotFound):
        store.get_recording(second.id)
