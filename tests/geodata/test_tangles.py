"""The bounded edge scan (geodata/tangles.py) counts exactly what a brute-force
comparison of every pair of edges with shapely counts, and stops where it says."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import shapely

from geodata.tangles import scan_edges


def brute_force(geom: shapely.Geometry) -> tuple[int, int]:
    """(meetings, crossings) by testing every pair of non-adjacent edges with GEOS."""
    if geom.geom_type == "Polygon":
        rings, closed = [geom.exterior, *geom.interiors], True
    else:
        rings, closed = [geom], False
    edges = []  # (ring, index in ring, ring size, segment)
    for r, ring in enumerate(rings):
        c = shapely.get_coordinates(ring)
        for k in range(len(c) - 1):
            edges.append((r, k, len(c) - 1, shapely.LineString(c[k : k + 2])))
    meetings = crossings = 0
    for x in range(len(edges)):
        for y in range(x + 1, len(edges)):
            (r1, k1, n1, s1), (r2, k2, _, s2) = edges[x], edges[y]
            if r1 == r2 and (k2 == k1 + 1 or (closed and k1 == 0 and k2 == n1 - 1)):
                continue  # joined at a vertex along the ring or route
            if s1.intersects(s2):
                meetings += 1
                crossings += s1.crosses(s2)
    return meetings, crossings


def grid_shape(seed: int, kind: str) -> shapely.Geometry:
    """Random points on a small integer grid: crossings, touches at vertices, vertices
    on edges and overlapping collinear edges all happen (and are exact in floats)."""
    rng = random.Random(seed)
    points = [(rng.randint(0, 6), rng.randint(0, 6)) for _ in range(rng.randint(4, 14))]
    points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if kind == "route":
        return shapely.LineString(points)
    if points[-1] == points[0]:
        points.pop()
    shell = shapely.Polygon(points) if len(points) >= 3 else shapely.box(0, 0, 1, 1)
    holes = [[(1, 1), (2, 1), (2, 2)], [(3, 3), (4, 5), (5, 3)]][: rng.randint(0, 2)]
    return shapely.Polygon(shell.exterior.coords, holes)


@pytest.mark.parametrize("kind", ["route", "area"])
@pytest.mark.parametrize("seed", range(60))
def test_counts_match_a_brute_force_comparison_of_every_pair(seed, kind):
    geom = grid_shape(seed, kind)
    tangle = scan_edges(geom, limit=10_000, box_budget=10_000)
    assert tangle.complete
    assert (tangle.meetings, tangle.crossings) == brute_force(geom), geom.wkt


@pytest.mark.parametrize(("n", "step"), [(5, 2), (7, 3), (50, 3), (101, 50)])
def test_a_star_crosses_itself_n_times_step_minus_one(n, step):
    ring = [
        (math.cos(2 * math.pi * (i * step % n) / n), math.sin(2 * math.pi * (i * step % n) / n))
        for i in range(n)
    ]
    tangle = scan_edges(shapely.Polygon(ring), limit=100_000, box_budget=10**7)
    assert tangle.meetings == tangle.crossings == n * (step - 1)


def test_a_simple_ring_and_a_simple_route_meet_nowhere():
    t = np.linspace(0, 2 * np.pi, 2001)[:-1]
    circle = np.c_[np.cos(t), np.sin(t)]
    assert scan_edges(shapely.Polygon(circle), 10, 100_000).meetings == 0
    assert scan_edges(shapely.LineString(circle), 10, 100_000).meetings == 0
    # a route back to its start touches itself there, once
    closed = shapely.LineString(np.r_[circle, circle[:1]])
    assert scan_edges(closed, 10, 100_000).meetings == 1


def test_the_scan_stops_at_the_limit_and_says_where_it_started():
    zigzag = shapely.LineString([(0, 0), (1, 0)] * 200)  # retraces one edge 400 times
    tangle = scan_edges(zigzag, limit=50, box_budget=10**6)
    assert tangle.meetings == 51 and not tangle.complete
    assert tangle.first == (0.0, 0.0) or tangle.first == (1.0, 0.0)


def test_the_scan_gives_up_after_its_box_budget():
    # Long parallel slanted teeth: a simple line, but every edge's box overlaps the others.
    n = 2000
    teeth = [(i / n - (i % 2), i / n + (i % 2)) for i in range(n)]
    tangle = scan_edges(shapely.LineString(teeth), limit=1000, box_budget=50_000)
    assert tangle.meetings == 0 and not tangle.complete
    assert 50_000 < tangle.boxes < 50_000 + (1 << 17)


def test_the_first_meeting_is_a_point_both_edges_share():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    assert scan_edges(bowtie, 10, 100).first == (1.0, 1.0)
