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
