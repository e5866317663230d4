"""One page of open-data features (OGC items): read in one statement where the store can
(PostGIS), the same features, count and paging as the page read in a snapshot, on every
backend; and privacy kept on both paths."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import orjson
import pytest
from shapely.geometry import Point, box

from geodata.cql2 import text
from geodata.filters import compile_filter
from geodata.io import geojson
from geodata.io.export import generalised_near, public_page
from geodata.io.feature_page import EncodedPage, public_feature_page
from geodata.models import Consent, Narrative, Place, Sensitivity, Status
from geodata.place_attachments import ProtocolLabel
from geodata.privacy import generalise, public_filter
from geodata.store.base import PlaceFilter, PlaceStore

GRID_M = 250.0
AREA = (-9.16, 38.69, -9.11, 38.73)
HOODS = {"Alfama": (-9.16, 38.69, -9.135, 38.73), "Baixa": (-9.135, 38.69, -9.11, 38.73)}
# The generalised places stand in the west; these boxes lie far from them or beside one.
FAR_EAST = (-9.125, 38.69, -9.11, 38.73)
WHOLE = (-9.2, 38.6, -9.0, 38.8)


def _places() -> list[Place]:
    rng = random.Random(17)
    out = []
    for i in range(160):
        x, y = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
        sensitivity = Sensitivity.PUBLIC
        if i % 10 == 3:
            sensitivity = Sensitivity.GENERALISED
            x = rng.uniform(-9.16, -9.15)  # the west only
        elif i % 10 == 7:
            sensitivity = Sensitivity.HIDDEN
        out.append(
            Place(
                geometry=Point(round(x, 6), round(y, 6))
                if i % 7
                else box(x, y, x + 0.001, y + 0.001),
                title=f"{rng.choice(['Sé', 'Graça', 'Mouraria', 'Beco'])} {i}",
                narratives=[Narrative(f"story {i}", rng.choice(["pt", "en", "ar"]))],
                category=rng.choice(["memory", "building", "food"]),
                status=Status.PUBLISHED if i % 13 else Status.PENDING,
                year_from=rng.choice([None, 1755, 1820, 1900]),
                sensitivity=sensitivity,
                consent=Consent(publish=True, open_data=i % 17 != 5),
                contributor_name="Secret Name",
                contributor_contact="secret@example.org",
            )
        )
    return out


@pytest.fixture
def pages_store(store: PlaceStore) -> PlaceStore:
    places = _places()
    with store.transaction():
        store.add_many(places)
        store.replace_neighbourhoods([(n, box(*b), n[:3]) for n, b in HOODS.items()])
    store.reassign_neighbourhoods()
    labelled = [p for p in places if p.sensitivity == Sensitivity.PUBLIC][:3]
    labelled.append(next(p for p in places if p.sensitivity == Sensitivity.GENERALISED))
    for p in labelled:
        store.set_protocol_labels(
            p.id,
            [
                ProtocolLabel("tk_a", "TK Attribution", "Name us."),
                ProtocolLabel("bc_p", "BC Provenance", "Ours."),
            ],
        )
    return store


def _in_a_snapshot(store: PlaceStore, flt: PlaceFilter | None, **kw: Any) -> EncodedPage:
    """The page as the OGC items route read it before: public_page in a snapshot."""
    with store.snapshot():
        matched, batches, more = public_page(store, flt, **kw)
    body = b",".join(geojson.encode_features(b) for b in batches)
    return EncodedPage(matched, body, sum(len(b) for b in batches), more)


def _features(page: EncodedPage) -> list[dict[str, Any]]:
    return orjson.loads(b"[" + page.body + b"]")


FILTERS = {
    "all": PlaceFilter(),
    "category": PlaceFilter(category="memory"),
    "cql2": PlaceFilter(where=compile_filter(text.parse("year_from > 1800"), grid_m=GRID_M)),
    "sortby": PlaceFilter(order=(("title", True),)),
    "far bbox": PlaceFilter(bbox=FAR_EAST),
    "whole bbox": PlaceFilter(bbox=WHOLE),
    "bbox sorted": PlaceFilter(bbox=FAR_EAST, order=(("title", False),)),
    "bbox and filter": PlaceFilter(bbox=FAR_EAST, category="food"),
    "empty bbox": PlaceFilter(bbox=(10.0, 10.0, 10.1, 10.1)),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_a_page_in_one_statement_is_the_page_read_in_a_snapshot(pages_store, name):
    flt = FILTERS[name]
    for limit, offset, most in [(10, 0, None), (10, 0, 5), (7, 20, 1000), (500, 0, 30),
                                (10, 400, 5), (100, 0, 10_000)]:  # fmt: skip
        kw = {"limit": limit, "offset": offset, "grid_m": GRID_M, "count_most": most}
        expected = _in_a_snapshot(pages_store, flt, **kw)
        for _ in range(2):  # the second time with the counts kept
            got = public_feature_page(pages_store, flt, **kw)
            assert got[0] == expected[0] and got[2:] == expected[2:], (kw, got[0], expected[0])
            assert _features(got) == _features(expected), kw


def test_postgis_answers_in_one_statement_when_it_can(pages_store, backend):
    store = pages_store
    flt = public_filter(PlaceFilter(bbox=FAR_EAST), "open_data")
    exact = dataclasses.replace(flt, sensitivity="public")
    near = generalised_near(flt, GRID_M)
    found = store.export_feature_page(exact, limit=500, most=10_000, absent=near)
    if backend == "sqlite":  # no one-statement page: always read in a snapshot
        assert found is None
        return
    assert found is not None and found.matched == len(found.rows) > 10
    # Heads for public places, labels in their tails.
    assert all(head is not None and row is None for head, _, _, _, row in found.rows)
    assert all(labels in ([], ["tk_a", "bc_p"]) for *_, labels, _ in found.rows)
    # A generalised place near the box: the statement does not answer alone.
    west = public_filter(PlaceFilter(bbox=(-9.16, 38.69, -9.15, 38.73)), "open_data")
    west_exact = dataclasses.replace(west, sensitivity="public")
    assert (
        store.export_feature_page(
            west_exact, limit=10, most=10_000, absent=generalised_near(west, GRID_M)
        )
        is None
    )
    # Without a bbox: only with the count kept for the state the statement read.
    everything = public_filter(None, "open_data")
    store.places_version()  # nothing counted yet
    first = store.export_feature_page(everything, limit=10)
    if first is None:
        store.count(everything)
        first = store.export_feature_page(everything, limit=10)
    assert first is not None and first.matched == store.count(everything)
    hidden = [row for head, _, _, _, row in first.rows if head is None]
    assert hidden, "the first ten hold a generalised or hidden place, built from its row"
    store.add(Place(geometry=Point(-9.12, 38.71), title="New", narratives=[],
                    category="memory", status=Status.PUBLISHED))  # fmt: skip
    assert store.export_feature_page(everything, limit=10) is None  # a new state: not kept


def test_no_exact_position_of_a_sensitive_place_in_any_page(pages_store):
    secret = {p.id: p for p in pages_store.list() if p.sensitivity != Sensitivity.PUBLIC}
    for flt in FILTERS.values():
        page = public_feature_page(pages_store, flt, limit=500, grid_m=GRID_M, count_most=10_000)
        for feature in _features(page):
            assert "Secret" not in orjson.dumps(feature).decode()
            place = secret.get(feature["id"])
            if place is None:
                continue
            assert feature["properties"]["location_generalised"] is True
            if place.sensitivity == Sensitivity.HIDDEN:
                assert feature["geometry"] is None
            else:
                centre = generalise(place.geometry, GRID_M)
                assert feature["geometry"] == {"type": "Point", "coordinates": [centre.x, centre.y]}


@pytest.mark.parametrize("name", ["sortby", "bbox sorted", "far bbox", "bbox and filter"])
def test_a_page_keeps_the_order_the_store_lists_in(pages_store, name):
    flt = public_filter(FILTERS[name], "open_data")
    if flt.bbox is not None:  # no generalised place near: the public places alone
        flt = dataclasses.replace(flt, sensitivity="public")
    listed = [p.id for p in pages_store.list(flt)]
    for most in (None, 5, 10_000):
        page = public_feature_page(pages_store, flt, limit=500, grid_m=GRID_M, count_most=most)
        assert [f["id"] for f in _features(page)] == listed
