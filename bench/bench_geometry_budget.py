"""What checking one geometry costs, whatever is sent: CPU time and peak memory of the
single-feature check and of the bulk path for every pathological shape of the hostile
corpus (``tests/hostile/json/geometry_*.json``), next to baselines measured in the same
run — the check of an ordinary valid 100-point area, of the largest valid area and
route the limits let in, and what the old check (``make_valid`` on anything invalid)
cost on a 50-point star, in a child process capped in time and memory. The target: at
most 100 ms of CPU per geometry.

    python bench/bench_geometry_budget.py [--repeat 5] [--old-star 50_step_23]

``--old-star 100_step_49`` times the old check on the issue's 100-point star (about ten
seconds); ``--old-star none`` skips the child. "worst" is the slowest of the runs
(a pass of Python's garbage collector, which walks the whole heap, would show there);
"peak +MiB" is the growth of the resident set while checking, from the kernel's VmHWM.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from geodata.demo import NEIGHBOURHOODS, demo_path
from geodata.errors import GeometryError
from geodata.geometry import validate_place_geometries, validate_place_geometry
from geodata.geometry_rules import GeometryRules, ProjectArea
from geodata.neighbourhoods import read_neighbourhoods

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "hostile" / "json"
TARGET_MS = 100.0

# The old check, as it ran before the bounded one: is_valid, then make_valid.
OLD_CHECK = """
import resource, sys, time
import orjson, shapely
from shapely.geometry import shape
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
geom = shape(orjson.loads(open(sys.argv[1], "rb").read())["geometry"])
start = time.process_time()
if not shapely.is_valid(geom):
    shapely.make_valid(geom)
cpu = time.process_time() - start
peak = next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(f"{cpu * 1000:.0f} {int(peak) / 1024:.0f}")
"""


def peak_reset() -> float:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; returns RSS in MiB."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_ms(work: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """Median and worst CPU milliseconds over ``repeat`` runs, and the peak RSS growth
    (MiB) during them."""
    times = []
    base = peak_reset()
    for _ in range(repeat):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times), max(times), _status("VmHWM") - base


def verdict(geometry: Any, rules: GeometryRules) -> str:
    try:
        validate_place_geometry(geometry, rules)
    except GeometryError as exc:
        return exc.code
    return "accepted"


def circle(n: int, r: float = 0.003, turns: float = 1.0) -> list[list[float]]:
    return [
        [
            -9.14 + r * math.cos(2 * math.pi * turns * i / n),
            38.71 + r * math.sin(2 * math.pi * turns * i / n),
        ]
        for i in range(n)
    ]


def pinched(n: int, touches: int) -> list[list[float]]:
    """A round outline that, in ``touches`` places, goes in to a point, around a small
    loop and back to that point: it touches itself, and the repair keeps it."""
    points, round_points = [], n - 4 * touches
    for k, (x, y) in enumerate(circle(round_points)):
        points.append([x, y])
        if k % (round_points // touches) == 0 and k // (round_points // touches) < touches:
            a = 2 * math.pi * k / round_points
            q = [-9.14 + 0.0024 * math.cos(a), 38.71 + 0.0024 * math.sin(a)]
            points += [
                q,
                [-9.14 + 0.0015 * math.cos(a - 0.02), 38.71 + 0.0015 * math.sin(a - 0.02)],
                [-9.14 + 0.0015 * math.cos(a + 0.02), 38.71 + 0.0015 * math.sin(a + 0.02)],
                q,
            ]
    return points


def baselines() -> dict[str, dict]:
    return {
        "valid area, 100 points (baseline)": {
            "type": "Polygon",
            "coordinates": [[*circle(100), circle(100)[0]]],
        },
        "valid area, 5,000 points (the limit)": {
            "type": "Polygon",
            "coordinates": [[*circle(4999), circle(4999)[0]]],
        },
        "repaired area, 5,000 points touching itself 8x": {
            "type": "Polygon",
            "coordinates": [[*pinched(4999, 8), pinched(4999, 8)[0]]],
        },
        "valid route, 10,000 points (the limit)": {
            "type": "LineString",
            "coordinates": circle(10_000, turns=0.9),
        },
    }


def old_check(star: str) -> str:
    path = CORPUS / f"geometry_star_{star}.json"
    try:
        done = subprocess.run(
            [sys.executable, "-c", OLD_CHECK, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return f"old check (make_valid), star {star}: more than 120 s, stopped"
    if done.returncode != 0:
        return f"old check (make_valid), star {star}: failed ({done.stderr.strip()[-120:]})"
    ms, peak = done.stdout.split()
    return f"old check (make_valid), star {star}: {float(ms):,.0f} ms of CPU, peak RSS {peak} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old-star", default="50_step_23")
    args = parser.parse_args()

    items = read_neighbourhoods(demo_path(NEIGHBOURHOODS), "NOME").items
    rules = GeometryRules(area=ProjectArea.from_geometries([g for _, g, _ in items], 500))
    cases = {name: geom for name, geom in baselines().items()}
    for path in sorted(CORPUS.glob("geometry_*.json")):
        cases[path.stem.removeprefix("geometry_")] = orjson.loads(path.read_bytes())["geometry"]

    print(f"{'shape':48} {'verdict':18} {'single ms':>17} {'bulk ms':>9} {'peak +MiB':>9}")
    print(f"{'':48} {'':18} {'median':>8} {'worst':>8} {'median':>9}")
    worst = (0.0, "")
    baseline_ms = None
    for name, geometry in cases.items():
        validate_place_geometries([geometry], rules)  # warm up
        median, top, grown = cpu_ms(lambda g=geometry: verdict(g, rules), args.repeat)
        bulk, _, bulk_grown = cpu_ms(
            lambda g=geometry: validate_place_geometries([g], rules), args.repeat
        )
        code = verdict(geometry, rules)
        print(
            f"{name:48} {code:18} {median:8.1f} {top:8.1f} {bulk:9.1f} "
            f"{max(grown, bulk_grown):9.1f}"
        )
        if baseline_ms is None:
            baseline_ms = median
        worst = max(worst, (max(top, bulk), name))
    print()
    print(f"baseline (a valid 100-point area): {baseline_ms:.2f} ms")
    verdict_word = "within" if worst[0] <= TARGET_MS else "OVER"
    print(
        f"worst of every shape above: {worst[0]:.1f} ms ({worst[1]}), {verdict_word} the "
        f"{TARGET_MS:.0f} ms target; x{worst[0] / baseline_ms:,.0f} the baseline"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this whole process (corpus loaded, every shape checked): {peak:.0f} MiB")
    if args.old_star != "none":
        print(old_check(args.old_star))


if __name__ == "__main__":
    main()
