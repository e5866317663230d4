"""The store methods exports rely on, held to the same contract on every backend."""

from __future__ import annotations

import orjson
import shapely

from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.base_exports import EXPORT_COLUMNS
from geodata.store.records import iso


def rows(store: PlaceStore, flt: PlaceFilter | None = None, **kw) -> list[tuple]:
    return [r for batch in store.export_rows(flt, **kw) for r in batch]


def test_export_rows_match_list_in_order_and_content(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    flt = public_filter(None, "open_data")
    got = rows(lisbon_store, flt, batch_size=50)
    places = list(lisbon_store.list(flt))
    assert [r[0] for r in got] == [p.id for p in places]
    col = {name: i for i, name in enumerate(EXPORT_COLUMNS)}
    by_id = {r[0]: r for r in got}
    area = lisbon_store.get(open_data_cases["area"])
    r = by_id[area.id]
    assert shapely.from_wkb(r[col["geom"]]).equals(area.geometry)
    assert r[col["geom_type"]] == "Polygon" and r[col["sensitivity"]] == "public"
    assert orjson.loads(r[col["narratives"]])[1]["language"] == "ar"
    assert orjson.loads(r[col["tags"]]) == ["market", "oral history"]
    assert (r[col["consent_publish"]], r[col["consent_open_data"]]) == (1, 1)
    assert r[col["created_at"]] == iso(area.created_at)
    assert len(r) == len(EXPORT_COLUMNS)  # and no column for personal data at all
    assert not {"contributor_name", "contributor_contact", "display_name"} & set(EXPORT_COLUMNS)


def test_export_rows_page_like_list(lisbon_store: PlaceStore) -> None:
    every = [r[0] for r in rows(lisbon_store)]
    assert [r[0] for r in rows(lisbon_store, limit=25, offset=100)] == every[100:125]
    assert [r[0] for r in rows(lisbon_store, offset=len(every) - 3)] == every[-3:]
    ids = [every[7], every[3]]
    assert [r[0] for r in rows(lisbon_store, PlaceFilter(ids=ids))] == [every[3], every[7]]
    assert rows(lisbon_store, PlaceFilter(ids=[])) == []


def test_summary_counts_and_bounds_what_the_filter_matches(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    flt = public_filter(PlaceFilter(category="memory"), "open_data")
    s = lisbon_store.summary(flt)
    places = list(lisbon_store.list(flt))
    assert s.count == len(places) == 3
    bounds = shapely.total_bounds([p.geometry for p in places])
    assert s.bbox is not None and tuple(round(v, 9) for v in s.bbox) == tuple(
        round(float(v), 9) for v in bounds
    )
    assert s.first_created == min(p.created_at for p in places)
    assert s.last_created == max(p.created_at for p in places)
    assert s.last_updated == max(p.updated_at for p in places)
    empty = lisbon_store.summary(PlaceFilter(category="food"))
    assert (empty.count, empty.bbox, empty.last_updated) == (0, None, None)


def test_category_and_licence_counts_add_up(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    flt = public_filter(None, "open_data")
    by_category = lisbon_store.category_counts(flt)
    assert sum(by_category.values()) == lisbon_store.count(flt)
    per_hood: dict[int | None, int] = {}
    for (nid, _category), n in by_category.items():
        per_hood[nid] = per_hood.get(nid, 0) + n
    assert per_hood == lisbon_store.counts_by_neighbourhood(flt)
    licences = lisbon_store.licence_counts(flt)
    assert licences[("CC-BY-SA-4.0", "Mouraria residents")] == 1
    assert licences[("ODbL-1.0", "Carris Metropolitana")] == 269
    assert sum(licences.values()) == lisbon_store.count(flt)


def test_sqlite_counts_stay_exact_across_writers(sqlite_store: PlaceStore) -> None:
    from shapely.geometry import Point

    from geodata.models import Narrative, Place, Status
    from geodata.store import open_store

    def place() -> Place:
        return Place(geometry=Point(-9.14, 38.71), title="t", narratives=[Narrative("x", "en")],
                     category="other", status=Status.PUBLISHED)  # fmt: skip

    flt = public_filter(None, "open_data")
    assert sqlite_store.count(flt) == 0
    sqlite_store.add(place())  # this connection
    assert sqlite_store.count(flt) == 1
    other = open_store(f"sqlite:///{sqlite_store.path}")  # type: ignore[attr-defined]
    other.add(place())  # another connection, as another worker process would
    assert sqlite_store.count(flt) == 2
    try:
        with sqlite_store.transaction():
            sqlite_store.add(place())
            assert sqlite_store.count(flt) == 3
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert sqlite_store.count(flt) == 2 == other.count(flt)
    other.close()
