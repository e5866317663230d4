"""GeoParquet and FlatGeobuf downloads next to geopandas writing the same places.

Measures, in one run on the same places (the stores of ``bench_export.py``: INE address
points repeated with jitter, every 100th generalised, every 1,000th hidden):

* ``GET /api/export/places.parquet`` and ``GET /api/export/places.fgb`` on a uvicorn
  server: features per second, seconds to the first byte (GeoParquet is streamed a row
  group at a time; FlatGeobuf is written whole to a temporary file, for its index, then
  sent), size, and the server's peak RSS; at ``--small`` and at ``--n`` places, each on a
  fresh server, so the peaks tell whether memory grows with the number of places;
* ``heritage-atlas export --format parquet|fgb``: features per second and peak RSS;
* the baselines: ``GeoDataFrame.to_parquet()`` (GeoParquet 1.1 with the covering bbox,
  zstd) and ``GeoDataFrame.to_file(driver="FlatGeobuf")`` (with its spatial index) on the
  same places read from our GeoPackage download (the same columns), each in a fresh
  process: seconds to write (and to read the frame first), features per second, and the
  peak RSS of the process that holds the frame.

Run: ``python bench/bench_export_formats.py [--n 1000000] [--small 100000] [--repeat 2]``
(``--n 0`` measures ``--small`` only; stores and GeoPackages are kept in ``--workdir``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_export as shared  # the stores, server and CLI helpers

ROOT = shared.ROOT
DATA = "ine_addresses_aml_south/aml_south_addresses_ine.geojson.zip"


def first_byte_and_total(url: str) -> tuple[float, float, int]:
    """Seconds to the first body byte and to the last, and the size, of one download."""
    t0 = time.perf_counter()
    first, size = None, 0
    with httpx.stream("GET", url, timeout=1800) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():
            if first is None:
                first = time.perf_counter() - t0
            size += len(chunk)
    return first or 0.0, time.perf_counter() - t0, size


def api_download(db: Path, workdir: Path, fmt: str, n: int, repeat: int) -> dict[str, float]:
    server = shared.our_server(db, workdir)
    try:
        runs = [first_byte_and_total(f"{server.url}/api/export/places.{fmt}")
                for _ in range(repeat)]  # fmt: skip
        first, seconds, size = min(runs, key=lambda r: r[1])
        return {"seconds": seconds, "first_byte_s": first, "features_s": n / seconds,
                "mb": size / 1e6, "peak_rss_mb": server.peak_rss_mb()}  # fmt: skip
    finally:
        server.stop()


def cli_export(db: Path, workdir: Path, fmt: str, n: int, repeat: int) -> dict[str, float]:
    out = workdir / f"cli.{fmt}"
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        out.unlink(missing_ok=True)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", shared.CLI_WITH_PEAK, "export", str(out),
             "--database-url", f"sqlite:///{db}"],
            cwd=workdir, capture_output=True, text=True, check=False,
        )  # fmt: skip
        best = min(best, time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        peak = max(peak, float(proc.stderr.rsplit("peak_rss_kb=", 1)[1]) / 1024)
    return {"seconds": best, "features_s": n / best, "peak_rss_mb": peak,
            "mb": out.stat().st_size / 1e6}  # fmt: skip


BASELINE = """
import json, resource, sys, time
import geopandas as gpd
gpkg, fmt, out = sys.argv[1:4]
t0 = time.perf_counter()
gdf = gpd.read_file(gpkg, layer="places")
read_s = time.perf_counter() - t0
if fmt == "fgb":  # an indexed FlatGeobuf takes no feature without a geometry
    gdf = gdf[gdf.geometry.notna()]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
if fmt == "parquet":
    gdf.to_parquet(out, schema_version="1.1.0", write_covering_bbox=True, compression="zstd")
else:
    gdf.to_file(out, driver="FlatGeobuf", SPATIAL_INDEX="YES")
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
import os
print(json.dumps({"seconds": seconds, "features_s": len(gdf) / seconds, "peak_rss_mb": peak,
                  "frame_mb": before, "mb": os.path.getsize(out) / 1e6, "read_s": read_s,
                  "with_read_features_s": len(gdf) / (seconds + read_s)}))
"""


def baseline(gpkg: Path, workdir: Path, fmt: str, repeat: int) -> dict[str, float]:
    out = workdir / f"geopandas.{fmt}"
    runs = []
    for _ in range(repeat):
        out.unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-c", BASELINE, str(gpkg), fmt, str(out)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda m: m["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "export")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    # The shared data lies beside the repository (main checkout) or two levels up (worktree).
    for base in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data"):
        if (base / DATA).exists():
            shared.ADDRESSES = base / DATA
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    sizes = [args.small] + ([args.n] if args.n else [])
    rows: dict[tuple[str, str, int], dict[str, float]] = {}
    for n in sizes:
        db = args.workdir / f"places-{n}.db"
        gpkg = args.workdir / f"places-{n}.gpkg"
        print(f"{n:,} places: store and GeoPackage", flush=True)
        shared.build_store(db, n)
        shared.write_gpkg(db, gpkg)
        public = shared.count_public_places(db)
        located = public - n // 1000  # FlatGeobuf leaves the hidden places out
        for fmt, k in (("parquet", public), ("fgb", located)):
            print(f"  {fmt}: API, CLI, geopandas (best of {args.repeat})", flush=True)
            rows[(fmt, "API", n)] = api_download(db, args.workdir, fmt, k, args.repeat)
            rows[(fmt, "CLI", n)] = cli_export(db, args.workdir, fmt, k, args.repeat)
            rows[(fmt, "geopandas", n)] = baseline(gpkg, args.workdir, fmt, args.repeat)
    print(f"\n  {'format':<8} {'path':<10} {'places':>10} {'seconds':>8} {'first byte':>10} "
          f"{'features/s':>11} {'MB':>7} {'peak RSS MB':>12}")  # fmt: skip
    for (fmt, path, n), m in rows.items():
        first = f"{m['first_byte_s']:.2f}" if "first_byte_s" in m else "-"
        print(
            f"  {fmt:<8} {path:<10} {n:>10,} {m['seconds']:>8.2f} {first:>10} "
            f"{m['features_s']:>11,.0f} {m['mb']:>7.1f} {m['peak_rss_mb']:>12,.0f}"
        )
    for fmt in ("parquet", "fgb"):
        for n in sizes:
            ours, theirs = rows[(fmt, "CLI", n)], rows[(fmt, "geopandas", n)]
            print(
                f"  {fmt} at {n:,}: CLI {ours['features_s'] / theirs['features_s']:.2f}x the "
                f"features/s of geopandas writing a frame it already holds, "
                f"{ours['features_s'] / theirs['with_read_features_s']:.2f}x counting the "
                f"{theirs['read_s']:.1f} s it took to read it from the GeoPackage; peak RSS "
                f"{theirs['peak_rss_mb']:,.0f} MB ({theirs['frame_mb']:,.0f} MB to hold the "
                f"frame) against our {ours['peak_rss_mb']:,.0f} MB"
            )
        if len(sizes) == 2:
            small, big = rows[(fmt, "API", sizes[0])], rows[(fmt, "API", sizes[1])]
            print(
                f"  {fmt} API server peak RSS: {small['peak_rss_mb']:,.0f} MB at {sizes[0]:,}, "
                f"{big['peak_rss_mb']:,.0f} MB at {sizes[1]:,} places"
            )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
