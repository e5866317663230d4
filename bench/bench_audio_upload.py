"""Recording uploads and server memory: a 50 MB recording against a 1 MB one.

Starts ``python -m web serve`` (one worker, the Lisbon demo in a fresh SQLite file) on
127.0.0.1 on a free port, submits a place, warms the upload path up with one small
recording, then uploads to ``POST /api/places/{id}/audio``, one after the other:

1. a 1 MB WAV (the baseline);
2. a 50 MB WAV (about 26 minutes of 16 kHz mono speech).

Both are written to disk first and streamed from there by the client, so only the
server's memory is measured: its RSS before each upload and its peak growth during it
(VmHWM after a reset through ``/proc/PID/clear_refs`` where allowed, and VmRSS sampled
every 5 ms). Target (issue 19): the 50 MB upload's peak growth under 20 MB, i.e. flat:
no more than the baseline's by a few MB, as the body streams to disk and is checked and
stripped there a block at a time.

Run: ``python bench/bench_audio_upload.py``
"""

from __future__ import annotations

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


def upload(url: str, place: dict, path: Path, pid: int) -> tuple[int, float, float, float]:
    """Status, seconds, RSS before (MB) and peak growth (MB) of one upload."""
    before = memory_mb(pid, "VmRSS")
    exact = reset_peak(pid)
    start = time.perf_counter()
    with Sampler(pid) as sampler, path.open("rb") as fh:
        answer = httpx.post(
            f"{url}/api/places/{place['id']}/audio",
            files={"file": (path.name, fh, "audio/wav")},
            headers={"X-Edit-Token": place["edit_token"]},
            timeout=300,
        )
    seconds = time.perf_counter() - start
    peak = max(sampler.peak, memory_mb(pid, "VmHWM") if exact else 0.0)
    if answer.status_code != 201:
        raise SystemExit(f"upload of {path.name} answered {answer.status_code}: {answer.text}")
    return answer.status_code, seconds, before, peak - before


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
            upload(url, place, warm, server.pid)
            rows = [(f.name, f.stat().st_size, *upload(url, place, f, server.pid))
                    for f in (small, large)]  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{'upload':<18}{'bytes':>12}{'status':>8}{'seconds':>9}{'RSS before':>12}"
          f"{'peak growth':>13}")  # fmt: skip
    for name, size, status, seconds, before, growth in rows:
        print(f"{name:<18}{size:>12,}{status:>8}{seconds:>9.2f}{before:>10.1f}MB{growth:>11.1f}MB")
    base, big = rows[0][5], rows[1][5]
    print(f"50 MB against 1 MB: peak growth {big:.1f} MB vs {base:.1f} MB "
          f"({big - base:+.1f} MB for 50x the bytes); target under {TARGET_MB:.0f} MB: "
          f"{'met' if big < TARGET_MB else 'NOT met'}")  # fmt: skip
    sys.exit(0 if big < TARGET_MB else 1)


if __name__ == "__main__":
    main()
