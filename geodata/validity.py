"""Validity of routes and areas, decided at a cost bounded whatever is sent.

GEOS checks validity by comparing every pair of edges whose boxes overlap, and
``make_valid`` builds a face for every crossing: a 3.5 kB star of 100 points cost ten
seconds of repair, a 10,000-point one gigabytes of memory, and a valid comb of 10,000
slanted teeth a second of checking. So before GEOS sees a shape,
:func:`~geodata.tangles.scan_edges` counts where its edges meet (cross, touch or
overlap), with two limits (:class:`TangleLimits`):

* more than ``edge_pairs`` pairs of edges lying close together: refused as too
  intricate to check (no real outline or route comes near it);
* a route whose edges meet more than ``meetings`` times: refused (a route may cross
  itself, or go out and back along a street; not thousands of times);
* an area whose edges meet more than ``meetings`` times: refused;
* an invalid area is repaired only when its edges meet at most ``repair`` times and
  none of them crosses another (a ring touching itself in a few places): the repair
  of a crossing never gives back one polygon of the same area, so ``make_valid``
  (milliseconds per crossing on a large ring) is not tried; beyond ``repair`` meetings
  the area is refused with their count.

Shapes of at most :data:`SMALL_EDGES` edges are cheap for GEOS whatever they hold; a
valid one skips the scan (the common case of a drawn area stays as fast as before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.tangles import Tangle, scan_edges

# At most 256 edges, GEOS compares at most 32,640 pairs: well under a millisecond.
SMALL_EDGES = 256

Problem = tuple[str, str]  # (code, message)


@dataclass(frozen=True)
class TangleLimits:
    """How tangled a route or an area may be (see the module's docstring)."""

    meetings: int = 1_000
    repair: int = 32
    edge_pairs: int = 100_000


def fmt_position(lat: float, lon: float) -> str:
    return f"{lat:.4f}, {lon:.4f}"


_REASONS = {
    "Self-intersection": ("self_intersection", "the area's outline crosses itself"),
    "Ring Self-intersection": ("self_intersection", "the area's outline touches itself"),
    "Hole lies outside shell": ("hole_outside", "a hole lies outside the area's outline"),
    "Interior is disconnected": ("disconnected", "the area's holes split it into pieces"),
    "Nested shells": ("nested_shells", "the area has an outline inside another"),
    "Nested holes": ("nested_holes", "the area has a hole inside another hole"),
    "Duplicate Rings": ("duplicate_rings", "the area repeats the same ring"),
    "Too few points": ("too_few_points", "the shape has too few distinct points"),
    "Too few points in geometry component": (
        "too_few_points",
        "the shape has too few distinct points",
    ),
    "Invalid Coordinate": ("bad_coordinates", "the shape has an invalid coordinate"),
}
_REASON_RE = re.compile(r"^([^\[]+?)\s*\[\s*([-+\deE.]+)\s+([-+\deE.]+)")
REPAIR_WARNING = "repaired: {}"


def describe_invalidity(reason: str) -> Problem:
    """Turn GEOS's ``is_valid_reason`` into a code and a sentence a resident can act on."""
    m = _REASON_RE.match(reason)
    name = m.group(1) if m else reason
    code, text = _REASONS.get(name, ("invalid_shape", f"the shape is not valid ({name})"))
    if m:
        text += f" near {fmt_position(float(m.group(3)), float(m.group(2)))}"
    return code, text + "; redraw it so its edges do not cross"


def needs_scan(geoms: np.ndarray, limits: TangleLimits) -> np.ndarray:
    """For each geometry, whether it must be scanned before GEOS checks it: an area of
    more than SMALL_EDGES edges, a route long enough to meet itself more than
    ``limits.meetings`` times (n edges meet at most n(n-1)/2 times). Points never."""
    types = shapely.get_type_id(geoms)
    rings = np.where(types == 3, 1 + shapely.get_num_interior_rings(geoms), 1)
    edges = shapely.get_num_coordinates(geoms).astype(np.int64) - rings
    return np.where(
        types == 1, edges * (edges - 1) // 2 > limits.meetings, (types == 3) & (edges > SMALL_EDGES)
    )


def _times(tangle: Tangle, limits: TangleLimits) -> str:
    if tangle.over(limits.meetings):
        return f"more than {limits.meetings:,} times"
    return f"{tangle.meetings:,} times"


def _near(tangle: Tangle) -> str:
    x, y = tangle.first or (0.0, 0.0)
    return fmt_position(y, x)


def _tangled(geom: BaseGeometry, tangle: Tangle, limits: TangleLimits) -> Problem:
    if geom.geom_type == "LineString":
        return (
            "tangled_route",
            f"the route crosses or runs back over itself {_times(tangle, limits)}, first "
            f"near {_near(tangle)}; redraw it as a simpler line",
        )
    return (
        "self_intersection",
        f"the area's outline crosses or touches itself {_times(tangle, limits)}, first "
        f"near {_near(tangle)}; redraw it so its edges do not cross",
    )


def scan(geom: BaseGeometry, limits: TangleLimits) -> tuple[Tangle, Problem | None]:
    """Scan a route or an area; the problem that refuses it, if any."""
    tangle = scan_edges(geom, limits.meetings, limits.edge_pairs)
    if tangle.over(limits.meetings):
        return tangle, _tangled(geom, tangle, limits)
    if not tangle.complete:
        kind = "route" if geom.geom_type == "LineString" else "area"
        return tangle, (
            "too_intricate",
            f"the {kind} is too intricate to check: more than {limits.edge_pairs:,} pairs "
            "of its edges lie close together; simplify it",
        )
    return tangle, None


@dataclass(frozen=True)
class Settled:
    """An invalid area repaired (``geometry`` and ``warning``), or its ``problem``."""

    geometry: BaseGeometry | None = None
    warning: str | None = None
    problem: Problem | None = None


def settle_invalid(geom: BaseGeometry, tangle: Tangle | None, limits: TangleLimits) -> Settled:
    """Repair an invalid area, or say what refuses it.

    ``tangle`` is the area's scan if it had one (large areas); a small area is scanned
    here, which is cheap. The repair is kept only when it gives a single polygon of the
    same area: an outline that merely touches itself."""
    if tangle is None:
        tangle, problem = scan(geom, limits)
        if problem is not None:
            return Settled(problem=problem)
    if tangle.meetings > limits.repair:
        return Settled(problem=_tangled(geom, tangle, limits))
    reason = shapely.is_valid_reason(geom)
    if tangle.crossings:
        # Crossing edges leave regions wound twice or backwards, which the repair drops
        # or counts once: its area always differs (see the module's docstring).
        return Settled(problem=describe_invalidity(reason))
    fixed = shapely.make_valid(geom)
    if fixed.geom_type == "Polygon" and abs(fixed.area - geom.area) <= 1e-9 * max(geom.area, 1e-12):
        what = describe_invalidity(reason)[1].split(";")[0]
        return Settled(shapely.orient_polygons(fixed), REPAIR_WARNING.format(what))
    return Settled(problem=describe_invalidity(reason))
