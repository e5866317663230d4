"""Sync back between two real servers: a central atlas (``heritage-atlas serve``) and a venue
laptop running its kit (``heritage-atlas kit open``), both uvicorn processes on 127.0.0.1.

Phones (HTTP clients) contribute at the venue; ``heritage-atlas sync push`` is killed with
SIGKILL half-way through its batches and run again; the central atlas then holds every
contribution exactly once, with exact counts. A third push sends nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from geodata.accounts import create_account
from geodata.store import open_store
from geodata.store.base import PlaceFilter
from tests.kit_helpers import AUDIO, central_atlas, copy_kit, jpeg, make_kit
from tests.postgis_schema import fresh_schema_url
from tests.web.test_crash_safety import Server, server_env

ROOT = Path(__file__).resolve().parents[2]
PLACES, MEMORIES, PHOTOS, RECORDINGS = 90, 30, 3, 2
CHANGES = PLACES + MEMORIES + PHOTOS + RECORDINGS
KILL_AFTER = 30  # receipts on the central atlas before the pusher is killed
WAIT_S = 300.0


@pytest.fixture(params=["sqlite", "postgis"])
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    request.applymarker(pytest.mark.postgis)
    with fresh_schema_url("sync") as url:
        yield url


def _counts(url: str, venue_places: list[str]) -> dict[str, int]:
    store = open_store(url)
    try:
        return {
            "places": store.count(),
            "venue places": store.count(PlaceFilter(ids=venue_places)) if venue_places else 0,
            "memories": store.count_narrative_additions(),
            "photos": sum(len(v) for v in store.media_for_places(venue_places).values()),
            "recordings": sum(len(v) for v in store.recordings_for_places(venue_places).values()),
            "receipts": store.count_sync_receipts(),
            "conflicts": store.count_sync_conflicts(),
        }
    finally:
        store.close()


def _contribute(venue: str, code: str, facilitator: str, kit_places: list[str]) -> list[str]:
    """What the room sends: places (some with a photo or a recording), memories of places
    that came in the kit, and a facilitator publishing a few places."""
    ids = []
    with httpx.Client(base_url=venue, timeout=60.0) as http:
        for n in range(PLACES):
            answer = http.post(
                "/api/places",
                json={
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [-9.140 + n * 0.0001, 38.712 + (n % 7) * 0.0002],
                    },
                    "properties": {
                        "title": f"Venue place {n}",
                        "category": "memory",
                        "workshop": code,
                        "narratives": [{"text": f"Story {n}, told in the room", "language": "pt"}],
                        "consent": {"publish": True, "open_data": True},
                        "contributor": {"name": f"Resident {n}", "contact": f"r{n}@example.org"},
                    },
                },
            )
            assert answer.status_code == 201, answer.text
            receipt = answer.json()
            ids.append(receipt["id"])
            token = {"X-Edit-Token": receipt["edit_token"]}
            if n < PHOTOS:
                up = http.post(
                    f"/api/places/{receipt['id']}/media",
                    headers=token,
                    files={"file": ("p.jpg", jpeg((640, 480)), "image/jpeg")},
                )
                assert up.status_code == 201, up.text
            elif n < PHOTOS + RECORDINGS:
                with open(AUDIO / "tone.mp3", "rb") as sound:
                    up = http.post(
                        f"/api/places/{receipt['id']}/audio",
                        headers=token,
                        files={"file": ("v.mp3", sound, "audio/mpeg")},
                    )
                assert up.status_code == 201, up.text
        for n in range(MEMORIES):
            place = kit_places[n % len(kit_places)]
            answer = http.post(
                f"/api/places/{place}/narratives",
                json={
                    "kind": "memory",
                    "text": f"Memory {n} of this place",
                    "language": "en",
                    "consent": True,
                },
            )
            assert answer.status_code == 201, answer.text
        for place in ids[:10]:
            done = http.post(
                f"/api/moderation/places/{place}/publish",
                headers={"Authorization": f"Bearer {facilitator}"},
            )
            assert done.status_code == 200, done.text
    return ids


def _push(kit: Path, central: str, token: str, env: dict[str, str], log: Path):
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "web",
                "sync",
                "push",
                str(kit),
                "--to",
                central,
                "--token",
                token,
                "--batch-size",
                "5",
            ],
            env=env,
            cwd=kit.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_push_killed_half_way_and_run_again_stores_everything_exactly_once(
    central_url: str, tmp_path: Path
):
    store = open_store(central_url)
    try:
        central = central_atlas(store, tmp_path / "media", moderation="pre")
        _, token = create_account(store, "ana", "facilitator")
        kit_places = [p.id for p in store.list(PlaceFilter(status="published"), limit=10)]
        kit = tmp_path / "office" / "mouraria.atlaskit"
        kit.parent.mkdir()
        make_kit(store, central.code, kit, tmp_path / "media")
    finally:
        store.close()
    laptop = copy_kit(kit, tmp_path / "laptop")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    env.update(PYTHONPATH=str(ROOT), HERITAGE_SUBMISSION_RATE_LIMIT="0")
    atlas = Server(server_env(central_url, tmp_path), tmp_path, "central")
    venue = Server(env, laptop.parent, "venue", ("kit", "open", str(laptop), "--host", "127.0.0.1"))
    try:
        live = httpx.get(f"{venue.url}/workshops/{central.code}/live").text
        assert f"{venue.url}/contribute?workshop={central.code}" in live  # the join link
        folder = laptop.parent / "mouraria"
        facilitator = subprocess.run(
            [
                sys.executable,
                "-m",
                "web",
                "create-user",
                "vera",
                "--role",
                "facilitator",
                "--database-url",
                f"sqlite:///{folder / 'atlas.db'}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        venue_places = _contribute(venue.url, central.code, facilitator, kit_places)
        before = _counts(central_url, venue_places)
        status = subprocess.run(
            [sys.executable, "-m", "web", "sync", "status", str(laptop)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"{CHANGES} changes wait to be pushed" in status

        log = tmp_path / "push.log"
        pusher = _push(laptop, atlas.url, token, env, log)
        deadline = time.monotonic() + WAIT_S
        while _counts(central_url, [])["receipts"] < KILL_AFTER:
            assert pusher.poll() is None, f"the push ended before it was killed:\n{log.read_text()}"
            assert time.monotonic() < deadline, "the push did not get going"
            time.sleep(0.02)
        pusher.send_signal(signal.SIGKILL)
        pusher.wait(timeout=30)
        at_kill = _counts(central_url, venue_places)
        assert KILL_AFTER <= at_kill["receipts"] < CHANGES, at_kill

        again = _push(laptop, atlas.url, token, env, log)
        assert again.wait(timeout=WAIT_S) == 0, log.read_text()
        after = _counts(central_url, venue_places)
        expected = {
            "places": before["places"] + PLACES,
            "venue places": PLACES,
            "memories": before["memories"] + MEMORIES,
            "photos": PHOTOS,
            "recordings": RECORDINGS,
            "receipts": CHANGES,
            "conflicts": 0,
        }
        assert after == expected, (at_kill, after)
        third = _push(laptop, atlas.url, token, env, log)
        assert third.wait(timeout=WAIT_S) == 0
        assert _counts(central_url, venue_places) == expected
        pushes = [line for line in log.read_text().splitlines() if line.startswith("pushed to")]
        assert len(pushes) == 2 and "0 stored, 0 stored before, 0 kept" in pushes[-1], pushes
        print(f"\nsync counts: before {before}\n  killed at {at_kill}\n  after {after}")
    finally:
        venue.kill()
        atlas.kill()
