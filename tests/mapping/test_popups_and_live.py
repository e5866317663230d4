"""Popup contents (the narrative for this viewer, nothing personal) and live updates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from geodata.models import Narrative, Provenance, Sensitivity, Status, Workshop, utcnow
from geodata.privacy import public_view
from mapping.features import Photo, choose_narrative, place_details
from mapping.live import OVERLAP, workshop_summary, workshop_updates
from mapping.search import search_map
from tests.mapping.conftest import make_place

STORIES = [
    Narrative("Aqui cantava-se o fado.", "pt"),
    Narrative("Fado was sung here.", "en", Provenance.COMMUNITY_TRANSLATION),
    Narrative("هنا كان يُغنّى الفادو.", "ar", Provenance.MACHINE_TRANSLATION),
]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("ar", "ar"),
        ("pt-BR", "pt"),
        ("fr", "pt"),
        ("", "pt"),
    ],
)
def test_the_narrative_shown_is_the_viewers_language_else_the_original(language, expected):
    assert choose_narrative(STORIES, language).language == expected


def test_popup_details_name_the_language_and_hold_nothing_personal(vocabulary):
    place = make_place(
        narratives=STORIES[:1],
        period="Século XIX",
        year_from=1850,
        year_to=1899,
        licence="CC-BY-4.0",
        attribution="Associação do Bairro",
    )
    details = place_details(
        public_view(place), vocabulary, "fr", Photo("/media/md_1/thumbnail", 320, 240, None)
    )
    assert details["narrative"]["language_name"] == "portugais"
    assert details["narrative"]["is_viewer_language"] is False
    assert details["period"] == "Século XIX (1850–1899)"
    assert details["category_label"] == "Tradition, fête ou savoir-faire"
    assert details["licence"] == "CC-BY-4.0"
    assert details["attribution"] == "Associação do Bairro"
    assert details["photo"] == {
        "thumb": "/media/md_1/thumbnail",
        "width": 320,
        "height": 240,
        "alt": "Casa do Fado",
    }
    flat = repr(details)
    assert "Maria Private" not in flat and "maria@example.org" not in flat


def test_a_translation_says_it_is_one(vocabulary):
    details = place_details(public_view(make_place(narratives=STORIES)), vocabulary, "en")
    assert details["narrative"]["text"] == "Fado was sung here."
    assert details["narrative"]["translated"] is True
    assert details["narrative"]["provenance_label"] == "community translation"


def test_a_story_taken_from_elsewhere_carries_its_source_and_licence(vocabulary):
    told = Narrative(
        "Um palácio do século XVIII.",
        "pt",
        source="OpenStreetMap way/96628628 tag `description`",
        licence="ODbL 1.0 (© OpenStreetMap contributors)",
    )
    details = place_details(public_view(make_place(narratives=[told])), vocabulary, "en")
    assert details["narrative"]["source"] == "OpenStreetMap way/96628628 tag `description`"
    assert details["narrative"]["licence"] == "ODbL 1.0 (© OpenStreetMap contributors)"
    own = place_details(public_view(make_place(narratives=STORIES[:1])), vocabulary, "en")
    assert own["narrative"]["source"] is own["narrative"]["licence"] is None  # the place's own


def test_a_place_without_a_story_has_none_to_show(vocabulary):
    assert (
        place_details(public_view(make_place(narratives=[])), vocabulary, "en")["narrative"] is None
    )


@pytest.fixture
def workshop(store) -> Workshop:
    now = utcnow()
    return store.add_workshop(
        Workshop(code="LIVE1", title="Live", starts_at=now, ends_at=now + timedelta(hours=2))
    )


def test_live_updates_carry_what_was_published_since_the_cursor(store, workshop, options):
    first = workshop_updates(store, workshop, None, options)
    assert first["features"] == [] and first["count"] == 0
    store.add(make_place(title="Tasca", workshop="LIVE1"))
    store.add(make_place(title="Still pending", workshop="LIVE1", status=Status.PENDING))
    store.add(make_place(title="Another workshop", workshop="OTHER"))
    since = utcnow() - timedelta(seconds=1)
    update = workshop_updates(store, workshop, since, options)
    assert [f["properties"]["title"] for f in update["features"]] == ["Tasca"]
    assert update["count_label"] == "1 place"
    assert update["pending_label"] == "1 waiting for review"
    assert [p["title"] for p in update["latest"]] == ["Tasca"]
    assert update["cursor"] > first["cursor"]


def test_live_updates_remove_what_is_no_longer_public(store, workshop, options):
    place = store.add(make_place(title="Tasca", workshop="LIVE1"))
    hidden = store.add(make_place(title="Spring", workshop="LIVE1"))
    since = utcnow()
    place.status = Status.WITHDRAWN
    store.update(place)
    hidden.sensitivity = Sensitivity.HIDDEN
    store.update(hidden)
    update = workshop_updates(store, workshop, since, options)
    assert update["features"] == []
    assert set(update["removed"]) == {place.id, hidden.id}
    assert update["count"] == 1  # the hidden place still counts, it is just not drawn


def test_live_updates_look_back_past_the_cursor_for_late_commits(store, workshop, options):
    store.add(make_place(title="Committed late", workshop="LIVE1"))
    cursor = utcnow() + OVERLAP / 2  # as if this commit landed just before the last answer
    assert len(workshop_updates(store, workshop, cursor, options)["features"]) == 1


def test_latest_titles_are_the_newest_published_first(store, workshop):
    for i in range(8):
        store.add(make_place(title=f"Place {i}", workshop="LIVE1"))
    summary = workshop_summary(store, workshop)
    assert [p["title"] for p in summary["latest"]] == [f"Place {i}" for i in range(7, 1, -1)]


def test_search_finds_neighbourhoods_without_accents_and_public_places(lisbon_store, options):
    lisbon_store.add(make_place(title="Zzsecret tasca", sensitivity=Sensitivity.HIDDEN))
    lisbon_store.add(make_place(title="Zzsecret pending", status=Status.PENDING))
    found = search_map(
        lisbon_store,
        "sao vicente",
        lisbon_store.neighbourhoods(),
        options,
        lambda i: f"/maps/neighbourhoods/{i}",
    )
    assert [n["name"] for n in found["neighbourhoods"]] == ["São Vicente"]
    assert found["neighbourhoods"][0]["url"].startswith("/maps/neighbourhoods/")
    museums = search_map(lisbon_store, "museu", [], options, str)["places"]
    assert museums and all("museu" in p["title"].lower() for p in museums)
    assert search_map(lisbon_store, "zzsecret", [], options, str)["places"] == []
