"""OGC API – Features over HTTP: the resources, paging, filters, negotiation, privacy."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from geodata.io.export import count_public
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore

ITEMS = "/ogc/collections/places/items"


def personal_data(store: PlaceStore, cases: dict[str, str]) -> tuple[str, ...]:
    """The contributor's name, contact and display name the open_data_cases carry."""
    place = store.get(cases["area"])
    values = (place.contributor_name, place.contributor_contact, place.display_name)
    assert all(values)
    return values  # type: ignore[return-value]


def local(href: str) -> str:
    """A link of ours as a path the test client can follow."""
    parts = urlsplit(href)
    assert parts.netloc == "127.0.0.1"
    return parts.path + ("?" + parts.query if parts.query else "")


def rels(doc: dict) -> dict[str, dict]:
    return {link["rel"]: link for link in doc["links"]}


def test_landing_page_links_to_api_conformance_and_collections(client) -> None:
    r = client.get("/ogc")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    links = rels(r.json())
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    for rel in ("self", "alternate", "service-desc", "service-doc", "conformance", "data"):
        assert client.get(local(links[rel]["href"])).status_code == 200, rel


def test_conformance_declares_core_geojson_html_and_openapi(client) -> None:
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    for name in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}" in classes


def test_api_definition_is_openapi_3_0_with_every_path(client) -> None:
    r = client.get("/ogc/api")
    assert r.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.json()
    assert doc["openapi"].startswith("3.0.")
    for path in (
        "/",
        "/conformance",
        "/collections",
        "/collections/places/items",
        "/collections/places/items/{featureId}",
        "/collections/neighbourhoods",
    ):
        assert path in doc["paths"]  # fmt: skip
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 10_000, 10)


def test_collections_describe_places_and_neighbourhoods_with_extents(
    client, lisbon_store: PlaceStore
) -> None:
    doc = client.get("/ogc/collections").json()
    by_id = {c["id"]: c for c in doc["collections"]}
    assert set(by_id) == {"places", "neighbourhoods", "walks"}  # walks: test_walk_pages
    minx, miny, maxx, maxy = by_id["places"]["extent"]["spatial"]["bbox"][0]
    true = lisbon_store.summary(public_filter(None, "open_data")).bbox
    assert minx <= true[0] and miny <= true[1] and maxx >= true[2] and maxy >= true[3]
    assert maxx - minx < 0.2 and maxy - miny < 0.2  # coarse, yet Lisbon-sized
    start, end = by_id["places"]["extent"]["temporal"]["interval"][0]
    assert start <= end
    one = client.get("/ogc/collections/places").json()
    assert one["id"] == "places" and one["crs"][0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    items = [link for link in one["links"] if link["rel"] == "items"]
    assert {link["type"] for link in items} == {"application/geo+json", "text/html"}
    assert client.get("/ogc/collections/nowhere").status_code == 404


def test_items_default_to_ten_and_paging_walks_every_place_once(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    first = client.get(ITEMS)
    assert first.headers["content-type"] == "application/geo+json"
    doc = first.json()
    total = lisbon_store.count(public_filter(None, "open_data"))
    assert doc["numberMatched"] == total and doc["numberReturned"] == len(doc["features"]) == 10
    assert "prev" not in rels(doc)
    seen, page, pages = [], client.get(f"{ITEMS}?limit=50").json(), 0
    while True:
        pages += 1
        seen += [f["id"] for f in page["features"]]
        if "next" not in rels(page):
            break
        page = client.get(local(rels(page)["next"]["href"])).json()
        assert "prev" in rels(page)
    assert len(seen) == len(set(seen)) == total and pages == -(-total // 50)


def test_limit_is_capped_at_ten_thousand(client, lisbon_store: PlaceStore) -> None:
    from shapely.geometry import Point

    from geodata.models import Narrative, Place, Status

    lisbon_store.add_many(
        Place(geometry=Point(-9.14 + i * 1e-6, 38.71), title=f"point {i}", category="other",
              narratives=[Narrative("x", "en")], status=Status.PUBLISHED)
        for i in range(10_000)
    )  # fmt: skip
    doc = client.get(f"{ITEMS}?limit=50000").json()
    assert doc["numberMatched"] == 10_557 and doc["numberReturned"] == 10_000
    rest = client.get(local(rels(doc)["next"]["href"])).json()
    assert rest["numberReturned"] == 557 and "next" not in rels(rest)


def test_bad_parameter_values_get_400(client) -> None:
    for query in ("limit=0", "limit=ten", "offset=-1", "bbox=1,2,3", "datetime=yesterday",
                  "datetime=2024-05-01/2024-01-01", "category=spaceport", "neighbourhood=x",
                  "f=xml", "colour=red"):  # fmt: skip
        r = client.get(f"{ITEMS}?{query}")
        assert r.status_code == 400, query
        assert r.headers["content-type"] == "application/problem+json"


def test_bbox_datetime_and_property_filters_use_the_store(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    bbox = (-9.16, 38.70, -9.12, 38.73)
    doc = client.get(f"{ITEMS}?bbox={','.join(map(str, bbox))}&limit=1000").json()
    assert doc["numberMatched"] == count_public(lisbon_store, PlaceFilter(bbox=bbox))
    assert doc["numberReturned"] == doc["numberMatched"] > 0
    assert open_data_cases["hidden"] not in {f["id"] for f in doc["features"]}
    museums = client.get(f"{ITEMS}?category=museum&neighbourhood=Bel%C3%A9m&limit=100").json()
    assert {f["id"] for f in museums["features"]} == {
        p.id for p in lisbon_store.list(
            public_filter(PlaceFilter(category="museum", neighbourhood_id=8), "open_data"))
    }  # fmt: skip
    area = lisbon_store.get(open_data_cases["area"])
    stamp = area.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    at = client.get(f"{ITEMS}?datetime={stamp}").json()
    assert [f["id"] for f in at["features"]] == [area.id]
    later = client.get(f"{ITEMS}?datetime={stamp}/..&limit=100").json()
    assert area.id in {f["id"] for f in later["features"]}
    assert later["numberMatched"] < 557
    assert client.get(f"{ITEMS}?datetime=../2000-01-01").json()["numberMatched"] == 0


def test_one_feature_by_its_stable_id(client, open_data_cases: dict[str, str]) -> None:
    area_id = open_data_cases["area"]
    r = client.get(f"{ITEMS}/{area_id}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    assert feature["id"] == area_id and feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["protocol_labels"] == ["tk_a"]
    assert {"self", "alternate", "collection"} <= set(rels(feature))
    for role in ("pending", "no_open_data", "rejected"):
        assert client.get(f"{ITEMS}/{open_data_cases[role]}").status_code == 404
    assert client.get(f"{ITEMS}/pl_doesnotexist").status_code == 404
    hood = client.get("/ogc/collections/neighbourhoods/items/8").json()
    assert hood["properties"]["name"] == "Belém" and hood["properties"]["places"] > 0


def test_neighbourhoods_collection_pages_and_filters(client) -> None:
    doc = client.get("/ogc/collections/neighbourhoods/items?limit=5&offset=20").json()
    assert doc["numberMatched"] == 24 and doc["numberReturned"] == 4
    assert "next" not in rels(doc) and "prev" in rels(doc)
    small = client.get("/ogc/collections/neighbourhoods/items?bbox=-9.215,38.69,-9.21,38.695")
    assert [f["properties"]["name"] for f in small.json()["features"]] == ["Belém"]


@pytest.mark.parametrize(
    "path",
    ["/ogc", "/ogc/conformance", "/ogc/api", "/ogc/collections", "/ogc/collections/places",
     ITEMS, "/ogc/collections/neighbourhoods/items"],
)  # fmt: skip
def test_html_by_accept_header_or_f_and_json_otherwise(client, path: str) -> None:
    browser = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
    assert "<h1>" in browser.text and "https://" not in browser.text.split("<body>")[0]
    assert client.get(path + "?f=html").headers["content-type"].startswith("text/html")
    gdal = client.get(path, headers={"Accept": "application/geo+json, application/json"})
    assert "json" in gdal.headers["content-type"]
    assert "json" in client.get(path + "?f=json", headers={"Accept": "text/html"}).headers[
        "content-type"]  # fmt: skip


def test_html_pages_escape_what_residents_typed(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    place = lisbon_store.get(open_data_cases["area"])
    place.title = '<script>alert("x")</script>'
    lisbon_store.update(place)
    for path in (f"{ITEMS}/{place.id}?f=html", f"{ITEMS}?f=html&category=memory"):
        text = client.get(path).text
        assert "<script>alert" not in text and "&lt;script&gt;alert" in text


def test_no_ogc_response_holds_personal_data_or_withheld_places(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    secrets = personal_data(lisbon_store, open_data_cases)
    paths = [f"{ITEMS}?limit=10000", f"{ITEMS}?limit=10000&f=html", "/ogc/collections",
             f"{ITEMS}/{open_data_cases['area']}", f"{ITEMS}/{open_data_cases['area']}?f=html",
             "/ogc/collections/neighbourhoods/items?limit=100"]  # fmt: skip
    for path in paths:
        body = client.get(path).text
        for secret in (
            *secrets, "PENDING-UNIQUE",
                       "NO-OPEN-DATA-UNIQUE", "REJECTED-UNIQUE"):  # fmt: skip
            assert secret not in body, (path, secret)
