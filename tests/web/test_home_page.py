"""The home page, ``/``, through the real app on every backend: what the atlas is in the
reader's language, the latest published stories in their own words and languages, the
small server-drawn map, and the ways in (map, contribute, workshop code, downloads, OGC)."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from geodata.models import Consent, Narrative, Sensitivity, Status
from tests.mapping.conftest import make_place
from web.app import create_app

LONG = "Aqui " + "a água corria para todo o bairro e as lavadeiras cantavam. " * 8


@pytest.fixture
def stories(lisbon_store):
    """Newer than every demo place: one public story of each kind, and places that must
    never be listed (pending, rejected, withdrawn, no consent, hidden location)."""
    add = lisbon_store.add
    ids = {
        "pending": add(make_place(title="Pendente", status=Status.PENDING)).id,
        "rejected": add(make_place(title="Rejeitado", status=Status.REJECTED)).id,
        "withdrawn": add(make_place(title="Retirado", status=Status.WITHDRAWN)).id,
        "unconsented": add(
            make_place(title="Sem consentimento", consent=Consent(publish=False))
        ).id,
        "hidden": add(make_place(title="Lugar escondido", sensitivity=Sensitivity.HIDDEN)).id,
        "silent": add(make_place(title="Sem história", narratives=[])).id,
        "arabic": add(
            make_place(title="مقهى الحي", narratives=[Narrative("كنا نلتقي هنا كل مساء.", "ar")])
        ).id,
        "long": add(
            make_place(title="Lavadouro", narratives=[Narrative(LONG, "pt")], neighbourhood_id=6)
        ).id,
        "script": add(
            make_place(
                title="<script>alert(1)</script>Beco",
                narratives=[Narrative("<img src=x onerror=alert(2)> história", "pt")],
            )
        ).id,
    }
    return ids


def teasers(page: str) -> list[str]:
    block = page.split('id="stories-title"', 1)[1].split("</section>", 1)[0]
    return re.findall(r"<li>.*?</li>", block, re.S)


@pytest.mark.parametrize(
    ("lang", "direction", "words"),
    [
        ("en", "ltr", "Latest stories"),
        ("pt", "ltr", "Histórias recentes"),
        ("fr", "ltr", "Derniers récits"),
        ("ar", "rtl", "أحدث القصص"),
    ],
)
def test_home_page_speaks_the_readers_language(client, lang, direction, words):
    r = client.get("/", params={"lang": lang})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-language"] == lang
    assert f'<html lang="{lang}" dir="{direction}">' in r.text
    assert words in r.text
    # The language switcher names every language in itself.
    for code, name in (("en", "English"), ("pt", "Português"), ("ar", "العربية")):
        assert f'<option value="{code}" lang="{code}"' in r.text and name in r.text
    assert "<script" not in r.text  # no script needed, none sent


def test_accept_language_picks_portuguese(client):
    page = client.get("/", headers={"Accept-Language": "pt-PT, en;q=0.5"}).text
    assert 'lang="pt"' in page and "Adicionar um lugar" in page


def test_latest_stories_link_to_their_pages_in_their_own_language(client, stories):
    items = teasers(client.get("/").text)
    assert len(items) == 6  # bounded
    first, second, third = items[:3]  # newest first
    assert f'href="/places/{stories["script"]}"' in first
    assert f'href="/places/{stories["long"]}"' in second
    assert f'href="/places/{stories["arabic"]}"' in third
    assert '<p class="teaser-text" lang="ar" dir="auto">كنا نلتقي هنا كل مساء.</p>' in third
    # The resident's words, only cut short with an ellipsis, and the neighbourhood named.
    text = re.search(r'lang="pt" dir="auto">(.*?)</p>', second).group(1)
    assert text.endswith("…") and len(text) <= 161
    assert " ".join(LONG.split()).startswith(text[:-1])
    assert "Santa Maria Maior" in second
    for item in items:
        assert re.search(r'href="/places/[^"]+"', item)


def test_each_linked_story_has_its_public_page(client, stories):
    for url in re.findall(r'href="(/places/[^"]+)"', client.get("/").text):
        assert client.get(url).status_code == 200, url


def test_nothing_unpublished_hidden_or_without_a_story_is_listed(client, stories):
    page = client.get("/").text
    for kind in ("pending", "rejected", "withdrawn", "unconsented", "hidden", "silent"):
        assert stories[kind] not in page, kind
    for title in ("Pendente", "Rejeitado", "Retirado", "Sem consentimento", "Lugar escondido"):
        assert title not in page
    assert "Maria Private" not in page and "maria@example.org" not in page


def test_a_withdrawn_story_leaves_the_home_page_at_once(client, stories, lisbon_store):
    place = lisbon_store.get(stories["arabic"])
    assert stories["arabic"] in client.get("/").text
    place.status = Status.WITHDRAWN
    lisbon_store.update(place)
    assert stories["arabic"] not in client.get("/").text


def test_residents_text_is_escaped(client, stories):
    page = client.get("/").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert html.escape("<script>alert(1)</script>Beco", quote=False) in page
    assert "&lt;img src=x onerror=alert(2)&gt; história" in page


def test_small_map_links_every_neighbourhood_and_keeps_small_counts_vague(client, lisbon_store):
    page = client.get("/").text
    svg = re.search(r'<svg class="home-map".*?</svg>', page, re.S).group(0)
    hoods = lisbon_store.neighbourhoods()
    links = re.findall(r'<a href="/maps/neighbourhoods/(\d+)"', svg)
    assert sorted(map(int, links)) == sorted(n.id for n in hoods) and len(hoods) == 24
    assert svg.count('<path d="M') == 24
    assert "Published places in Santa Maria Maior: 118" in svg
    # A neighbourhood with one published place reads "fewer than k", never "1".
    target = next(n for n in hoods if n.name != "Santa Maria Maior")
    for place in lisbon_store.list():
        if place.neighbourhood_id == target.id:
            lisbon_store.delete(place.id)
    lisbon_store.add(make_place(title="Só um", neighbourhood_id=target.id))
    page = client.get("/").text
    assert f"Published places in {target.name}: fewer than 3" in page
    assert f"Published places in {target.name}: 1<" not in page
    assert "Fewer than 3" in page  # the key


def test_ways_in_for_every_user(client):
    page = client.get("/").text
    assert 'href="/maps/city"' in page and 'href="/contribute"' in page
    form = re.search(
        r'<form class="workshop-code" method="get" action="/contribute">.*?</form>', page, re.S
    )
    assert form and 'name="workshop"' in form.group(0)
    for url in ("/api/export/places.geojson", "/api/export/places.gpkg", "/api/export/places.csv"):
        assert f'href="{url}"' in page
    assert 'href="/ogc"' in page and '<code dir="ltr">http://127.0.0.1/ogc</code>' in page
    assert "QGIS" in page


def test_the_workshop_code_box_leads_to_the_contribution_form(client):
    r = client.get("/contribute", params={"workshop": "NOPE-123"})
    assert r.status_code < 500  # the code is checked (and rate limited) there


def test_city_map_stays_at_its_own_address(client):
    page = client.get("/maps/city").text
    assert "Places per neighbourhood" in page and "/maps/neighbourhoods/6" in page


def test_empty_atlas_invites_the_first_story(settings, store):
    with TestClient(create_app(settings, store=store), base_url="http://127.0.0.1") as client:
        r = client.get("/", params={"lang": "pt"})
    assert r.status_code == 200
    assert "Ainda não foi publicada nenhuma história" in r.text
    assert 'class="home-map"' not in r.text  # no neighbourhoods, no drawing
    assert 'href="/maps/city"' in r.text


def test_latest_with_story_is_newest_first_and_bounded(store):
    from geodata.privacy import public_filter
    from geodata.store.base import PlaceStore

    first = store.add(make_place(title="Primeiro"))
    store.add(make_place(title="Calado", narratives=[]))
    second = store.add(make_place(title="Segundo"))
    store.add(make_place(title="Pendente", status=Status.PENDING))
    flt = public_filter(None, "map")
    assert [p.id for p in store.latest_with_story(flt, limit=5)] == [second.id, first.id]
    assert [p.id for p in store.latest_with_story(flt, limit=1)] == [second.id]
    # The interface's plain default agrees with the backend's one query.
    default = PlaceStore.latest_with_story(store, flt, limit=5)
    assert [p.id for p in default] == [second.id, first.id]
