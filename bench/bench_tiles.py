"""Vector tiles: the z14 tile over Lisbon's Baixa on 100,000 places, on SQLite and PostGIS,
next to the baselines, in one run on the same places.

Measures, per backend:

* the tile as served (``HERITAGE_TILE_MAX_FEATURES`` at its default, 5,000: past it the
  tile holds the maps' clusters) and the same tile with the cap raised so that it holds
  every place in it: build time in-process (median wall time, and the CPU time of this
  process: all of it on SQLite, only the Python side on PostGIS), and over HTTP from a
  uvicorn server on 127.0.0.1 with curl as the client (median, the server's tile cache
  emptied before each request; and once cached), raw and gzip size;
* baseline 1: the same places-tile built naively, ``mapbox_vector_tile.encode`` over a
  per-feature Python loop (each place read with ``store.list``, put through
  ``public_view``, projected with pyproj and handed over as a dict);
* baseline 2: the OGC API – Features items for the tile's bbox (``limit=10000``), the
  GeoJSON a client would fetch without tiles: time and size.

Data: the Lisbon demo (its 24 parishes give the neighbourhood names) plus 100,000 of the
135,986 INE address points of the southern Lisbon metropolitan area
(``shared/data/ine_addresses_aml_south``, a seeded random sample), moved north across the
Tagus by one translation, no scaling: the z14-sized cell of the INE points that holds
the most addresses (in Almada) is laid exactly onto the Baixa tile, so that tile holds a
real address density, the densest of the data. Titles come from street and house
number, categories cycle, every 100th place is generalised and every 1,000th hidden (as
``bench_export.py`` does); neighbourhoods are assigned by the store.

Run: ``python bench/bench_tiles.py [--n 100000] [--runs 7] [--workdir DIR]``; the PostGIS
part needs ``HERITAGE_TEST_POSTGIS_URL`` (the places go to the schema ``bench_tiles``).
The stores are kept in ``--workdir`` / that schema and reused by later runs.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
_INE = "shared/data/ine_addresses_aml_south/aml_south_addresses_ine.geojson.zip"
# Beside the checkout (/work/main), or one level up from a worktree (/work/wt/NAME).
ADDRESSES = next((p / _INE for p in (ROOT.parent, ROOT.parent.parent) if (p / _INE).exists()),
                 ROOT.parent / _INE)  # fmt: skip
BAIXA = (-9.137, 38.711)
ZOOM = 14
CATEGORIES = ("monument", "building", "museum", "theatre", "religious", "public_space",
              "memory", "tradition", "food", "other")  # fmt: skip
BUDGET_MS, BUDGET_KB = 50, 500


def baixa_tile():
    from geodata.tilematrix import Tile, tile_matrix_set

    t = tile_matrix_set().tile(*BAIXA, ZOOM)
    return Tile.checked(t.z, t.y, t.x)


def placed_points(n: int) -> tuple[np.ndarray, list[str]]:
    """``n`` INE points moved so that their densest z14-sized cell covers the Baixa tile."""
    import geopandas as gpd
    import shapely

    gdf = gpd.read_file(ADDRESSES)
    xy = shapely.get_coordinates(gdf.geometry.values)
    tile = baixa_tile()
    w, s, e, north = tile.bounds
    width, height = e - w, north - s
    cols = np.floor((xy[:, 0] - xy[:, 0].min()) / width).astype(int)
    rows = np.floor((xy[:, 1] - xy[:, 1].min()) / height).astype(int)
    cells, counts = np.unique(cols * 100_000 + rows, return_counts=True)
    best = cells[counts.argmax()]
    origin = np.array([xy[:, 0].min() + (best // 100_000) * width,
                       xy[:, 1].min() + (best % 100_000) * height])  # fmt: skip
    moved = xy - origin + np.array([w, s])
    pick = np.random.default_rng(2024).choice(len(xy), n, replace=False)
    titles = (gdf["street"].fillna("") + " " + gdf["house"].fillna("")).str.strip()
    return moved[pick], [t or "Sem nome" for t in titles.to_numpy()[pick].tolist()]


def fill(store, n: int) -> None:
    from shapely import points

    from geodata.demo import load_demo
    from geodata.models import Consent, Narrative, Place, Sensitivity, Status, utcnow

    load_demo(store)
    xy, titles = placed_points(n)
    geometries = points(xy)
    now = utcnow()
    consent = Consent(publish=True, open_data=True, given_at=now)

    def places():
        for i in range(n):
            yield Place(
                geometry=geometries[i], title=titles[i], category=CATEGORIES[i % 10],
                narratives=[Narrative("Ponto de morada", "pt")], status=Status.PUBLISHED,
                id=f"pl_tile{i:08d}", year_from=1700 + i % 300 if i % 3 else None,
                year_to=1750 + i % 300 if i % 3 == 1 else None,
                sensitivity=Sensitivity.HIDDEN if i % 1000 == 999
                else Sensitivity.GENERALISED if i % 100 == 50 else Sensitivity.PUBLIC,
                licence="CC-BY-4.0", attribution="INE (Statistics Portugal)", consent=consent,
                created_at=now + timedelta(microseconds=i), updated_at=now,
            )  # fmt: skip

    store.add_many(places())
    store.reassign_neighbourhoods()


def open_filled(url: str, n: int):
    from geodata.store import open_store
    from geodata.store.base import PlaceFilter

    store = open_store(url)
    if store.count(PlaceFilter(ids=[f"pl_tile{n - 1:08d}"])) and store.count() == n + 368:
        return store
    if hasattr(store, "reset_for_tests"):
        store.reset_for_tests()
    elif store.count():
        store.close()
        Path(url.removeprefix("sqlite:///")).unlink()
        store = open_store(url)
    t0 = time.perf_counter()
    fill(store, n)
    print(f"  loaded {n:,} places in {time.perf_counter() - t0:.0f} s", flush=True)
    return store


def median_ms(fn, runs: int) -> tuple[float, float, object]:
    """Median wall and CPU milliseconds of ``fn`` (CPU: this process only, so on PostGIS
    without the database's share), and its last answer."""
    fn()  # warm: the first call also pays for imports and the database's page cache
    times, cpu, out = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(times), statistics.median(cpu), out


def naive_tile(store, tile) -> bytes:
    """The places-tile the usual way: one object, one dict and one pyproj call per place."""
    import dataclasses

    import mapbox_vector_tile
    from pyproj import Transformer
    from shapely.geometry import box
    from shapely.ops import transform  # per feature, as the usual recipes do

    from geodata.io.export import neighbourhood_names
    from geodata.privacy import public_filter, public_view
    from geodata.store.base import PlaceFilter

    project = Transformer.from_crs(4326, 3857, always_xy=True).transform
    names = neighbourhood_names(store)
    w, s, e, n = tile.bounds
    area = box(w, s, e, n)
    shown = [
        public_view(p)
        for p in store.list(public_filter(PlaceFilter(bbox=(w, s, e, n)), "open_data"))
    ]
    # Generalised places whose grid cell lies in the tile, though they may not.
    near = public_filter(PlaceFilter(bbox=(w - 0.01, s - 0.01, e + 0.01, n + 0.01)), "open_data")
    near = dataclasses.replace(near, sensitivity="generalised")
    shown = [p for p in shown if not p.location_generalised and p.geometry is not None]
    shown += [v for p in store.list(near) if area.intersects((v := public_view(p)).geometry)]
    features = []
    for place in shown:
        props = {
            "id": place.id, "title": place.title, "category": place.category,
            "neighbourhood": names.get(place.neighbourhood_id), "year_from": place.year_from,
            "year_to": place.year_to, "location_generalised": place.location_generalised,
        }  # fmt: skip
        features.append(
            {
                "geometry": transform(project, place.geometry),
                "properties": {k: v for k, v in props.items() if v is not None},
            }
        )
    return mapbox_vector_tile.encode(
        [{"name": "places", "features": features}],
        default_options={"quantize_bounds": tile.xy_bounds, "extents": 4096},
    )


class Server:
    """The app served by uvicorn on 127.0.0.1 in a thread of this process."""

    def __init__(self, app) -> None:
        import socket

        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def curl(url: str, gzip_ok: bool) -> tuple[float, int]:
    """Milliseconds to fetch ``url`` with curl, and the bytes received."""
    args = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total} %{size_download}"]
    if gzip_ok:
        args += ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True, timeout=60)
    seconds, size = out.stdout.split()
    return float(seconds) * 1000, int(size)


def http_ms(server: Server, app, path: str, runs: int, cached: bool, gzip_ok=True) -> float:
    curl(server.url + path, gzip_ok)
    times = []
    for _ in range(runs):
        if not cached and hasattr(app.state, "tile_cache"):
            del app.state.tile_cache
        times.append(curl(server.url + path, gzip_ok)[0])
    return statistics.median(times)


def bench_backend(name: str, url: str, n: int, runs: int) -> None:
    import mapbox_vector_tile

    from mapping.tiles import collection_tile
    from web.app import create_app
    from web.routes.ogc_tiles import tile_options
    from web.settings import Settings

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n== {name} == (load average {load} on {os.cpu_count()} CPUs)", flush=True)
    store = open_filled(url, n)
    tile = baixa_tile()
    settings = Settings(database_url=url, tiles="none", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, store=store)
    server = Server(app)
    path = f"/ogc/collections/places/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
    try:
        print(f"tile {tile.z}/{tile.y}/{tile.x} (tileMatrix/tileRow/tileCol), bounds "
              f"{', '.join(f'{v:.5f}' for v in tile.bounds)}")  # fmt: skip
        rows = []
        for label, cap in (("as served (cap 5,000)", 5000), ("every place (cap 50,000)", 50000)):
            settings.tile_max_features = cap
            options = tile_options(settings)
            build, cpu, data = median_ms(
                lambda o=options: collection_tile(store, "places", tile, o), runs
            )
            features = mapbox_vector_tile.decode(data)["places"]["features"]  # type: ignore[arg-type]
            clusters = sum(1 for f in features if f["properties"].get("cluster"))
            kind = f"{clusters} clusters" if clusters else f"{len(features):,} places"
            zipped = len(gzip.compress(data, 6))  # type: ignore[arg-type]
            cold = http_ms(server, app, path, runs, cached=False)
            warm = http_ms(server, app, path, runs, cached=True)
            rows.append({"label": label, "kind": kind, "build": build, "cpu": cpu,
                         "http": cold, "cached": warm, "kb": len(data) / 1000,  # type: ignore[arg-type]
                         "gz": zipped / 1000})  # fmt: skip
        settings.tile_max_features = 5000
        naive, naive_cpu, naive_data = median_ms(lambda: naive_tile(store, tile), max(1, runs // 3))
        naive_n = len(mapbox_vector_tile.decode(naive_data)["places"]["features"])  # type: ignore[arg-type]
        bbox = ",".join(f"{v:.7f}" for v in tile.bounds)
        items = f"/ogc/collections/places/items?bbox={bbox}&limit=10000"
        items_ms = statistics.median(curl(server.url + items, False)[0] for _ in range(3))
        items_kb = curl(server.url + items, False)[1] / 1000
        print(f"{'tile':26} {'holds':>14} {'build ms':>9} {'CPU ms':>7} {'HTTP ms':>8} "
              f"{'cached':>7} {'kB raw':>7} {'kB gzip':>8}")  # fmt: skip
        for r in rows:
            print(f"{r['label']:26} {r['kind']:>14} {r['build']:9.1f} {r['cpu']:7.1f} "
                  f"{r['http']:8.1f} {r['cached']:7.1f} {r['kb']:7.1f} {r['gz']:8.1f}")  # fmt: skip
        print(f"{'baseline: naive encode':26} {f'{naive_n:,} places':>14} {naive:9.1f} "
              f"{naive_cpu:7.1f} {'':>8} {'':>7} {len(naive_data) / 1000:7.1f}")  # fmt: skip
        print(f"{'baseline: OGC items':26} {'same bbox':>14} {'':>9} {'':>7} {items_ms:8.1f} "
              f"{'':>7} {items_kb:7.1f}")  # fmt: skip
        every = rows[1]
        # On PostGIS the CPU column is this process's share only (the database encodes).
        less_cpu = f" ({naive_cpu / every['cpu']:.1f}x less CPU)" if name == "SQLite" else ""
        print(f"every place: {naive / every['build']:.1f}x faster than the naive encode"
              f"{less_cpu}, {items_ms / every['http']:.1f}x faster and "
              f"{items_kb / every['gz']:.0f}x smaller (gzip) than the items' GeoJSON")  # fmt: skip
        for r in rows:
            met = r["http"] < BUDGET_MS and r["kb"] < BUDGET_KB
            print(
                f"budget {BUDGET_MS} ms / {BUDGET_KB} kB over HTTP, {r['label']}: "
                f"{'met' if met else 'NOT met'} ({r['http']:.1f} ms, {r['kb']:.1f} kB)"
            )
    finally:
        server.stop()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/heritage-bench-tiles"))
    args = parser.parse_args()
    if not shutil.which("curl"):
        raise SystemExit("this benchmark needs curl as its HTTP client")
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench_backend("SQLite", f"sqlite:///{args.workdir / f'tiles-{args.n}.db'}", args.n, args.runs)
    postgis = os.environ.get("HERITAGE_TEST_POSTGIS_URL")
    if postgis:
        url = postgis + ("&" if "?" in postgis else "?") + "schema=bench_tiles"
        bench_backend("PostGIS", url, args.n, args.runs)
    else:
        print("\n(PostGIS skipped: set HERITAGE_TEST_POSTGIS_URL)")


if __name__ == "__main__":
    main()
