"""A public place's own page, ``/places/{id}``, through the real app: what it shows in
each interface language, the order of its stories and their credits, the location as
the public may see it, the Open Graph and JSON-LD descriptions, and one 404 for every
place that is not public."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from shapely.geometry import LineString

from geodata import moderation
from geodata.audit import Actor
from geodata.models import Consent, Narrative, Sensitivity, Status
from geodata.place_attachments import ProtocolLabel
from geodata.privacy import public_view
from geodata.vocabulary import Vocabulary
from tests.mapping.conftest import make_place
from web.app import create_app

PUBLIC_URL = "https://atlas.example.org/heritage"
MODERATOR = Actor("mod (facilitator)", "ac_test")
NAME, CONTACT, SHOWN = "Zelda Privatename", "zelda.private@example.org", "Tia Zé"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def submit(client: TestClient, store, **properties) -> tuple[str, str]:
    """A place sent the way residents send one, then published by a moderator."""
    body = {
        "title": "Chafariz d'El-Rei",
        "narratives": [
            {"text": "Aqui a água corria para todo o bairro.", "language": "pt"},
            {
                "text": "Here water ran for the whole neighbourhood.",
                "language": "en",
                "provenance": "community_translation",
            },
            {
                "text": "Ici l'eau coulait pour tout le quartier.",
                "language": "fr",
                "provenance": "machine_translation",
            },
        ],
        "category": "memory",
        "period": "século XVI",
        "year_from": 1500,
        "year_to": 1599,
        "tags": ["água", "fonte"],
        "licence": "CC-BY-SA-4.0",
        "consent": {"publish": True, "open_data": True},
        "contributor": {"name": NAME, "contact": CONTACT, "display_name": SHOWN},
        **properties,
    }
    r = client.post(
        "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1321, 38.7102]},
            "properties": body,
        },
    )
    assert r.status_code == 201, r.text
    place_id, token = r.json()["id"], r.json()["edit_token"]
    moderation.publish(store, place_id, MODERATOR)
    return place_id, token


@pytest.fixture
def told(client, lisbon_store) -> str:
    """A published place with three versions of its story, a photo and a label."""
    place_id, token = submit(client, lisbon_store)
    photo = client.post(
        f"/api/places/{place_id}/media",
        files={"file": ("fountain.jpg", _jpeg(), "image/jpeg")},
        data={"caption": "The fountain in 1962"},
        headers={"X-Edit-Token": token},
    )
    assert photo.status_code == 201, photo.text
    lisbon_store.set_protocol_labels(
        place_id, [ProtocolLabel("tk_a", "TK Attribution", "Name the street's elders.")]
    )
    return place_id


def json_ld(page: str) -> dict:
    found = re.findall(
        r'<script type="application/ld\+json" nonce="([^"]+)">(.*?)</script>', page, re.S
    )
    assert len(found) == 1, found
    return json.loads(found[0][1])


def meta(page: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for prop, content in re.findall(r'<meta property="([^"]+)" content="([^"]*)">', page):
        out.setdefault(prop, []).append(html.unescape(content))
    return out


def sections(page: str) -> list[str]:
    """The languages of the story sections, in page order."""
    return re.findall(r'<div class="story-text" lang="([^"]+)"', page)


def test_the_page_shows_the_place_its_stories_photos_and_licence(client, told):
    r = client.get(f"/places/{told}", headers={"Accept-Language": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-language"] == "en" and r.headers["cache-control"] == "no-cache"
    page = r.text
    assert '<html lang="en" dir="ltr">' in page
    assert "<h1><bdi>Chafariz d&#39;El-Rei</bdi></h1>" in page
    assert "Here water ran for the whole neighbourhood." in page
    # Each version credited: the original, the resident's community translation (with
    # the name they chose to show, and when), the machine translation.
    assert "Original version" in page
    assert re.search(r"Community translation by \u2068Tia Zé\u2069, \w+ \d+, \d{4}", page)
    assert re.search(r"Machine translation, \w+ \d+, \d{4}", page)
    # Photos: the thumbnail links to the photo, its caption is the alt text.
    media_id = re.search(r'href="/media/(md_[\w-]+)"', page).group(1)
    assert f'src="/media/{media_id}/thumbnail"' in page and 'alt="The fountain in 1962"' in page
    # Neighbourhood map, category, period, licence, consent scope, protocol labels.
    assert '<a href="/maps/neighbourhoods/6"><bdi>Santa Maria Maior</bdi></a>' in page
    assert "<dd>Memory or story</dd>" in page
    assert "século XVI (1500–1599)" in page
    assert (
        'href="https://creativecommons.org/licenses/by-sa/4.0/" rel="license">CC-BY-SA-4.0' in page
    )
    assert "Yes: it is in the open-data downloads." in page
    assert "TK Attribution" in page and "Name the street&#39;s elders." in page
    assert "Shared by" in page and "Tia Zé" in page
    # Never the private name or contact.
    assert NAME not in page and CONTACT not in page


def test_the_page_speaks_portuguese_and_puts_the_portuguese_story_first(client, told):
    page = client.get(f"/places/{told}", headers={"Accept-Language": "pt-PT,pt;q=0.9"}).text
    assert '<html lang="pt" dir="ltr">' in page
    assert sections(page) == ["pt", "en", "fr"]
    assert "Versão original" in page and "Tradução da comunidade por \u2068Tia Zé\u2069" in page
    assert "Tradução automática" in page and "Onde fica" in page
    assert '<a href="#story-en" hreflang="en">Inglês</a>' in page
    assert '<a href="#story-fr" hreflang="fr">Francês</a>' in page
    assert 'content="pt_PT"' in page


def test_the_page_is_right_to_left_in_arabic(client, told):
    page = client.get(f"/places/{told}?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in page
    # No Arabic version: the original comes first, then the others.
    assert sections(page) == ["pt", "en", "fr"]
    assert "النسخة الأصلية" in page and "ترجمة مجتمعية بقلم \u2068Tia Zé\u2069" in page
    assert "البرتغالية" in page  # Portuguese, named in Arabic
    assert "عن هذا المكان" in page


@pytest.mark.parametrize(
    ("query", "headers", "order"),
    [
        ("", {"Accept-Language": "en"}, ["en", "pt", "fr"]),
        ("", {"Accept-Language": "fr"}, ["fr", "pt", "en"]),
        ("?story=fr", {"Accept-Language": "en"}, ["fr", "pt", "en"]),
        ("?story=pt-BR", {"Accept-Language": "en"}, ["pt", "en", "fr"]),
        ("?story=%3Cx%3E", {"Accept-Language": "en"}, ["en", "pt", "fr"]),
    ],
)
def test_the_story_in_the_readers_language_comes_first(client, told, query, headers, order):
    r = client.get(f"/places/{told}{query}", headers=headers)
    assert r.status_code == 200
    assert sections(r.text) == order


def test_a_translation_a_moderator_added_names_nobody(client, lisbon_store, told):
    moderation.edit(
        lisbon_store,
        told,
        MODERATOR,
        Vocabulary(),
        narratives=[
            {"text": "Aqui a água corria para todo o bairro.", "language": "pt"},
            {
                "text": "Water for everyone.",
                "language": "en",
                "provenance": "community_translation",
            },
        ],
    )
    page = client.get(f"/places/{told}?lang=en").text
    assert "Water for everyone." in page
    assert re.search(r"Community translation, \w+ \d+, \d{4}", page)
    assert "Community translation by" not in page
    assert "mod (facilitator)" not in page


def test_a_story_taken_from_elsewhere_shows_its_source_and_licence(client, lisbon_store):
    title = "Monastery of the Hieronymites and Tower of Belém in Lisbon"
    (belem,) = [p for p in lisbon_store.list() if p.title == title]
    page = client.get(f"/places/{belem.id}?lang=fr").text
    assert sections(page) == ["fr", "en"]
    assert "Source : UNESCO World Heritage List" in page
    assert "Licence : CC BY-SA 3.0 IGO (© UNESCO World Heritage Centre)" in page
    works = json_ld(page)["subjectOf"]
    assert [w["inLanguage"] for w in works] == ["fr", "en"]
    assert works[0]["license"] == "CC BY-SA 3.0 IGO (© UNESCO World Heritage Centre)"
    assert "short_description_fr" in works[0]["isBasedOn"]["name"]
    assert all("author" not in w for w in works)  # imported: nobody's display name


def test_a_place_without_a_story_invites_one(client, lisbon_store):
    place = lisbon_store.add(make_place(narratives=[], title="Chafariz sem história"))
    page = client.get(f"/places/{place.id}?lang=pt").text
    memory_form = f"/places/{place.id}/add?kind=memory&amp;lang=pt"
    assert f'Conhece a história deste lugar? <a href="{memory_form}">Conte-a</a>' in page
    assert "og:description" not in page and "subjectOf" not in page


def test_a_generalised_place_is_shown_on_its_grid_cell_only(app, client, lisbon_store):
    exact = (-9.13512, 38.71346)
    place = lisbon_store.add(make_place(exact, sensitivity=Sensitivity.GENERALISED))
    shown = public_view(place, app.state.settings.privacy_grid_m).geometry
    assert (round(shown.x, 6), round(shown.y, 6)) != exact
    page = client.get(f"/places/{place.id}").text
    geo = json_ld(page)["geo"]
    assert (geo["longitude"], geo["latitude"]) == (round(shown.x, 6), round(shown.y, 6))
    drawn = json.loads(html.unescape(re.search(r'data-map="([^"]+)"', page).group(1)))
    assert drawn["geometry"]["coordinates"] == [round(shown.x, 6), round(shown.y, 6)]
    assert drawn["radius_m"] == 177  # covers the 250 m cell the place is somewhere in
    assert "Location shown approximately, to protect it." in page
    for number in ("9.13512", "38.71346", "9.1351", "38.7134"):
        assert number not in page


def test_a_hidden_place_has_no_coordinates_anywhere(client, lisbon_store):
    route = LineString([(-9.14513, 38.71517), (-9.14421, 38.71633)])
    place = lisbon_store.add(make_place(route, sensitivity=Sensitivity.HIDDEN, neighbourhood_id=6))
    page = client.get(f"/places/{place.id}").text
    assert "The location of this place is not shown, to protect it." in page
    assert "data-map" not in page and "leaflet" not in page.lower()
    data = json_ld(page)
    assert "geo" not in data and data["containedInPlace"]["name"] == "Santa Maria Maior"
    assert "coordinates" not in page and "latitude" not in page and "longitude" not in page
    for number in re.findall(r"-?\d+\.\d{3,}", page):
        assert not number.startswith(("-9.1", "38.7")), number


def test_open_graph_and_json_ld_use_the_public_address(settings, lisbon_store):
    app = create_app(settings.model_copy(update={"public_url": PUBLIC_URL}), store=lisbon_store)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        place_id, token = submit(client, lisbon_store)
        client.post(
            f"/api/places/{place_id}/media",
            files={"file": ("f.jpg", _jpeg(), "image/jpeg")},
            headers={"X-Edit-Token": token},
        )
        r = client.get(f"/places/{place_id}", headers={"Host": "127.0.0.1"})
    page, url = r.text, f"{PUBLIC_URL}/places/{place_id}"
    tags = meta(page)
    assert tags["og:url"] == [url] and tags["og:title"] == ["Chafariz d'El-Rei"]
    assert tags["og:type"] == ["website"] and tags["og:locale"] == ["en_GB"]
    assert tags["og:description"] == ["Here water ran for the whole neighbourhood."]
    assert re.fullmatch(rf"{PUBLIC_URL}/media/md_[\w-]+", tags["og:image"][0])
    assert tags["og:image:alt"] == ["Chafariz d'El-Rei"]  # no caption: the title
    assert f'<link rel="canonical" href="{url}">' in page
    data = json_ld(page)
    assert data["@type"] == "Place" and data["@id"] == url and data["name"] == "Chafariz d'El-Rei"
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": 38.7102, "longitude": -9.1321}
    assert data["containedInPlace"] == {
        "@type": "Place",
        "name": "Santa Maria Maior",
        "url": f"{PUBLIC_URL}/maps/neighbourhoods/6",
    }
    assert data["image"] == tags["og:image"]
    works = {w["inLanguage"]: w for w in data["subjectOf"]}
    assert works["pt"]["license"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert works["pt"]["author"] == {"@type": "Person", "name": SHOWN}
    assert works["en"]["author"] == {"@type": "Person", "name": SHOWN}
    assert works["en"]["translationOfWork"] == {"@id": f"{url}#story-pt"}
    assert "author" not in works["fr"]  # a machine translated it
    assert NAME not in page and CONTACT not in page
    # The JSON-LD script carries this response's nonce.
    nonce = re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"]).group(1)
    assert f'<script type="application/ld+json" nonce="{nonce}">' in page


def test_a_hostile_title_cannot_break_out_of_the_json_ld(client, lisbon_store):
    title = '</script><script>window.__pwned=1</script><!-- "quoted" & {{7*7}}'
    story = "</SCRIPT><img src=x onerror=alert(1)> \u2028"
    place = lisbon_store.add(make_place(title=title, narratives=[Narrative(story, "en")]))
    page = client.get(f"/places/{place.id}").text
    # Six script elements: the JSON-LD, Leaflet, the background's two, Leaflet's words in
    # the reader's language and the page's own; nothing else.
    assert len(re.findall(r"<script\b", page, re.I)) == 6
    assert "<img src=x" not in page and "window.__pwned=1</script>" not in page
    data = json_ld(page)
    assert data["name"] == title and data["subjectOf"][0]["text"] == story
    assert meta(page)["og:title"] == [title]
    assert "{{7*7}}" in page  # shown as written, never evaluated


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Status.PENDING},
        {"status": Status.REJECTED},
        {"status": Status.WITHDRAWN},
        {"consent": Consent(publish=False, open_data=False)},
    ],
)
def test_every_place_that_is_not_public_gets_the_same_404(client, lisbon_store, fields):
    place = lisbon_store.add(make_place(**fields))
    missing = client.get("/places/pl_doesnotexist")
    hidden = client.get(f"/places/{place.id}")
    assert missing.status_code == hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("text/html")
    assert hidden.content == missing.content
    assert "There is no such place." in hidden.text and place.title not in hidden.text


@pytest.mark.parametrize(
    "path",
    [
        "/places/%00",
        "/places/pl_x%00y",
        "/places/" + "a" * 300,
        "/places/pl_'%3B--",
        "/places/%E2%80%AEpl_x",
        "/places/%20",
        "/places/pl_x.y~z",
    ],
)
def test_malformed_ids_get_the_same_404(client, path):
    missing = client.get("/places/pl_doesnotexist")
    r = client.get(path)
    assert r.status_code == 404 and r.content == missing.content


def test_the_404_speaks_the_readers_language(client):
    r = client.get("/places/pl_nothing", headers={"Accept-Language": "ar"})
    assert r.status_code == 404 and '<html lang="ar" dir="rtl">' in r.text
    assert "لا يوجد مكان عام بهذا العنوان" in r.text


def test_the_page_loads_only_our_own_scripts(client, told):
    r = client.get(f"/places/{told}")
    nonce = re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"]).group(1)
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert f'nonce="{nonce}"' in tag or 'src="/static/' in tag, tag
    assert not re.search(
        r'<(?:script|img|link)[^>]*\s(?:src|href)="(?:https?:)?//',
        r.text.replace('<link rel="canonical" href="http://127.0.0.1/', ""),
    )


def test_map_popups_link_to_the_place_page(client, lisbon_store):
    page = client.get("/maps/neighbourhoods/6", headers={"Accept-Language": "pt"}).text
    start = page.index("{", page.index("AtlasMap.start("))
    config, _ = json.JSONDecoder().raw_decode(page, start)
    assert config["placePageUrl"] == "/places/{id}"
    assert config["text"]["place_page"] == "Abrir a página deste lugar"
    place = lisbon_store.add(make_place())
    assert client.get(f"/api/map/places/{place.id}").json()["id"] == place.id
    assert client.get(config["placePageUrl"].replace("{id}", place.id)).status_code == 200


def test_withdrawing_a_place_takes_its_page_down_at_once(client, lisbon_store):
    place_id, token = submit(client, lisbon_store)
    assert client.get(f"/places/{place_id}").status_code == 200
    assert (
        client.delete(f"/api/places/{place_id}", headers={"X-Edit-Token": token}).status_code == 204
    )
    assert client.get(f"/places/{place_id}").status_code == 404


def test_a_route_is_drawn_as_itself_and_an_open_data_refusal_is_said(client, lisbon_store):
    route = LineString([(-9.1350, 38.7110), (-9.1340, 38.7115)])
    place = lisbon_store.add(
        make_place(route, consent=Consent(publish=True, open_data=False), licence="CC0-1.0")
    )
    page = client.get(f"/places/{place.id}").text
    drawn = json.loads(html.unescape(re.search(r'data-map="([^"]+)"', page).group(1)))
    assert drawn["geometry"] == {
        "type": "LineString",
        "coordinates": [[-9.135, 38.711], [-9.134, 38.7115]],
    }
    assert drawn["radius_m"] is None
    assert "No: it is shown on the map only." in page
    assert 'href="https://creativecommons.org/publicdomain/zero/1.0/"' in page
