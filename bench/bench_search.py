"""Search at 100,000 places: the map's search in every script, next to the old search and
an unindexed scan, on SQLite and PostGIS, in one run on the same data.

Data: the INE address points of the southern Lisbon metropolitan area
(``shared/data/ine_addresses_aml_south``), the first ``--n`` (100,000 by default),
imported through the project's bulk import path (``import_places``) with the address as
the title ("R D NUNO ÁLVARES PEREIRA 29") and a one-line narrative from its other fields
("Morada em Corroios, Seixal, código postal 2855-079"); plus the Lisbon demo (368
heritage places) and 30 places titled in Chinese, Arabic and Ukrainian. 3 % of the
addresses have a hidden and 7 % a generalised location.

Queries (``--queries``, drawn with a fixed seed): what people type into a search box,
from the data itself: the start of a street name word as it is being typed (3 letters
to the whole word, in any case, accents left out half the time), two words of a street
name, two letters, a place name found only in the narratives, the demo's monuments
("sao jorge", "ajuda"...), Chinese, Arabic and Ukrainian words, and misses.

Timed, per query (after one warm-up pass), on each backend:

* **search**: ``GET /api/map/search?q=...`` through the real app (in process, no
  network): the store's index (FTS5 trigram / pg_trgm), ranked, at most 8 places;
* **store**: ``store.search`` alone, as the endpoint calls it;
* **old**: what the endpoint did before: ``title LIKE '%q%'`` (case-insensitive for ASCII
  only, titles only), 16 rows;
* **scan**: the same matching and ranking as **search** without the index (``instr`` /
  ``strpos`` over the folded columns): what the index saves.

Prints p50 / p95 / p99 / max in milliseconds, the ratio of each baseline's p95 to the
search's, how many queries found a place with each (the old search misses accents,
other cases of non-ASCII letters and narratives), and the index sizes.

Run: ``python bench/bench_search.py [--n 100000] [--queries 400]
[--database-url postgresql://...]`` (PostGIS from ``--database-url`` or
``HERITAGE_TEST_POSTGIS_URL``, in a schema of its own that is dropped at the end;
without either, SQLite only).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import geopandas as gpd  # noqa: E402
from shapely.geometry import Point  # noqa: E402

from geodata.demo import load_demo  # noqa: E402
from geodata.importer import ImportOptions, import_places  # noqa: E402
from geodata.models import Narrative, Place, Sensitivity, Status  # noqa: E402
from geodata.privacy import public_filter  # noqa: E402
from geodata.search import fold, parse_query  # noqa: E402
from geodata.store import open_store  # noqa: E402
from geodata.store.base import PlaceFilter, PlaceStore  # noqa: E402
from mapping.search import SHOWN  # noqa: E402

DATA = "shared/data/ine_addresses_aml_south/aml_south_addresses_ine.geojson.zip"
ADDRESSES = next(
    (p for p in (ROOT.parent / DATA, ROOT.parent.parent / DATA) if p.exists()), ROOT.parent / DATA
)
OTHER_SCRIPTS = [
    ("圣乔治城堡", "zh"), ("里斯本大教堂", "zh"), ("城市广场", "zh"), ("老城门", "zh"),
    ("贝伦塔", "zh"), ("热罗尼莫斯修道院", "zh"), ("中国餐馆", "zh"), ("华人社区中心", "zh"),
    ("مَسْجِد لشبونة المركزي", "ar"), ("المكتبة العربية", "ar"), ("سوق الأحد", "ar"),
    ("مقهى الإمام", "ar"), ("مدرسة اللغة العربية", "ar"), ("حديقة الزيتون", "ar"),
    ("Софійський собор", "uk"), ("Українська церква", "uk"), ("Київська вулиця", "uk"),
    ("Бібліотека імені Шевченка", "uk"), ("Школа суботня", "uk"), ("Їдальня «Борщ»", "uk"),
]  # fmt: skip
DEMO_QUERIES = ["sao jorge", "ajuda", "museu", "igreja", "palacio nacional", "teatro",
                "castelo", "convento", "SÉ", "chafariz", "estrela", "belem"]  # fmt: skip
SCRIPT_QUERIES = ["城堡", "大教堂", "城门", "修道院", "مسجد", "العربية", "الامام", "київ",
                  "собор", "шевченка", "їдальня"]  # fmt: skip


def address_features(n: int) -> tuple[list[dict[str, Any]], list[str]]:
    """GeoJSON features for the first ``n`` addresses, and their narratives' place names."""
    gdf = gpd.read_file(ADDRESSES, columns=["street", "house", "postcode", "city", "concelho"])
    gdf = gdf.head(n)
    features, towns = [], set()
    for row in gdf.itertuples():
        town = (row.city or "").strip().title()
        county = (row.concelho or "").strip().title()
        towns.update(t for t in (town, county) if t)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row.geometry.x, row.geometry.y]},
                "properties": {
                    "title": f"{row.street or ''} {row.house or ''}".strip() or "Morada",
                    "category": "building",
                    "narratives": [
                        {
                            "text": f"Morada em {town}, {county}, código postal {row.postcode}",
                            "language": "pt",
                        }
                    ],
                },
            }
        )
    return features, sorted(towns)


def make_queries(features: list[dict[str, Any]], towns: list[str], k: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    streets = [f["properties"]["title"] for f in features]
    out = []
    while len(out) < k:
        roll = rng.random()
        words = [w for w in rng.choice(streets).split() if len(w) >= 4 and w.isalpha()]
        if roll < 0.40 and words:  # typing a street name
            word = rng.choice(words)
            typed = word[: rng.randint(3, len(word))]
            typed = fold(typed) if rng.random() < 0.5 else typed
            out.append(typed.lower() if rng.random() < 0.7 else typed)
        elif roll < 0.55 and len(words) >= 2:  # two words of it
            i = rng.randrange(len(words) - 1)
            out.append(fold(" ".join(words[i : i + 2])))
        elif roll < 0.65 and words:  # two letters
            out.append(fold(rng.choice(words)[:2]))
        elif roll < 0.75:  # a place named only in the narratives
            out.append(fold(rng.choice(towns)))
        elif roll < 0.85:
            out.append(rng.choice(DEMO_QUERIES))
        elif roll < 0.93:
            out.append(rng.choice(SCRIPT_QUERIES))
        else:  # a miss
            out.append("".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(5)))
    return out


def fill(store: PlaceStore, path: Path) -> float:
    """Demo, addresses through the bulk import path, other scripts; seconds to import."""
    load_demo(store)
    t = time.perf_counter()
    # The addresses lie south of the demo's parishes: a wide project margin lets them in.
    result = import_places(store, path, ImportOptions(language="pt", margin_m=60_000))
    took = time.perf_counter() - t
    if result.rejected:
        raise SystemExit(f"{len(result.rejected)} addresses refused: {result.rejected[:3]}")
    # Imports are shown where they are; some contributions are not (3 % hidden, 7 % on a
    # grid), so that search's privacy filter is part of what is timed.
    for sensitivity, lo, hi in (("hidden", 0, 2), ("generalised", 3, 9)):
        sql = (f"UPDATE places SET sensitivity = '{sensitivity}', public_feature = NULL "
               f"WHERE rid % 100 BETWEEN {lo} AND {hi}")  # fmt: skip
        if hasattr(store, "conn"):
            with store.transaction():
                store.conn.execute(sql)  # type: ignore[attr-defined]
        else:
            with store._borrow() as conn:  # type: ignore[attr-defined]
                conn.execute(sql)
    store.add_many(
        Place(Point(-9.14 + i * 1e-3, 38.71), title, [Narrative("…", lang)], "community",
              status=Status.PUBLISHED, sensitivity=Sensitivity.PUBLIC)
        for i, (title, lang) in enumerate(OTHER_SCRIPTS)
    )  # fmt: skip
    if hasattr(store, "analyze"):
        store.analyze()
    return took


def scan_search(store: PlaceStore, q: str) -> list[Any]:
    """The search's matching and ranking with no index: every folded text read."""
    query = parse_query(q)
    if query is None:
        return []
    pg = not hasattr(store, "conn")
    mark, find = ("%s", "strpos({c}, %s) > 0") if pg else ("?", "instr({c}, ?) > 0")
    every = " AND ".join(
        f"({find.format(c='p.search_title')} OR {find.format(c='p.search_body')})"
        for _ in query.patterns
    )
    in_title = " AND ".join(find.format(c="p.search_title") for _ in query.patterns)
    published = "p.consent_publish" + ("" if pg else " = 1")
    sql = (
        f"SELECT p.id, CASE WHEN p.search_title = {mark} THEN 0 WHEN substr(p.search_title, "
        f"1, {mark}) = {mark} THEN 1 WHEN {in_title} THEN 2 ELSE 3 END AS tier "
        f"FROM places p WHERE {every} AND p.status = 'published' AND {published} AND "
        "p.sensitivity <> 'hidden' ORDER BY tier, length(p.search_title), p.rid LIMIT 8"
    )
    args = [query.phrase, len(query.phrase), query.phrase, *query.patterns,
            *(p for p in query.patterns for _ in range(2))]  # fmt: skip
    if pg:
        return store._fetchall(sql, args)  # type: ignore[attr-defined]
    return store.conn.execute(sql, args).fetchall()  # type: ignore[attr-defined]


def old_search(store: PlaceStore, q: str) -> list[Any]:
    """What the map's search asked the store before: titles LIKE '%q%', 16 places."""
    if len(q.strip()) < 2:
        return []
    return list(store.list(public_filter(PlaceFilter(title_contains=q.strip()), "map"), limit=16))


def timed(fn: Callable[[str], Any], queries: list[str]) -> tuple[list[float], int]:
    for q in queries[: min(50, len(queries))]:  # warm-up: caches, plans, pool
        fn(q)
    times, hits = [], 0
    for q in queries:
        t = time.perf_counter()
        found = fn(q)
        times.append((time.perf_counter() - t) * 1000)
        hits += bool(found)
    return times, hits


def pct(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def index_size(store: PlaceStore) -> str:
    if hasattr(store, "conn"):
        size = store.conn.execute(  # type: ignore[attr-defined]
            "SELECT sum(length(block)) FROM places_search_data"
        ).fetchone()[0]
        return f"FTS5 trigram index {size / 1e6:.1f} MB"
    rows = store._fetchall(  # type: ignore[attr-defined]
        "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON "
        "n.oid = c.relnamespace WHERE c.relname LIKE 'places_search%%' "
        "AND n.nspname = current_schema()"
    )
    return ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in rows)


def run_backend(
    name: str, store: PlaceStore, path: Path, queries: list[str], workdir: Path
) -> None:
    from fastapi.testclient import TestClient

    from web.app import create_app
    from web.settings import Settings

    took = fill(store, path)
    print(f"\n{name}: {store.count():,} places ({took:.1f} s to import the addresses); "
          f"{index_size(store)}")  # fmt: skip
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{workdir / 'unused.db'}", tiles="none", _env_file=None
    )
    flt = public_filter(PlaceFilter(sensitivity=SHOWN), "map")
    with TestClient(create_app(settings, store=store), base_url="http://127.0.0.1") as client:

        def api(q: str) -> list[Any]:
            response = client.get("/api/map/search", params={"q": q})
            response.raise_for_status()
            return orjson.loads(response.content)["places"]

        rows = [
            ("search (API)", *timed(api, queries)),
            ("store.search", *timed(lambda q: store.search(q, flt, limit=8), queries)),
            ("old LIKE", *timed(lambda q: old_search(store, q), queries)),
            ("scan, no index", *timed(lambda q: scan_search(store, q), queries)),
        ]
    base = pct(rows[0][1], 95)
    print(f"  {'':16} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  {'p95 / search':>12}  found")
    for label, times, hits in rows:
        print(
            f"  {label:16} {pct(times, 50):8.2f} {pct(times, 95):8.2f} {pct(times, 99):8.2f} "
            f"{max(times):8.2f}  {pct(times, 95) / base:11.1f}x  {hits}/{len(queries)}"
        )
    slow = sorted(zip(rows[0][1], queries, strict=True), reverse=True)[:5]
    print("  slowest searches: " + ", ".join(f"{q!r} {ms:.1f} ms" for ms, q in slow))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=os.environ.get("HERITAGE_TEST_POSTGIS_URL"))
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    features, towns = address_features(args.n)
    queries = make_queries(features, towns, args.queries, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "addresses.geojson"
        path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
        print(f"{len(features):,} INE addresses + the Lisbon demo; {len(queries)} queries "
              f"such as {', '.join(repr(q) for q in queries[:8])}")  # fmt: skip
        store = open_store(f"sqlite:///{Path(tmp) / 'search.db'}")
        try:
            run_backend("SQLite", store, path, queries, Path(tmp))
        finally:
            store.close()
        if args.database_url and not args.sqlite_only:
            schema = f"bench_search_{secrets.token_hex(4)}"
            sep = "&" if "?" in args.database_url else "?"
            pg = open_store(f"{args.database_url}{sep}schema={schema}")
            try:
                run_backend("PostGIS", pg, path, queries, Path(tmp))
            finally:
                with pg._borrow() as conn:  # type: ignore[attr-defined]
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                pg.close()


if __name__ == "__main__":
    main()
