"""Store contract for contributions: edit tokens, moderator flags, photos, idempotent
answers, rate-limit counters and service secrets (run against every backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point

from geodata.errors import Conflict, NotFound
from geodata.models import Narrative, Place
from geodata.place_attachments import Media, PlaceFlag
from geodata.store.base import PlaceStore
from geodata.store.base_contributions import IdempotentResponse


def _place(title: str = "Fado house") -> Place:
    return Place(
        geometry=Point(-9.14, 38.71),
        title=title,
        narratives=[Narrative("Sung here", "pt")],
        category="memory",
        display_name="Ana",
        contributor_name="Ana Silva",
    )


def _media(place_id: str, n: int) -> Media:
    return Media(
        place_id=place_id,
        mime_type="image/jpeg",
        width=10,
        height=8,
        bytes=99,
        path=f"{place_id}/{n}.jpg",
        thumb_path=f"{place_id}/{n}.thumb.jpg",
        thumb_width=5,
        thumb_height=4,
        sha256="ab" * 32,
        caption=f"photo {n}",
    )


def test_display_name_round_trips(store: PlaceStore) -> None:
    place = store.add(_place())
    assert store.get(place.id).display_name == "Ana"


def test_edit_token_hash_is_stored_replaced_and_dropped_with_the_place(store: PlaceStore) -> None:
    place = store.add(_place())
    assert store.edit_token_hash(place.id) is None
    store.set_edit_token_hash(place.id, "a" * 64)
    store.set_edit_token_hash(place.id, "b" * 64)
    assert store.edit_token_hash(place.id) == "b" * 64
    store.delete(place.id)
    assert store.edit_token_hash(place.id) is None


def test_edit_token_for_a_missing_place_is_refused(store: PlaceStore) -> None:
    with pytest.raises(NotFound):
        store.set_edit_token_hash("pl_missing", "a" * 64)


def test_flags_are_kept_once_and_filtered(store: PlaceStore) -> None:
    a, b = store.add(_place()), store.add(_place("Fado house!"))
    flag = PlaceFlag(b.id, "possible_duplicate", a.id, "may be the same as Fado house")
    store.add_flags([flag, flag])
    assert [f.other_place_id for f in store.flags(b.id)] == [a.id]
    assert store.flags(a.id) == []
    assert len(store.flags(kind="possible_duplicate")) == 1
    assert store.flags(kind="other") == []


def test_a_flag_keeps_its_values_and_an_old_english_note_reads_back_as_written(
    store: PlaceStore,
) -> None:
    a, b, c = store.add(_place()), store.add(_place("Fado house!")), store.add(_place("Fado"))
    values = {"title": "Casa do Fado «velha»", "distance_m": 12}
    store.add_flags([PlaceFlag(b.id, "possible_duplicate", a.id, params=values)])
    old = "may be the same place as 'Fado house' (pl_x), 9 m away"
    store.add_flags([PlaceFlag(c.id, "possible_duplicate", a.id, old)])
    (kept,) = store.flags(b.id)
    assert kept.params == values and kept.detail == ""
    (legacy,) = store.flags(c.id)
    assert legacy.detail == old and legacy.params == {}


def test_photos_keep_their_order_and_go_with_the_place(store: PlaceStore) -> None:
    place, other = store.add(_place()), store.add(_place("Other"))
    first, second = store.add_media(_media(place.id, 1)), store.add_media(_media(place.id, 2))
    store.add_media(_media(other.id, 1))
    assert (first.position, second.position) == (1, 2)
    assert [m.id for m in store.media(place.id)] == [first.id, second.id]
    assert store.get_media(second.id).caption == "photo 2"
    both = store.media_for_places([place.id, other.id, "pl_none"])
    assert sorted(both) == sorted([place.id, other.id]) and len(both[place.id]) == 2
    store.delete_media(first.id)
    assert store.add_media(_media(place.id, 3)).position == 3  # positions never reused
    with pytest.raises(NotFound):
        store.get_media(first.id)
    store.delete(place.id)
    assert store.media(place.id) == []


def test_photo_for_a_missing_place_is_refused(store: PlaceStore) -> None:
    with pytest.raises(NotFound):
        store.add_media(_media("pl_missing", 1))


def test_idempotent_answer_is_kept_once_and_purged_by_age(store: PlaceStore) -> None:
    old = datetime.now(UTC) - timedelta(days=2)
    answer = IdempotentResponse("r" * 64, 201, b"\x00encrypted", old)
    store.save_idempotent_response("k" * 64, answer)
    assert store.idempotent_response("k" * 64) == answer
    with pytest.raises(Conflict):
        store.save_idempotent_response("k" * 64, answer)
    assert store.idempotent_response("x" * 64) is None
    assert store.purge_idempotent_responses(datetime.now(UTC) - timedelta(days=1)) == 1
    assert store.idempotent_response("k" * 64) is None


def test_rate_limit_counts_per_bucket_and_window(store: PlaceStore) -> None:
    t = datetime(2025, 5, 1, 12, 0, 5, tzinfo=UTC)
    assert [store.count_hit("submit:a", 60, t) for _ in range(3)] == [1, 2, 3]
    assert store.count_hit("submit:b", 60, t) == 1
    assert store.count_hit("submit:a", 60, t + timedelta(seconds=60)) == 1


def test_secret_is_created_once(store: PlaceStore) -> None:
    assert store.secret("csrf", lambda: b"first") == b"first"
    assert store.secret("csrf", lambda: b"second") == b"first"


def test_neighbourhoods_version_changes_with_the_neighbourhoods(store: PlaceStore) -> None:
    from shapely.geometry import box

    first = store.neighbourhoods_version()
    assert store.neighbourhoods_version() == first
    store.replace_neighbourhoods([("Alfama", box(-9.14, 38.70, -9.12, 38.72), None)])
    second = store.neighbourhoods_version()
    assert second != first
    store.replace_neighbourhoods([("Alfama", box(-9.14, 38.70, -9.12, 38.73), None)])
    assert store.neighbourhoods_version() != second
