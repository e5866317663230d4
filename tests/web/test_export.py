"""The download API over HTTP: formats, filters, validators (ETag, 304), problems, privacy."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import orjson
import pytest

from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore


def personal_data(store: PlaceStore, cases: dict[str, str]) -> tuple[str, ...]:
    """The contributor's name, contact and display name the open_data_cases carry."""
    place = store.get(cases["area"])
    values = (place.contributor_name, place.contributor_contact, place.display_name)
    assert all(values)
    return values  # type: ignore[return-value]


def open_data_ids(store: PlaceStore, flt: PlaceFilter | None = None) -> set[str]:
    return {p.id for p in store.list(public_filter(flt, "open_data"))}


def test_geojson_download_streams_every_open_data_place_with_headers(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    r = client.get("/api/export/places.geojson")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-disposition"].startswith(
        'attachment; filename="heritage-atlas-places-'
    )
    assert r.headers["content-disposition"].endswith('.geojson"')
    assert r.headers["etag"].startswith('W/"') and r.headers["last-modified"].endswith("GMT")
    assert "content-length" not in r.headers  # streamed, not buffered
    doc = r.json()
    assert {f["id"] for f in doc["features"]} == open_data_ids(lisbon_store)
    assert doc["licence"] == "CC-BY-4.0" and doc["attribution"] == "Heritage Atlas contributors"


def test_if_none_match_gets_304_until_the_data_changes(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    url = "/api/export/places.geojson?category=memory"
    etag = client.get(url).headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/api/export/places.geojson?category=museum").headers["etag"] != etag
    place = lisbon_store.get(open_data_cases["area"])
    place.title = "Old fish market square (renamed)"
    lisbon_store.update(place)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "(renamed)" in changed.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=spaceport", "category"),
        ("neighbourhood=Atlantis", "neighbourhood"),
        ("language=not a tag!", "language"),
        ("year_from=soon", "year_from"),
        ("year_from=2000&year_to=1900", "year_to"),
        ("since=2024-02-30", "since"),
        ("since=2024-05-01&until=2024-01-01", "until"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=-9.1,38.8,-9.2,38.7", "bbox"),
        ("bbox=-200,38,-9,39", "bbox"),
    ],
)
def test_bad_filters_get_a_422_problem_naming_the_field(client, query: str, field: str) -> None:
    for path in ("places.geojson", "places.csv", "places.gpkg", "neighbourhoods.geojson"):
        r = client.get(f"/api/export/{path}?{query}")
        assert r.status_code == 422, (path, query)
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["status"] == 422 and problem["code"] == "invalid_filter"
        assert field in [e["field"] for e in problem["errors"]]


def test_filters_narrow_the_download_like_the_store(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    belem = client.get("/api/export/places.geojson?neighbourhood=bel%C3%A9m").json()
    assert {f["id"] for f in belem["features"]} == open_data_ids(
        lisbon_store, PlaceFilter(neighbourhood_id=8)
    )
    assert belem["filters"] == {"neighbourhood": "belém"}
    mixed = client.get(
        "/api/export/places.geojson?category=memory&language=ar&year_from=1955&year_to=1960"
        "&since=2000-01-01&until=2100-01-01"
    ).json()
    assert {f["id"] for f in mixed["features"]} == {
        open_data_cases[r] for r in ("area", "generalised", "hidden")
    }
    assert client.get("/api/export/places.geojson?since=2100-01-01").json()["features"] == []


def test_csv_download_links_its_licence_sidecar(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    r = client.get("/api/export/places.csv?category=memory")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    disposition = r.headers["content-disposition"]
    assert "heritage-atlas-places-memory-" in disposition and disposition.endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["id"] for row in rows} == {open_data_cases[k] for k in ("area", "generalised",
                                                                        "hidden")}  # fmt: skip
    link = r.headers["link"]
    assert link.endswith('>; rel="license"') and "places.licence.txt?category=memory" in link
    sidecar = client.get(link[1 : link.index(">")].removeprefix("http://127.0.0.1"))
    assert sidecar.status_code == 200 and sidecar.headers["content-type"].startswith("text/plain")
    assert "CC-BY-SA-4.0, Mouraria residents, 1" in sidecar.text
    assert "Filters: category=memory" in sidecar.text


def test_geopackage_download_reads_back(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    r = client.get("/api/export/places.gpkg?neighbourhood=8")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geopackage+sqlite3"
    assert r.headers["content-disposition"].endswith('.gpkg"')
    path = tmp_path / "download.gpkg"
    path.write_bytes(r.content)
    places = gpd.read_file(path, layer="places")
    assert set(places["id"]) == open_data_ids(lisbon_store, PlaceFilter(neighbourhood_id=8))
    assert set(places["neighbourhood"]) == {"Belém"}
    assert client.get(
        "/api/export/places.gpkg?neighbourhood=8", headers={"If-None-Match": r.headers["etag"]}
    ).status_code == 304  # fmt: skip


def test_neighbourhoods_download_counts_places_by_category(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    doc = client.get("/api/export/neighbourhoods.geojson").json()
    assert len(doc["features"]) == 24 and "crs" not in doc
    counts = lisbon_store.counts_by_neighbourhood(public_filter(None, "open_data"))
    for f in doc["features"]:
        props = f["properties"]
        assert props["places"] == counts.get(f["id"], 0)
        assert props["places"] == sum(v for k, v in props.items() if k.startswith("places_"))
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert doc["places_outside_neighbourhoods"] == counts.get(None, 0)
    museums = client.get("/api/export/neighbourhoods.geojson?category=museum").json()
    assert (
        sum(f["properties"]["places"] for f in museums["features"])
        == len(open_data_ids(lisbon_store, PlaceFilter(category="museum")))
        - museums["places_outside_neighbourhoods"]
    )
    one = client.get("/api/export/neighbourhoods.geojson?neighbourhood=Bel%C3%A9m").json()
    assert [f["properties"]["name"] for f in one["features"]] == ["Belém"]


def test_no_download_holds_personal_data_or_withheld_places(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str]
) -> None:
    secrets = personal_data(lisbon_store, open_data_cases)
    for path in ("places.geojson", "places.csv", "places.gpkg", "places.licence.txt",
                 "neighbourhoods.geojson"):  # fmt: skip
        body = client.get(f"/api/export/{path}").content
        for secret in (*secrets, "PENDING-UNIQUE", "NO-OPEN-DATA-UNIQUE", "REJECTED-UNIQUE"):
            assert secret.encode() not in body, (path, secret)
        for role in ("pending", "no_open_data", "rejected"):
            assert open_data_cases[role].encode() not in body


def test_the_download_is_sent_in_several_chunks(client, lisbon_store: PlaceStore) -> None:
    from geodata.models import Narrative, Place, Status

    lisbon_store.add_many(
        Place(geometry=gpd.points_from_xy([-9.14], [38.71])[0], title=f"bench {i}",
              narratives=[Narrative("x", "en")], category="other", status=Status.PUBLISHED)
        for i in range(2500)
    )  # fmt: skip
    identity = {"Accept-Encoding": "identity"}
    with client.stream("GET", "/api/export/places.geojson", headers=identity) as r:
        chunks = list(r.iter_raw())
    assert len(chunks) >= 3
    assert len(orjson.loads(b"".join(chunks))["features"]) == 557 + 2500


@pytest.mark.parametrize("path", ["/api/export/places.geojson", "/api/export/places.csv"])
def test_downloads_are_gzipped_for_clients_that_take_it(
    client, lisbon_store: PlaceStore, path: str
) -> None:
    import gzip

    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    with client.stream("GET", path, headers={"Accept-Encoding": "br, gzip;q=0.8"}) as r:
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Accept-Encoding"
        packed = b"".join(r.iter_raw())
    body = gzip.decompress(packed)
    assert len(packed) * 4 < len(body)
    if path.endswith(".csv"):
        assert body == plain.content
    else:  # the same document but for the time it was written
        doc, same = orjson.loads(body), plain.json()
        assert doc.pop("timeStamp") and same.pop("timeStamp")
        assert doc == same
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
