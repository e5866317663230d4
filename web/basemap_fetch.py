"""``heritage-atlas basemap fetch``: a venue's raster tiles downloaded into an MBTiles file,
the way a tile server's usage policy asks: one request at a time, at most ``rate`` a
second, a User-Agent that names the program and how to reach its operator, a server's
``Retry-After`` obeyed, a refusal (``403``) taken as final, and a cap on how many tiles
one run may ask for. Tiles are committed in small batches, so an interrupted run (Ctrl+C,
a lost connection, a killed process) keeps what it had, and running the same command
again asks only for the tiles still missing. The server's attribution is kept in the
file's metadata and shown on every map drawn over it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import httpx

from geodata.basemap.archive import BasemapError, image_format, plain_attribution
from geodata.basemap.coverage import count_tiles, tile_range
from geodata.basemap.mbtiles import MBTilesWriter

MAX_TILE_BYTES = 4 * 1024 * 1024  # a 512-pixel aerial JPEG is well under this
TRIES = 4  # per tile, on network errors, 429 and 5xx
MAX_WAIT_S = 120.0  # the longest Retry-After obeyed; longer means "come back later"
BATCH = 32  # tiles per commit: at most this many are fetched again after a kill
BATCH_S = 2.0  # and at most this many seconds' worth
SOURCE_KEY = "heritage_atlas_source"  # the URL template a file's tiles came from


def user_agent(contact: str | None) -> str:
    """Who is asking: the program and its version, and how to reach the operator."""
    try:
        version = metadata.version("heritage-atlas")
    except metadata.PackageNotFoundError:
        version = "dev"
    reach = f"; {contact}" if contact else ""
    return f"heritage-atlas/{version} (basemap fetch for an offline workshop{reach})"


class RateLimit:
    """At most ``per_second`` calls of :meth:`wait` return each second, evenly spaced."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self._next = clock()

    def wait(self) -> None:
        now = self.clock()
        if now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def check_template(template: str) -> str:
    """An XYZ URL template: http(s), with {z}, {x} and {y}; BasemapError otherwise."""
    if not template.startswith(("http://", "https://")):
        raise BasemapError(f"--url {template!r} must start with http:// or https://")
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in template]
    if missing:
        raise BasemapError(
            f"--url {template!r} lacks {', '.join(missing)}: a template such as "
            "https://tiles.example.org/{z}/{x}/{y}.png"
        )
    return template


def tile_url(template: str, z: int, x: int, y: int, subdomains: str = "abc") -> str:
    s = subdomains[(x + y) % len(subdomains)] if subdomains else ""
    return (
        template.replace("{s}", s).replace("{z}", str(z)).replace("{x}", str(x))
        .replace("{y}", str(y)).replace("{r}", "")
    )  # fmt: skip


@dataclass
class FetchReport:
    """What a run did: tiles asked for in all, fetched now, found in the file, absent."""

    total: int
    fetched: int = 0
    already: int = 0
    absent: int = 0
    formats: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class FetchPlan:
    bounds: tuple[float, float, float, float]
    zooms: range
    template: str
    attribution: str
    max_tiles: int
    subdomains: str = "abc"


def _retry_after(response: httpx.Response, attempt: int) -> float:
    given = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(given))
    except ValueError:
        return float(2**attempt)


def get_tile(
    client: httpx.Client, url: str, sleep: Callable[[float], None] = time.sleep
) -> bytes | None:
    """One tile image; None when the server has none there (404, 204)."""
    problem = ""
    for attempt in range(TRIES):
        try:
            with client.stream("GET", url) as response:
                status = response.status_code
                if status == 200:
                    body = b""
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > MAX_TILE_BYTES:
                            raise BasemapError(f"{url} answered with more than 4 MB: not a tile")
                    if image_format(body) is None:
                        kind = response.headers.get("content-type", "unknown")
                        raise BasemapError(
                            f"{url} answered with something that is not a PNG, JPEG or WebP "
                            f"image ({kind}); is the --url template right?"
                        )
                    return body
                if status in (204, 404):
                    return None
                if status == 429 or status >= 500:
                    wait = _retry_after(response, attempt)
                    if wait > MAX_WAIT_S:
                        raise BasemapError(
                            f"the tile server asks to wait {wait:.0f} s before asking again "
                            f"(HTTP {status})"
                        )
                    problem = f"HTTP {status}"
                    sleep(wait)
                    continue
                raise BasemapError(
                    f"the tile server refused {url} (HTTP {status}); nothing more was asked "
                    "of it: check the --url template and the server's terms of use"
                )
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
            sleep(float(2**attempt))
    raise BasemapError(f"the tile server did not answer {url} after {TRIES} tries ({problem})")


def fetch_tiles(
    plan: FetchPlan,
    out: Path,
    client: httpx.Client,
    limiter: RateLimit,
    progress: Callable[[int], None] = lambda n: None,
) -> FetchReport:
    """Fetch every tile of ``plan`` not yet in ``out``; what was fetched stays in ``out``
    whatever happens (an error, KeyboardInterrupt), ready for the next run."""
    check_template(plan.template)
    total = count_tiles(plan.bounds, plan.zooms)
    if total > plan.max_tiles:
        raise BasemapError(
            f"this would fetch {total:,} tiles, more than the limit of {plan.max_tiles:,} "
            "(HERITAGE_BASEMAP_MAX_TILES, or --max-tiles): choose a smaller area or fewer "
            "zooms; a tile server is shared by many"
        )
    writer = MBTilesWriter(out)
    report = FetchReport(total)
    try:
        known = writer.metadata()
        source = known.get(SOURCE_KEY)
        if source and source != plan.template:
            raise BasemapError(
                f"{out} holds tiles from another server ({source}); fetch into a new file"
            )
        if known.get("format"):
            report.formats.add(known["format"])
        writer.set_metadata(
            {
                "name": known.get("name") or out.stem,
                "type": "baselayer",
                "version": "1.3",
                "attribution": plain_attribution(plan.attribution),
                SOURCE_KEY: plan.template,
                "bounds": ",".join(f"{v:.6f}" for v in _union(known.get("bounds"), plan.bounds)),
            }
        )
        _fetch_all(plan, writer, client, limiter, progress, report)
    finally:
        zooms = writer.zooms()
        if zooms is not None:
            meta = {"minzoom": str(zooms[0]), "maxzoom": str(zooms[1])}
            if len(report.formats) == 1:
                meta["format"] = next(iter(report.formats))
            writer.set_metadata(meta)
        writer.close()
    return report


def _union(
    given: str | None, bounds: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in (given or "").split(","))
    except ValueError:
        return bounds
    return (min(w, bounds[0]), min(s, bounds[1]), max(e, bounds[2]), max(n, bounds[3]))


def _fetch_all(
    plan: FetchPlan,
    writer: MBTilesWriter,
    client: httpx.Client,
    limiter: RateLimit,
    progress: Callable[[int], None],
    report: FetchReport,
) -> None:
    batch: list[tuple[int, int, int, bytes]] = []
    absent: list[tuple[int, int, int]] = []
    flushed = time.monotonic()
    try:
        for z in plan.zooms:
            have = writer.stored(z) | writer.stored(z, "absent_tiles")
            for x, y in tile_range(plan.bounds, z).tiles():
                if (x, y) in have:
                    report.already += 1
                    progress(1)
                    continue
                limiter.wait()
                data = get_tile(client, tile_url(plan.template, z, x, y, plan.subdomains))
                if data is None:
                    absent.append((z, x, y))
                    report.absent += 1
                else:
                    found = image_format(data) or ""
                    if report.formats and found not in report.formats:
                        raise BasemapError(
                            f"the server sent {found} tiles after {', '.join(report.formats)} "
                            "ones; one archive holds one image format"
                        )
                    report.formats.add(found)
                    batch.append((z, x, y, data))
                    report.fetched += 1
                progress(1)
                if len(batch) + len(absent) >= BATCH or time.monotonic() - flushed > BATCH_S:
                    writer.put(batch, absent)
                    batch, absent, flushed = [], [], time.monotonic()
    finally:
        writer.put(batch, absent)  # what was fetched is kept, whatever stopped the run
