"""Recording uploads and server memory: a 50 MB recording against a 1 MB one.

Starts ``python -m web serve`` (one worker, the Lisbon demo in a fresh SQLite file) on
127.0.0.1 on a free port, submits a place and proposes a walk, warms the upload path up
with one small recording, then uploads, one after the other:

1. a 1 MB WAV to ``POST /api/places/{id}/audio`` (the baseline);
2. a 50 MB WAV (about 26 minutes of 16 kHz mono speech) to the same;
3. the 50 MB WAV to a walk's stop, ``POST /api/walks/{id}/stops/1/audio``;
4. the 50 MB WAV with a new place's plain form, ``POST /contribute`` (the recording is
   checked before the place is stored, and kept with it).

Both are written to disk first and streamed from there by the client, so only the
server's memory is measured: its RSS before each upload and its peak growth during it
(VmHWM after a reset through ``/proc/PID/clear_refs`` where allowed, and VmRSS sampled
every 5 ms). Target (issue 19): the 50 MB upload's peak growth under 20 MB, i.e. flat:
no more than the baseline's by a few MB, as the body streams to disk and is checked and
stripped there a block at a time.

Run: ``python bench/bench_audio_upload.py``
"""

from __future__ import annotations

import re
import struct
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_photos import Sampler, free_port, memory_mb, reset_peak, start_server, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 20.0
RATE = 16000


def write_wav(path: Path, size_bytes: int) -> Path:
    """A mono 16-bit PCM WAV of about ``size_bytes``, written a block at a time."""
    samples = (size_bytes - 44) // 2
    block = b"".join(struct.pack("<h", (i * 977) % 16000 - 8000) for i in range(RATE))
    with path.open("wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", 36 + samples * 2) + b"WAVE")
        fh.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16))
        fh.write(b"data" + struct.pack("<I", samples * 2))
        left = samples * 2
        while left:
            part = block[: min(left, len(block))]
            fh.write(part)
            left -= len(part)
    return path


def measure(pid: int, send) -> tuple[int, float, float, float]:
    """Status, seconds, RSS before (MB) and peak growth (MB) of one upload (``send()``)."""
    before = memory_mb(pid, "VmRSS")
    exact = reset_peak(pid)
    start = time.perf_counter()
    with Sampler(pid) as sampler:
        answer = send()
    seconds = time.perf_counter() - start
    peak = max(sampler.peak, memory_mb(pid, "VmHWM") if exact else 0.0)
    if answer.status_code != 201:
        raise SystemExit(f"upload answered {answer.status_code}: {answer.text[:500]}")
    return answer.status_code, seconds, before, peak - before


def to_place(url: str, place: dict, path: Path):
    def send() -> httpx.Response:
        with path.open("rb") as fh:
            return httpx.post(
                f"{url}/api/places/{place['id']}/audio",
                files={"file": (path.name, fh, "audio/wav")},
                headers={"X-Edit-Token": place["edit_token"]},
                timeout=300,
            )

    return send


def to_walk_stop(url: str, walk: dict, path: Path):
    def send() -> httpx.Response:
        with path.open("rb") as fh:
            return httpx.post(
                f"{url}/api/walks/{walk['id']}/stops/1/audio",
                files={"file": (path.name, fh, "audio/wav")},
                headers={"X-Edit-Token": walk["edit_token"]},
                timeout=300,
            )

    return send


def with_new_place(url: str, path: Path):
    """The plain form, as a browser without JavaScript sends it (CSRF cookie and field)."""

    def send() -> httpx.Response:
        with httpx.Client(base_url=url, timeout=300) as client, path.open("rb") as fh:
            page = client.get("/contribute").text
            field = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            return client.post(
                "/contribute",
                data={
                    "csrf_token": field,
                    "title": "Bench voices, by form",
                    "narrative": "A place for the benchmark.",
                    "narrative_language": "en",
                    "category": "memory",
                    "latitude": "38.7139",
                    "longitude": "-9.1333",
                    "consent_publish": "yes",
                    "voice_scope": "archive",
                },
                files={"voice": (path.name, fh, "audio/wav")},
            )

    return send


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp:
        work = Path(tmp)
        small = write_wav(work / "baseline-1mb.wav", 1 * 2**20)
        large = write_wav(work / "large-50mb.wav", 50 * 2**20)
        warm = write_wav(work / "warm.wav", 64 * 1024)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(ROOT, work, port, None)
        try:
            wait_until_up(url, server)
            answer = httpx.post(
                url + "/api/places",
                json={
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [-9.1333, 38.7139]},
                    "properties": {
                        "title": "Bench voices",
                        "narratives": [{"text": "A place for the benchmark.", "language": "en"}],
                        "category": "memory",
                        "consent": {"publish": True},
                    },
                },
            )
            answer.raise_for_status()
            place = answer.json()
            items = httpx.get(f"{url}/ogc/collections/places/items?f=json&limit=2").json()
            here = {"text": "Here.", "language": "en"}
            walk = httpx.post(
                url + "/api/walks",
                json={
                    "titles": [{"text": "Bench walk", "language": "en"}],
                    "introductions": [{"text": "Two stops.", "language": "en"}],
                    "stops": [{"place_id": f["id"], "chapters": [here]} for f in items["features"]],
                    "consent": {"publish": True},
                },
            )  # fmt: skip
            walk.raise_for_status()
            measure(server.pid, to_place(url, place, warm))
            runs = [
                ("place, 1 MB", small, to_place(url, place, small)),
                ("place, 50 MB", large, to_place(url, place, large)),
                ("walk stop, 50 MB", large, to_walk_stop(url, walk.json(), large)),
                ("new place form, 50 MB", large, with_new_place(url, large)),
            ]
            rows = [(name, f.stat().st_size, *measure(server.pid, send)) for name, f, send in runs]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{'upload':<24}{'bytes':>12}{'status':>8}{'seconds':>9}{'RSS before':>12}"
          f"{'peak growth':>13}")  # fmt: skip
    for name, size, status, seconds, before, growth in rows:
        print(f"{name:<24}{size:>12,}{status:>8}{seconds:>9.2f}{before:>10.1f}MB{growth:>11.1f}MB")
    base = rows[0][5]
    met = True
    for name, _, _, _, _, big in rows[1:]:
        ok = big < TARGET_MB
        met = met and ok
        print(f"{name} against 1 MB: peak growth {big:.1f} MB vs {base:.1f} MB "
              f"({big - base:+.1f} MB for 50x the bytes); target under {TARGET_MB:.0f} MB: "
              f"{'met' if ok else 'NOT met'}")  # fmt: skip
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
