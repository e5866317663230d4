"""Downloads copy each place's GeoJSON head as the store keeps it (``public_feature``).

The copies must be, byte for byte, the features built from the places' rows through the
privacy rules, whatever happened to the places, their labels and neighbourhoods since
they were written; and no head may ever hold a location the public must not see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from shapely.geometry import Point

from geodata.io.export import neighbourhood_names, public_batches
from geodata.io.geojson import encode_features, feature_tails, public_feature_chunks
from geodata.models import Narrative, Place, Sensitivity, Status
from geodata.place_attachments import ProtocolLabel
from geodata.privacy import public_filter
from geodata.store import open_store
from geodata.store.base import PlaceFilter, PlaceStore
from tests.geodata.older_schema import undo_search_migration


def built(store: PlaceStore, flt: PlaceFilter | None = None) -> bytes:
    """The features as the row-by-row path builds them (public_view on every place)."""
    return b",".join(encode_features(b) for b in public_batches(store, flt) if len(b))


def copied(store: PlaceStore, flt: PlaceFilter | None = None, batch_size: int = 5000) -> bytes:
    """The features as a download writes them (stored heads where there are some)."""
    chunks = public_feature_chunks(store, flt, batch_size=batch_size)
    return b",".join(chunk.body for chunk in chunks if chunk.count)


def same(store: PlaceStore, copies: bytes, originals: bytes) -> bool:
    """Equal features in the same order; on SQLite equal bytes too (PostGIS writes the
    JSON it keeps as jsonb with spaces of its own, which a row-built feature embeds)."""
    if hasattr(store, "conn"):
        return copies == originals
    return orjson.loads(b"[" + copies + b"]") == orjson.loads(b"[" + originals + b"]")


def pending_ids(store: PlaceStore) -> set[str]:
    """The places the store left for the export to build itself."""
    tails = feature_tails(neighbourhood_names(store))
    batches = store.export_features(public_filter(None, "open_data"), tails)
    return {row[0] for batch in batches for row in batch.pending}


def raw(store: PlaceStore, sql: str) -> list[tuple[Any, ...]]:
    if hasattr(store, "conn"):
        return store.conn.execute(sql).fetchall()  # type: ignore[attr-defined]
    return store._fetchall(sql)  # type: ignore[attr-defined]


def test_copied_features_are_the_built_ones_byte_for_byte(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    assert same(lisbon_store, copied(lisbon_store), built(lisbon_store))
    doc = orjson.loads(b"[" + copied(lisbon_store) + b"]")
    assert len(doc) == 557 + 3
    # Only the generalised and hidden places and the one with a label were built here.
    expected = {open_data_cases[k] for k in ("area", "generalised", "hidden")}
    assert pending_ids(lisbon_store) == expected


def test_without_any_protocol_label_every_public_place_is_copied(
    lisbon_store: PlaceStore,
) -> None:
    assert same(lisbon_store, copied(lisbon_store), built(lisbon_store))
    assert pending_ids(lisbon_store) == set()


@pytest.mark.parametrize("batch_size", [1, 7, 100])
def test_any_batch_size_gives_the_same_features(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], batch_size: int
) -> None:
    assert same(lisbon_store, copied(lisbon_store, batch_size=batch_size), built(lisbon_store))


@pytest.mark.parametrize(
    "flt",
    [
        PlaceFilter(category="memory"),
        PlaceFilter(language="ar"),
        PlaceFilter(language="pt", year_from=1900),
        PlaceFilter(neighbourhood_id=1),
        PlaceFilter(category=["monument", "memory"], year_to=2000),
    ],
    ids=["category", "language", "language+years", "neighbourhood", "categories+years"],
)
def test_filtered_downloads_copy_the_same_features(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], flt: PlaceFilter
) -> None:
    expected = built(lisbon_store, flt)
    assert expected  # every filter here picks some places
    assert same(lisbon_store, copied(lisbon_store, flt), expected)


def test_a_store_without_stored_heads_builds_every_feature(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = built(lisbon_store)
    monkeypatch.setattr(type(lisbon_store), "export_features", PlaceStore.export_features)
    assert pending_ids(lisbon_store) == {
        p.id for p in lisbon_store.list(public_filter(None, "open_data"))
    }
    assert same(lisbon_store, copied(lisbon_store), expected)


def test_heads_follow_every_change_to_places_labels_and_neighbourhoods(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    store = lisbon_store
    first = next(store.list(public_filter(PlaceFilter(sensitivity="public"), "open_data")))
    # An edit: new title, narratives and tags.
    first.title = "Renamed by a resident"
    first.narratives = [Narrative("Nova história", "pt")]
    first.tags = ["renamed"]
    store.update(first)
    # Made generalised: its stored head must go, its feature comes from public_view.
    second = next(p for p in store.list(PlaceFilter(sensitivity="public")) if p.id != first.id)
    second.sensitivity = Sensitivity.GENERALISED
    store.update(second)
    # A label attached to a plain public point; the neighbourhood names change.
    store.set_protocol_labels(
        first.id, [ProtocolLabel("bc_p", "BC Provenance", "From this community.")]
    )
    hoods = store.neighbourhoods()
    store.replace_neighbourhoods([(n.name.upper(), n.geometry, n.code) for n in hoods])
    store.set_neighbourhood_ids([(first.id, store.neighbourhoods()[0].id)])
    # A place written after all that, and one deleted.
    added = store.add(
        Place(Point(-9.14, 38.712), "Added later", [Narrative("x", "en")], "monument",
              status=Status.PUBLISHED)
    )  # fmt: skip
    store.delete(open_data_cases["generalised"])

    text = copied(store)
    assert same(store, text, built(store))
    features = {f["id"]: f for f in orjson.loads(b"[" + text + b"]")}
    assert features[first.id]["properties"]["title"] == "Renamed by a resident"
    assert features[first.id]["properties"]["protocol_labels"] == ["bc_p"]
    assert features[first.id]["properties"]["neighbourhood"] == hoods[0].name.upper()
    assert features[second.id]["properties"]["location_generalised"] is True
    assert added.id in features and open_data_cases["generalised"] not in features


def test_places_added_as_columns_are_copied_as_built(lisbon_store: PlaceStore) -> None:
    """A bulk import's heads, encoded column by column (records.new_place_columns), are
    the features built from the rows: points, a route and an area, with and without
    narratives, tags, years, neighbourhood and attribution."""
    from datetime import UTC, datetime

    import numpy as np
    from shapely.geometry import LineString, Polygon

    from geodata.models import Consent, NewPlaces

    store = lisbon_store
    nid = store.neighbourhoods()[0].id
    when = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    geoms = [
        Point(-9.1401234567, 38.7101234567),
        LineString([(-9.14, 38.71), (-9.141, 38.712)]),
        Polygon([(-9.14, 38.71), (-9.139, 38.71), (-9.139, 38.711)]),  # clockwise
    ]
    batch = NewPlaces(
        ids=["pl_cols_point", "pl_cols_route", "pl_cols_area"],
        geometries=np.array(geoms, dtype=object),
        titles=['Fonte "velha"', "Rota", "Largo"],
        narratives=[[Narrative("Água fresca.", "pt")], [], [Narrative("<b>x</b>", "en")]],
        categories=["monument", "route", "square"],
        periods=[None, "1900s", None],
        years_from=[1850, None, None],
        years_to=[None, 1999, None],
        tags=[["água"], [], ["a", "b"]],
        neighbourhood_ids=[nid, None, nid],
        status=Status.PUBLISHED,
        licence="CC0-1.0",
        attribution="Arquivo",
        consent=Consent(True, True, False, when),
        created_at=datetime.now(UTC),  # after the demo's places: downloads list by age
    )
    store.add_new([batch])
    assert not pending_ids(store) & set(batch.ids)  # all three copied, none built
    assert same(store, copied(store), built(store))


def test_an_edit_that_leaves_the_head_as_it_was_drops_it(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    # What a worker of the previous version does during a rolling upgrade: the row
    # changes, public_feature is not in its UPDATE.
    store = lisbon_store
    place = next(store.list(public_filter(PlaceFilter(sensitivity="public"), "open_data")))
    mark = "?" if hasattr(store, "conn") else "%s"
    sql = (
        f"UPDATE places SET title = 'Edited by an older worker', version = version + 1, "
        f"updated_at = updated_at WHERE id = {mark}"
    )
    if hasattr(store, "conn"):
        store.conn.execute(sql, (place.id,))  # type: ignore[attr-defined]
    else:
        with store._write() as conn:  # type: ignore[attr-defined]
            conn.execute(sql, (place.id,))
    assert place.id in pending_ids(store)
    text = copied(store)
    assert same(store, text, built(store))
    assert b"Edited by an older worker" in text


def test_no_head_is_stored_for_a_place_not_shown_where_it_is(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    store = lisbon_store
    place = store.get(open_data_cases["hidden"])
    place.title = "Still hidden"
    store.update(place)
    rows = raw(
        store,
        "SELECT id FROM places WHERE public_feature IS NOT NULL AND sensitivity != 'public'",
    )
    assert rows == []
    # And every public place has one.
    assert (
        raw(store, "SELECT id FROM places WHERE public_feature IS NULL AND sensitivity = 'public'")
        == []
    )


def test_places_version_changes_with_every_change_and_only_then(
    lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    store = lisbon_store
    seen = [store.places_version()[0]]

    def changed() -> bool:
        version = store.places_version()[0]
        new = version not in seen
        seen.append(version)
        return new

    assert not changed()  # reading changes nothing
    list(public_feature_chunks(store, None))
    assert not changed()
    place = store.add(Place(Point(-9.14, 38.71), "New", [Narrative("x", "en")], "monument"))
    assert changed()
    place.title = "Newer"
    store.update(place)
    assert changed()
    store.set_protocol_labels(
        place.id, [ProtocolLabel("tk_a", "TK Attribution", "Name the community.")]
    )
    assert changed()
    store.set_protocol_labels(place.id, [])
    assert changed()
    store.delete(place.id)
    assert changed()
    _, last = store.places_version()
    assert last is not None


def test_migrating_an_older_database_stores_the_missing_heads(
    tmp_path: Path, open_data_cases: dict[str, str], lisbon_store: PlaceStore
) -> None:
    if not hasattr(lisbon_store, "conn"):
        pytest.skip("the SQLite migration; PostGIS runs the same backfill in migrate()")
    path = tmp_path / "atlas.db"
    expected = built(lisbon_store)
    undo_search_migration(lisbon_store)
    conn = lisbon_store.conn  # type: ignore[attr-defined]
    # Back to the schema before 0006: no heads, no places version.
    for (trigger,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name = "
        "'places_stale_head' OR name LIKE '%version%' AND name NOT LIKE 'neighbourhoods%')"
    ).fetchall():
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("ALTER TABLE places DROP COLUMN public_feature")
    conn.execute("DELETE FROM store_versions WHERE name = 'places'")
    conn.execute("ALTER TABLE store_versions DROP COLUMN changed_at")
    conn.execute("DROP TABLE login_throttle")  # and none of the later migrations' tables
    conn.execute("PRAGMA user_version = 5")
    lisbon_store.close()
    reopened = open_store(f"sqlite:///{path}")
    try:
        nulls = reopened.conn.execute(  # type: ignore[attr-defined]
            "SELECT count(*) FROM places WHERE public_feature IS NULL AND sensitivity = 'public'"
        ).fetchone()[0]
        assert nulls == 0
        assert same(reopened, copied(reopened), expected)
    finally:
        reopened.close()


def test_heads_stored_before_they_had_languages_are_encoded_again(
    tmp_path: Path, backend: str, open_data_cases: dict[str, str], lisbon_store: PlaceStore
) -> None:
    """Migration 0009: heads written without the ``languages`` property are replaced, so
    copied and built features agree again (every download carries the same fields)."""
    expected = built(lisbon_store)
    old_head = (
        "UPDATE places SET public_feature = CAST(replace(CAST(public_feature AS TEXT), "
        "',\"languages\":[]', '') AS BLOB) WHERE public_feature IS NOT NULL"
    )
    if backend == "sqlite":
        conn = lisbon_store.conn  # type: ignore[attr-defined]
        conn.execute(old_head)
        assert b'"languages"' not in copied(lisbon_store).split(b"}},")[0]
        undo_search_migration(lisbon_store)  # back to before 0010, then before 0009
        conn.execute("PRAGMA user_version = 8")
        lisbon_store.close()
        reopened = open_store(f"sqlite:///{tmp_path / 'atlas.db'}")
    else:
        with lisbon_store._write() as conn:  # type: ignore[attr-defined]
            conn.execute(
                "UPDATE places SET public_feature = convert_to(replace(convert_from("
                "public_feature, 'UTF8'), ',\"languages\":[]', ''), 'UTF8') "
                "WHERE public_feature IS NOT NULL"
            )
            conn.execute("DELETE FROM schema_migrations WHERE version = 9")
        assert b'"languages"' not in copied(lisbon_store).split(b"}},")[0]
        lisbon_store.migrate()  # type: ignore[attr-defined]
        reopened = lisbon_store
    try:
        copies = copied(reopened)
        assert same(reopened, copies, expected)
        features = orjson.loads(b"[" + copies + b"]")
        assert all("languages" in f["properties"] for f in features)
        area = next(f for f in features if f["id"] == open_data_cases["area"])
        assert area["properties"]["languages"] == ["pt", "ar"]
        # Encoded again and stored, not left for every download to build.
        built_here = {open_data_cases[k] for k in ("area", "generalised", "hidden")}
        assert pending_ids(reopened) == built_here
    finally:
        if reopened is not lisbon_store:
            reopened.close()
