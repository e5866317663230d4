"""Moving up: ``migrate-db`` copies a whole SQLite database into PostGIS (and back), every
table with equal counts and equal rows, and a copied database works as the original did."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from typer.testing import CliRunner

from geodata import login_throttle
from geodata.accounts import authenticate, create_account, start_session
from geodata.audit import Actor
from geodata.edit_tokens import check_edit_token
from geodata.errors import Conflict
from geodata.models import Moderation, Narrative, Place, Status, Workshop, utcnow
from geodata.moderation import publish
from geodata.place_attachments import Media, ProtocolLabel, Recording
from geodata.store import open_store
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.base_sync import LedgerEntry, SyncConflict, SyncReceipt
from geodata.store.migrate import MigrationError, migrate_store, table_counts, table_rows
from tests.postgis_schema import fresh_schema_url
from web.app import create_app
from web.cli import app as cli

runner = CliRunner()
SPOT = [-9.1402, 38.7101]


def feature(title: str, lon: float = SPOT[0], lat: float = SPOT[1], workshop: str | None = None):
    props = {
        "title": title,
        "narratives": [{"text": f"A story about {title}.", "language": "pt"}],
        "category": "memory",
        "consent": {"publish": True, "open_data": True},
        "contributor": {"name": "Maria Silva", "contact": "maria@example.org"},
    }
    if workshop:
        props["workshop"] = workshop
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}  # fmt: skip


class Filled:
    """What a filled SQLite database holds that the tests check again after the copy."""

    def __init__(self, store: PlaceStore, settings) -> None:
        self.store = store
        store.add_workshop(
            Workshop("MOURARIA", "Mouraria memories", utcnow() - timedelta(hours=1),
                     utcnow() + timedelta(hours=2), moderation=Moderation.POST,
                     languages=["pt", "en"])
        )  # fmt: skip
        self.account, self.token = create_account(
            store, "ana", "admin", password="a long enough pass"
        )
        self.session, _ = start_session(store, self.account, timedelta(hours=2))
        with TestClient(create_app(settings, store=store), base_url="http://127.0.0.1") as c:
            self.receipts = []
            for i, body in enumerate(
                [
                    feature("Tasca do Chico"),
                    feature("A Tasca do Chico", SPOT[0] + 0.0001),  # flagged as a duplicate
                    feature("Escadinhas de São Cristóvão", -9.1365, 38.7139, "MOURARIA"),
                ]
            ):
                answer = c.post(
                    "/api/places", json=body, headers={"Idempotency-Key": f"key-{i}-abcdef"}
                )
                assert answer.status_code == 201, answer.text
                self.receipts.append(answer.json())
        first = self.receipts[0]["id"]
        publish(store, first, Actor.of(self.account))
        with TestClient(create_app(settings, store=store), base_url="http://127.0.0.1") as c:
            memory = {"kind": "memory", "text": "We danced here.", "language": "en",
                      "author": "Rui", "contact": "rui@example.org", "consent": True}  # fmt: skip
            answer = c.post(f"/api/places/{first}/narratives", json=memory)
            assert answer.status_code == 201, answer.text
        store.set_protocol_labels(first, [ProtocolLabel("tk_a", "TK Attribution", "Name us.")])
        store.add_media(
            Media(first, "image/jpeg", 800, 600, 51234, f"{first}/a.jpg", f"{first}/a-t.jpg",
                  320, 240, "ab" * 32, caption="The door")
        )  # fmt: skip
        store.add_recording(
            Recording(first, "audio/ogg", 61.5, 4321, f"{first}/b.ogg", "cd" * 32,
                      title="A avó", transcript="Vendia sardinhas", transcript_language="pt")
        )  # fmt: skip
        with TestClient(create_app(settings, store=store), base_url="http://127.0.0.1") as c:
            walk = c.post("/api/walks", json={  # walks and walk_stops, with a route
                "titles": [{"text": "Round the corner", "language": "en"}],
                "introductions": [{"text": "One door.", "language": "en"}],
                "stops": [{"place_id": first, "chapters": [{"text": "Here.", "language": "en"}]}],
                "route": {"type": "LineString", "coordinates": [SPOT, [-9.1398, 38.7103]]},
                "consent": {"publish": True},
            })  # fmt: skip
            assert walk.status_code == 201, walk.text
        store.secret("form-csrf", lambda: b"0123456789abcdef" * 2)
        # what a venue pushed here, a conflict kept for a moderator, a venue's own ledger
        kit = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
        store.add_sync_receipt(SyncReceipt("s-1", kit, "place", first, "stored", True, "ac_x"))
        store.add_sync_conflict(
            SyncConflict("s-2", kit, "place", first, "edited_centrally",
                         {"base": {"title": "A"}, "state": {"title": "B"}}, place_id=first,
                         contributor_contact="rui@example.org")
        )  # fmt: skip
        store.save_ledger([LedgerEntry("place", first, "kit", "2", {"title": "A"}, "stored")])
        policy = login_throttle.LockPolicy(after=1)
        login_throttle.admit(store, "ana", policy)  # a wrong password: a lock to copy
        login_throttle.failed(store, "ana", policy, "192.0.2.1")


def same_columns(rows: list[dict], others: list[dict]) -> bool:
    """Equal rows in any order, compared on the columns both backends keep (PostGIS
    numbers some rows in a ``seq`` column where SQLite uses its rowid)."""
    shared = sorted(set(rows[0]) & set(others[0])) if rows and others else []

    def keep(table: list[dict]) -> list[tuple]:
        return sorted((tuple(r[k] for k in shared) for r in table), key=repr)

    return len(rows) == len(others) and keep(rows) == keep(others)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema_url("migrate") as url:
        yield url


@pytest.fixture
def filled(lisbon_store_sqlite, settings) -> Filled:
    return Filled(lisbon_store_sqlite, settings)


@pytest.fixture
def lisbon_store_sqlite(sqlite_store: PlaceStore) -> PlaceStore:
    from geodata.demo import load_demo

    load_demo(sqlite_store)
    return sqlite_store


@pytest.mark.postgis
def test_every_table_reaches_postgis_with_equal_counts_and_equal_rows(filled, pg_url):
    src = filled.store
    before = table_counts(src)
    assert all(before.values()), before  # every table holds something worth copying
    target = open_store(pg_url)
    try:
        report = migrate_store(src, target)
        assert {t.table: t.target for t in report.tables} == before
        assert table_counts(target) == before
        # Rows as each backend returns them, table by table, every column.
        for table in ("neighbourhoods", "accounts", "credentials", "audit_log", "media",
                      "place_flags", "place_protocol_labels", "idempotency_keys",
                      "login_throttle"):  # fmt: skip
            assert same_columns(table_rows(target, table), table_rows(src, table)), table
        # Places through the store: a random sample of the demo and every submission.
        ids = [p.id for p in src.list()]
        sample = random.Random(7).sample(ids, 25) + [r["id"] for r in filled.receipts]
        for place_id in sample:
            assert target.get(place_id) == src.get(place_id)
        assert [p.id for p in target.list()] == ids  # same order, for stable paging
        assert target.workshops() == src.workshops()
        assert target.flags() == src.flags()
        assert target.audit_events() == src.audit_events()
        assert target.secret("form-csrf", lambda: b"other") == b"0123456789abcdef" * 2
    finally:
        target.close()


@pytest.mark.postgis
def test_a_copied_database_works_as_the_original_did(filled, pg_url):
    src = filled.store
    target = open_store(pg_url)
    try:
        migrate_store(src, target)
        account, _ = authenticate(target, filled.token, "token")
        assert account.id == filled.account.id
        assert authenticate(target, filled.session, "session")[0].name == "ana"
        mine = filled.receipts[1]
        assert check_edit_token(target, mine["id"], mine["edit_token"]).title == "A Tasca do Chico"
        box = PlaceFilter(bbox=(-9.15, 38.70, -9.13, 38.72))
        assert [p.id for p in target.list(box)] == [p.id for p in src.list(box)]
        assert target.count(box) > 0
        for query in ("tasca", "sao jorge", "story about"):  # the search texts came along
            assert [p.id for p in target.search(query)] == [p.id for p in src.search(query)]
        assert target.search("tasca")
        # Identity sequences continue after the copied rows.
        place = target.add(Place(geometry=Point(-9.14, 38.71), title="After the move",
                                 narratives=[Narrative("New", "en")], category="memory",
                                 status=Status.PENDING))  # fmt: skip
        assert [p.id for p in target.list()][-1] == place.id
        last = max(e.id for e in target.audit_events())
        publish(target, place.id, Actor.of(account))
        assert target.audit_events(place_id=place.id)[-1].id > last
    finally:
        target.close()


@pytest.mark.postgis
def test_a_target_holding_data_is_refused_unless_forced(filled, pg_url):
    src = filled.store
    target = open_store(pg_url)
    try:
        migrate_store(src, target)
        target.add(Place(geometry=Point(-9.14, 38.71), title="Only in the target",
                         narratives=[Narrative("x", "en")], category="memory"))  # fmt: skip
        counts = table_counts(target)
        with pytest.raises(Conflict, match=r"already holds data.*--force"):
            migrate_store(src, target)
        assert table_counts(target) == counts
        migrate_store(src, target, force=True)
        assert table_counts(target) == table_counts(src)
        assert target.count(PlaceFilter(title_contains="Only in the target")) == 0
    finally:
        target.close()


@pytest.mark.postgis
def test_a_column_the_target_lacks_stops_the_copy_and_writes_nothing(filled, pg_url):
    src = filled.store
    src.conn.execute("ALTER TABLE media ADD COLUMN credit TEXT")  # type: ignore[attr-defined]
    target = open_store(pg_url)
    try:
        with pytest.raises(MigrationError, match=r"media\.credit exists only in the source"):
            migrate_store(src, target)
        assert not any(table_counts(target).values())
    finally:
        target.close()


@pytest.mark.postgis
def test_postgis_back_to_sqlite_rebuilds_bounds_and_the_rtree(filled, pg_url, tmp_path):
    target = open_store(pg_url)
    back = open_store(f"sqlite:///{tmp_path / 'back.db'}")
    try:
        migrate_store(filled.store, target)
        migrate_store(target, back)
        assert table_counts(back) == table_counts(filled.store)
        assert table_rows(back, "places") == table_rows(filled.store, "places")  # bounds too
        assert back.integrity_check() == "ok"  # type: ignore[attr-defined]
        for bbox in [(-9.15, 38.70, -9.13, 38.72), (-9.20, 38.74, -9.18, 38.76)]:
            flt = PlaceFilter(bbox=bbox)
            assert [p.id for p in back.list(flt)] == [p.id for p in filled.store.list(flt)]
        back.conn.execute(  # type: ignore[attr-defined]  # raises if the index is off
            "INSERT INTO places_search (places_search, rank) VALUES ('integrity-check', 1)"
        )
        for query in ("tasca", "sao jorge", "story about"):  # and the search index is rebuilt
            assert [p.id for p in back.search(query)] == [p.id for p in filled.store.search(query)]
    finally:
        target.close()
        back.close()


@pytest.mark.postgis
def test_the_command_copies_checks_counts_and_says_where_the_photos_stay(
    filled, pg_url, tmp_path, monkeypatch
):
    monkeypatch.delenv("HERITAGE_MEDIA_DIR", raising=False)
    source = f"sqlite:///{filled.store.path}"  # type: ignore[attr-defined]
    result = runner.invoke(cli, ["migrate-db", "--from", source, "--to", pg_url])
    assert result.exit_code == 0, result.output
    assert "places" in result.output and "every count matches" in result.output
    media_dir = str(Path(filled.store.path).with_name("atlas-media"))  # type: ignore[attr-defined]
    assert "1 records copied" in result.output and media_dir in result.output
    again = runner.invoke(cli, ["migrate-db", "--from", source, "--to", pg_url])
    assert again.exit_code == 1
    assert again.output.count("\n") == 1 and "--force" in again.output
    missing = runner.invoke(cli, ["migrate-db", "--from", f"sqlite:///{tmp_path}/nope.db",
                                  "--to", pg_url])  # fmt: skip
    assert missing.exit_code == 1 and "no SQLite database" in missing.output
    assert not Path(tmp_path / "nope.db").exists()


def test_backup_copies_a_live_sqlite_database_and_points_postgis_to_pg_dump(
    filled, tmp_path, monkeypatch
):
    source = f"sqlite:///{filled.store.path}"  # type: ignore[attr-defined]
    copy = tmp_path / "backup" / "atlas-copy.db"
    copy.parent.mkdir()
    result = runner.invoke(cli, ["backup", str(copy), "--database-url", source])
    assert result.exit_code == 0, result.output
    restored = open_store(f"sqlite:///{copy}")
    try:
        assert table_counts(restored) == table_counts(filled.store)
    finally:
        restored.close()
    assert sorted(p.name for p in copy.parent.iterdir()) == ["atlas-copy.db"]  # no partial
    again = runner.invoke(cli, ["backup", str(copy), "--database-url", source])
    assert again.exit_code == 1 and "--force" in again.output
    pg = runner.invoke(cli, ["backup", str(tmp_path / "x"), "--database-url",
                             "postgresql://postgres@127.0.0.1/test"])  # fmt: skip
    assert pg.exit_code == 1 and "pg_dump" in pg.output
