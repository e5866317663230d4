"""Where a shape's edges meet one another, counted at a bounded cost.

GEOS's validity check and ``make_valid`` compare every pair of edges whose boxes
overlap, and ``make_valid`` then builds a face for every crossing: a 100-point star
whose points cross thousands of times took seconds, a 10,000-point one gigabytes, and
even the check of a valid comb of 10,000 slanted teeth took a second. This module looks
at the same pairs first, with two limits: it stops counting meetings after ``limit``
(the shape is refused for them, whatever the rest holds), and it stops looking after
``box_budget`` pairs of edges side by side (the shape is refused as too intricate).
A shape that passes has few enough pairs for GEOS to check and repair in a few
milliseconds.

Edges "meet" when they cross, touch or overlap; two edges following one another along
a ring or a route (sharing their joint) do not count.

>>> import shapely
>>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
>>> scan_edges(bowtie, limit=10, box_budget=100).meetings
1
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# Candidate pairs (both ways round) one round of the scan may hold at most: 2**17
# pairs of int64 indices is 2 MiB, whatever the shape.
CHUNK_PAIRS = 1 << 17
FIRST_CHUNK_PAIRS = 1 << 10


@dataclass(frozen=True)
class Tangle:
    """What :func:`scan_edges` found."""

    meetings: int  # pairs of edges that meet, counted up to limit + 1
    crossings: int  # of which cross (each passes from one side of the other to the other)
    first: tuple[float, float] | None  # (x, y) of the first meeting, in the edges' order
    boxes: int  # pairs of edges with overlapping boxes looked at
    complete: bool  # False: stopped early (too many meetings, or the box budget ran out)

    def over(self, limit: int) -> bool:
        return self.meetings > limit


def _rings(geom: BaseGeometry) -> tuple[list[np.ndarray], bool]:
    if geom.geom_type == "Polygon":
        rings = [geom.exterior, *geom.interiors]
        return [shapely.get_coordinates(r) for r in rings], True
    return [shapely.get_coordinates(geom)], False


def _edges(rings: list[np.ndarray], closed: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge starts and ends, and the two edges joined to each edge's end or start that
    come after it: the next edge of its ring or route, and for the first edge of a
    closed ring, the ring's last (-1 for none)."""
    starts = np.concatenate([r[:-1] for r in rings])
    ends = np.concatenate([r[1:] for r in rings])
    sizes = np.array([len(r) - 1 for r in rings])
    first = np.cumsum(sizes) - sizes
    last = first + sizes - 1
    following = np.arange(1, len(starts) + 1)
    following[last] = -1
    wrap = np.full(len(starts), -1)
    if closed:
        wrap[first] = last
    return starts, ends, np.stack([following, wrap])


def _overlaps_1d(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """For each interval, how many intervals (itself included) overlap it."""
    return np.searchsorted(np.sort(lo), hi, "right") - np.searchsorted(np.sort(hi), lo, "left")


def _meet(ax, ay, bx, by, cx, cy, dx, dy) -> tuple[np.ndarray, np.ndarray]:
    """Whether segments a-b and c-d share a point (crossing, touching or overlapping),
    and whether they cross. The arguments are coordinate arrays, one entry per pair."""
    ux, uy, vx, vy = bx - ax, by - ay, dx - cx, dy - cy
    d1 = vx * (ay - cy) - vy * (ax - cx)  # side of c-d that a lies on
    d2 = vx * (by - cy) - vy * (bx - cx)
    d3 = ux * (cy - ay) - uy * (cx - ax)  # side of a-b that c lies on
    d4 = ux * (dy - ay) - uy * (dx - ax)
    cross = ((d1 > 0) != (d2 > 0)) & ((d1 < 0) != (d2 < 0))  # strictly on both sides
    cross &= ((d3 > 0) != (d4 > 0)) & ((d3 < 0) != (d4 < 0))
    meet = cross.copy()
    # An end on the other segment's line: it meets when it lies within that segment's
    # box (the pair's boxes overlap, so only those few pairs need the closer look).
    edge = np.flatnonzero((d1 == 0) | (d2 == 0) | (d3 == 0) | (d4 == 0))
    if edge.size:
        e = edge

        def on(px, py, qx, qy, rx, ry):  # p within the box of q-r
            return (
                (np.minimum(qx, rx) <= px)
                & (px <= np.maximum(qx, rx))
                & (np.minimum(qy, ry) <= py)
                & (py <= np.maximum(qy, ry))
            )

        meet[e] |= (
            ((d1[e] == 0) & on(ax[e], ay[e], cx[e], cy[e], dx[e], dy[e]))
            | ((d2[e] == 0) & on(bx[e], by[e], cx[e], cy[e], dx[e], dy[e]))
            | ((d3[e] == 0) & on(cx[e], cy[e], ax[e], ay[e], bx[e], by[e]))
            | ((d4[e] == 0) & on(dx[e], dy[e], ax[e], ay[e], bx[e], by[e]))
        )
    return meet, cross


def _where(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    """A point shared by segments a-b and c-d (which meet)."""
    shared = shapely.intersection(shapely.linestrings([a, b]), shapely.linestrings([c, d]))
    p = shapely.get_coordinates(shared)
    return (float(p[0, 0]), float(p[0, 1])) if len(p) else (float(a[0]), float(a[1]))


@contextlib.contextmanager
def _no_collector_passes() -> Iterator[None]:
    """The scan makes one shapely object per edge (an STRtree indexes geometries), all
    freed when it ends and none in a cycle: the garbage collector's passes they would
    set off find nothing, yet each walks the whole heap (tens of milliseconds in a
    server). Turned off meanwhile, and back on only if it was on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def scan_edges(geom: BaseGeometry, limit: int, box_budget: int) -> Tangle:
    """Count the pairs of edges of a LineString or Polygon that meet, up to ``limit`` + 1,
    looking at no more than ``box_budget`` pairs of edges whose boxes overlap.

    The cost is bounded whatever the shape: O(n log n) to sort the edges, then work
    and memory in proportion to the pairs looked at (at most ``box_budget``, plus one
    round of at most ``CHUNK_PAIRS``).
    """
    with _no_collector_passes():
        return _scan(geom, limit, box_budget)


def _scan(geom: BaseGeometry, limit: int, box_budget: int) -> Tangle:
    rings, closed = _rings(geom)
    a, b, joined = _edges(rings, closed)
    n = len(a)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    # An upper bound of each edge's box-overlapping partners, without forming any pair:
    # each round below is cut so that it cannot hold more than CHUNK_PAIRS pairs.
    bound = np.minimum(_overlaps_1d(lo[:, 0], hi[:, 0]), _overlaps_1d(lo[:, 1], hi[:, 1]))
    reach = np.cumsum(bound)
    ax, ay, bx, by = (np.ascontiguousarray(c) for c in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
    segments = shapely.linestrings(np.stack([a, b], axis=1))
    tree = shapely.STRtree(segments)
    meetings = crossings = boxes = 0
    first: tuple[float, float] | None = None
    start, chunk = 0, FIRST_CHUNK_PAIRS  # small rounds first: a star stops in the first
    while start < n:
        done = reach[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(reach, done + chunk, "right")))
        chunk = min(2 * chunk, CHUNK_PAIRS)
        qi, ti = tree.query(segments[start:stop])
        qi += start
        later = ti > qi  # each pair once
        i, j = qi[later], ti[later]
        boxes += len(i)
        apart = (j != joined[0, i]) & (j != joined[1, i])
        i, j = i[apart], j[apart]
        hit, cross = _meet(ax[i], ay[i], bx[i], by[i], ax[j], ay[j], bx[j], by[j])
        found = int(np.count_nonzero(hit))
        crossings += int(np.count_nonzero(cross))
        if found and first is None:
            hi_, hj = i[hit], j[hit]
            k = np.lexsort((hj, hi_))[0]
            first = _where(a[hi_[k]], b[hi_[k]], a[hj[k]], b[hj[k]])
        meetings += found
        if meetings > limit:
            return Tangle(limit + 1, crossings, first, boxes, complete=False)
        if boxes > box_budget:
            return Tangle(meetings, crossings, first, boxes, complete=False)
        start = stop
    return Tangle(meetings, crossings, first, boxes, complete=True)
