"""The store's grid aggregation (``cluster_grid``) and the filters the maps add, on every
backend: the same contract for SQLite and PostGIS."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import LineString

from geodata.models import Sensitivity, Status
from geodata.store.base import PlaceFilter
from tests.mapping.conftest import make_place


def test_cluster_grid_counts_each_place_once_in_the_cell_of_its_centre(store):
    points = [(-9.1401, 38.7101), (-9.1402, 38.7102), (-9.1303, 38.7199), (0.5, -0.5)]
    store.add_many([make_place(p) for p in points])
    cells = store.cluster_grid(None, 0.01)
    assert sum(c.count for c in cells) == 4
    by_cell = {(c.col, c.row): c for c in cells}
    # floor, not truncation toward zero: west and south of 0 go one cell further down.
    assert set(by_cell) == {(-915, 3871), (-914, 3871), (50, -50)}
    pair = by_cell[(-915, 3871)]
    assert pair.count == 2
    assert pair.lon == pytest.approx(-9.14015)
    assert pair.lat == pytest.approx(38.71015)


def test_cluster_grid_uses_the_bounding_box_centre_of_routes(store):
    store.add(make_place(LineString([(-9.15, 38.70), (-9.13, 38.72)])))
    (cell,) = store.cluster_grid(None, 0.1)
    assert (cell.lon, cell.lat) == (pytest.approx(-9.14), pytest.approx(38.71))
    assert (cell.col, cell.row) == (math.floor(-9.14 / 0.1), math.floor(38.71 / 0.1))


def test_cluster_grid_applies_the_filter_bbox_and_status(store):
    store.add_many(
        [
            make_place((-9.14, 38.71)),
            make_place((-9.14, 38.711), status=Status.PENDING),
            make_place((-9.00, 38.60)),
        ]
    )
    cells = store.cluster_grid(
        PlaceFilter(bbox=(-9.2, 38.7, -9.1, 38.8), status=str(Status.PUBLISHED)), 0.05
    )
    assert [c.count for c in cells] == [1]


def test_cluster_grid_refuses_a_cell_that_is_not_positive(store):
    with pytest.raises(ValueError):
        store.cluster_grid(None, 0)


def test_sensitivity_and_title_filters(store):
    store.add_many(
        [
            make_place(title="Tasca 100% Lisboa", sensitivity=Sensitivity.PUBLIC),
            make_place(title="tasca do chico", sensitivity=Sensitivity.GENERALISED),
            make_place(title="Mercado", sensitivity=Sensitivity.HIDDEN),
        ]
    )
    assert store.count(PlaceFilter(title_contains="TASCA")) == 2
    assert store.count(PlaceFilter(title_contains="100%")) == 1  # % is a character, not LIKE
    assert store.count(PlaceFilter(title_contains="_")) == 0
    assert store.count(PlaceFilter(sensitivity="hidden")) == 1
    assert store.count(PlaceFilter(sensitivity=["public", "generalised"])) == 2


def test_sqlite_answers_the_same_when_the_view_holds_most_places(sqlite_store, monkeypatch):
    """Past a threshold SQLite reads the bounds columns instead of probing the R*Tree."""
    points = [(-9.14 + i * 0.003, 38.70 + (i % 7) * 0.004) for i in range(40)]
    sqlite_store.add_many([make_place(p) for p in points] + [make_place((-8.0, 37.0))])
    flt = PlaceFilter(bbox=(-9.15, 38.69, -9.0, 38.75))
    by_index = sorted(sqlite_store.cluster_grid(flt, 0.01), key=lambda c: (c.col, c.row))
    monkeypatch.setattr(type(sqlite_store), "_MANY", 5)
    assert sqlite_store._bbox_holds_many(flt.bbox)
    by_columns = sorted(sqlite_store.cluster_grid(flt, 0.01), key=lambda c: (c.col, c.row))
    assert by_columns == by_index
    assert sum(c.count for c in by_columns) == 40
