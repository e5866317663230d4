"""The search index of each backend: filled for databases written before it existed,
kept exact through every kind of write, and free of erased text."""

from __future__ import annotations

import sqlite3

import pytest
from shapely.geometry import Point

from geodata.demo import load_demo
from geodata.models import Narrative, Place, Status
from geodata.store import open_store
from geodata.store.base import PlaceStore
from tests.geodata.older_schema import undo_search_migration


def place(title: str, story: str = "") -> Place:
    narratives = [Narrative(story, "pt")] if story else []
    return Place(Point(-9.14, 38.71), title, narratives, "building", status=Status.PUBLISHED)


def test_upgrading_an_older_database_indexes_the_places_it_holds(store):
    load_demo(store)
    story = store.add(place("Tasca", "Cantava-se o fado às sextas."))
    expected = [p.id for p in PlaceStore.search(store, "sao jorge")]  # folds every place
    assert expected
    undo_search_migration(store)
    store.migrate()
    assert [p.id for p in store.search("sao jorge")] == expected
    assert [p.id for p in store.search("sextas")] == [story.id]
    for query in ("ajuda", "da", "igreja de", "palacio"):
        assert [p.id for p in store.search(query)] == [
            p.id for p in PlaceStore.search(store, query)
        ], query
    new = store.add(place("Ajuda nova"))  # and writes go on as usual
    assert new.id in [p.id for p in store.search("ajuda nova")]


def fts_integrity(store: PlaceStore) -> None:
    store.conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO places_search (places_search, rank) VALUES ('integrity-check', 1)"
    )


def test_the_sqlite_index_matches_the_places_after_every_kind_of_write(sqlite_store):
    store = sqlite_store
    load_demo(store)  # a bulk import
    a = store.add(place("Cinema Europa", "Sessões às quintas."))
    b = store.add(place("Cinema Paris"))
    a.title = "Cinema Éden"
    store.update(a)
    b.title = "Cinema Paris"  # the same text again
    store.update(b)
    store.delete(store.add(place("Gone")).id)
    with pytest.raises(KeyError), store.transaction():  # a write rolled back
        store.add(place("Rolled back"))
        raise KeyError
    fts_integrity(store)
    assert [p.id for p in store.search("eden")] == [a.id]
    assert store.search("europa") == [] and store.search("gone") == []
    assert store.search("rolled back") == []
    assert [p.id for p in store.search("cinema paris")] == [b.id]


def test_the_sqlite_index_forgets_erased_text_when_compacted(tmp_path):
    path = tmp_path / "atlas.db"
    store = open_store(f"sqlite:///{path}")

    def index_bytes() -> bytes:
        with sqlite3.connect(path) as conn:
            return b"".join(
                bytes(r[0]) for r in conn.execute("SELECT block FROM places_search_data")
            )

    try:
        store.add(place("Keep this"))
        secret = store.add(place("Zqxwvy yardbird"))
        store.delete(secret.id)
        assert b"zqx" in index_bytes()  # a deletion leaves the old entries behind at first
        store.compact()  # as an erasure does
        fts_integrity(store)
        assert b"zqx" not in index_bytes() and b"kee" in index_bytes()
        assert store.search("zqxwvy") == [] and store.search("keep")
    finally:
        store.close()


@pytest.mark.parametrize("few, near", [(1000, 1000), (5, 1000), (5, 10)])
def test_postgis_finds_the_oldest_matches_whichever_way_it_reads_them(
    store, monkeypatch, few, near
):
    """Few matches (sorted from the probe), many from the start (walked in order), many
    from further on (read through the indexes and sorted): the same oldest places."""
    if hasattr(store, "conn"):
        pytest.skip("PostGIS chooses how to read; SQLite's index lists matches in order")
    from geodata.store import postgis_search

    monkeypatch.setattr(postgis_search, "_FEW", few)
    monkeypatch.setattr(postgis_search, "_NEAR", near)
    store.add_many([place(f"Casa {i}") for i in range(30)])
    store.add_many([place(f"Rua {i}", "Perto da fonte velha.") for i in range(30)])
    store.add_many([place(f"Fonte velha {i}") for i in range(3)])
    for query in ("casa", "fonte", "velha", "rua 1", "perto"):
        expected = [p.id for p in PlaceStore.search(store, query, limit=12)]
        assert [p.id for p in store.search(query, limit=12)] == expected, query
    with store.transaction():  # within a caller's transaction, its settings are kept
        store.search("perto", limit=3)
        with store._connection() as conn:  # type: ignore[attr-defined]
            assert conn.execute("SHOW enable_seqscan").fetchone()[0] == "on"
            assert conn.execute("SHOW enable_indexscan").fetchone()[0] == "on"
