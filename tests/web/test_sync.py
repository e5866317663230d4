"""Sync back: a venue laptop's contributions reach the central atlas exactly once, conflicts
are kept for a moderator, and the atlas's erasures reach the laptop. The central atlas runs
on each backend; the venue is opened from a real kit, and both are real apps over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geodata.account_records import Role
from geodata.accounts import revoke_token
from geodata.audit import COMMAND_LINE
from geodata.erasure import erase_contact
from geodata.kit_folder import VenueFolder, open_folder
from geodata.models import Status
from geodata.store.base import PlaceStore
from tests.kit_helpers import AUDIO, FADO_CONTACT, Central, central_atlas, jpeg, make_kit
from tests.web.staff_helpers import Staff, make_staff, page_csrf, sign_in
from web.app import create_app
from web.settings import Settings
from web.sync_client import Atlas, PushReport, SyncFailed, pull, push


@dataclass
class Sites:
    central: TestClient
    central_store: PlaceStore
    central_media: Path
    c: Central
    staff: dict[Role, Staff]
    folder: VenueFolder
    venue: TestClient
    venue_store: PlaceStore
    venue_staff: dict[Role, Staff]

    def push(self, token: str | None = None) -> PushReport:
        atlas = Atlas(
            "http://127.0.0.1",
            token or self.staff[Role.FACILITATOR].token,
            client=TestClient(self.central.app, base_url="http://127.0.0.1"),
        )
        return push(self.folder, atlas, batch=3)

    def pull(self) -> object:
        atlas = Atlas(
            "http://127.0.0.1",
            self.staff[Role.FACILITATOR].token,
            client=TestClient(self.central.app, base_url="http://127.0.0.1"),
        )
        return pull(self.folder, atlas)

    def counts(self) -> dict[str, int]:
        s = self.central_store
        venue_ids = [p.id for p in self.venue_store.list()]
        return {
            "places": s.count(),
            "additions": s.count_narrative_additions(),
            "photos": sum(len(v) for v in s.media_for_places(venue_ids).values()),
            "recordings": sum(len(v) for v in s.recordings_for_places(venue_ids).values()),
            "receipts": s.count_sync_receipts(),
            "conflicts": s.count_sync_conflicts(),
        }


@pytest.fixture
def sites(store: PlaceStore, tmp_path: Path) -> Iterator[Sites]:
    media = tmp_path / "central-media"
    c = central_atlas(store, media, moderation="pre")
    staff = make_staff(store)
    kit = tmp_path / "laptop" / "venue.atlaskit"
    kit.parent.mkdir()
    make_kit(store, c.code, kit, media)
    folder, _ = open_folder(kit)
    central_app = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'x.db'}",
            media_dir=str(media),
            tiles="none",
            _env_file=None,
        ),  # type: ignore[call-arg]
        store=store,
    )
    venue_app = create_app(
        Settings(
            database_url=folder.database_url,
            media_dir=str(folder.media),
            tiles="none",
            _env_file=None,
        )  # type: ignore[call-arg]
    )
    with (
        TestClient(central_app, base_url="http://127.0.0.1") as central,
        TestClient(venue_app, base_url="http://127.0.0.1") as venue,
    ):
        vstore = venue_app.state.store
        yield Sites(central, store, media, c, staff, folder, venue, vstore, make_staff(vstore))
    venue_app.state.store.close()


def submit(venue: TestClient, code: str, title: str, lon: float, **more) -> dict:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 38.7140]},
        "properties": {
            "title": title,
            "narratives": [{"text": f"{title}: what happened here", "language": "pt"}],
            "category": "memory",
            "consent": {"publish": True, "open_data": True},
            "contributor": {"name": "Rosa", "contact": f"{title.lower()}@example.org"},
            "workshop": code,
            **more,
        },
    }
    answer = venue.post("/api/places", json=feature)
    assert answer.status_code == 201, answer.text
    return answer.json()


def collect(s: Sites) -> dict[str, dict]:
    """What a workshop collects: two places (one with a photo, one with a recording), a
    memory on a place from the kit, and a facilitator's decision."""
    code = s.c.code
    bakery = submit(s.venue, code, "Bakery", -9.1351)
    steps = submit(s.venue, code, "Steps", -9.1342)
    token = {"X-Edit-Token": bakery["edit_token"]}
    up = s.venue.post(
        f"/api/places/{bakery['id']}/media",
        headers=token,
        files={"file": ("b.jpg", jpeg((800, 600)), "image/jpeg")},
    )
    assert up.status_code == 201, up.text
    with open(AUDIO / "tone.mp3", "rb") as sound:
        up = s.venue.post(
            f"/api/places/{steps['id']}/audio",
            headers={"X-Edit-Token": steps["edit_token"]},
            files={"file": ("s.mp3", sound, "audio/mpeg")},
            data={"scope": "public", "title": "The steps at dawn"},
        )
    assert up.status_code == 201, up.text
    memory = s.venue.post(
        f"/api/places/{s.c.with_photo}/narratives",
        json={
            "kind": "memory",
            "text": "We danced here in 1974.",
            "language": "en",
            "contact": "dancer@example.org",
            "consent": True,
        },
    )
    assert memory.status_code == 201, memory.text
    published = s.venue.post(
        f"/api/moderation/places/{bakery['id']}/publish",
        headers=s.venue_staff[Role.FACILITATOR].headers,
    )
    assert published.status_code == 200, published.text
    return {"bakery": bakery, "steps": steps, "memory": memory.json()}


def test_a_push_brings_what_the_venue_collected_once(sites: Sites):
    s = sites
    before = s.counts()
    made = collect(s)
    report = s.push()
    assert (report.stored, report.already, report.conflicts) == (5, 0, [])
    after = s.counts()
    assert after["places"] == before["places"] + 2
    assert after["additions"] == before["additions"] + 1
    assert (after["photos"], after["recordings"]) == (
        before["photos"] + 1,
        before["recordings"] + 1,
    )
    assert after["receipts"] == 5 and after["conflicts"] == 0
    bakery = s.central_store.get(made["bakery"]["id"])
    assert bakery.status == Status.PUBLISHED and bakery.workshop == s.c.code
    assert bakery.contributor_contact == "bakery@example.org"  # the atlas's own residents' data
    photo = s.central_store.media(bakery.id)[0]
    assert (s.central_media / photo.path).is_file()
    # the resident's edit link works on the atlas too, once its address is changed
    own = s.central.get(
        f"/api/places/{bakery.id}", headers={"X-Edit-Token": made["bakery"]["edit_token"]}
    )
    assert own.status_code == 200
    memory = s.central_store.narrative_addition(made["memory"]["id"])
    assert memory.status == Status.PENDING and memory.contributor_contact == "dancer@example.org"
    # a second push has nothing to send; one whose answers were lost resends, stores nothing
    assert s.push().sent == 0
    s.venue_store.save_ledger([])  # as if the laptop had crashed before writing the answers
    with s.venue_store.transaction():
        s.venue_store.conn.execute("DELETE FROM sync_ledger WHERE origin = 'venue'")  # type: ignore[attr-defined]
    again = s.push()
    assert (again.stored, again.already, again.conflicts) == (0, 5, [])
    assert s.counts() == after


def test_a_wrong_or_revoked_token_gets_401_and_nothing_is_stored(sites: Sites):
    s = sites
    collect(s)
    before = s.counts()
    with pytest.raises(SyncFailed, match=r"refused the token \(401\)"):
        s.push("hat_not-a-token")
    facilitator = s.staff[Role.FACILITATOR]
    with pytest.raises(SyncFailed, match=r"refused the token \(403\)"):
        s.push(s.staff[Role.PLANNER].token)
    token_id = s.central_store.credentials(
        s.central_store.account_by_name(facilitator.name).id  # type: ignore[union-attr]
    )[0].id
    revoke_token(s.central_store, token_id)
    with pytest.raises(SyncFailed, match=r"\(401\)"):
        s.push(facilitator.token)
    assert s.counts() == before
    direct = s.central.post(
        "/api/sync/changes",
        json={"kit": s.folder.kit_id, "changes": []},
        headers={"Authorization": f"Bearer {facilitator.token}"},
    )
    assert direct.status_code == 401
    assert direct.headers["content-type"].startswith("application/problem+json")
    assert len(s.venue_store.sync_ledger()) == len(
        [e for e in s.venue_store.sync_ledger().values() if e.origin == "kit"]
    )  # the laptop still holds everything as waiting


def test_conflicts_are_kept_for_a_moderator_and_never_overwrite(sites: Sites):
    s = sites
    central_staff, venue_staff = s.staff[Role.FACILITATOR], s.venue_staff[Role.FACILITATOR]
    kit_place = s.c.generalised
    assert (
        s.central.patch(
            f"/api/moderation/places/{kit_place}",
            json={"title": "Doorstep (A)"},
            headers=central_staff.headers,
        ).status_code
        == 200
    )
    assert (
        s.venue.patch(
            f"/api/moderation/places/{kit_place}",
            json={"title": "Doorstep (V)"},
            headers=venue_staff.headers,
        ).status_code
        == 200
    )
    memory = s.venue.post(
        f"/api/places/{s.c.with_photo}/narratives",
        json={
            "kind": "memory",
            "text": "The fado house had a blue door.",
            "language": "en",
            "consent": True,
        },
    )
    assert memory.status_code == 201
    erase_contact(s.central_store, FADO_CONTACT, s.central_media, COMMAND_LINE)
    report = s.push()
    reasons = sorted(c["reason"] for c in report.conflicts)
    assert reasons == ["edited_centrally", "erased_centrally"] and report.stored == 0
    assert s.central_store.get(kit_place).title == "Doorstep (A)"  # never overwritten
    listed = s.central.get("/api/sync/conflicts", headers=central_staff.headers).json()
    assert listed["total"] == 2
    by_reason = {c["reason"]: c for c in listed["conflicts"]}
    edited = by_reason["edited_centrally"]
    assert edited["venue"]["state"]["title"] == "Doorstep (V)"
    erased = by_reason["erased_centrally"]
    refused = s.central.post(
        f"/api/sync/conflicts/{erased['id']}/resolve",
        json={"keep": "venue"},
        headers=central_staff.headers,
    )
    assert refused.status_code == 409, refused.text
    # a moderator decides on the page: both versions side by side
    assert sign_in(s.central, central_staff.name).status_code == 303
    page = s.central.get("/moderation/conflicts")
    assert page.status_code == 200 and "2 changes to decide" in page.text
    card = page.text[page.text.index(f'id="conflict-{edited["id"]}"') :]
    card = card[: card.index("</article>")]
    assert "Doorstep (V)" in card and "Doorstep (A)" in card and 'value="venue"' in card
    gone = page.text[page.text.index(f'id="conflict-{erased["id"]}"') :]
    assert 'value="venue"' not in gone[: gone.index("</article>")]  # nothing to apply it to
    taken = s.central.post(
        f"/moderation/conflicts/{edited['id']}/resolve",
        data={"keep": "venue", "csrf_token": page_csrf(page.text)},
        follow_redirects=False,
    )
    assert taken.status_code == 303 and taken.headers["location"].endswith("done=took_venue")
    assert s.central_store.sync_conflict(edited["id"]).resolution == "took_venue"
    assert s.central_store.get(kit_place).title == "Doorstep (V)"
    assert "Applied the venue" in s.central.get(taken.headers["location"]).text
    kept = s.central.post(
        f"/api/sync/conflicts/{erased['id']}/resolve",
        json={"keep": "central"},
        headers=central_staff.headers,
    )
    assert kept.json()["resolution"] == "kept_central"
    assert s.central.get("/api/sync/conflicts", headers=central_staff.headers).json()["total"] == 0
    assert s.push().sent == 0  # reported once, not sent again
    # After the conflicts, a pull still brings the central erasure to the laptop, and the
    # laptop has nothing more to send.
    pulled = s.pull()
    # the place (its memories, photo and recordings go with it, counted once)
    assert pulled.erased == 1  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="no place"):
        s.venue_store.get(s.c.with_photo)
    assert [a for a in s.venue_store.narrative_additions() if a.place_id == s.c.with_photo] == []
    assert s.venue_store.get(kit_place).title == "Doorstep (V)"  # as the moderator chose
    assert s.push().sent == 0


def test_a_pull_brings_central_erasures_and_withdrawals_to_the_laptop(sites: Sites):
    s = sites
    made = collect(s)
    s.push()
    steps, bakery = made["steps"], made["bakery"]
    withdrawn = s.central.delete(
        f"/api/places/{steps['id']}", headers={"X-Edit-Token": steps["edit_token"]}
    )
    assert withdrawn.status_code == 204
    erase_contact(s.central_store, "bakery@example.org", s.central_media, COMMAND_LINE)
    hidden = s.central.post(
        f"/api/moderation/places/{s.c.with_photo}/reject",
        json={"reason": "asked to take it down"},
        headers=s.staff[Role.FACILITATOR].headers,
    )
    assert hidden.status_code == 200
    report = s.pull()
    assert (report.erased, report.withdrawn, report.unpublished) == (1, 1, 1)  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="no place"):
        s.venue_store.get(bakery["id"])
    assert not any((s.folder.media / bakery["id"]).glob("*"))  # its photo's files too
    gone = s.venue_store.get(steps["id"])
    assert gone.status == Status.WITHDRAWN and gone.contributor_contact is None
    assert s.venue_store.recordings(steps["id"]) == []
    assert s.venue.get(f"/places/{s.c.with_photo}").status_code == 404
    assert s.push().sent == 0  # nothing the laptop just received goes back up
