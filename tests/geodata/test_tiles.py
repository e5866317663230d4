"""Vector tiles of the open-data places on both backends: the right places at the right
pixels, privacy as in every other output, clusters past the cap, SQLite = PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, shape

from geodata.models import Consent, Narrative, Place, Sensitivity, Status
from geodata.privacy import grid_centres
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.tilematrix import Tile, TileNotFound, tile_matrix_set
from mapping.options import MapOptions
from mapping.tiles import collection_tile
from mapping.viewport import places_in_view
from tests.conftest import make_store

BAIXA = Tile.checked(14, 6278, 7776)  # the z14 tile holding Baixa (-9.137, 38.711)
TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)


def decode(data: bytes, layer: str = "places") -> list[dict]:
    tile = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    return tile[layer]["features"] if layer in tile else []


def expected_pixel(tile: Tile, lon: float, lat: float) -> list[int]:
    """Where a lon/lat point lands in a 4096-unit tile, computed with pyproj and the tile
    matrix set's own bounds (independently of the code under test)."""
    x, y = TO_MERCATOR.transform(lon, lat)
    b = tile_matrix_set().xy_bounds(tile.x, tile.y, tile.z)
    return [
        int(np.rint((x - b.left) / (b.right - b.left) * 4096)),
        int(np.rint((b.top - y) / (b.top - b.bottom) * 4096)),
    ]


def place(pid: str, title: str, geometry, **kw) -> Place:
    kw.setdefault("status", Status.PUBLISHED)
    return Place(
        id=pid, geometry=geometry, title=title, category="monument",
        narratives=[Narrative("Uma história", "pt")], contributor_name="Secret Name",
        contributor_contact="secret@example.org", **kw,
    )  # fmt: skip


SOUTH_EDGE = BAIXA.bounds[1]
BAIXA_AREA = Polygon([(-9.15, 38.70), (-9.11, 38.70), (-9.11, 38.725), (-9.15, 38.725)])


def cases() -> list[Place]:
    """Places around the Baixa tile, one per rule (fresh objects for every store)."""
    square = Polygon([(-9.1330, 38.7080), (-9.1310, 38.7080), (-9.1310, 38.7095),
                      (-9.1330, 38.7095)])  # fmt: skip
    return [
        place("pl_rossio", "Rossio fountain", Point(-9.1365, 38.7105), year_from=1755,
              year_to=1775, neighbourhood_id=1),
        place("pl_corner", "Corner café", Point(-9.1210, 38.7180), year_from=-50),
        place("pl_square", "Old market square", square),
        # Runs out of the tile to the west: drawn, clipped to the tile and its buffer.
        place("pl_route", "Tram 28 stretch", LineString([(-9.1500, 38.7120), (-9.1350, 38.7130)])),
        place("pl_gen", "Grandmother's doorstep", Point(-9.13512, 38.71346),
              sensitivity=Sensitivity.GENERALISED),
        # Truly just south of the tile; its grid cell's centre lies inside it.
        place("pl_gen_edge", "Doorstep by the edge", Point(-9.1300, SOUTH_EDGE - 0.00001),
              sensitivity=Sensitivity.GENERALISED),
        place("pl_hidden", "Secret garden", Point(-9.1340, 38.7110),
              sensitivity=Sensitivity.HIDDEN),
        place("pl_pending", "Pending place", Point(-9.1330, 38.7120), status=Status.PENDING),
        place("pl_rejected", "Rejected place", Point(-9.1330, 38.7121), status=Status.REJECTED),
        place("pl_no_open", "Map only", Point(-9.1330, 38.7122),
              consent=Consent(publish=True, open_data=False)),
        place("pl_far", "Belém tower", Point(-9.2160, 38.6916)),
    ]  # fmt: skip


def filled(store: PlaceStore) -> PlaceStore:
    store.replace_neighbourhoods([("Baixa", BAIXA_AREA, "B1")])
    for p in cases():
        store.add(p)
    return store


def by_id(features: list[dict]) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in features}


def test_places_land_at_their_pixels_with_public_properties(store: PlaceStore) -> None:
    features = by_id(decode(collection_tile(filled(store), "places", BAIXA, MapOptions())))
    rossio = features["pl_rossio"]
    assert rossio["geometry"] == {
        "type": "Point",
        "coordinates": expected_pixel(BAIXA, -9.1365, 38.7105),
    }
    assert rossio["properties"] == {
        "id": "pl_rossio",
        "title": "Rossio fountain",
        "category": "monument",
        "neighbourhood": "Baixa",
        "year_from": 1755,
        "year_to": 1775,
        "location_generalised": False,
    }
    assert features["pl_corner"]["properties"]["year_from"] == -50
    assert features["pl_corner"]["geometry"]["coordinates"] == expected_pixel(
        BAIXA, -9.1210, 38.7180
    )
    square = features["pl_square"]["geometry"]
    assert square["type"] == "Polygon"
    corners = {tuple(c) for c in square["coordinates"][0]}
    assert tuple(expected_pixel(BAIXA, -9.1330, 38.7080)) in corners
    assert tuple(expected_pixel(BAIXA, -9.1310, 38.7095)) in corners
    route = features["pl_route"]["geometry"]
    assert route["type"] == "LineString"
    assert route["coordinates"][0][0] == -64  # clipped at the buffer's west edge
    assert route["coordinates"][-1] == expected_pixel(BAIXA, -9.1350, 38.7130)


def test_generalised_places_at_their_grid_cell_hidden_and_unpublished_absent(
    store: PlaceStore,
) -> None:
    features = by_id(decode(collection_tile(filled(store), "places", BAIXA, MapOptions())))
    lon, lat = grid_centres(np.array([[-9.13512, 38.71346]]), 250.0)[0]
    gen = features["pl_gen"]
    assert gen["geometry"]["coordinates"] == expected_pixel(BAIXA, lon, lat)
    assert gen["geometry"]["coordinates"] != expected_pixel(BAIXA, -9.13512, 38.71346)
    assert gen["properties"]["location_generalised"] is True
    assert "pl_gen_edge" in features  # its public point is in this tile
    for absent in ("pl_hidden", "pl_pending", "pl_rejected", "pl_no_open", "pl_far"):
        assert absent not in features, absent
    assert set(features) == {"pl_rossio", "pl_corner", "pl_square", "pl_route", "pl_gen",
                             "pl_gen_edge"}  # fmt: skip
    below = Tile.checked(14, BAIXA.y + 1, BAIXA.x)  # where pl_gen_edge truly is
    assert "pl_gen_edge" not in by_id(decode(collection_tile(store, "places", below, MapOptions())))


def test_no_personal_data_in_a_tile(store: PlaceStore) -> None:
    data = collection_tile(filled(store), "places", BAIXA, MapOptions())
    assert b"Secret Name" not in data and b"secret@example.org" not in data
    assert b"Secret garden" not in data and b"Map only" not in data


def test_empty_tile_is_empty_and_out_of_range_tiles_are_refused(store: PlaceStore) -> None:
    assert collection_tile(filled(store), "places", Tile.checked(3, 0, 0), MapOptions()) == b""
    bad = [(23, 0, 0, "tileMatrix"), (-1, 0, 0, "tileMatrix"), (2, 4, 0, "tileRow"),
           (2, 0, 4, "tileCol"), (0, -1, 0, "tileRow")]  # fmt: skip
    for z, y, x, name in bad:
        with pytest.raises(TileNotFound) as err:
            Tile.checked(z, y, x)
        assert err.value.problems[0].field == name


def grid_of_points(n: int) -> list[Place]:
    """``n`` public points spread over the Baixa tile, and one generalised place."""
    w, s, e, north = BAIXA.bounds
    rng = np.random.default_rng(7)
    lons = rng.uniform(w + 0.0005, e - 0.0005, n)
    lats = rng.uniform(s + 0.0005, north - 0.0005, n)
    out = [
        place(f"pl_p{i:04d}", f"Place {i}", Point(x, y))
        for i, (x, y) in enumerate(zip(lons, lats, strict=True))
    ]
    out.append(place("pl_gen", "Generalised", Point(-9.13512, 38.71346),
                     sensitivity=Sensitivity.GENERALISED))  # fmt: skip
    return out


def test_past_the_cap_a_tile_holds_the_maps_clusters(store: PlaceStore) -> None:
    for p in grid_of_points(120):
        store.add(p)
    below = decode(collection_tile(store, "places", BAIXA, MapOptions(max_features=121)))
    assert len(below) == 121 and not any(f["properties"].get("cluster") for f in below)
    options = MapOptions(max_features=120, k=1)
    clusters = decode(collection_tile(store, "places", BAIXA, options))
    assert clusters and all(f["properties"]["cluster"] is True for f in clusters)
    assert sum(f["properties"]["count"] for f in clusters) == 121
    assert not any("title" in f["properties"] for f in clusters)
    # The city map's clusters for the same view and zoom, drawn in the tile.
    view = places_in_view(store, PlaceFilter(), BAIXA.bounds, BAIXA.z, options)
    assert view.mode == "clusters"
    want = sorted((expected_pixel(BAIXA, c.lon, c.lat), c.count) for c in view.clusters)
    got = sorted((f["geometry"]["coordinates"], f["properties"]["count"]) for f in clusters)
    assert got == want


def test_cluster_counts_below_k_are_left_out(store: PlaceStore) -> None:
    crowd = [(-9.1365 + i * 1e-5, 38.7105) for i in range(12)]
    pair = [(-9.1210, 38.7180), (-9.1211, 38.7181)]
    for i, (x, y) in enumerate(crowd + pair):
        store.add(place(f"pl_{i}", f"Place {i}", Point(x, y)))
    clusters = decode(collection_tile(store, "places", BAIXA, MapOptions(max_features=5, k=3)))
    labels = sorted(f["properties"]["label"] for f in clusters)
    assert labels == ["12", "<3"]
    for f in clusters:
        if f["properties"]["label"] == "<3":
            assert "count" not in f["properties"]
        else:
            assert f["properties"]["count"] == 12


def test_neighbourhood_tile_has_outlines_and_counts(lisbon_store: PlaceStore) -> None:
    features = decode(
        collection_tile(lisbon_store, "neighbourhoods", BAIXA, MapOptions()), "neighbourhoods"
    )
    names = {f["properties"]["name"] for f in features}
    assert "Santa Maria Maior" in names and "Belém" not in names
    counts = lisbon_store.counts_by_neighbourhood(
        PlaceFilter(status="published", audience="open_data")
    )
    for f in features:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert f["properties"]["places"] == counts.get(f["properties"]["id"], 0)


@pytest.fixture
def both_stores(tmp_path: Path) -> Iterator[tuple[PlaceStore, PlaceStore]]:
    """The same places in SQLite and in PostGIS (skipped without PostGIS)."""
    from geodata.demo import load_demo

    sqlite, postgis = make_store("sqlite", tmp_path), make_store("postgis", tmp_path)
    try:
        for s in (sqlite, postgis):
            load_demo(s)
            for p in cases() + grid_of_points(60)[:-1]:
                s.add(p)
        yield sqlite, postgis
    finally:
        sqlite.close()
        postgis.close()


def _comparable(features: list[dict]) -> list[tuple[str, str, dict]]:
    """Features without their ids (the demo's places get new ids in each store), in order."""
    out = []
    for f in features:
        props = {k: v for k, v in f["properties"].items() if k != "id"}
        out.append((props.get("title", ""), repr(sorted(props.items())), f["geometry"]))
    return sorted(out, key=lambda t: (t[0], t[1], repr(t[2])))


def _near(lon: float, lat: float, z: int) -> Tile:
    t = tile_matrix_set().tile(lon, lat, z)
    return Tile.checked(t.z, t.y, t.x)


@pytest.mark.postgis
def test_sqlite_and_postgis_tiles_decode_the_same(both_stores) -> None:
    sqlite, postgis = both_stores
    for tile in (BAIXA, _near(-9.137, 38.711, 16), _near(-9.137, 38.711, 12)):
        a = _comparable(decode(collection_tile(sqlite, "places", tile, MapOptions())))
        b = _comparable(decode(collection_tile(postgis, "places", tile, MapOptions())))
        assert [x[:2] for x in a] == [x[:2] for x in b] and a
        for (title, _, geometry), (_, _, other) in zip(a, b, strict=True):
            if geometry["type"] == "Point":
                assert geometry == other, title
            else:  # clipping and snapping may differ by a unit at the tile's edge
                ga, gb = shape(geometry), shape(other)
                assert ga.geom_type == gb.geom_type
                assert ga.hausdorff_distance(gb) <= 1.5, title
    clustered = MapOptions(max_features=20)
    a = decode(collection_tile(sqlite, "places", BAIXA, clustered))
    b = decode(collection_tile(postgis, "places", BAIXA, clustered))
    key = lambda f: (f["geometry"]["coordinates"], f["properties"]["label"])  # noqa: E731
    assert sorted(map(key, a)) == sorted(map(key, b)) and a
    hoods_a = decode(
        collection_tile(sqlite, "neighbourhoods", BAIXA, MapOptions()), "neighbourhoods"
    )
    hoods_b = decode(
        collection_tile(postgis, "neighbourhoods", BAIXA, MapOptions()), "neighbourhoods"
    )
    pa = {f["properties"]["name"]: f for f in hoods_a}
    pb = {f["properties"]["name"]: f for f in hoods_b}
    assert pa.keys() == pb.keys() and pa
    for name, f in pa.items():
        assert f["properties"] == pb[name]["properties"]
        ga, gb = shape(f["geometry"]), shape(pb[name]["geometry"])
        assert ga.symmetric_difference(gb).area <= 0.01 * ga.area + 100, name


@pytest.mark.postgis
def test_sqlite_and_postgis_walk_tiles_decode_the_same(both_stores) -> None:
    """The demo's walks: the same routes, fields and clusters from the numpy encoder and
    from ST_AsMVT (the walks' ids differ between the stores)."""
    sqlite, postgis = both_stores
    tiles = (BAIXA, _near(-9.2, 38.697, 15), _near(-9.137, 38.711, 8), Tile.checked(0, 0, 0))
    for tile in tiles:
        a = _comparable(decode(collection_tile(sqlite, "walks", tile, MapOptions()), "walks"))
        b = _comparable(decode(collection_tile(postgis, "walks", tile, MapOptions()), "walks"))
        assert [x[:2] for x in a] == [x[:2] for x in b], tile
        for (title, _, geometry), (_, _, other) in zip(a, b, strict=True):
            assert shape(geometry).hausdorff_distance(shape(other)) <= 1.5, title
    for tile in tiles[:3]:  # (at zoom 0 a 2 km walk is less than a unit: not drawn)
        assert decode(collection_tile(sqlite, "walks", tile, MapOptions()), "walks"), tile
    clustered = MapOptions(max_features=1, k=1)
    a = decode(collection_tile(sqlite, "walks", tiles[2], clustered), "walks")
    b = decode(collection_tile(postgis, "walks", tiles[2], clustered), "walks")
    assert [f["properties"] for f in a] == [f["properties"] for f in b]
    assert [f["properties"]["count"] for f in a] == [2]


def test_walk_tiles_keep_to_the_public_walks(lisbon_store: PlaceStore) -> None:
    """Routes from :func:`open_data_walks` only, with no proposer's personal data."""
    from dataclasses import replace

    from geodata.walk_tiles import WalkLines

    walks = lisbon_store.walks("published")
    lisbon_store.update_walk(replace(walks[0], contributor_contact="secret@example.org",
                                     contributor_name="Secret Name"))  # fmt: skip
    z8 = _near(-9.137, 38.711, 8)
    raw = collection_tile(lisbon_store, "walks", z8, MapOptions())
    assert {f["properties"]["id"] for f in decode(raw, "walks")} == {w.id for w in walks}
    assert b"secret" not in raw.lower()
    lisbon_store.update_walk(replace(walks[1], status=Status.WITHDRAWN))
    lines = WalkLines.open_data(lisbon_store)
    assert lines.properties["id"] == [walks[0].id]
    assert [f["properties"]["id"] for f in decode(collection_tile(
        lisbon_store, "walks", z8, MapOptions(), lines), "walks")] == [walks[0].id]  # fmt: skip
    assert len(lines.starts_in(z8)) == 1 and len(lines.starts_in(Tile.checked(8, 0, 0))) == 0
