"""Bulk import: 100,000 real points read from GeoJSON, validated, assigned, stored.

Compares, in one run on the same file:

* the bulk path (``heritage-atlas import-places``: orjson, shapely array validation,
  one geopandas spatial join, batches built as columns and moved into SQLite on a helper
  thread, the R*Tree packed), in-process (median of 3) and as the CLI end to end
  (median of ``--cli-runs``, each into a fresh database);
* ``ogr2ogr -f GPKG`` writing the same file into a GeoPackage (GDAL's plain import, no
  validation or neighbourhoods), its runs alternating with the CLI's: the ratio of the
  medians is the import's speed against GDAL;
* a per-feature Python loop doing the same work one feature at a time (json, the
  single-feature validator, point-in-polygon per neighbourhood, one insert each,
  all in one transaction so fsync cost does not dominate).

Data: the INE address points of the southern Lisbon metropolitan area
(``shared/data/ine_addresses_aml_south``, 135,986 points). Neighbourhoods: the
municipalities (``concelho``) those addresses name, as areas built from the
addresses themselves (Voronoi cells of a sample, dissolved by municipality).

Run: ``python bench/bench_import.py [--n 100000] [--cli-runs 5]``
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
ADDRESSES = ROOT.parent / "shared/data/ine_addresses_aml_south/aml_south_addresses_ine.geojson.zip"


def prepare(n: int, workdir: Path) -> tuple[Path, list[tuple[str, object, None]]]:
    gdf = gpd.read_file(ADDRESSES).head(n)
    features = [
        {
            "type": "Feature",
            "id": str(row.id),
            "geometry": {"type": "Point", "coordinates": [row.geometry.x, row.geometry.y]},
            "properties": {
                "title": f"{row.street} {row.house}".strip() or "address",
                "category": "building",
                "postcode": row.postcode,
            },
        }
        for row in gdf.itertuples()
    ]
    path = workdir / "addresses.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    sample = gdf.sample(min(4000, len(gdf)), random_state=1)
    cells = shapely.voronoi_polygons(shapely.multipoints(sample.geometry.values), extend_to=None)
    cells = gpd.GeoDataFrame(geometry=list(shapely.get_parts(cells)), crs=4326)
    cells = gpd.sjoin(cells, sample[["concelho", "geometry"]], predicate="contains")
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(gdf.geometry.values)), 0.01)
    areas = cells.dissolve("concelho").geometry.intersection(hull)
    items = [(str(name), geom, None) for name, geom in areas.items()]
    return path, items


def naive_import(store, path: Path, limit: int | None = None, one_transaction: bool = True) -> int:
    from geodata.errors import GeometryError, InvalidInput
    from geodata.geometry import validate_place_geometry
    from geodata.geometry_rules import GeometryRules, ProjectArea
    from geodata.importer import ImportOptions, properties_to_fields
    from geodata.models import Place, Status
    from geodata.vocabulary import Vocabulary

    doc = json.loads(path.read_text())
    nbs = store.neighbourhoods()
    prepared = [(nb.id, shapely.prepared.prep(nb.geometry)) for nb in nbs]
    rules = GeometryRules(area=ProjectArea.from_geometries([nb.geometry for nb in nbs], 1000))
    options, vocabulary = ImportOptions(), Vocabulary()
    n = 0
    features = doc["features"][:limit]
    with store.transaction() if one_transaction else contextlib.nullcontext():
        for f in features:
            try:
                geom = validate_place_geometry(f["geometry"], rules).geometry
                fields = properties_to_fields(f["properties"], vocabulary, options)
            except (GeometryError, InvalidInput):
                continue
            nid = next((i for i, p in prepared if p.intersects(geom)), None)
            store.add(Place(geometry=geom, neighbourhood_id=nid, status=Status.PUBLISHED, **fields))
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--cli-runs", type=int, default=5)
    args = parser.parse_args()
    from geodata.importer import ImportOptions, import_places
    from geodata.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path, neighbourhoods = prepare(args.n, work)
        print(
            f"{args.n:,} points, {path.stat().st_size / 1e6:.1f} MB of GeoJSON, "
            f"{len(neighbourhoods)} municipalities as neighbourhoods"
        )
        # How fast this machine is right now: the issue measured the standard json module
        # at about 185,000 features/s here beforehand.
        t = time.perf_counter()
        json.loads(path.read_bytes())
        print(f"machine check: the json module parses {args.n / (time.perf_counter() - t):,.0f} "
              "features/s now (about 185,000 when the issue was written)")  # fmt: skip

        def fresh(name: str):
            store = open_store(f"sqlite:///{work / name}")
            store.replace_neighbourhoods(neighbourhoods)
            return store

        bulk_runs = []
        for k in range(3):
            store = fresh(f"bulk{k}.db")
            t = time.perf_counter()
            result = import_places(store, path, ImportOptions())
            bulk_runs.append(time.perf_counter() - t)
        bulk_s = statistics.median(bulk_runs)
        assigned = sum(1 for v in store.counts_by_neighbourhood().items() if v[0] is not None)
        print(
            f"bulk path:      {result.imported:,} stored, {len(result.rejected)} rejected, "
            f"median {bulk_s:.2f} s of 3 runs ({', '.join(f'{s:.2f}' for s in bulk_runs)}) = "
            f"{result.imported / bulk_s:,.0f} features/s ({assigned} neighbourhoods used)"
        )

        # An installed atlas runs from compiled bytecode (pip writes it at install, Python
        # at the first run); where PYTHONDONTWRITEBYTECODE is set, as on the CI machines,
        # every CLI run would compile the atlas's own modules again. Compile them first.
        for package in ("geodata", "mapping", "web"):
            compileall.compile_dir(ROOT / package, quiet=1)
        cli_runs, gdal_runs = [], []
        ogr2ogr = shutil.which("ogr2ogr")
        for k in range(args.cli_runs):  # the machine's speed wanders: several runs, median
            if ogr2ogr:  # GDAL writing the same file into a GeoPackage: the plain import
                target = work / f"gdal{k}.gpkg"
                t = time.perf_counter()
                subprocess.run([ogr2ogr, "-f", "GPKG", str(target), str(path)], check=True,
                               capture_output=True)  # fmt: skip
                gdal_runs.append(time.perf_counter() - t)
                target.unlink()
            fresh(f"cli{k}.db").close()
            t = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "web",
                    "import-places",
                    str(path),
                    "--database-url",
                    f"sqlite:///{work / f'cli{k}.db'}",
                ],
                capture_output=True,
                text=True,
                cwd=work,
            )
            cli_runs.append(time.perf_counter() - t)
            if proc.returncode:
                raise SystemExit(f"the CLI failed: {proc.stderr.strip()}")
        runs = ", ".join(f"{s:.2f}" for s in cli_runs)
        print(
            f"CLI end to end: median {statistics.median(cli_runs):.2f} s of {len(cli_runs)} "
            f"runs ({runs}) including interpreter start ({proc.stdout.strip()})"
        )
        if gdal_runs:
            gdal_s = statistics.median(gdal_runs)
            print(
                f"ogr2ogr -f GPKG: median {gdal_s:.2f} s of {len(gdal_runs)} runs "
                f"({', '.join(f'{s:.2f}' for s in gdal_runs)}), runs alternating with the CLI's"
            )
            print(
                f"ratio: the CLI import takes {statistics.median(cli_runs) / gdal_s:.2f}x the "
                "time ogr2ogr takes (target: at most 1.0x)"
            )
        else:
            print("ogr2ogr: not installed (apt-get install gdal-bin), no ratio against GDAL")

        store = fresh("naive.db")
        t = time.perf_counter()
        n = naive_import(store, path)
        naive_s = time.perf_counter() - t
        print(
            f"per-feature, one transaction:    {n:,} stored, {naive_s:.2f} s = "
            f"{n / naive_s:,.0f} features/s"
        )
        # What a simple importer does through the store's API: every place its own
        # committed (fsynced) write, as a submission is. Timed on a slice.
        k = min(args.n, 5_000)
        each = fresh("naive_each.db")
        t = time.perf_counter()
        m = naive_import(each, path, limit=k, one_transaction=False)
        each_s = (time.perf_counter() - t) * (n / max(m, 1))
        print(
            f"per-feature, a commit per place: {m:,} stored in "
            f"{(time.perf_counter() - t):.2f} s = {m / (each_s * m / n):,.0f} features/s "
            f"(timed on the first {k:,}, {each_s:.0f} s for {n:,} extrapolated)"
        )
        same = np.array_equal(
            sorted(store.counts_by_neighbourhood().values()),
            sorted(open_store(f"sqlite:///{work / 'bulk0.db'}").counts_by_neighbourhood().values()),
        )
        print(f"same neighbourhood counts from both paths: {same}")
        print(
            f"ratio: bulk path is {naive_s / bulk_s:.1f}x faster than the per-feature loop in "
            f"one transaction, {each_s / bulk_s:.0f}x faster than a commit per place"
        )


if __name__ == "__main__":
    main()
