"""Photo uploads and server memory: what a burst of large uploads costs one worker.

Starts ``python -m web serve`` (one worker, the Lisbon demo in a fresh SQLite file, the
rate limit lifted) on 127.0.0.1 on a free port, warms it up with two small photos, reads
its resident memory, then sends, phase by phase:

1. three 40-megapixel single-colour PNGs (about 125 kB each, made in memory) at once to
   ``POST /api/places/{id}/media``;
2. the same three through the ``/contribute`` form with its title missing;
3. three 12-megapixel JPEGs (4032 x 3024, a phone photo's size) at once.

For each phase it prints the answers by status, the time, the server's RSS before and its
peak growth during the phase: VmHWM from ``/proc/PID/status`` after resetting it through
``/proc/PID/clear_refs`` (where allowed), and VmRSS sampled every 5 ms. Target (issue
15): three 40 MP uploads at once add less than 250 MB.

``--old REV`` measures the same against the code at git revision ``REV`` (exported with
``git archive`` into a temporary folder), for example the commit before bounded image
work; ``--pixels N`` sets ``HERITAGE_MAX_PHOTO_PIXELS`` for the server (40000000 lets
the PNGs through to decoding).

Run: ``python bench/bench_photos.py [--old REV] [--pixels N]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 250
PLACE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
    "properties": {
        "title": "Miradouro for photos",
        "narratives": [{"text": "A view over the river.", "language": "en"}],
        "category": "public_space",
        "consent": {"publish": True},
    },
}


# ---------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------


def flat_png(width: int = 8000, height: int = 5000) -> bytes:
    """A complete single-colour RGB PNG, compressed row by row (never whole in memory)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes((46, 139, 87)) * width
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def phone_jpeg(width: int = 4032, height: int = 3024) -> bytes:
    """A 12 MP JPEG with smooth colour everywhere (not a flat one the encoder shrinks)."""
    across = Image.linear_gradient("L").rotate(90).resize((width, height))
    down = Image.linear_gradient("L").resize((width, height))
    rings = Image.radial_gradient("L").resize((width, height))
    out = io.BytesIO()
    Image.merge("RGB", (across, rings, ImageOps.invert(down))).save(out, "JPEG", quality=90)
    return out.getvalue()


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), "orange").save(out, "JPEG")
    return out.getvalue()


def small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 128, 255, 128)).save(out, "PNG")
    return out.getvalue()


# ---------------------------------------------------------------------------
# The server and its memory
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tree: Path, workdir: Path, port: int, pixels: int | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    env |= {
        "PYTHONPATH": str(tree),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HERITAGE_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "HERITAGE_MEDIA_DIR": str(workdir / "media"),
        "HERITAGE_TILES": "none",
        "HERITAGE_SUBMISSION_RATE_LIMIT": "0",
    }
    if pixels:
        env["HERITAGE_MAX_PHOTO_PIXELS"] = str(pixels)
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - kept open for the process
    return subprocess.Popen(
        [sys.executable, "-m", "web", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--demo"],
        env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped at start; see its log")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit("the server did not start")


def memory_mb(pid: int, key: str) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int) -> bool:
    """Set the process's VmHWM back to its current RSS (Linux 4.0+, same user)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Sampler:
    """VmRSS of a process every few milliseconds, in a thread, for the length of a block."""

    def __init__(self, pid: int, every_s: float = 0.005) -> None:
        self.pid, self.every_s, self.peak = pid, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, memory_mb(self.pid, "VmRSS"))
            time.sleep(self.every_s)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, memory_mb(self.pid, "VmRSS"))


# ---------------------------------------------------------------------------
# The phases
# ---------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    answers: Counter
    seconds: float
    rss_before_mb: float
    peak_mb: float  # the larger of VmHWM (if it could be reset) and the sampled VmRSS

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.rss_before_mb

    def line(self) -> str:
        answers = ", ".join(f"{n} x {status}" for status, n in sorted(self.answers.items()))
        return (
            f"  {self.name:<44} {answers:<18} {self.seconds:6.2f} s   RSS before "
            f"{self.rss_before_mb:6.0f} MB   peak growth {self.growth_mb:+7.0f} MB"
        )


async def new_place(client: httpx.AsyncClient) -> dict:
    response = await client.post("/api/places", json=PLACE)
    response.raise_for_status()
    return response.json()


async def upload(client: httpx.AsyncClient, place: dict, data: bytes, name: str) -> int:
    response = await client.post(
        f"{place['url']}/media",
        files={"file": (name, data, "image/jpeg" if name.endswith(".jpg") else "image/png")},
        headers={"X-Edit-Token": place["edit_token"]},
    )
    return response.status_code


async def csrf_token(client: httpx.AsyncClient) -> str:
    page = (await client.get("/contribute")).text
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


async def form_post(client: httpx.AsyncClient, token: str, data: bytes) -> int:
    fields = {
        "csrf_token": token,
        "title": "",  # the other error
        "narrative": "A view over the river.",
        "narrative_language": "en",
        "category": "public_space",
        "latitude": "38.7101",
        "longitude": "-9.1402",
        "consent_publish": "yes",
    }
    response = await client.post(
        "/contribute", data=fields, files={"photo": ("flat.png", data, "image/png")}
    )
    return response.status_code


async def phase(name: str, pid: int, jobs) -> Phase:
    await asyncio.sleep(0.5)  # let the last phase's threads finish and settle
    before = memory_mb(pid, "VmRSS")
    can_reset = reset_peak(pid)
    with Sampler(pid) as sampler:
        started = time.perf_counter()
        statuses = await asyncio.gather(*(job() for job in jobs))
        seconds = time.perf_counter() - started
    peak = sampler.peak
    if can_reset:
        peak = max(peak, memory_mb(pid, "VmHWM"))
    return Phase(name, Counter(statuses), seconds, before, peak)


async def measure(url: str, pid: int, png: bytes, jpeg: bytes) -> tuple[float, list[Phase]]:
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        warm = await new_place(client)
        for data, name in ((small_jpeg(), "warm.jpg"), (small_png(), "warm.png")):
            status = await upload(client, warm, data, name)
            if status != 201:
                raise SystemExit(f"warm-up upload answered {status}")
        token = await csrf_token(client)
        await asyncio.sleep(1.0)
        baseline = memory_mb(pid, "VmRSS")
        places = [await new_place(client) for _ in range(2)]
        phases = [
            await phase(
                "3 x 40 MP PNG at once (API)",
                pid,
                [lambda: upload(client, places[0], png, "flat.png")] * 3,
            ),
            await phase(
                "3 x 40 MP PNG at once (form, title missing)",
                pid,
                [lambda: form_post(client, token, png)] * 3,
            ),
            await phase(
                "3 x 12 MP JPEG at once (API)",
                pid,
                [lambda: upload(client, places[1], jpeg, "phone.jpg")] * 3,
            ),
        ]
    return baseline, phases


def run(tree: Path, label: str, pixels: int | None, png: bytes, jpeg: bytes) -> list[Phase]:
    with tempfile.TemporaryDirectory(prefix="heritage-bench-photos-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(tree, workdir, port, pixels)
        try:
            wait_until_up(url, server)
            baseline, phases = asyncio.run(measure(url, server.pid, png, jpeg))
            alive = server.poll() is None
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"{label}: server RSS after warm-up {baseline:.0f} MB; still up after: {alive}")
    for p in phases:
        print(p.line())
    return phases


def export_revision(rev: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", metavar="REV", help="also measure the code at this git revision")
    parser.add_argument("--pixels", type=int, help="HERITAGE_MAX_PHOTO_PIXELS for the server")
    args = parser.parse_args()
    png, jpeg = flat_png(), phone_jpeg()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"one worker (python -m web serve) on 127.0.0.1; 40 MP PNG {len(png) / 1e3:.0f} kB, "
        f"12 MP JPEG {len(jpeg) / 1e6:.1f} MB; HERITAGE_MAX_PHOTO_PIXELS "
        f"{args.pixels or 'default'}; CPUs {os.cpu_count()}, load average {load}"
    )
    if not reset_peak(os.getpid()):
        print("(VmHWM cannot be reset here: peaks are the sampled VmRSS only)")
    here = run(ROOT, "this tree", args.pixels, png, jpeg)
    worst = max(p.growth_mb for p in here[:2])
    verdict = "met" if worst < TARGET_MB else "NOT met"
    print(f"target: three 40 MP uploads at once add < {TARGET_MB} MB: {verdict} ({worst:+.0f} MB)")
    if args.old:
        with tempfile.TemporaryDirectory(prefix="heritage-bench-old-") as tmp:
            old = run(export_revision(args.old, Path(tmp)), args.old, args.pixels, png, jpeg)
        for new, before in zip(here, old, strict=True):
            print(
                f"  {new.name:<44} peak growth {before.growth_mb:+6.0f} MB -> "
                f"{new.growth_mb:+6.0f} MB"
            )


if __name__ == "__main__":
    main()
