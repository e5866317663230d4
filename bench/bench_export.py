"""Open-data export and OGC API – Features on 1,000,000 places, next to the baselines.

Measures, in one run on the same places:

* GeoJSON export through the API (``GET /api/export/places.geojson`` on a uvicorn
  server) and through the CLI (``heritage-atlas export``): features per second and the
  peak RSS of the serving / exporting process at 100,000 and at 1,000,000 places;
* ``GeoDataFrame.to_json()`` on the same places (read from our GeoPackage export, the
  same columns): features per second and the memory it adds;
* ``/ogc/collections/places/items?limit=100`` and a small-bbox query under bounded load
  (a few concurrent clients, a fixed number of requests) next to pygeoapi 0.21 serving
  the same places from that GeoPackage with its OGR provider, started here on 127.0.0.1
  (installed for the benchmark only, in a virtualenv of Debian's Python, whose
  ``python3-gdal`` the OGR provider needs). Both servers: uvicorn, one worker.

Data: the 135,986 INE address points of the southern Lisbon metropolitan area
(``shared/data/ine_addresses_aml_south``), repeated with a uniform jitter of up to
±0.0002° (about 20 m) on every copy after the first until there are N places; each is a
published place with a title from the street and house number, a Portuguese narrative
naming its town, a category, a licence; every 100th is generalised, every 1,000th hidden.

Run: ``python bench/bench_export.py [--n 1000000] [--small 100000] [--repeat 2] [--skip-pygeoapi]``
(the stores and the GeoPackage are kept in ``--workdir`` and reused by later runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ADDRESSES = ROOT.parent / "shared/data/ine_addresses_aml_south/aml_south_addresses_ine.geojson.zip"
PYGEOAPI_VERSION = "0.21.0"
CATEGORIES = (
    "monument",
    "building",
    "museum",
    "theatre",
    "religious",
    "public_space",
    "memory",
    "tradition",
    "food",
    "other",
)


def build_store(path: Path, n: int) -> None:
    """N places from the INE points (see the module docstring); reused when present."""
    from geodata.models import Consent, Narrative, Place, Sensitivity, Status, utcnow
    from geodata.store import open_store
    from geodata.store.base import PlaceFilter

    if path.exists():
        store = open_store(f"sqlite:///{path}")
        if store.count(PlaceFilter()) == n:
            store.close()
            return
        store.close()
        path.unlink()
    import geopandas as gpd
    import shapely

    t0 = time.perf_counter()
    gdf = gpd.read_file(ADDRESSES)
    xy = shapely.get_coordinates(gdf.geometry.values)
    rng = np.random.default_rng(2024)
    copies = -(-n // len(xy))
    parts = [xy] + [xy + rng.uniform(-2e-4, 2e-4, xy.shape) for _ in range(copies - 1)]
    points = shapely.points(np.concatenate(parts)[:n])
    titles = (gdf["street"].fillna("") + " " + gdf["house"].fillna("")).str.strip().tolist()
    towns = gdf["city"].fillna("").str.title().tolist()
    now = utcnow()
    consent = Consent(publish=True, open_data=True, given_at=now)

    def places():
        for i in range(n):
            j = i % len(titles)
            sensitivity = (
                Sensitivity.HIDDEN
                if i % 1000 == 999
                else Sensitivity.GENERALISED
                if i % 100 == 50
                else Sensitivity.PUBLIC
            )
            yield Place(
                geometry=points[i],
                title=titles[j] or "Sem nome",
                category=CATEGORIES[i % 10],
                narratives=[Narrative(f"Ponto de morada em {towns[j]}", "pt")],
                status=Status.PUBLISHED,
                id=f"pl_bench{i:08d}",
                tags=["ine", "morada"],
                sensitivity=sensitivity,
                licence="CC-BY-4.0",
                attribution="INE (Statistics Portugal)",
                consent=consent,
                created_at=now + timedelta(microseconds=i),
                updated_at=now,
            )

    store = open_store(f"sqlite:///{path}")
    store.add_many(places())
    store.conn.execute("ANALYZE")  # type: ignore[attr-defined]
    store.close()
    print(f"  built {path.name}: {n:,} places in {time.perf_counter() - t0:.0f} s", flush=True)


def first_point(db: Path) -> tuple[float, float]:
    """Where the first address lies: the small bbox is centred there."""
    from geodata.store import open_store

    store = open_store(f"sqlite:///{db}")
    try:
        point = store.get("pl_bench00000000").geometry
        return round(point.x, 4), round(point.y, 4)
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """A server process on 127.0.0.1, started and stopped by the benchmark."""

    def __init__(self, argv: list[str], env: dict[str, str], ready_path: str, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} stopped: {self.proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + ready_path, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{argv} did not start")

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def our_server(db: Path, workdir: Path) -> Server:
    env = {"HERITAGE_DATABASE_URL": f"sqlite:///{db}", "HERITAGE_TILES": "none"}
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "web.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--log-level",
        "warning",
        "--app-dir",
        str(ROOT),
    ]
    return Server(argv, env, "/ogc", workdir)


def download_seconds(url: str) -> tuple[float, int, bytes]:
    """Seconds to download ``url`` (curl when present: a client in C takes the least CPU
    from the server it measures), its size and its last 4 kB."""
    t0 = time.perf_counter()
    if shutil.which("curl"):
        curl = subprocess.Popen(["curl", "-sS", "--fail", url], stdout=subprocess.PIPE)
        size, tail = 0, b""
        while chunk := curl.stdout.read(1 << 20):  # type: ignore[union-attr]
            size += len(chunk)
            tail = chunk[-4096:] if len(chunk) >= 4096 else (tail + chunk)[-4096:]
        if curl.wait() != 0:
            raise RuntimeError(f"curl failed on {url}")
        return time.perf_counter() - t0, size, tail
    size, tail = 0, b""
    with httpx.stream("GET", url, timeout=600) as r:
        for chunk in r.iter_raw():
            size += len(chunk)
            tail = (tail + chunk)[-4096:]
    return time.perf_counter() - t0, size, tail


def api_export(db: Path, workdir: Path, repeat: int) -> dict[str, float]:
    """The best of ``repeat`` downloads from one server, and that server's peak RSS."""
    server = our_server(db, workdir)
    try:
        best = float("inf")
        expected = count_public_places(db)
        for _ in range(repeat):
            seconds, size, tail = download_seconds(server.url + "/api/export/places.geojson")
            body = b"{" + tail[tail.rindex(b'"numberReturned"') :]
            assert json.loads(body)["numberReturned"] == expected
            best = min(best, seconds)
        return {
            "seconds": best,
            "features_s": expected / best,
            "mb": size / 1e6,
            "peak_rss_mb": server.peak_rss_mb(),
        }
    finally:
        server.stop()


def count_public_places(db: Path) -> int:
    from geodata.io.export import count_public
    from geodata.store import open_store

    store = open_store(f"sqlite:///{db}")
    try:
        return count_public(store)
    finally:
        store.close()


def cli_export(db: Path, out: Path, workdir: Path, repeat: int) -> dict[str, float]:
    """The best of ``repeat`` runs of ``heritage-atlas export`` (process start included)."""
    # The child reports its own peak (VmHWM) as it exits: the kernel's ru_maxrss of a
    # child also counts the parent's pages it was forked with, which is this script's own
    # size (753 MB after it had just built the stores) and not the export's.
    argv = [sys.executable, "-c", CLI_WITH_PEAK]
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        # The last run's file goes first: freeing its pages is not part of this export.
        out.unlink(missing_ok=True)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*argv, "export", str(out), "--database-url", f"sqlite:///{db}"],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, err = proc.communicate()
        best = min(best, time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(err.decode())
        peak = max(peak, float(err.decode().rsplit("peak_rss_kb=", 1)[1]) / 1024)
    n = count_public_places(db)
    return {"seconds": best, "features_s": n / best, "peak_rss_mb": peak}


CLI_WITH_PEAK = """
import atexit, sys
def peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    print(f"peak_rss_kb={kb}", file=sys.stderr, flush=True)
atexit.register(peak)
sys.argv = ["heritage-atlas", *sys.argv[1:]]
from web.cli import app
app()
"""


TO_JSON = """
import json, resource, sys, time
import geopandas as gpd
gdf = gpd.read_file(sys.argv[1], layer="places")
for column in ("created_at", "updated_at"):  # to_json() cannot encode timestamps itself
    gdf[column] = gdf[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
text = gdf.to_json()
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "features_s": len(gdf) / seconds,
                  "extra_mb": peak - before, "peak_rss_mb": peak, "mb": len(text) / 1e6}))
"""


def to_json_baseline(gpkg: Path, repeat: int) -> dict[str, float]:
    """The best of ``repeat`` runs, each in a fresh process (its added memory measured)."""
    runs = [_to_json_once(gpkg) for _ in range(repeat)]
    return min(runs, key=lambda m: m["seconds"])


def _to_json_once(gpkg: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", TO_JSON, str(gpkg)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_gpkg(db: Path, path: Path) -> None:
    from geodata.io.gpkg import write_places_gpkg
    from geodata.store import open_store

    if path.exists():
        return
    t0 = time.perf_counter()
    store = open_store(f"sqlite:///{db}")
    write_places_gpkg(store, None, path)
    store.close()
    print(f"  wrote {path.name} in {time.perf_counter() - t0:.0f} s", flush=True)


def ensure_pygeoapi(workdir: Path) -> Path | None:
    """A virtualenv of Debian's Python (python3-gdal) with pygeoapi and uvicorn."""
    debian = Path("/usr/bin/python3")
    venv = workdir / "pygeoapi-venv"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    probe = subprocess.run([str(debian), "-c", "import osgeo.ogr"], capture_output=True)
    if not debian.exists() or probe.returncode != 0:
        print("  pygeoapi skipped: its OGR provider needs Debian's python3-gdal")
        return None
    subprocess.run([str(debian), "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            f"pygeoapi=={PYGEOAPI_VERSION}",
            "uvicorn",
            "starlette",
        ],
        check=True,
        capture_output=True,
    )
    return python


def pygeoapi_server(python: Path, gpkg: Path, workdir: Path) -> Server:
    port = free_port()
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "OpenStreetMap",
            },
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "bench",
                "keywords": ["bench"],
                "keywords_type": "theme",
                "terms_of_service": "https://x.org",
                "url": "https://x.org",
            },
            "license": {"name": "CC-BY-4.0", "url": "https://x.org"},
            "provider": {"name": "bench", "url": "https://x.org"},
            "contact": {"name": "bench", "email": "bench@x.org", "url": "https://x.org"},
        },
        "resources": {
            "places": {
                "type": "collection",
                "title": "places",
                "description": "places",
                "keywords": ["places"],
                "extents": {
                    "spatial": {
                        "bbox": [-9.5, 38.3, -8.5, 39.1],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [
                    {
                        "type": "feature",
                        "name": "OGR",
                        "id_field": "id",
                        "layer": "places",
                        "data": {
                            "source_type": "GPKG",
                            "source": str(gpkg),
                            "source_capabilities": {"paging": True},
                        },
                    }
                ],
            }
        },
    }
    cfg, oas = workdir / "pygeoapi.yml", workdir / "pygeoapi-openapi.yml"
    cfg.write_text(json.dumps(config))  # JSON is YAML
    subprocess.run(
        [
            str(python.parent / "pygeoapi"),
            "openapi",
            "generate",
            str(cfg),
            "--output-file",
            str(oas),
        ],
        check=True,
        capture_output=True,
    )
    env = {"PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(oas)}
    argv = [
        str(python),
        "-m",
        "uvicorn",
        "pygeoapi.starlette_app:APP",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    server = Server.__new__(Server)
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    server.proc = subprocess.Popen(
        argv,
        env={**os.environ, **env},
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.url + "/collections", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError("pygeoapi did not start")


def load(urls: list[str], clients: int) -> dict[str, float]:
    """GET every URL once, spread over ``clients`` threads: req/s, p50, p95 (ms)."""
    latencies: list[float] = []
    lock = threading.Lock()
    httpx.get(urls[0], timeout=120).raise_for_status()  # warm up
    requests = len(urls)
    queue = iter(urls)

    def worker(k: int) -> None:
        with httpx.Client(timeout=120) as c:
            for _ in range(k):
                with lock:
                    url = next(queue)
                t = time.perf_counter()
                c.get(url).raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - t)

    per = [requests // clients + (i < requests % clients) for i in range(clients)]
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=20)
    return {"req_s": len(latencies) / seconds, "p50_ms": q[9] * 1000, "p95_ms": q[18] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "export")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-pygeoapi", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs of each export measurement; the fastest counts (shared machines are noisy)",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    big, small = args.workdir / f"places-{args.n}.db", args.workdir / f"places-{args.small}.db"
    # Every figure is measured in this run; a busy machine slows both sides alike.
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"building stores ({args.small:,} and {args.n:,} places)", flush=True)
    build_store(small, args.small)
    build_store(big, args.n)
    gpkg = args.workdir / f"places-{args.n}.gpkg"
    write_gpkg(big, gpkg)

    print(f"\nGeoJSON export (best of {args.repeat} runs each)", flush=True)
    rows = {}
    for label, db in ((f"{args.small:,}", small), (f"{args.n:,}", big)):
        rows[("API", label)] = api_export(db, args.workdir, args.repeat)
        rows[("CLI", label)] = cli_export(
            db, args.workdir / "cli.geojson", args.workdir, args.repeat
        )
    rows[("to_json()", f"{args.n:,}")] = to_json_baseline(gpkg, args.repeat)
    print(f"  {'path':<10} {'places':>10} {'seconds':>8} {'features/s':>11} {'peak RSS MB':>12}")
    for (path, label), m in rows.items():
        print(
            f"  {path:<10} {label:>10} {m['seconds']:>8.2f} {m['features_s']:>11,.0f} "
            f"{m['peak_rss_mb']:>12,.0f}"
        )
    base = rows[("to_json()", f"{args.n:,}")]
    print(f"  to_json() added {base['extra_mb']:,.0f} MB while encoding {args.n:,} places")
    for path in ("API", "CLI"):
        m_small, m_big = rows[(path, f"{args.small:,}")], rows[(path, f"{args.n:,}")]
        print(
            f"  {path}: {m_big['features_s'] / base['features_s']:.1f}x to_json() throughput; "
            f"peak RSS {m_small['peak_rss_mb']:,.0f} MB at {args.small:,} vs "
            f"{m_big['peak_rss_mb']:,.0f} MB at {args.n:,} "
            f"(x{m_big['peak_rss_mb'] / m_small['peak_rss_mb']:.2f} for x"
            f"{args.n / args.small:.0f} places)"
        )

    print(
        f"\nOGC API – Features, {args.clients} clients, {args.requests} requests each query",
        flush=True,
    )
    # Every small-bbox request asks for a different box (the same sequence for both
    # servers), so neither can answer from a cache what a panning client would not repeat.
    x, y = first_point(big)
    rng = np.random.default_rng(7)
    shifts = rng.uniform(-0.01, 0.01, (args.requests, 2))
    boxes = [
        f"{x + dx - 0.002:.5f},{y + dy - 0.002:.5f},{x + dx + 0.002:.5f},{y + dy + 0.002:.5f}"
        for dx, dy in shifts
    ]
    queries = {
        "items?limit=100": ["limit=100"] * args.requests,
        "small bbox": [f"limit=100&bbox={b}" for b in boxes],
    }
    results: dict[str, dict[str, dict[str, float]]] = {}
    server = our_server(big, args.workdir)
    try:
        base_url = server.url + "/ogc/collections/places/items?f=json&"
        results["heritage-atlas"] = {
            q: load([base_url + p for p in ps], args.clients) for q, ps in queries.items()
        }
        matched = [httpx.get(base_url + p).json()["numberMatched"] for p in queries["small bbox"]]
    finally:
        server.stop()
    python = None if args.skip_pygeoapi else ensure_pygeoapi(args.workdir)
    if python is not None:
        peer = pygeoapi_server(python, gpkg, args.workdir)
        try:
            base_url = peer.url + "/collections/places/items?f=json&"
            results["pygeoapi"] = {
                q: load([base_url + p for p in ps], args.clients) for q, ps in queries.items()
            }
        finally:
            peer.stop()
    print(
        f"  small bbox: 0.004° x 0.004° (about 350 m x 450 m) moved up to 0.01° each "
        f"time, {statistics.median(matched):.0f} places (median)"
    )
    print(f"  {'server':<15} {'query':<17} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name, by_query in results.items():
        for q, m in by_query.items():
            print(
                f"  {name:<15} {q:<17} {m['req_s']:>7.1f} {m['p50_ms']:>8.1f} {m['p95_ms']:>8.1f}"
            )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if "pygeoapi" in results:
        for q in queries:
            ours, theirs = results["heritage-atlas"][q], results["pygeoapi"][q]
            print(
                f"  {q}: {ours['req_s'] / theirs['req_s']:.1f}x pygeoapi's throughput, "
                f"p95 {theirs['p95_ms'] / ours['p95_ms']:.1f}x lower"
            )


if __name__ == "__main__":
    main()
