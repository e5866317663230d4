"""Counts kept per version of the places, counts that stop early, and read snapshots: the
same contract on every backend (SQLite, PostGIS)."""

from __future__ import annotations

import threading

import pytest
from shapely.geometry import LineString, Point

from geodata.models import Consent, Narrative, Place, Status
from geodata.place_attachments import ProtocolLabel
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter

OPEN = public_filter(None, "open_data")
MEMORY = public_filter(PlaceFilter(category="memory"), "open_data")


def place(x: float = -9.14, y: float = 38.71, **kw) -> Place:
    kw.setdefault("status", Status.PUBLISHED)
    kw.setdefault("category", "memory")
    return Place(
        geometry=kw.pop("geometry", Point(x, y)),
        title="Tasca do Chico",
        narratives=[Narrative("Fado às quartas.", "pt")],
        consent=Consent(publish=True, open_data=True),
        **kw,
    )


def counted_twice(store, flt: PlaceFilter) -> int:
    """``store.count(flt)`` asked twice: the second answer comes from the kept count."""
    first = store.count(flt)
    hits = store._counts.hits
    assert store.count(flt) == first
    assert store._counts.hits == hits + 1, "the second count was made again"
    return first


def test_a_kept_count_follows_every_kind_of_write(store):
    store.add_many([place(), place(), place(category="food")])
    assert counted_twice(store, OPEN) == 3 and counted_twice(store, MEMORY) == 2
    pending = store.add(place(status=Status.PENDING))  # an insert
    assert counted_twice(store, OPEN) == 3
    pending.status = Status.PUBLISHED  # publication: an update
    store.update(pending)
    assert counted_twice(store, OPEN) == 4 and counted_twice(store, MEMORY) == 3
    pending.status = Status.WITHDRAWN  # withdrawal
    store.update(pending)
    assert counted_twice(store, OPEN) == 3 and counted_twice(store, MEMORY) == 2
    store.delete(pending.id)
    store.add_many([place(category="food") for _ in range(3)])
    assert counted_twice(store, OPEN) == 6 and counted_twice(store, MEMORY) == 2
    store.delete(store.add(place()).id)  # the newest place: max(rid) falls back
    assert counted_twice(store, OPEN) == 6
    assert store.count_up_to(OPEN, 10) == 6 and store.count_up_to(OPEN, 5) is None


def test_counts_inside_a_transaction_see_its_writes_and_outlive_no_rollback(store):
    store.add(place())
    assert counted_twice(store, OPEN) == 1
    with pytest.raises(RuntimeError), store.transaction():
        store.add(place())
        assert store.count(OPEN) == 2
        store.add(place())
        assert store.count(OPEN) == 3
        raise RuntimeError("rolled back")
    assert store.count(OPEN) == 1
    with store.transaction():
        store.add(place())
        assert store.count(OPEN) == 2
    assert counted_twice(store, OPEN) == 2


def test_count_up_to_is_exact_up_to_its_limit_and_none_beyond(store):
    store.add_many([place(-9.14 + i * 1e-3, 38.71) for i in range(5)])
    # An L-shaped route whose bounding box covers the box but whose line does not.
    store.add(place(geometry=LineString([(-9.20, 38.70), (-9.20, 38.80), (-9.10, 38.80)])))
    store.add(place(geometry=LineString([(-9.1402, 38.705), (-9.1402, 38.715)])))
    assert store.count_up_to(OPEN, 7) == 7 and store.count_up_to(OPEN, 6) is None
    area = public_filter(PlaceFilter(bbox=(-9.1405, 38.70, -9.1395, 38.72)), "open_data")
    assert store.count(area) == 2  # the first point and the straight route
    assert store.count_up_to(area, 2) == 2 and store.count_up_to(area, 1) is None
    assert store.count_up_to(area, 0) is None
    nowhere = public_filter(PlaceFilter(bbox=(-8.0, 40.0, -7.9, 40.1)), "open_data")
    assert store.count_up_to(nowhere, 0) == 0


def test_a_snapshot_reads_one_state_while_others_write(store):
    store.add_many([place(), place()])
    written = threading.Event()

    def writer() -> None:
        store.add(place())
        written.set()

    with store.snapshot():
        assert store.count(OPEN) == 2
        first = [p.id for p in store.list(OPEN)]
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(timeout=30)
        assert written.is_set()
        assert store.count(OPEN) == 2  # the kept count of this snapshot's version
        assert store.count(PlaceFilter(category="memory")) == 2  # counted now, same state
        assert [p.id for p in store.list(OPEN)] == first
    assert store.count(OPEN) == 3
    with store.snapshot():
        assert store.count(OPEN) == 3 and len(list(store.list(OPEN))) == 3


def test_protocol_labels_and_neighbourhoods_read_in_a_snapshot_follow_changes(store):
    from shapely.geometry import box

    first = store.add(place())
    store.replace_neighbourhoods([("Mouraria", box(-9.2, 38.6, -9.0, 38.8), None)])
    with store.snapshot():
        assert store.protocol_labels([first.id]) == {}
        assert [n.name for n in store.neighbourhoods()] == ["Mouraria"]
    store.set_protocol_labels(
        first.id, [ProtocolLabel("tk_a", "TK Attribution", "Name the community.")]
    )
    store.replace_neighbourhoods([("Alfama", box(-9.2, 38.6, -9.0, 38.8), None)])
    with store.snapshot():
        assert [x.label_id for x in store.protocol_labels([first.id])[first.id]] == ["tk_a"]
        assert [n.name for n in store.neighbourhoods()] == ["Alfama"]
    store.set_protocol_labels(first.id, [])
    with store.snapshot():
        assert store.protocol_labels([first.id]) == {}


@pytest.mark.parametrize("most", [None, 100, 5])
def test_export_page_is_the_rows_of_export_rows_with_their_count(store, most):
    store.add_many([place(-9.14 + i * 1e-4, 38.71) for i in range(12)])
    store.add(place(geometry=LineString([(-9.20, 38.70), (-9.20, 38.80), (-9.10, 38.80)])))
    box = public_filter(PlaceFilter(bbox=(-9.1405, 38.70, -9.1385, 38.72)), "open_data")
    every = [r for rows in store.export_rows(box) for r in rows]
    assert len(every) == 12
    for offset in (8, 0, 3, 12, 20):  # the first one asked before any count is kept
        n, page = store.export_page(box, limit=4, offset=offset, most=most)
        if most is not None and most < 12:
            assert n is None and page == every[offset : offset + 5]  # one more: more follow
        else:
            assert n == 12 and page == every[offset : offset + 4]
