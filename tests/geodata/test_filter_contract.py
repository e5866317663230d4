"""CQL2 filters, the store contract: every backend (SQLite, PostGIS) returns exactly the
places an independent Python reading of each filter picks, so both return the same ids.

The places cover what the translation must get right: text with accents, cases, quotes,
wildcard characters; missing years and neighbourhoods; stories in several languages;
routes and areas; generalised and hidden locations (spatial functions see the public
location only: the grid cell's centre, or nothing); places that are not open data
(never returned, whatever the filter).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from geodata.cql2 import cql2_json, text
from geodata.filters import compile_filter
from geodata.io.export import count_public, public_batches, public_page
from geodata.models import Consent, Narrative, Place, Sensitivity, Status
from geodata.privacy import public_filter, public_view
from geodata.store.base import PlaceFilter, PlaceStore

GRID_M = 250.0
TITLES = [
    "Sé de Lisboa", "SÉ DE LISBOA", "se de lisboa", "Igreja da Graça", "igreja velha",
    "A Igreja", "Café A Brasileira", "O'Neill's doorway", "100% Fado", "under_score house",
    "underXscore house", "Casa*Star", "Casa?Query", "[bracket] yard", "Água Livre", "Zé",
    "Ãnfora", "Çapa", "Elevador", "Miradouro", "Mercado", "Pátio", "Beco", "Arco",
]  # fmt: skip
CATEGORIES = ["monument", "building", "museum", "theatre", "religious", "memory"]
LANGUAGES = ["pt", "en", "pt-BR", "fr", "ar", "EN-GB"]
HOODS = {  # name -> box
    "Alfama": (-9.135, 38.708, -9.125, 38.716),
    "Baixa": (-9.145, 38.706, -9.135, 38.716),
    "Belém": (-9.215, 38.690, -9.195, 38.700),
}
AREA = (-9.16, 38.69, -9.11, 38.73)  # where the places are scattered


def _place(rng: random.Random, i: int) -> Place:
    x = rng.uniform(AREA[0], AREA[2])
    y = rng.uniform(AREA[1], AREA[3])
    shape = rng.random()
    geometry: BaseGeometry
    if shape < 0.7:
        geometry = Point(round(x, 6), round(y, 6))
    elif shape < 0.85:
        geometry = LineString([(x, y), (x + 0.002, y + 0.001), (x + 0.003, y - 0.001)])
    else:
        geometry = box(x, y, x + 0.002, y + 0.0015)
    y0 = rng.choice([None, None, *range(1500, 2000, 7)])
    span = rng.choice([0, 0, 9, 49, 120])
    years = rng.random()
    year_from, year_to = (y0, y0 + span if y0 is not None else None)
    if years < 0.1 and y0 is not None:
        year_from, year_to = None, y0  # only an end year
    elif years < 0.2 and y0 is not None:
        year_to = None  # only a start year
    stories = [Narrative(f"story {i}", lang) for lang in rng.sample(LANGUAGES, rng.randint(0, 2))]
    sensitivity = rng.choices(
        [Sensitivity.PUBLIC, Sensitivity.GENERALISED, Sensitivity.HIDDEN], [0.75, 0.15, 0.1]
    )[0]
    status = rng.choices([Status.PUBLISHED, Status.PENDING, Status.REJECTED], [0.9, 0.05, 0.05])[0]
    return Place(
        geometry=geometry,
        title=f"{TITLES[i % len(TITLES)]}" + ("" if i < len(TITLES) else f" {i}"),
        narratives=stories,
        category=rng.choice(CATEGORIES),
        status=status,
        period=rng.choice([None, "18th century", "Pombaline", "the 1960s"]),
        year_from=year_from,
        year_to=year_to,
        sensitivity=sensitivity,
        licence=rng.choice(["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0"]),
        attribution=rng.choice([None, "Mouraria residents", "Arquivo"]),
        consent=Consent(publish=True, open_data=rng.random() > 0.05),
        contributor_name="Secret Name",
        contributor_contact="secret@example.org",
        workshop=rng.choice([None, "HX7R4M"]),
        created_at=datetime(2022, 1, 1, tzinfo=UTC) + timedelta(days=i * 3, hours=i),
    )


def _dataset() -> list[Place]:
    rng = random.Random(2018)
    places = [_place(rng, i) for i in range(240)]
    # Crafted: a generalised point whose true position lies in PROBE but whose grid cell
    # centre does not, and the other way round (a filter must only see the centre).
    places.append(
        Place(
            geometry=Point(-9.13512, 38.71346), title="Grandmother's doorstep",
            narratives=[Narrative("x", "pt")], category="memory", status=Status.PUBLISHED,
            sensitivity=Sensitivity.GENERALISED, year_from=1950, year_to=1959,
        )
    )  # fmt: skip
    return places + _crafted()


def _crafted() -> list[Place]:
    """Places on the edges the cases below test: periods starting and ending where the
    temporal literals do, areas touching, overlapping, containing the test shapes."""

    def public(title: str, geometry: BaseGeometry = Point(-9.14, 38.71), **kw: Any) -> Place:
        return Place(geometry=geometry, title=title, narratives=[], category="memory",
                     status=Status.PUBLISHED, **kw)  # fmt: skip

    ends = [1500, 1600, 1700, 1710, 1757, 1800, 1850, 1851, 1900]
    periods = [public(f"Period {a}-{b}", year_from=a, year_to=b)
               for a in ends for b in ends if a <= b]  # fmt: skip
    return [
        *periods,
        public("Sé de Lisboa"),
        public("\u212aelvin Hall"),  # a Kelvin sign, which lower-cases to an ASCII k
        public("KELVIN HALL"),
        public("Around the point", box(-9.131, 38.710, -9.129, 38.711)),
        public("Touching the box", box(-9.150, 38.710, -9.145, 38.712)),
        public("Overlapping the box", box(-9.128, 38.718, -9.120, 38.722)),
        public("Holding the triangle", box(-9.16, 38.69, -9.11, 38.73)),
        public("Crossing the line", LineString([(-9.14, 38.70), (-9.14, 38.72)])),
    ]


DATA = _dataset()
DOORSTEP = next(p for p in DATA if p.title == "Grandmother's doorstep")
CENTRE = public_view(DOORSTEP, GRID_M).geometry
# A small box around the true doorstep point that leaves out its grid cell centre.
PROBE = box(-9.1352, 38.7134, -9.1350, 38.7136)
assert PROBE.contains(DOORSTEP.geometry) and not PROBE.contains(CENTRE)


def _load(store: PlaceStore) -> None:
    with store.transaction():
        store.add_many(DATA)
        hoods = store.replace_neighbourhoods([(n, box(*b), n[:3]) for n, b in HOODS.items()])
    assert len(hoods) == 3
    store.reassign_neighbourhoods()


# -- an independent reading of each filter ----------------------------------------
def _public(place: Place) -> BaseGeometry | None:
    return public_view(place, GRID_M).geometry


def _years(p: Place) -> tuple[date, date] | None:
    y0 = p.year_from if p.year_from is not None else p.year_to
    y1 = p.year_to if p.year_to is not None else p.year_from
    if y0 is None or y1 is None:
        return None
    return date(y0, 1, 1), date(y1, 12, 31)


ALLEN: dict[str, Callable[[Any, Any, Any, Any], bool]] = {
    "T_AFTER": lambda s, e, js, je: s > je,
    "T_BEFORE": lambda s, e, js, je: e < js,
    "T_CONTAINS": lambda s, e, js, je: s < js and e > je,
    "T_DISJOINT": lambda s, e, js, je: s > je or e < js,
    "T_DURING": lambda s, e, js, je: s > js and e < je,
    "T_EQUALS": lambda s, e, js, je: s == js and e == je,
    "T_FINISHEDBY": lambda s, e, js, je: s < js and e == je,
    "T_FINISHES": lambda s, e, js, je: s > js and e == je,
    "T_INTERSECTS": lambda s, e, js, je: s <= je and e >= js,
    "T_MEETS": lambda s, e, js, je: e == js,
    "T_METBY": lambda s, e, js, je: s == je,
    "T_OVERLAPPEDBY": lambda s, e, js, je: js < s < je < e,
    "T_OVERLAPS": lambda s, e, js, je: s < js < e < je,
    "T_STARTEDBY": lambda s, e, js, je: s == js and e > je,
    "T_STARTS": lambda s, e, js, je: s == js and e < je,
}


def _lang(p: Place, tag: str) -> bool:
    return any(n.language.lower() == tag or n.language.lower().startswith(tag + "-")
               for n in p.narratives)  # fmt: skip


def _strip(s: str) -> str:
    import unicodedata

    return "".join(
        c for c in unicodedata.normalize("NFD", s) if not 0x300 <= ord(c) <= 0x36F
    ).lower()


def _hood(p: Place, names: dict[int, str]) -> str | None:
    return names.get(p.neighbourhood_id) if p.neighbourhood_id is not None else None


def _near(g: BaseGeometry | None, centre: Point, metres: float) -> bool | None:
    """Within ``metres`` of ``centre`` (None: hidden), measured in a local projection."""
    if g is None:
        return None
    local = Transformer.from_crs(
        "OGC:CRS84", f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84",
        always_xy=True,
    )  # fmt: skip
    there = shapely.transform(
        g, lambda xy: __import__("numpy").column_stack(local.transform(*xy.T))
    )
    return there.distance(Point(0, 0)) <= metres


BBOX = (-9.145, 38.705, -9.125, 38.72)
POLY = Polygon([(-9.15, 38.70), (-9.12, 38.70), (-9.12, 38.725), (-9.15, 38.70)])
OVERLAP = Polygon([(-9.14, 38.70), (-9.11, 38.70), (-9.11, 38.725), (-9.14, 38.70)])
P = Place
G = BaseGeometry | None
# (filter text, the same filter in CQL2 JSON or None, which open-data places it picks)
CASES: list[tuple[str, dict | None, Callable[[Place, G, dict[int, str]], bool]]] = [
    ("year_from > 1800", {"op": ">", "args": [{"property": "year_from"}, 1800]},
     lambda p, g, n: p.year_from is not None and p.year_from > 1800),
    ("year_from >= 1800 AND year_to <= 1900", None,
     lambda p, g, n: p.year_from is not None and p.year_to is not None
     and p.year_from >= 1800 and p.year_to <= 1900),
    ("NOT year_from > 1800", {"op": "not", "args": [
        {"op": ">", "args": [{"property": "year_from"}, 1800]}]},
     lambda p, g, n: p.year_from is not None and not p.year_from > 1800),
    ("year_from <> 1507 OR year_to = 1507", None,
     lambda p, g, n: (p.year_from is not None and p.year_from != 1507) or p.year_to == 1507),
    ("year_from = year_to", None,
     lambda p, g, n: p.year_from is not None and p.year_from == p.year_to),
    ("title = 'Sé de Lisboa'", None, lambda p, g, n: p.title == "Sé de Lisboa"),
    ("title = 'O''Neill''s doorway'", None, lambda p, g, n: p.title == "O'Neill's doorway"),
    ("title < 'C'", None, lambda p, g, n: p.title.encode() < b"C"),
    ("title >= 'Z'", None, lambda p, g, n: p.title.encode() >= b"Z"),
    ("title LIKE 'Igreja%'", {"op": "like", "args": [{"property": "title"}, "Igreja%"]},
     lambda p, g, n: p.title.startswith("Igreja")),
    ("title LIKE '%\\%%'", None, lambda p, g, n: "%" in p.title),
    ("title LIKE 'under\\_score%'", None, lambda p, g, n: p.title.startswith("under_score")),
    ("title LIKE 'under_score%'", None,
     lambda p, g, n: p.title.startswith("under") and p.title[6:].startswith("score")),
    ("title LIKE 'Casa*%' OR title LIKE 'Casa?%' OR title LIKE '[%'", None,
     lambda p, g, n: p.title.startswith(("Casa*", "Casa?", "["))),
    ("title NOT LIKE '%a%'", None, lambda p, g, n: "a" not in p.title),
    ("CASEI(title) LIKE CASEI('%IGREJA%')",
     {"op": "like", "args": [{"op": "casei", "args": [{"property": "title"}]},
                             {"op": "casei", "args": ["%IGREJA%"]}]},
     lambda p, g, n: "igreja" in p.title.lower()),
    ("title ILIKE 'igreja%'", None, lambda p, g, n: p.title.lower().startswith("igreja")),
    ("CASEI(title) LIKE 'kelvin%' OR CASEI(title) LIKE '%é%'", None,
     lambda p, g, n: p.title.lower().startswith("kelvin") or "é" in p.title.lower()),
    ("ACCENTI(CASEI(title)) = ACCENTI(CASEI('SE DE LISBOA'))", None,
     lambda p, g, n: _strip(p.title) == "se de lisboa"),
    ("ACCENTI(title) LIKE 'Agua%'", None, lambda p, g, n: _strip(p.title).startswith("agua")),
    ("CASEI(title) = CASEI('ÇAPA')", None, lambda p, g, n: p.title.lower() == "çapa"),
    ("category IN ('museum', 'theatre')",
     {"op": "in", "args": [{"property": "category"}, ["museum", "theatre"]]},
     lambda p, g, n: p.category in ("museum", "theatre")),
    ("category NOT IN ('museum')", None, lambda p, g, n: p.category != "museum"),
    ("year_from BETWEEN 1700 AND 1800",
     {"op": "between", "args": [{"property": "year_from"}, 1700, 1800]},
     lambda p, g, n: p.year_from is not None and 1700 <= p.year_from <= 1800),
    ("year_to NOT BETWEEN 1700 AND 1800", None,
     lambda p, g, n: p.year_to is not None and not 1700 <= p.year_to <= 1800),
    ("period IS NULL", {"op": "isNull", "args": [{"property": "period"}]},
     lambda p, g, n: p.period is None),
    ("attribution IS NOT NULL AND licence = 'CC0-1.0'", None,
     lambda p, g, n: p.attribution is not None and p.licence == "CC0-1.0"),
    ("language = 'pt'", None, lambda p, g, n: _lang(p, "pt")),
    ("language = 'en-gb'", None, lambda p, g, n: _lang(p, "en-gb")),
    ("language <> 'en'", None, lambda p, g, n: not _lang(p, "en")),
    ("language IN ('fr', 'ar')", None, lambda p, g, n: _lang(p, "fr") or _lang(p, "ar")),
    ("neighbourhood = 'Alfama'", None, lambda p, g, n: _hood(p, n) == "Alfama"),
    ("neighbourhood IS NULL", None, lambda p, g, n: p.neighbourhood_id is None),
    ("neighbourhood LIKE 'B%'", None, lambda p, g, n: (_hood(p, n) or "").startswith("B")),
    ("created_at >= TIMESTAMP('2023-01-01T00:00:00Z')", None,
     lambda p, g, n: p.created_at >= datetime(2023, 1, 1, tzinfo=UTC)),
    ("created_at < '2022-06-01'", None,
     lambda p, g, n: p.created_at < datetime(2022, 6, 1, tzinfo=UTC)),
    ("T_AFTER(created_at, DATE('2023-06-01'))", None,
     lambda p, g, n: p.created_at > datetime(2023, 6, 1, 23, 59, 59, 999999, tzinfo=UTC)),
    ("T_DURING(updated_at, INTERVAL('2000-01-01', '..'))", None, lambda p, g, n: True),
    ("S_INTERSECTS(geometry, BBOX(-9.145, 38.705, -9.125, 38.72))",
     {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(BBOX)}]},
     lambda p, g, n: g is not None and g.intersects(box(*BBOX))),
    (f"S_WITHIN(geometry, {POLY.wkt})",
     {"op": "s_within", "args": [{"property": "geometry"}, shapely.geometry.mapping(POLY)]},
     lambda p, g, n: g is not None and g.within(POLY)),
    (f"S_WITHIN({POLY.wkt}, geometry)", None, lambda p, g, n: g is not None and POLY.within(g)),
    ("S_DISJOINT(geometry, BBOX(-9.145, 38.705, -9.125, 38.72))", None,
     lambda p, g, n: g is not None and g.disjoint(box(*BBOX))),
    ("NOT S_INTERSECTS(geometry, BBOX(-9.145, 38.705, -9.125, 38.72))", None,
     lambda p, g, n: g is not None and not g.intersects(box(*BBOX))),
    ("S_CONTAINS(geometry, POINT(-9.1301 38.7101))", None,
     lambda p, g, n: g is not None and g.contains(Point(-9.1301, 38.7101))),
    ("S_INTERSECTS(geometry, LINESTRING(-9.16 38.70, -9.11 38.73))", None,
     lambda p, g, n: g is not None and g.intersects(LineString([(-9.16, 38.70), (-9.11, 38.73)]))),
    ("S_CROSSES(geometry, LINESTRING(-9.16 38.70, -9.11 38.73))", None,
     lambda p, g, n: g is not None and g.crosses(LineString([(-9.16, 38.70), (-9.11, 38.73)]))),
    ("S_TOUCHES(geometry, BBOX(-9.145, 38.705, -9.125, 38.72)) OR "
     "S_OVERLAPS(geometry, BBOX(-9.145, 38.705, -9.125, 38.72))", None,
     lambda p, g, n: g is not None and (g.touches(box(*BBOX)) or g.overlaps(box(*BBOX)))),
    (f"S_INTERSECTS(geometry, {PROBE.wkt})", None,
     lambda p, g, n: g is not None and g.intersects(PROBE)),
    ("S_INTERSECTS(geometry, BBOX(-9.145, 38.705, -9.125, 38.72)) OR year_from < 1600", None,
     lambda p, g, n: (g is not None and g.intersects(box(*BBOX)))
     or (p.year_from is not None and p.year_from < 1600)),
    (f"S_INTERSECTS(geometry, GEOMETRYCOLLECTION({POLY.wkt}, {OVERLAP.wkt}, POINT(-9.2 38.7)))",
     None, lambda p, g, n: g is not None and g.intersects(POLY.union(OVERLAP))),
    (f"S_WITHIN(geometry, GEOMETRYCOLLECTION({POLY.wkt}, {OVERLAP.wkt}))", None,
     lambda p, g, n: g is not None and g.within(POLY.union(OVERLAP))),
    ("TRUE", None, lambda p, g, n: True),
    ("FALSE OR (TRUE AND NOT FALSE)", None, lambda p, g, n: True),
]  # fmt: skip
TEMPORAL_LITERALS = [
    ("INTERVAL('1800-01-01', '1850-12-31')", date(1800, 1, 1), date(1850, 12, 31)),
    ("INTERVAL('1757-01-01', '..')", date(1757, 1, 1), date.max),
    ("INTERVAL('..', '1600-06-30')", date.min, date(1600, 6, 30)),
    ("DATE('1850-12-31')", date(1850, 12, 31), date(1850, 12, 31)),
    ("TIMESTAMP('1710-01-01T10:00:00Z')", date(1710, 1, 1), date(1710, 1, 1)),
]
for _name, _relation in ALLEN.items():
    for _literal, _js, _je in TEMPORAL_LITERALS:

        def _pick(p, g, n, rel=_relation, js=_js, je=_je):  # type: ignore[no-untyped-def]
            span = _years(p)
            return span is not None and rel(span[0], span[1], js, je)

        CASES.append((f"{_name}(INTERVAL(year_from, year_to), {_literal})", None, _pick))


def _open_data(store: PlaceStore) -> dict[str, Place]:
    return {p.id: p for p in store.list(public_filter(None, "open_data"))}


def _matches(store: PlaceStore, where: Any) -> tuple[list[str], int]:
    count, batches, _ = public_page(store, PlaceFilter(where=where), limit=10_000, grid_m=GRID_M)
    return [pid for b in batches for pid in b.ids], count


@pytest.fixture
def filter_store(store: PlaceStore) -> PlaceStore:
    _load(store)
    return store


def test_every_filter_picks_what_its_reading_picks_on_every_backend(filter_store: PlaceStore):
    store = filter_store
    shown = _open_data(store)
    names = {n.id: n.name for n in store.neighbourhoods()}
    public = {pid: _public(p) for pid, p in shown.items()}
    assert len(shown) > 150 and sum(g is None for g in public.values()) > 5
    for text_filter, json_filter, pick in CASES:
        where = compile_filter(text.parse(text_filter), grid_m=GRID_M)
        got, count = _matches(store, where)
        expected = {pid for pid, p in shown.items() if pick(p, public[pid], names)}
        assert set(got) == expected, text_filter
        assert count == len(got) == len(set(got)), text_filter
        assert got == sorted(got, key=lambda pid: list(shown).index(pid)), text_filter
        assert set(got) <= set(shown)  # never a place that is not open data
        if json_filter is not None:
            again = compile_filter(cql2_json.parse(json.dumps(json_filter)), grid_m=GRID_M)
            assert _matches(store, again)[0] == got, json_filter


def test_s_dwithin_measures_metres_from_the_public_location(filter_store: PlaceStore):
    shown = _open_data(filter_store)
    centre = Point(-9.135, 38.712)
    for metres in (150, 600, 2000):
        where = compile_filter(
            text.parse(f"S_DWITHIN(geometry, POINT({centre.x} {centre.y}), {metres})"),
            grid_m=GRID_M,
        )
        got = set(_matches(filter_store, where)[0])
        surely = {pid for pid, p in shown.items() if _near(_public(p), centre, metres * 0.99)}
        maybe = {pid for pid, p in shown.items() if _near(_public(p), centre, metres * 1.01)}
        assert surely <= got <= maybe and surely, metres


def test_sort_orders_empty_values_last_and_ties_oldest_first(filter_store: PlaceStore):
    shown = _open_data(filter_store)
    rank = {pid: i for i, pid in enumerate(shown)}
    names = {n.id: n.name for n in filter_store.neighbourhoods()}
    for name, descending in (("year_from", False), ("year_from", True), ("title", False),
                             ("title", True), ("neighbourhood", False)):  # fmt: skip
        flt = PlaceFilter(order=((name, descending),))
        got = [pid for b in public_batches(filter_store, flt, grid_m=GRID_M) for pid in b.ids]
        assert set(got) == set(shown)

        def key(pid: str, name: str = name, descending: bool = descending, names=names) -> tuple:
            p = shown[pid]
            value = _hood(p, names) if name == "neighbourhood" else getattr(p, name)
            if isinstance(value, str):
                value = value.encode()  # byte order, as both stores compare text
            if value is None:
                return (1, 0, rank[pid])
            if descending:
                value = -value if isinstance(value, int) else bytes(255 - b for b in value)
            return (0, value, rank[pid])

        if name == "title" and descending:  # bytes inverted do not sort prefixes right
            titles = [shown[pid].title.encode() for pid in got]
            assert titles == sorted(titles, reverse=True)
            continue
        assert got == sorted(got, key=key), (name, descending)


def test_count_and_export_rows_agree_with_the_page(filter_store: PlaceStore):
    where = compile_filter(
        text.parse("S_INTERSECTS(geometry, BBOX(-9.145, 38.705, -9.125, 38.72)) AND "
                   "language = 'pt'"), grid_m=GRID_M,
    )  # fmt: skip
    ids, count = _matches(filter_store, where)
    assert count_public(filter_store, PlaceFilter(where=where), GRID_M) == count == len(ids)
    flt = public_filter(PlaceFilter(where=where), "open_data")
    rows = [r[0] for batch in filter_store.export_rows(flt, batch_size=7) for r in batch]
    assert rows == ids and filter_store.count(flt) == count
    # Paging: offset and limit count matches.
    page = public_page(filter_store, PlaceFilter(where=where), limit=3, offset=2, grid_m=GRID_M)
    assert [pid for b in page[1] for pid in b.ids] == ids[2:5]


def test_a_filter_sees_the_grid_cell_not_the_true_point(filter_store: PlaceStore):
    doorstep = DOORSTEP.id
    inside_true = compile_filter(text.parse(f"S_INTERSECTS(geometry, {PROBE.wkt})"), grid_m=GRID_M)
    assert doorstep not in _matches(filter_store, inside_true)[0]
    cell = CENTRE.buffer(1e-5)
    at_centre = compile_filter(text.parse(f"S_INTERSECTS(geometry, {cell.wkt})"), grid_m=GRID_M)
    assert doorstep in _matches(filter_store, at_centre)[0]
    hidden = [p.id for p in DATA if p.sensitivity == Sensitivity.HIDDEN]
    everywhere = compile_filter(text.parse("S_INTERSECTS(geometry, BBOX(-180, -90, 180, 90))"),
                                grid_m=GRID_M)  # fmt: skip
    found = set(_matches(filter_store, everywhere)[0])
    assert found and not found & set(hidden)
    negated = "NOT S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR S_DISJOINT(geometry, POINT(0 0))"
    nowhere = compile_filter(text.parse(negated), grid_m=GRID_M)
    assert not set(_matches(filter_store, nowhere)[0]) & set(hidden)


@pytest.mark.postgis
def test_sqlite_and_postgis_return_the_same_ids_for_every_filter(tmp_path):
    """The two backends side by side (the test above holds each to the same reading)."""
    from tests.conftest import make_store

    stores = [make_store("sqlite", tmp_path), make_store("postgis", tmp_path)]
    try:
        for s in stores:
            _load(s)
        orders = [None, (("title", False),), (("year_to", True), ("category", False))]
        for (text_filter, _, _), order in zip(CASES, orders * len(CASES), strict=False):
            where = compile_filter(text.parse(text_filter), grid_m=GRID_M)
            flt = PlaceFilter(where=where, order=order)
            results = [
                [pid for b in public_batches(s, flt, grid_m=GRID_M) for pid in b.ids]
                for s in stores
            ]
            assert results[0] == results[1], text_filter
    finally:
        for s in stores:
            s.close()


def test_day_keys_sort_as_days():
    from geodata.filter_nodes import day_key

    days = [date(1, 1, 1) + timedelta(days=n) for n in range(0, 3_000_000, 997)]
    keys = [day_key(d) for d in days]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert day_key(date(1959, 12, 31)) == 1959 * 1000 + 511
    assert math.isfinite(day_key(date(9999, 12, 31)))
