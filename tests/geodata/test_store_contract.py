"""The store contract: every backend (SQLite, PostGIS) must pass these unchanged."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon

from geodata.errors import Conflict, NotFound
from geodata.models import (
    Consent,
    Narrative,
    Place,
    Provenance,
    Sensitivity,
    Status,
    Workshop,
    utcnow,
)
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter


def make_place(x: float = -9.14, y: float = 38.71, **kw) -> Place:
    defaults = dict(
        geometry=Point(x, y),
        title="Casa do Alentejo",
        narratives=[
            Narrative("Onde se dançava aos sábados.", "pt"),
            Narrative("Where people danced on Saturdays.", "en", Provenance.COMMUNITY_TRANSLATION),
        ],
        category="building",
        status=Status.PUBLISHED,
    )
    defaults.update(kw)
    return Place(**defaults)


def test_a_new_store_is_empty_and_migrated(store):
    assert store.count() == 0
    assert list(store.list()) == []
    assert store.neighbourhoods() == []
    store.migrate()  # idempotent
    assert store.count() == 0


def test_add_then_get_returns_every_field(store):
    given = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    p = make_place(
        period="1920s",
        year_from=1920,
        year_to=1929,
        tags=["dance", "música"],
        sensitivity=Sensitivity.GENERALISED,
        licence="CC-BY-SA-4.0",
        attribution="Ana",
        consent=Consent(True, False, True, given),
        contributor_name="Ana Silva",
        contributor_contact="ana@example.org",
        workshop="LX-2018",
    )
    store.add(p)
    got = store.get(p.id)
    assert got.geometry.equals(p.geometry)
    for field in (
        "id",
        "title",
        "narratives",
        "category",
        "status",
        "period",
        "year_from",
        "year_to",
        "tags",
        "sensitivity",
        "licence",
        "attribution",
        "consent",
        "contributor_name",
        "contributor_contact",
        "workshop",
        "version",
    ):
        assert getattr(got, field) == getattr(p, field), field
    assert abs(got.created_at - p.created_at) < timedelta(milliseconds=1)


def test_routes_and_areas_round_trip(store):
    line = make_place(geometry=LineString([(-9.14, 38.71), (-9.13, 38.72)]))
    area = make_place(
        geometry=Polygon([(-9.15, 38.71), (-9.14, 38.71), (-9.14, 38.72), (-9.15, 38.71)])
    )
    store.add_many([line, area])
    assert store.get(line.id).geometry.equals(line.geometry)
    assert store.get(area.id).geometry.equals(area.geometry)


def test_get_of_an_unknown_id_raises_not_found(store):
    with pytest.raises(NotFound):
        store.get("pl_nothing")


def test_adding_the_same_id_twice_is_a_conflict_and_changes_nothing(store):
    p = make_place()
    store.add(p)
    with pytest.raises(Conflict):
        store.add(make_place(id=p.id, title="other"))
    assert store.get(p.id).title == "Casa do Alentejo"
    assert store.count() == 1


def test_update_bumps_version_and_detects_a_concurrent_change(store):
    p = store.add(make_place())
    first = store.get(p.id)
    first.title = "Casa do Alentejo (Palácio Alverca)"
    store.update(first, expected_version=1)
    got = store.get(p.id)
    assert got.title == "Casa do Alentejo (Palácio Alverca)"
    assert got.version == 2
    assert got.updated_at >= got.created_at
    stale = store.get(p.id)
    stale.version = 1
    with pytest.raises(Conflict):
        store.update(stale, expected_version=1)


def test_delete_removes_the_place_from_every_query(store):
    p = store.add(make_place())
    store.delete(p.id)
    with pytest.raises(NotFound):
        store.get(p.id)
    assert store.count(PlaceFilter(bbox=(-10, 38, -9, 39))) == 0
    with pytest.raises(NotFound):
        store.delete(p.id)


def test_bbox_filter_uses_intersection_not_only_bounding_boxes(store):
    inside = store.add(make_place(-9.14, 38.71))
    store.add(make_place(-9.10, 38.75))
    # An L-shaped route whose bounding box covers the query box but whose line does not.
    store.add(make_place(geometry=LineString([(-9.20, 38.70), (-9.20, 38.80), (-9.10, 38.80)])))
    flt = PlaceFilter(bbox=(-9.15, 38.70, -9.13, 38.72))
    assert [p.id for p in store.list(flt)] == [inside.id]
    assert store.count(flt) == 1


def test_filters_by_category_status_neighbourhood_workshop_and_time(store):
    ids = store.replace_neighbourhoods(
        [
            (
                "Alfama",
                Polygon([(-9.14, 38.70), (-9.12, 38.70), (-9.12, 38.72), (-9.14, 38.72)]),
                "A",
            ),
        ]
    )
    nid = ids[0].id
    old = make_place(
        category="museum", created_at=utcnow() - timedelta(days=10), neighbourhood_id=nid
    )
    new = make_place(category="building", status=Status.PENDING, workshop="W1")
    store.add_many([old, new])
    assert [p.id for p in store.list(PlaceFilter(category="museum"))] == [old.id]
    assert [p.id for p in store.list(PlaceFilter(category=["museum", "building"]))] == [
        old.id,
        new.id,
    ]
    assert [p.id for p in store.list(PlaceFilter(status=Status.PENDING))] == [new.id]
    assert [p.id for p in store.list(PlaceFilter(neighbourhood_id=nid))] == [old.id]
    assert [p.id for p in store.list(PlaceFilter(workshop="W1"))] == [new.id]
    since = utcnow() - timedelta(days=1)
    assert [p.id for p in store.list(PlaceFilter(since=since))] == [new.id]
    assert [p.id for p in store.list(PlaceFilter(until=since))] == [old.id]
    assert store.count(PlaceFilter(status="published", category="museum")) == 1


def test_language_and_period_filters(store):
    pt = store.add(
        make_place(narratives=[Narrative("Fado", "pt-PT")], year_from=1850, year_to=1900)
    )
    ar = store.add(make_place(narratives=[Narrative("حكاية", "ar")], year_from=1960))
    assert [p.id for p in store.list(PlaceFilter(language="pt"))] == [pt.id]
    assert [p.id for p in store.list(PlaceFilter(language="ar"))] == [ar.id]
    assert [p.id for p in store.list(PlaceFilter(year_from=1890, year_to=1910))] == [pt.id]
    assert [p.id for p in store.list(PlaceFilter(year_from=1950))] == [ar.id]


def test_public_audience_needs_publication_and_consent(store):
    shown = store.add(make_place())
    store.add(make_place(status=Status.PENDING))
    no_map = store.add(make_place(consent=Consent(publish=False, open_data=True)))
    no_data = store.add(make_place(consent=Consent(publish=True, open_data=False)))
    on_map = {p.id for p in store.list(public_filter(None, "map"))}
    in_data = {p.id for p in store.list(public_filter(None, "open_data"))}
    assert on_map == {shown.id, no_data.id}
    assert in_data == {shown.id, no_map.id}


def test_list_pages_in_a_stable_order(store):
    places = [make_place(-9.14 + i * 1e-4, 38.71) for i in range(25)]
    store.add_many(places)
    pages = [list(store.list(limit=10, offset=o)) for o in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [p.id for page in pages for p in page] == [p.id for p in places]


def test_counts_by_neighbourhood(store):
    nbs = store.replace_neighbourhoods(
        [
            ("A", Polygon([(0, 0), (1, 0), (1, 1), (0, 1)]), None),
            ("B", Polygon([(1, 0), (2, 0), (2, 1), (1, 1)]), None),
        ]
    )
    store.add_many(
        [
            make_place(neighbourhood_id=nbs[0].id),
            make_place(neighbourhood_id=nbs[0].id),
            make_place(neighbourhood_id=nbs[1].id),
            make_place(),
        ]
    )
    assert store.counts_by_neighbourhood() == {nbs[0].id: 2, nbs[1].id: 1, None: 1}


def test_set_neighbourhood_ids_and_replacing_neighbourhoods_clears_them(store):
    nbs = store.replace_neighbourhoods([("A", Polygon([(0, 0), (1, 0), (1, 1)]), "1")])
    assert nbs[0].name == "A" and nbs[0].code == "1"
    p = store.add(make_place())
    store.set_neighbourhood_ids([(p.id, nbs[0].id)])
    assert store.get(p.id).neighbourhood_id == nbs[0].id
    store.replace_neighbourhoods([("B", Polygon([(0, 0), (2, 0), (2, 2)]), None)])
    assert store.get(p.id).neighbourhood_id is None
    assert [n.name for n in store.neighbourhoods()] == ["B"]


def test_a_failed_transaction_leaves_nothing_behind(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.add(make_place())
        store.add(make_place())
        raise RuntimeError("crash in the middle")
    assert store.count() == 0


def test_add_many_is_all_or_nothing(store):
    existing = store.add(make_place())
    batch = [make_place() for _ in range(5)] + [make_place(id=existing.id)]
    with pytest.raises(Conflict), store.transaction():
        for p in batch:
            store.add(p)
    assert store.count() == 1


@pytest.mark.parametrize("n", [1, 2, 5000])
def test_add_many_stores_every_field_whether_shared_by_the_batch_or_not(store, n):
    # Values every place shares (written into the statement by SQLite's add_many) next to
    # values that differ in one place only, of every kind a column holds.
    given = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    shared = dict(
        title="O'Neil's \"quoted\" house; DROP TABLE places; --",
        period="1920s",
        tags=["dance", "música"],
        licence="CC-BY-SA-4.0",
        attribution=None,
        consent=Consent(True, True, False, given),
        year_from=1920,
        workshop="LX-2018",
    )
    places = [make_place(-9.14 + i * 1e-6, 38.71, **shared) for i in range(n)]
    odd = places[-1]
    odd.year_from, odd.attribution, odd.tags = None, "Ana", []
    odd.geometry = LineString([(-9.14, 38.71), (-9.1401, 38.7101)])
    assert store.add_many(places) == n
    for p in (places[0], odd):
        got = store.get(p.id)
        assert got.geometry.equals_exact(p.geometry, 0)
        for field in ("title", "narratives", "period", "year_from", "tags", "licence",
                      "attribution", "consent", "workshop", "status", "category"):  # fmt: skip
            assert getattr(got, field) == getattr(p, field), field
    assert store.count(PlaceFilter(bbox=(-9.15, 38.70, -9.13, 38.72))) == n


@pytest.mark.parametrize("n", [1, 2, 5000])
def test_add_new_stores_a_bulk_import_as_add_many_would(store, n):
    """Places given as columns (NewPlaces) read back as the same places given one by one;
    values every place shares and values that differ, of every kind a column holds."""
    from geodata.models import NewPlaces

    nbs = store.replace_neighbourhoods(
        [("Alfama", Polygon([(-9.2, 38.6), (-9.0, 38.6), (-9.0, 38.8), (-9.2, 38.8)]), None)]
    )
    given = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    geoms = [Point(-9.14, 38.71)] * (n - 1) + [  # identical points: shared floats, bound
        LineString([(-9.14, 38.71), (-9.1401, 38.7101)])
    ]
    odd = n - 1
    batch = NewPlaces(
        ids=[f"pl_bulk{i:06d}" for i in range(n)],
        geometries=np.array(geoms, dtype=object),
        titles=["O'Neil's \"quoted\" house; --"] * odd + ["another, ünicode \u062f\u0627\u0631"],
        narratives=[[Narrative("Onde se dançava.", "pt")]] * odd + [[]],
        categories=["building"] * odd + ["music"],
        periods=["1920s"] * odd + [None],
        years_from=[1920] * odd + [None],
        years_to=[None] * odd + [1999],
        tags=[["dance", "música"]] * odd + [[]],
        neighbourhood_ids=[nbs[0].id] * odd + [None],
        status=Status.PUBLISHED,
        licence="CC-BY-SA-4.0",
        attribution="Arquivo Municipal",
        consent=Consent(True, True, False, given),
        created_at=given,
    )
    assert store.add_new([batch]) == n
    expected = {p.id: p for p in batch.places()}
    got = {p.id: p for p in store.list()}
    assert got.keys() == expected.keys()
    for pid in (batch.ids[0], batch.ids[odd]):
        a, b = got[pid], expected[pid]
        assert a.geometry.equals_exact(b.geometry, 0)
        for field in ("title", "narratives", "category", "period", "year_from", "year_to",
                      "tags", "neighbourhood_id", "status", "licence", "attribution",
                      "consent", "sensitivity", "created_at", "updated_at", "version"):  # fmt: skip
            assert getattr(a, field) == getattr(b, field), field
    assert store.count(PlaceFilter(bbox=(-9.15, 38.70, -9.13, 38.72))) == n


def test_concurrent_writers_lose_nothing(store):
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(20):
                store.add(make_place(-9.14 + k * 1e-3, 38.71 + i * 1e-4, title=f"{k}-{i}"))
        except BaseException as exc:  # collected, then asserted
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count() == 80


def test_workshops_by_case_insensitive_code(store):
    w = store.add_workshop(
        Workshop(
            "mouraria-7",
            "Memórias da Mouraria",
            utcnow(),
            utcnow() + timedelta(hours=3),
            languages=["pt", "bn"],
        )
    )
    assert w.code == "MOURARIA-7"
    got = store.get_workshop("Mouraria-7")
    assert got.title == "Memórias da Mouraria" and got.languages == ["pt", "bn"]
    assert got.is_open()
    with pytest.raises(Conflict):
        store.add_workshop(Workshop("MOURARIA-7", "again", utcnow(), utcnow()))
    with pytest.raises(NotFound):
        store.get_workshop("nope")
    assert [x.code for x in store.workshops()] == ["MOURARIA-7"]


# -- text search (PlaceStore.search; the rules are geodata.search's) -----------------------
SHOWN = public_filter(PlaceFilter(sensitivity=["public", "generalised"]), "map")


def titles(found: list[Place]) -> list[str]:
    return [p.title for p in found]


def test_search_ignores_accents_and_case_in_titles(store):
    store.add_many(
        [
            make_place(title="Castelo de São Jorge", narratives=[]),
            make_place(title="Calçada da Ajuda", narratives=[]),
            make_place(title="Straße der Einheit", narratives=[]),
        ]
    )
    for query in ("sao jorge", "SÃO JORGE", "São  Jorge!", "jorge"):
        assert titles(store.search(query)) == ["Castelo de São Jorge"], query
    assert titles(store.search("ajuda")) == ["Calçada da Ajuda"]
    assert titles(store.search("CALCADA")) == ["Calçada da Ajuda"]
    assert titles(store.search("strasse")) == ["Straße der Einheit"]
    assert store.search("jorge porto") == []  # every word must be found


def test_search_finds_arabic_chinese_and_ukrainian_titles(store):
    store.add_many(
        [
            make_place(title="مَسْجِد الإمام", narratives=[]),
            make_place(title="圣乔治城堡", narratives=[]),
            make_place(title="Софійський собор, Київ", narratives=[]),
            make_place(title="城市广场", narratives=[]),
        ]
    )
    # With or without vowel marks and hamza.
    assert titles(store.search("مسجد")) == ["مَسْجِد الإمام"]
    assert titles(store.search("الامام")) == ["مَسْجِد الإمام"]
    # No spaces between Chinese words: any two characters of a title find it.
    assert titles(store.search("城堡")) == ["圣乔治城堡"]
    assert titles(store.search("乔治")) == ["圣乔治城堡"]
    assert titles(store.search("圣乔治城堡")) == ["圣乔治城堡"]
    assert titles(store.search("广场")) == ["城市广场"]
    assert store.search("城门") == []
    assert titles(store.search("СОФІЙСЬКИЙ")) == ["Софійський собор, Київ"]
    assert titles(store.search("собор київ")) == ["Софійський собор, Київ"]


def test_search_finds_words_in_narratives_after_titles(store):
    in_story = store.add(
        make_place(
            title="Igreja",
            narratives=[Narrative("Os azulejos contam a história.", "pt"),
                        Narrative("Кахлі розповідають історію.", "uk")],
        )
    )  # fmt: skip
    in_title = store.add(make_place(title="Museu Nacional do Azulejo", narratives=[]))
    assert [p.id for p in store.search("azulejo")] == [in_title.id, in_story.id]
    assert [p.id for p in store.search("кахлі")] == [in_story.id]
    assert [p.id for p in store.search("igreja historia")] == [in_story.id]  # title + story
    assert store.search("igreja museu") == []


def test_search_ranks_exact_then_prefix_then_other_titles_then_stories(store):
    story = store.add(make_place(title="Tasca", narratives=[Narrative("O fado vadio.", "pt")]))
    inner = store.add(make_place(title="Casa do Fado", narratives=[]))
    longer = store.add(make_place(title="Fado Vadio Bar", narratives=[]))
    prefix = store.add(make_place(title="Fado vadio", narratives=[]))
    exact = store.add(make_place(title="FADO!", narratives=[]))
    assert [p.id for p in store.search("fado")] == [
        exact.id,  # the whole title
        prefix.id,  # titles starting with it, in the order of their folded text
        longer.id,
        inner.id,  # other titles
        story.id,  # narratives
    ]
    assert [p.id for p in store.search("fado vadio")] == [prefix.id, longer.id, story.id]
    assert [p.id for p in store.search("fado", limit=2)] == [exact.id, prefix.id]
    assert store.search("fado", limit=0) == []


def test_search_matches_short_words_at_word_starts_and_longer_ones_anywhere(store):
    store.add_many(
        [
            make_place(title="Largo da Graça", narratives=[]),
            make_place(title="Damaia de Cima", narratives=[]),
            make_place(title="Saldanha", narratives=[]),
        ]
    )
    assert sorted(titles(store.search("da"))) == ["Damaia de Cima", "Largo da Graça"]
    assert titles(store.search("aldan")) == ["Saldanha"]
    assert titles(store.search("graca d")) == ["Largo da Graça"]  # one letter: with another
    assert store.search("d") == [] and store.search("d g") == []  # nothing to look up


def test_search_keeps_to_the_filter_and_its_privacy(store):
    shown = store.add(make_place(title="Fonte Santa"))
    coarse = store.add(make_place(title="Fonte Santa coarse", sensitivity=Sensitivity.GENERALISED))
    store.add(make_place(title="Fonte Santa hidden", sensitivity=Sensitivity.HIDDEN))
    store.add(make_place(title="Fonte Santa pending", status=Status.PENDING))
    store.add(make_place(title="Fonte Santa no consent", consent=Consent(publish=False)))
    elsewhere = store.add(make_place(title="Fonte Santa elsewhere", workshop="W9"))
    assert len(store.search("fonte santa")) == 6
    public = {shown.id, coarse.id, elsewhere.id}
    assert {p.id for p in store.search("fonte santa", SHOWN)} == public
    assert {p.id for p in store.search("santa", SHOWN)} == public
    scoped = store.search("fonte", PlaceFilter(workshop="W9"))
    assert titles(scoped) == ["Fonte Santa elsewhere"]
    box = store.search("fonte", PlaceFilter(bbox=(-9.2, 38.6, -9.1, 38.8)))
    assert len(box) == 6 and store.search("fonte", PlaceFilter(bbox=(0, 0, 1, 1))) == []


def test_search_follows_edits_deletions_and_bulk_imports(store):
    from geodata.models import NewPlaces

    place = store.add(make_place(title="Cinema Europa", narratives=[]))
    place.title = "Cinema Paris"
    place.narratives = [Narrative("Sessões às quintas.", "pt")]
    store.update(place)
    assert store.search("europa") == []
    assert [p.id for p in store.search("paris")] == [place.id]
    assert [p.id for p in store.search("sessoes")] == [place.id]
    store.delete(place.id)
    assert store.search("paris") == []
    batch = NewPlaces(
        ids=["pl_search1", "pl_search2"],
        geometries=np.array([Point(-9.14, 38.71), Point(-9.13, 38.72)], dtype=object),
        titles=["Mercado de Arroios", "旧城门"],
        narratives=[[], [Narrative("Onde se vendia peixe.", "pt")]],
        categories=["building", "building"],
        periods=[None, None],
        years_from=[None, None],
        years_to=[None, None],
        tags=[[], []],
        neighbourhood_ids=[None, None],
        status=Status.PUBLISHED,
        licence="CC-BY-4.0",
        attribution=None,
        consent=Consent(True, True, False),
        created_at=utcnow(),
    )
    store.add_new([batch])
    assert [p.id for p in store.search("arroios")] == ["pl_search1"]
    assert [p.id for p in store.search("城门")] == ["pl_search2"]
    assert [p.id for p in store.search("peixe")] == ["pl_search2"]


@pytest.mark.parametrize(
    "query",
    ['"', "'", "NEAR(", "NEAR(a b)", "*", "a*", "^x", "-x", "a OR b", "a AND NOT b",
     "title:x", "{title}: x", "(((", "%", "_", "\\", "100%_\\", "\x00", "\ud800 a",
     "😀😀😀", " ", "", "x" * 10_000, "ab " * 500, "\u202e\u2066abc"],
)  # fmt: skip
def test_search_treats_any_text_as_text(store, query):
    store.add(make_place(title="O'Neil's \"quoted\" house; -- 100% *real*", narratives=[]))
    assert isinstance(store.search(query), list)
    assert isinstance(store.search(query, SHOWN, limit=5), list)


def test_search_finds_quotes_and_operators_as_words(store):
    place = store.add(make_place(title="O'Neil's \"Near\" (house) OR AND NOT *", narratives=[]))
    for query in ('"near"', "NEAR(", "neil's", "(house)", "or and not"):
        assert [p.id for p in store.search(query)] == [place.id], query


def test_search_answers_as_the_reference_rules_do(store):
    """The backend's index and SQL against the default implementation (which folds
    every place in Python): the same places in the same order."""
    from geodata.demo import load_demo
    from geodata.store.base import PlaceStore

    load_demo(store)
    store.add(make_place(title="Fonte", narratives=[Narrative("Onde a água da serra...", "pt")]))
    for query in ("sao", "da", "museu", "igreja de", "palacio nacional", "agua", "conv",
                  "lisboa", "rua", "santa maria", "d. maria", "fonte"):  # fmt: skip
        for flt in (None, SHOWN):
            expected = PlaceStore.search(store, query, flt, limit=30)
            assert [p.id for p in store.search(query, flt, limit=30)] == [p.id for p in expected], (
                query
            )
