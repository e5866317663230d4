"""SQLite query plans that the speed of maps and imports depends on."""

from __future__ import annotations

import pytest

from geodata.store.base import PlaceFilter


@pytest.mark.parametrize(
    "flt",
    [
        PlaceFilter(sensitivity="generalised", status="published"),
        PlaceFilter(sensitivity=["generalised", "hidden"]),
    ],
)
def test_the_few_generalised_or_hidden_places_are_found_through_their_index(sqlite_store, flt):
    """The sensitivity index holds only places that are not public (migration 0007), so a
    query can use it only when it says it wants no public place."""
    joins, where, params = sqlite_store._where(flt)
    plan = sqlite_store.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT p.id FROM places p{joins} WHERE {where}", params
    ).fetchall()
    assert any("USING INDEX places_sensitivity" in row[-1] for row in plan), plan


def test_public_places_leave_the_sensitivity_index_alone(sqlite_store):
    sql = "SELECT sql FROM sqlite_master WHERE name = 'places_sensitivity'"
    assert "WHERE sensitivity <> 'public'" in sqlite_store.conn.execute(sql).fetchone()[0]


def test_a_small_box_is_searched_through_the_rtree_not_the_sensitivity_index(sqlite_store):
    """Maps ask for the generalised places in the view: when the view holds fewer places
    than there are generalised ones, the R*Tree must drive, even where statistics make the
    sensitivity index look selective (it did, and small views took 30 ms instead of 0.3)."""
    from shapely.geometry import Point

    from geodata.models import Place, Sensitivity, Status

    def place(i: int, sensitivity: Sensitivity) -> Place:
        where = Point(-9.1 + (i % 300) * 1e-4, 38.7 + (i // 300) * 1e-3)
        return Place(where, f"p{i}", [], "building", status=Status.PUBLISHED,
                     sensitivity=sensitivity)  # fmt: skip

    sqlite_store.add_many(place(i, Sensitivity.PUBLIC) for i in range(30_000))
    sqlite_store.add_many(place(i, Sensitivity.GENERALISED) for i in range(300))
    sqlite_store.conn.execute("ANALYZE")
    flt = PlaceFilter(bbox=(-9.1, 38.69, -9.09945, 38.71), sensitivity="generalised")
    joins, where, params = sqlite_store._where(flt)
    plan = sqlite_store.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT p.id FROM places p{joins} WHERE {where}", params
    ).fetchall()
    assert not any("places_sensitivity" in row[-1] for row in plan), plan
    assert len(list(sqlite_store.list(flt))) == 6
