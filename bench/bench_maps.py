"""Maps at scale: this project's neighbourhood map next to a naive folium map.

For 1,000, 10,000 and 50,000 places, in one run on the same data:

* **ours**: ``/maps/neighbourhoods/{id}`` as served (a page of constant size; places
  fetched as GeoJSON for the view, clusters aggregated by the database when the view
  holds more than ``map_max_features``, drawn on canvas);
* **naive**: one ``folium.Marker`` with a ``folium.Popup`` per place, the way most
  community mapping tools do it (given our local Leaflet and jQuery so that it can load
  at all without internet; nothing else changed).

Measured: HTML bytes (ours: the page, and the page plus the first data answer); server
build time (ours: the page request, and the first data request; naive: building and
rendering the folium map in Python); browser time-to-usable in headless Chromium, from
navigation start to the first frame with the places drawn (ours: ``data-atlas-ready``;
naive: the frame after the load event, when every marker exists). Each browser run uses
a fresh context (cold cache). Ratios are naive / ours.

Data: real address points of INE (Statistics Portugal) for five municipalities south of
Lisbon (``shared/data/ine_addresses_aml_south``, 135,986 points), a random sample of N
per size, stored as they are. The neighbourhood is the area of the sample (its convex
hull, buffered by about 200 m). Every place is published; 7% have a generalised and 3%
a hidden location, so the privacy paths are part of what is timed.

Run: ``python bench/bench_maps.py [--sizes 1000 10000 50000] [--naive-timeout 90]``
"""

from __future__ import annotations

import argparse
import html
import statistics
import sys
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import httpx
import numpy as np
import shapely
from fastapi.responses import HTMLResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geodata.models import Narrative, Place, Sensitivity, Status  # noqa: E402
from geodata.store import open_store  # noqa: E402
from geodata.vocabulary import Vocabulary  # noqa: E402
from mapping.assets import JQUERY_JS, PAGE_ASSETS, localise, use_local_assets  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402
from web.app import create_app  # noqa: E402
from web.settings import Settings  # noqa: E402

ADDRESSES = ROOT.parent / "shared/data/ine_addresses_aml_south/aml_south_addresses_ine.geojson.zip"
CATEGORIES = Vocabulary().keys()
RUNS = 3  # ours is cheap: median of three; naive is measured once


def load_addresses() -> gpd.GeoDataFrame:
    return gpd.read_file(ADDRESSES, columns=["street", "house", "postcode", "city"])


def build_places(sample: gpd.GeoDataFrame) -> list[Place]:
    rng = np.random.default_rng(len(sample))
    roll = rng.random(len(sample))
    places = []
    for i, row in enumerate(sample.itertuples()):
        title = f"{row.street} {row.house}".strip() or "Endereço"
        sensitivity = (
            Sensitivity.HIDDEN
            if roll[i] < 0.03
            else Sensitivity.GENERALISED
            if roll[i] < 0.10
            else Sensitivity.PUBLIC
        )
        places.append(
            Place(
                geometry=row.geometry,
                title=title,
                narratives=[Narrative(f"{title}, {row.postcode} {row.city}", "pt")],
                category=CATEGORIES[i % len(CATEGORIES)],
                status=Status.PUBLISHED,
                sensitivity=sensitivity,
                licence="INE (no restrictions)",
                attribution="Instituto Nacional de Estatística",
                neighbourhood_id=1,
            )
        )
    return places


def naive_map(places: list[Place], bounds: tuple[float, float, float, float]) -> folium.Map:
    """One folium.Marker with a Popup per place: what breaks at 10,000-15,000 points."""
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12, tiles=None)
    for p in places:
        if p.sensitivity == Sensitivity.HIDDEN:
            continue
        popup = folium.Popup(
            f"<b>{html.escape(p.title)}</b><br>{html.escape(p.narratives[0].text)}", max_width=300
        )
        folium.Marker([p.geometry.y, p.geometry.x], popup=popup).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    use_local_assets(m, (*PAGE_ASSETS, JQUERY_JS))
    localise(m)
    return m


FIRST_FRAME = """addEventListener("load", () => requestAnimationFrame(() =>
    requestAnimationFrame(() => document.documentElement.setAttribute(
        "data-first-frame-ms", String(performance.now())))));"""


def browser_time(browser, url: str, ours: bool, timeout_s: float) -> tuple[float | None, list]:
    """Seconds from navigation start to the first frame with the places drawn (None: not
    within ``timeout_s``; the wait is bounded even while the page's main thread is busy)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(FIRST_FRAME)
    page = context.new_page()
    data_urls: list[str] = []
    page.route(
        "**/*",
        lambda route, request: route.continue_() if "127.0.0.1" in request.url else route.abort(),
    )
    page.on("request", lambda r: "/api/map/places?" in r.url and data_urls.append(r.url))
    marker = "data-atlas-ready-ms" if ours else "data-first-frame-ms"
    try:
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        page.wait_for_selector(f"html[{marker}]", state="attached", timeout=timeout_s * 1000)
        seconds = float(page.get_attribute("html", marker)) / 1000
        # Count what was drawn: a page whose scripts failed would look fast.
        drawn = page.evaluate(
            "atlas.stats().features + document.querySelectorAll('.atlas-cluster').length"
            if ours
            else "document.querySelectorAll('.leaflet-marker-icon').length"
        )
        if not drawn:
            raise RuntimeError(f"{url} shows no places; not a fair measurement")
        return seconds, data_urls
    except Exception as exc:  # a timeout: the page never became usable in time
        if "Timeout" not in type(exc).__name__:
            raise
        return None, data_urls
    finally:
        context.close()


def measure(
    size: int, addresses: gpd.GeoDataFrame, browser, naive_timeout: float, workdir: Path
) -> dict:
    sample = addresses.sample(size, random_state=size)
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(sample.geometry.values)), 0.002)
    store = open_store(f"sqlite:///{workdir / f'maps-{size}.db'}")
    store.replace_neighbourhoods([("INE sample area", hull, None)])
    places = build_places(sample)
    store.add_many(places)

    t = time.perf_counter()
    naive_html = naive_map(places, hull.bounds).get_root().render()
    naive_build = time.perf_counter() - t

    settings = Settings(
        database_url=f"sqlite:///{workdir / 'unused.db'}", tiles="none", _env_file=None
    )  # type: ignore[call-arg]
    app = create_app(settings, store=store)
    # The service's own pages carry nonces; this one is folium's plain output, so it gets
    # a policy that lets its inline scripts run (else it would "load" fast, doing nothing).
    naive_policy = "default-src 'self' 'unsafe-inline' data:"
    app.add_api_route(
        "/bench/naive",
        lambda: HTMLResponse(naive_html, headers={"Content-Security-Policy": naive_policy}),
        methods=["GET"],
    )
    out: dict = {"size": size, "naive_bytes": len(naive_html.encode()), "naive_build": naive_build}
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as http:
        page_url = server.url + "/maps/neighbourhoods/1"
        builds, pages = [], []
        for _ in range(RUNS):
            t = time.perf_counter()
            r = http.get("/maps/neighbourhoods/1")
            builds.append(time.perf_counter() - t)
            pages.append(len(r.content))
        times, data_urls = [], []
        for _ in range(RUNS):
            seconds, urls = browser_time(browser, page_url, True, 30)
            times.append(seconds)
            data_urls = urls
        data_times, data_bytes, mode = [], 0, "?"
        for _ in range(RUNS):
            t = time.perf_counter()
            r = http.get(data_urls[0].removeprefix(server.url))
            data_times.append(time.perf_counter() - t)
            data_bytes, mode = len(r.content), r.json()["mode"]
        out.update(
            ours_bytes=statistics.median(pages),
            ours_data_bytes=data_bytes,
            ours_build=statistics.median(builds),
            ours_data=statistics.median(data_times),
            ours_browser=statistics.median(times),
            ours_mode=mode,
        )
        naive_seconds, _ = browser_time(browser, server.url + "/bench/naive", False, naive_timeout)
        out["naive_browser"] = naive_seconds
    store.close()
    return out


PAN = """() => new Promise(resolve => {
    const t0 = performance.now();
    atlas.map.once("atlas:drawn",
                   () => requestAnimationFrame(() => resolve(performance.now() - t0)));
    atlas.map.panBy([320, 180], {animate: false});
})"""
ZOOM_IN = PAN.replace(
    "atlas.map.panBy([320, 180], {animate: false})",
    "atlas.map.setZoom(atlas.map.getZoom() + 1, {animate: false})",
)


def million_places(addresses: gpd.GeoDataFrame, n: int, hood_of: dict[str, int]):
    """``n`` places on the INE points, reused in turn, each repeat moved by a few metres."""
    rng = np.random.default_rng(7)
    xs, ys = addresses.geometry.x.to_numpy(), addresses.geometry.y.to_numpy()
    streets, towns = addresses["street"].to_numpy(), addresses["concelho"].to_numpy()
    for start in range(0, n, 50_000):
        number = np.arange(start, min(start + 50_000, n))
        idx = number % len(addresses)
        moved = (number >= len(addresses))[:, None]  # the first pass keeps the true points
        jitter = rng.normal(0, 0.00005, (len(idx), 2)) * moved
        points = shapely.points(xs[idx] + jitter[:, 0], ys[idx] + jitter[:, 1])
        for k, (i, point) in enumerate(zip(idx, points, strict=True)):
            yield Place(
                geometry=point,
                title=str(streets[i]) or "Endereço",
                narratives=[Narrative(str(streets[i]), "pt")],
                category=CATEGORIES[(start + k) % len(CATEGORIES)],
                status=Status.PUBLISHED,
                neighbourhood_id=hood_of[towns[i]],
            )


def measure_city(n: int, browser, workdir: Path) -> None:
    """The city map with ``n`` places in the store: it opens, pans and zooms."""
    addresses = gpd.read_file(ADDRESSES, columns=["street", "concelho"])
    towns = sorted(addresses["concelho"].unique())
    hulls = [
        shapely.buffer(
            shapely.convex_hull(
                shapely.multipoints(addresses.geometry[addresses["concelho"] == t].values)
            ),
            0.002,
        )
        for t in towns
    ]
    store = open_store(f"sqlite:///{workdir / 'city.db'}")
    store.replace_neighbourhoods([(t, h, None) for t, h in zip(towns, hulls, strict=True)])
    t = time.perf_counter()
    store.add_many(million_places(addresses, n, {t: i for i, t in enumerate(towns, 1)}))
    print(f"stored {n:,} places in {time.perf_counter() - t:.0f} s")
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'unused.db'}", tiles="none", _env_file=None
    )  # type: ignore[call-arg]
    with (
        LiveServer(create_app(settings, store=store)) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        t = time.perf_counter()
        page = http.get("/maps/city")
        build = time.perf_counter() - t
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        tab = context.new_page()
        tab.goto(server.url + "/maps/city", wait_until="commit")
        tab.wait_for_selector("html[data-atlas-ready]", state="attached", timeout=60_000)
        opened = float(tab.get_attribute("html", "data-atlas-ready-ms")) / 1000
        stats = tab.evaluate("atlas.stats()")
        pans = [tab.evaluate(PAN) / 1000 for _ in range(3)]
        zoom = tab.evaluate(ZOOM_IN) / 1000
        context.close()
    store.close()
    print(
        f"city map with {n:,} places: page {fmt_bytes(len(page.content))} built in "
        f"{build * 1000:.0f} ms; usable in the browser after {opened:.2f} s "
        f"({stats['mode']}, {stats['domNodes']} DOM nodes); pans redrawn in "
        + ", ".join(f"{p:.2f}" for p in pans)
        + f" s; one zoom step in {zoom:.2f} s"
    )


def fmt_bytes(n: float) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def report(rows: list[dict], naive_timeout: float) -> None:
    print()
    print(
        f"{'places':>8} | {'HTML bytes ours (+data)':>24} {'naive':>9} {'ratio':>7} | "
        f"{'build ours (+data)':>19} {'naive':>8} {'ratio':>6} | "
        f"{'browser ours':>12} {'naive':>9} {'ratio':>6}"
    )
    for r in rows:
        nb = r["naive_browser"]
        naive_b = f"{nb:.2f} s" if nb is not None else f">{naive_timeout:.0f} s"
        ratio_b = (
            f"{nb / r['ours_browser']:.0f}x"
            if nb is not None
            else f">{naive_timeout / r['ours_browser']:.0f}x"
        )
        print(
            f"{r['size']:>8,} | "
            f"{fmt_bytes(r['ours_bytes']):>9} (+{fmt_bytes(r['ours_data_bytes']):>8}) "
            f"{fmt_bytes(r['naive_bytes']):>9} "
            f"{r['naive_bytes'] / (r['ours_bytes'] + r['ours_data_bytes']):>6.0f}x | "
            f"{r['ours_build'] * 1000:>6.0f} ms (+{r['ours_data'] * 1000:>5.0f} ms) "
            f"{r['naive_build']:>6.1f} s "
            f"{r['naive_build'] / (r['ours_build'] + r['ours_data']):>5.0f}x | "
            f"{r['ours_browser']:>10.2f} s {naive_b:>9} {ratio_b:>6}"
        )
    print()
    print(
        "ours: first view answered with",
        ", ".join(f"{r['ours_mode']} at {r['size']:,}" for r in rows),
    )
    print(
        "HTML ratio: naive page / (our page + first data answer); build ratio: naive "
        "build / (our page + first data request); browser: navigation start to the "
        "first frame with the places drawn, fresh context, median of "
        f"{RUNS} for ours, one run for naive."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 50_000])
    parser.add_argument(
        "--naive-timeout",
        type=float,
        default=90.0,
        help="seconds to wait for the naive map in the browser",
    )
    parser.add_argument(
        "--city",
        type=int,
        default=0,
        metavar="N",
        help="also open, pan and zoom the city map with N places stored (e.g. 1000000: "
        "the INE points reused, each repeat moved a few metres)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    t = time.perf_counter()
    addresses = load_addresses()
    print(f"read {len(addresses):,} INE address points in {time.perf_counter() - t:.1f} s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size in args.sizes:
            t = time.perf_counter()
            rows.append(measure(size, addresses, browser, args.naive_timeout, Path(tmp)))
            print(f"  {size:,} places measured in {time.perf_counter() - t:.0f} s", flush=True)
        if rows:
            report(rows, args.naive_timeout)
        if args.city:
            measure_city(args.city, browser, Path(tmp))
        browser.close()


if __name__ == "__main__":
    main()
