"""numberMatched over HTTP: exact for the data it is served with, kept between writes, and
left out (as OGC API – Features allows) when a filter matches more than the count limit."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from shapely.geometry import Point

from geodata import moderation
from geodata.audit import Actor
from geodata.contributions import withdraw
from geodata.io.export import public_batches
from geodata.models import Consent, Narrative, Place, Status
from geodata.store.base import PlaceFilter, PlaceStore

ITEMS = "/ogc/collections/places/items"
BBOX = (-9.16, 38.70, -9.12, 38.73)
QUERIES = {
    "all": "",
    "memory": "&category=memory",
    "bbox": "&bbox=" + ",".join(map(str, BBOX)),
}


def truth(store: PlaceStore, name: str) -> int:
    """How many open-data places a query matches, read place by place (no count kept)."""
    flt = {"all": PlaceFilter(), "memory": PlaceFilter(category="memory")}.get(name)
    return sum(len(b) for b in public_batches(store, flt or PlaceFilter(bbox=BBOX)))


def matched(client, query: str) -> int:
    doc = client.get(f"{ITEMS}?limit=5{query}").json()
    return doc["numberMatched"]


def test_number_matched_follows_insert_publication_and_withdrawal(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str], tmp_path: Path
) -> None:
    def new(status: Status) -> Place:
        return lisbon_store.add(
            Place(geometry=Point(-9.137, 38.712), title="Tasca do Chico", category="memory",
                  narratives=[Narrative("Fado às quartas.", "pt")], status=status,
                  consent=Consent(publish=True, open_data=True))
        )  # fmt: skip

    before = {name: matched(client, q) for name, q in QUERIES.items()}
    assert before == {name: truth(lisbon_store, name) for name in QUERIES}
    assert before == {name: matched(client, q) for name, q in QUERIES.items()}  # kept
    pending = new(Status.PENDING)
    assert {name: matched(client, q) for name, q in QUERIES.items()} == before
    published = new(Status.PUBLISHED)
    after_insert = {name: matched(client, q) for name, q in QUERIES.items()}
    assert after_insert == {name: n + 1 for name, n in before.items()}
    moderation.publish(lisbon_store, pending.id, Actor("facilitator"))
    after_publish = {name: matched(client, q) for name, q in QUERIES.items()}
    assert after_publish == {name: n + 2 for name, n in before.items()}
    withdraw(lisbon_store, lisbon_store.get(published.id), tmp_path / "media")
    after_withdrawal = {name: matched(client, q) for name, q in QUERIES.items()}
    assert after_withdrawal == {name: n + 1 for name, n in before.items()}
    assert after_withdrawal == {name: truth(lisbon_store, name) for name in QUERIES}


def local(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + "?" + parts.query


def walk(client, first: str) -> tuple[list[str], list[dict]]:
    """Every feature id met following the next links from ``first``, and the pages."""
    ids, pages, doc = [], [], client.get(first).json()
    while True:
        pages.append(doc)
        ids += [f["id"] for f in doc["features"]]
        nxt = [link for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            return ids, pages
        doc = client.get(local(nxt[0]["href"])).json()


@pytest.mark.parametrize("query", ["category=museum", "bbox=" + ",".join(map(str, BBOX))])
def test_a_filter_past_the_count_limit_pages_without_number_matched(
    client, lisbon_store: PlaceStore, open_data_cases: dict[str, str], monkeypatch, query: str
) -> None:
    import web.routes.ogc

    everything, _ = walk(client, f"{ITEMS}?{query}&limit=1000")
    assert len(everything) > 40
    monkeypatch.setattr(web.routes.ogc, "COUNT_MOST", 20)
    ids, pages = walk(client, f"{ITEMS}?{query}&limit=7")
    assert ids == everything and len(pages) == -(-len(everything) // 7)
    counted = [i for i, p in enumerate(pages) if "numberMatched" in p]
    # Counting stopped at 20: only pages that reach the end of the matches know their
    # number (the last one; with a bbox, also the one where the public places end).
    assert counted[0] >= len(pages) - 2 and counted[-1] == len(pages) - 1
    assert {pages[i]["numberMatched"] for i in counted} == {len(everything)}
    whole = client.get(f"{ITEMS}?limit=7").json()  # the collection itself: always counted
    assert whole["numberMatched"] == truth(lisbon_store, "all")
    page = client.get(f"{ITEMS}?{query}&limit=7&f=html")
    assert page.status_code == 200 and " of None" not in page.text
    exactly = client.get(f"{ITEMS}?{query}&limit=7&offset={len(everything) - 7}").json()
    assert exactly["numberMatched"] == len(everything)
    assert not [link for link in exactly["links"] if link["rel"] == "next"]
