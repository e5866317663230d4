"""OGC API – Features next to tipg, both serving the same places from one PostGIS database.

Loads ``--n`` places (100,000 by default) through the project's import path
(:func:`geodata.importer.import_places`, as ``heritage-atlas import-places`` does) into
the schema ``atlas`` of one PostGIS database, and exposes to tipg a view
``tipg.places`` of what our ``/ogc`` publishes: published places with consent to open
data, their public location (exact, on the privacy grid, or none) and their public
fields. Then both servers run at once on 127.0.0.1, one uvicorn worker each, and every
query is measured in ``--rounds`` interleaved rounds (ours, tipg, ours, tipg...; the
order flips each round), the same requests to each:

* ``items?limit=100`` (the first page, as QGIS asks for it);
* a 500 m bbox (``limit=100``), a different box each request, centred on addresses;
* a CQL2 text filter (``filter=year_from > 1800``, ``limit=100``);
* a z14 vector tile (ours ``/ogc/.../tiles/WebMercatorQuad/{z}/{row}/{col}``, tipg's
  ``/collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}``), the tiles around the
  densest one in turn;
* the full dump: ours ``/api/export/places.geojson``, tipg's items with a limit above
  the number of places (its ``max_features_per_query`` raised to allow it), each read
  to the end by curl without compression, as features/s.

A query one server does not offer (an answer other than 200: ours gives 400 for
``filter`` and 404 for tiles until those branches land) is reported ``n/a``. Before
timing, each query's first answer is checked to be the same on both sides (the
numbers matched, the ids of a bbox, the features in the dump). Requests go out from
``--clients`` threads (httpx, keep-alive), at most ``--requests`` per query, server and
round, and each batch stops issuing after ``--max-seconds``. Prints req/s (features/s
for the dump), p50 and p95, each server's peak RSS (VmHWM) after the requests and after
the dumps, and the ratios next to the targets of issue 17.

tipg (pinned to ``TIPG_VERSION``) is installed on first use into a virtualenv of its
own (``--tipg-venv``); nothing of it enters the project's environment.

Run: ``python bench/bench_ogc_peer.py [--postgis-url URL] [--n 100000] [--rounds 3]
[--requests 60] [--clients 2] [--reload] [--skip-tipg]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_INE = "shared/data/ine_addresses_aml_south/aml_south_addresses_ine.geojson.zip"
# shared/ lies beside the repository (beside the worktrees' folder for a worktree).
ADDRESSES = next((p / _INE for p in ROOT.parents if (p / _INE).exists()), ROOT.parent / _INE)
TIPG_VERSION = "1.6.1"
SCHEMA, VIEW_SCHEMA = "atlas", "tipg"
CATEGORIES = ("monument", "building", "museum", "theatre", "religious", "public_space",
              "memory", "tradition", "food", "other")  # fmt: skip
FILTER = "year_from > 1800"
BBOX_M = 500.0
TILE_ZOOM = 14
TARGETS = {"items?limit=100": 2.0, "bbox 500 m": 3.0, "CQL2 filter": 2.0, "z14 tile": 5.0,
           "full dump": 10.0}  # fmt: skip


# -- data -------------------------------------------------------------------------------
def store_url(base: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}schema={SCHEMA}"


def load_places(base_url: str, n: int, reload: bool) -> None:
    """``n`` INE address points as published places in schema ``atlas`` (reused when the
    schema already holds ``n`` places), with the municipalities as neighbourhoods."""
    import geopandas as gpd
    import psycopg
    import shapely

    from geodata.importer import ImportOptions, import_places
    from geodata.store import open_store
    from geodata.store.base import PlaceFilter

    with psycopg.connect(base_url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.places",))
        if row.fetchone()[0] and not reload:
            count = conn.execute(f"SELECT count(*) FROM {SCHEMA}.places").fetchone()[0]
            if count == n:
                print(f"  reusing {n:,} places in schema {SCHEMA}", flush=True)
                return
        conn.execute(f"DROP SCHEMA IF EXISTS {VIEW_SCHEMA} CASCADE")
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    t0 = time.perf_counter()
    gdf = gpd.read_file(ADDRESSES)
    gdf = gdf.sample(n=min(n, len(gdf)), random_state=17).sort_index()
    rng = np.random.default_rng(17)
    years = rng.integers(1200, 2020, len(gdf))
    features = [
        {
            "type": "Feature",
            "id": str(row.id),
            "geometry": {"type": "Point", "coordinates": [row.geometry.x, row.geometry.y]},
            "properties": {
                "title": f"{row.street or ''} {row.house or ''}".strip() or "Sem nome",
                "narrative": f"Ponto de morada em {(row.city or '').title()}",
                "category": CATEGORIES[k % len(CATEGORIES)],
                "year_from": int(years[k]),
                "tags": ["ine", "morada"],
            },
        }
        for k, row in enumerate(gdf.itertuples())
    ]
    store = open_store(store_url(base_url))
    try:
        store.replace_neighbourhoods(municipalities(gdf, gpd, shapely))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "addresses.geojson"
            path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
            options = ImportOptions(language="pt", attribution="INE (Statistics Portugal)")
            result = import_places(store, path, options)
        store.analyze()
        assert store.count(PlaceFilter()) == result.imported
    finally:
        store.close()
    print(
        f"  imported {result.imported:,} places ({len(result.rejected)} rejected) in "
        f"{time.perf_counter() - t0:.0f} s",
        flush=True,
    )


def municipalities(gdf: Any, gpd: Any, shapely: Any) -> list[tuple[str, Any, None]]:
    """The municipalities the addresses name, as areas built from the addresses
    (Voronoi cells of a sample dissolved by municipality), as in bench_import.py."""
    sample = gdf.sample(min(4000, len(gdf)), random_state=1)
    cells = shapely.voronoi_polygons(shapely.multipoints(sample.geometry.values), extend_to=None)
    cells = gpd.GeoDataFrame(geometry=list(shapely.get_parts(cells)), crs=4326)
    cells = gpd.sjoin(cells, sample[["concelho", "geometry"]], predicate="contains")
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(gdf.geometry.values)), 0.01)
    areas = cells.dissolve("concelho").geometry.intersection(hull)
    return [(str(name).title(), geom, None) for name, geom in areas.items()]


def create_view(base_url: str, grid_m: float) -> None:
    """``tipg.places``: what /ogc publishes, for tipg: public places where they are,
    generalised ones on the privacy grid as :func:`geodata.privacy.grid_centres` puts
    them, hidden ones without geometry. A GiST index on that very expression lets tipg's
    bbox and tile queries use an index, as they would on a plain geometry column."""
    import psycopg

    from geodata.geometry_rules import M_PER_DEG_LAT, M_PER_DEG_LON

    def public_geom(p: str) -> str:
        lat_step = grid_m / M_PER_DEG_LAT
        anchor = f"ST_PointOnSurface({p}geom)"
        lat = f"((floor(ST_Y({anchor}) / {lat_step!r}) + 0.5) * {lat_step!r})"
        lon_step = f"({grid_m!r} / ({M_PER_DEG_LON!r} * greatest(cos(radians({lat})), 1e-6)))"
        lon = f"((floor(ST_X({anchor}) / {lon_step}) + 0.5) * {lon_step})"
        grid = f"ST_MakePoint(round({lon}::numeric, 6), round({lat}::numeric, 6))"
        return (
            f"(CASE {p}sensitivity WHEN 'public' THEN {p}geom WHEN 'generalised' THEN "
            f"ST_SetSRID({grid}, 4326) END)::geometry(Geometry, 4326)"
        )

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS places_public_geom_tipg ON {SCHEMA}.places "
            f"USING gist (({public_geom('')}))"
        )
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {VIEW_SCHEMA}")
        conn.execute(f"DROP VIEW IF EXISTS {VIEW_SCHEMA}.places")
        conn.execute(
            f"""CREATE VIEW {VIEW_SCHEMA}.places AS
            SELECT p.id, p.title, p.narratives, p.category, p.period, p.year_from,
                   p.year_to, p.tags, p.licence, p.attribution, p.workshop,
                   p.sensitivity <> 'public' AS location_generalised, p.created_at,
                   p.updated_at, p.version, p.neighbourhood_id, n.name AS neighbourhood,
                   {public_geom("p.")} AS geom
            FROM {SCHEMA}.places p LEFT JOIN {SCHEMA}.neighbourhoods n
                 ON n.id = p.neighbourhood_id
            WHERE p.status = 'published' AND p.consent_open_data"""
        )
        conn.execute(f"ANALYZE {SCHEMA}.places")


# -- servers ----------------------------------------------------------------------------
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
    """A uvicorn process (one worker) on 127.0.0.1, started and stopped here."""

    def __init__(self, name: str, python: str, app: str, env: dict[str, str], ready: str):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [python, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", "1", "--log-level", "warning", "--no-access-log"]  # fmt: skip
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while the server runs
        self.proc = subprocess.Popen(
            argv, env=env, cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL, stderr=self.log
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"{name} stopped at start: {self.log.read().decode()[-3000:]}")
            try:
                if httpx.get(self.url + ready, timeout=10).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"{name} did not start within 120 s")

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def our_server(base_url: str, workdir: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    env.update(
        HERITAGE_DATABASE_URL=store_url(base_url),
        HERITAGE_TILES="none",
        HERITAGE_MEDIA_DIR=str(workdir / "media"),
        PYTHONPATH=str(ROOT),
    )
    return Server("heritage-atlas", sys.executable, "web.asgi:app", env, "/ogc")


def ensure_tipg(venv: Path) -> Path | None:
    """tipg and uvicorn in a virtualenv of their own (made on first use)."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import tipg, sys; sys.exit(tipg.__version__ != sys.argv[1])"]
    if python.exists() and subprocess.run([*probe, TIPG_VERSION]).returncode == 0:
        return python
    print(f"  installing tipg {TIPG_VERSION} into {venv}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"tipg=={TIPG_VERSION}", "uvicorn"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(f"  tipg skipped: pip failed: {done.stderr.strip()[-500:]}")
        return None
    return python


def tipg_server(python: Path, base_url: str, n: int) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPG_", "HERITAGE_"))}
    env.update(
        DATABASE_URL=base_url,
        TIPG_DB_SCHEMAS=json.dumps([VIEW_SCHEMA]),
        TIPG_DB_FUNCTIONS="[]",
        TIPG_MAX_FEATURES_PER_QUERY=str(max(n, 10_000) + 1),
        TIPG_TABLE_CONFIG__tipg_places__PK="id",
        TIPG_TABLE_CONFIG__tipg_places__DATETIMECOL="created_at",
    )
    return Server("tipg", str(python), "tipg.main:app", env, "/collections")


# -- the queries ------------------------------------------------------------------------
def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The WebMercatorQuad (column, row) holding a point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def sample_points(base_url: str, k: int) -> np.ndarray:
    import psycopg

    with psycopg.connect(base_url) as conn:
        rows = conn.execute(
            f"SELECT ST_X(geom), ST_Y(geom) FROM {SCHEMA}.places ORDER BY md5(id) LIMIT %s", (k,)
        ).fetchall()
    return np.array(rows, dtype=float)


def densest_tiles(points: np.ndarray, z: int, k: int) -> list[tuple[int, int]]:
    """The ``k`` z-level tiles holding most of ``points``, densest first."""
    counts: dict[tuple[int, int], int] = {}
    for lon, lat in points.tolist():
        t = tile_of(lon, lat, z)
        counts[t] = counts.get(t, 0) + 1
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def bbox_around(lon: float, lat: float, metres: float) -> str:
    dlat = metres / 2 / 111_320.0
    dlon = metres / 2 / (111_320.0 * math.cos(math.radians(lat)))
    return f"{lon - dlon:.6f},{lat - dlat:.6f},{lon + dlon:.6f},{lat + dlat:.6f}"


def queries(points: np.ndarray, requests: int, tipg_id: str) -> dict[str, dict[str, list[str]]]:
    """Per query, the request paths for each server (the same requests in the same order)."""
    boxes = [bbox_around(x, y, BBOX_M) for x, y in points[:requests].tolist()]
    tiles = densest_tiles(points, TILE_ZOOM, 16)
    tiles = [tiles[i % len(tiles)] for i in range(requests)]
    ours, theirs = "/ogc/collections/places", f"/collections/{tipg_id}"
    filt = httpx.QueryParams({"filter": FILTER, "filter-lang": "cql2-text"})
    return {
        "items?limit=100": {
            "ours": [f"{ours}/items?f=json&limit=100"] * requests,
            "tipg": [f"{theirs}/items?f=geojson&limit=100"] * requests,
        },
        "bbox 500 m": {
            "ours": [f"{ours}/items?f=json&limit=100&bbox={b}" for b in boxes],
            "tipg": [f"{theirs}/items?f=geojson&limit=100&bbox={b}" for b in boxes],
        },
        "CQL2 filter": {
            "ours": [f"{ours}/items?f=json&limit=100&{filt}"] * requests,
            "tipg": [f"{theirs}/items?f=geojson&limit=100&{filt}"] * requests,
        },
        "z14 tile": {
            "ours": [f"{ours}/tiles/WebMercatorQuad/{TILE_ZOOM}/{y}/{x}" for x, y in tiles],
            "tipg": [f"{theirs}/tiles/WebMercatorQuad/{TILE_ZOOM}/{x}/{y}" for x, y in tiles],
        },
    }


def load(base: str, paths: list[str], clients: int, max_seconds: float) -> dict[str, float]:
    """GET the paths (each once, in order) from ``clients`` threads: req/s, p50, p95 (ms)."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = iter(paths)
    deadline = time.perf_counter() + max_seconds
    errors: list[str] = []

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=120) as c:
            while time.perf_counter() < deadline:
                with lock:
                    path = next(queue, None)
                if path is None:
                    return
                t = time.perf_counter()
                r = c.get(path)
                r.read()
                took = time.perf_counter() - t
                with lock:
                    if r.status_code == 200:
                        latencies.append(took)
                    else:
                        errors.append(f"{r.status_code} {path}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {"n": len(latencies), "seconds": seconds, "p50": q[9] * 1000, "p95": q[18] * 1000}


def offered(base: str, path: str) -> bool:
    return httpx.get(base + path, timeout=120).status_code == 200


def same_answers(servers: dict[str, Server], plan: dict[str, dict[str, list[str]]]) -> None:
    """Each query's first answer agrees on both sides (numbers matched, bbox ids)."""
    for name in ("items?limit=100", "bbox 500 m", "CQL2 filter"):
        docs = {}
        for side, server in servers.items():
            r = httpx.get(server.url + plan[name][side][0], timeout=120)
            if r.status_code != 200:
                docs = {}
                break
            docs[side] = r.json()
        if len(docs) < 2:
            continue
        matched = {side: d.get("numberMatched") for side, d in docs.items()}
        returned = {side: len(d["features"]) for side, d in docs.items()}
        assert len(set(returned.values())) == 1, (name, returned)
        if all(m is not None for m in matched.values()):
            assert len(set(matched.values())) == 1, (name, matched)
        if name == "bbox 500 m" and max(returned.values()) < 100:  # all of them: same ids
            ids = [sorted(str(f["id"]) for f in d["features"]) for d in docs.values()]
            assert ids[0] == ids[1], name
        print(f"  {name}: both return {returned['ours']} features, matched {matched}")


def dump(url: str) -> tuple[float, int, int]:
    """Seconds to read ``url`` to the end with curl (uncompressed), bytes, features."""
    t0 = time.perf_counter()
    curl = subprocess.Popen(["curl", "-sS", "--fail", url], stdout=subprocess.PIPE)
    size, head, tail = 0, b"", b""
    while chunk := curl.stdout.read(1 << 20):  # type: ignore[union-attr]
        size += len(chunk)
        head = head or chunk[:8192]
        tail = (tail + chunk)[-8192:]
    if curl.wait() != 0:
        raise RuntimeError(f"curl failed on {url}")
    seconds = time.perf_counter() - t0
    # numberReturned: at the end of ours, at the start of tipg's.
    found = re.findall(rb'"numberReturned"\s*:\s*(\d+)', head + b" " + tail)
    return seconds, size, int(found[-1]) if found else -1


# -- what numberMatched costs ------------------------------------------------------------
def count_costs(base_url: str, points: np.ndarray, reps: int) -> None:
    """Per filter, the median milliseconds of: counting every match (what each page paid
    before), counting up to 10,000 (a filter's count on a miss now), and a kept count
    (a hit: one small query for the version; none inside a page's snapshot, whose BEGIN
    reads it). On PostGIS and on a SQLite copy of the same places (migrate_store)."""
    from geodata.privacy import public_filter
    from geodata.store import open_store
    from geodata.store.base import PlaceFilter
    from geodata.store.migrate import migrate_store

    x, y = points[0].tolist()
    filters = {
        "whole collection": PlaceFilter(),
        "category=memory": PlaceFilter(category="memory"),
        "year_from=1800 (period)": PlaceFilter(year_from=1800),
        "bbox 500 m": PlaceFilter(bbox=tuple(map(float, bbox_around(x, y, BBOX_M).split(",")))),
        "bbox of all": PlaceFilter(bbox=(-10.0, 37.0, -8.0, 40.0)),
    }
    stores = {"PostGIS": open_store(store_url(base_url))}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = open_store(f"sqlite:///{Path(tmp) / 'copy.db'}")
        migrate_store(stores["PostGIS"], sqlite)
        stores["SQLite"] = sqlite
        print(f"\nwhat numberMatched costs, ms (median of {reps}; a shared machine)")
        print(f"  {'backend':<8} {'filter':<24} {'matches':>8} {'count all':>10} "
              f"{'up to 10k':>10} {'kept':>7} {'kept, in a snapshot':>20}")  # fmt: skip
        for name, store in stores.items():
            for label, flt in filters.items():
                flt = public_filter(flt, "open_data")
                n = store._count(flt)
                exact = _median_ms(lambda: store._count(flt), reps)  # noqa: B023
                capped = _median_ms(lambda: store._count_up_to(flt, 10_000), reps)  # noqa: B023
                store.count(flt)
                kept = _median_ms(lambda: store.count(flt), reps)  # noqa: B023
                with store.snapshot():
                    store.count(flt)
                    in_snapshot = _median_ms(lambda: store.count(flt), reps)  # noqa: B023
                print(f"  {name:<8} {label:<24} {n:>8,} {exact:>10.2f} {capped:>10.2f} "
                      f"{kept:>7.2f} {in_snapshot:>20.3f}")  # fmt: skip
        for store in stores.values():
            store.close()


def _median_ms(call: Any, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


# -- the run ----------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgis-url",
        default=os.environ.get(
            "HERITAGE_BENCH_POSTGIS_URL", "postgresql://postgres@127.0.0.1:5432/heritage_peer"
        ),
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=60, help="per query, server and round")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=30.0, help="per batch")
    parser.add_argument("--tipg-venv", type=Path, default=Path("/tmp/tipg-venv"))
    parser.add_argument("--reload", action="store_true", help="import the places again")
    parser.add_argument("--skip-tipg", action="store_true")
    parser.add_argument("--skip-counts", action="store_true", help="no numberMatched costs")
    args = parser.parse_args()
    from web.settings import Settings

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(a shared machine: other work runs beside this)")  # fmt: skip
    load_places(args.postgis_url, args.n, args.reload)
    create_view(args.postgis_url, Settings().privacy_grid_m)
    if not args.skip_counts:
        count_costs(args.postgis_url, sample_points(args.postgis_url, 10), 15)
    python = None if args.skip_tipg else ensure_tipg(args.tipg_venv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ogc-peer-"))
    servers: dict[str, Server] = {}
    try:
        servers["ours"] = our_server(args.postgis_url, workdir)
        if python is not None:
            servers["tipg"] = tipg_server(python, args.postgis_url, args.n)
        run(servers, args)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(servers: dict[str, Server], args: argparse.Namespace) -> None:
    tipg_id = f"{VIEW_SCHEMA}.places"
    plan = queries(sample_points(args.postgis_url, 4000), args.requests, tipg_id)
    sides = list(servers)
    available = {
        (name, side): offered(servers[side].url, paths[side][0])
        for name, paths in plan.items()
        for side in sides
    }
    same_answers(servers, plan)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for r in range(args.rounds):
        order = sides if r % 2 == 0 else sides[::-1]
        for name, paths in plan.items():
            for side in order:
                if available[(name, side)]:
                    m = load(servers[side].url, paths[side], args.clients, args.max_seconds)
                    results.setdefault((name, side), []).append(m)
        print(f"  round {r + 1}/{args.rounds} done (load {os.getloadavg()[0]:.1f})", flush=True)
    rss_requests = {side: servers[side].peak_rss_mb() for side in sides}
    dumps: dict[str, list[tuple[float, int, int]]] = {}
    dump_path = {
        "ours": "/api/export/places.geojson",
        "tipg": f"/collections/{tipg_id}/items?f=geojson&limit={max(args.n, 10_000) + 1}",
    }
    for r in range(args.rounds):
        for side in sides if r % 2 == 0 else sides[::-1]:
            dumps.setdefault(side, []).append(dump(servers[side].url + dump_path[side]))
    rss_dump = {side: servers[side].peak_rss_mb() for side in sides}
    features = {side: {d[2] for d in runs} for side, runs in dumps.items()}
    assert len(set().union(*features.values())) == 1, f"the dumps differ: {features}"
    report(results, dumps, rss_requests, rss_dump, sides, args)


def report(
    results: dict[tuple[str, str], list[dict[str, float]]],
    dumps: dict[str, list[tuple[float, int, int]]],
    rss_requests: dict[str, float],
    rss_dump: dict[str, float],
    sides: list[str],
    args: argparse.Namespace,
) -> None:
    rate: dict[tuple[str, str], float] = {}
    print(
        f"\n{args.n:,} places; {args.rounds} interleaved rounds; {args.clients} clients; "
        f"up to {args.requests} requests per query, server and round; one worker each"
    )
    print(f"  {'query':<17} {'server':<15} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for name in TARGETS:
        if name == "full dump":
            continue
        for side in sides:
            runs = results.get((name, side))
            if not runs:
                print(f"  {name:<17} {side:<15} {'n/a':>9}")
                continue
            rate[(name, side)] = sum(m["n"] for m in runs) / sum(m["seconds"] for m in runs)
            p50 = statistics.median(m["p50"] for m in runs)
            p95 = statistics.median(m["p95"] for m in runs)
            print(f"  {name:<17} {side:<15} {rate[(name, side)]:>9.1f} {p50:>8.1f} {p95:>8.1f}")
    for side in sides:
        best = min(dumps[side])
        rate[("full dump", side)] = best[2] / best[0]
        print(
            f"  {'full dump':<17} {side:<15} {best[2] / best[0]:>9,.0f} features/s "
            f"({best[2]:,} features, {best[1] / 1e6:.0f} MB, best of {len(dumps[side])})"
        )
    print("  peak RSS (MB) after the requests / after the dumps: " + "; ".join(
        f"{side} {rss_requests[side]:.0f} / {rss_dump[side]:.0f}" for side in sides))  # fmt: skip
    if "tipg" not in sides:
        return
    print(f"\n  {'query':<17} {'ours/tipg':>9} {'target':>8}")
    for name, target in TARGETS.items():
        ours, theirs = rate.get((name, "ours")), rate.get((name, "tipg"))
        if ours is None or theirs is None:
            print(f"  {name:<17} {'n/a':>9} {f'>= {target:g}x':>8}")
            continue
        ratio = ours / theirs
        verdict = "met" if ratio >= target else "NOT met"
        print(f"  {name:<17} {ratio:>8.1f}x {f'>= {target:g}x':>8}  {verdict}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
