"""Map pages and their JSON endpoints, through the real app."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from geodata.models import Narrative, Sensitivity, Status, Workshop, utcnow
from geodata.privacy import generalise
from tests.mapping.conftest import make_place

LISBON = "-9.25,38.68,-9.08,38.80"


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


@pytest.mark.parametrize("path", ["/maps/city", "/maps/neighbourhoods/6"])
def test_map_pages_render_with_local_assets_and_a_strict_policy(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy and "unsafe-eval" not in policy
    # Every inline script carries the nonce; every other script is one of our files.
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert f'nonce="{nonce}"' in tag or 'src="/static/' in tag, tag
    assert not re.search(r'(?:src|href)="(?:https?:)?//', r.text)


def test_city_map_shades_and_links_the_neighbourhoods(client):
    page = client.get("/maps/city").text
    assert "Places per neighbourhood" in page
    assert "/maps/neighbourhoods/6" in page  # each neighbourhood links to its map
    assert "Santa Maria Maior" in page


def test_neighbourhood_page_names_it_and_counts_its_places(client):
    page = client.get("/maps/neighbourhoods/6").text
    assert "<title>Santa Maria Maior — 118 places</title>" in page


def test_unknown_neighbourhood_and_workshop_are_404(client):
    assert problem(client.get("/maps/neighbourhoods/999"), 404)["code"] == "not_found"
    problem(client.get("/maps/neighbourhoods/abc"), 422)
    problem(client.get("/workshops/NOPE/live"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/vendor/leaflet/images/layers.png",
        "/static/vendor/leaflet-markercluster/leaflet.markercluster.js",
        "/static/vendor/jquery/jquery.min.js",
        "/static/vendor/font-awesome/css/solid.min.css",
        "/static/vendor/font-awesome/webfonts/fa-solid-900.woff2",
        "/static/atlas/atlas-map.js",
        "/static/atlas/atlas-map.css",
        "/static/atlas/favicon.svg",
    ],
)
def test_vendor_files_are_served_by_the_service(client, path):
    r = client.get(path)
    assert r.status_code == 200 and len(r.content) > 100
    assert "max-age" in r.headers["cache-control"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/leaflet/../../../etc/passwd",
        "/static/vendor/leaflet/%2e%2e/%2e%2e/etc/passwd",
        "/static/vendor/nothing/x.js",
        "/static/atlas/nope.js",
    ],
)
def test_nothing_outside_the_asset_folders_is_served(client, path):
    assert client.get(path).status_code == 404


def test_places_in_view_are_geojson_for_the_client(client):
    r = client.get(f"/api/map/places?bbox={LISBON}&zoom=13")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["mode"] == "places"
    assert len(body["features"]) == 557
    feature = body["features"][0]
    assert set(feature["properties"]) == {"title", "category", "generalised", "version"}


def test_a_crowded_view_gets_clusters(app, client):
    app.state.settings = app.state.settings.model_copy(update={"map_max_features": 50})
    body = client.get(f"/api/map/places?bbox={LISBON}&zoom=11").json()
    assert body["mode"] == "clusters"
    assert sum(f["properties"]["count"] or 0 for f in body["features"]) <= 557
    assert all(f["properties"]["cluster"] for f in body["features"])


def test_places_can_be_narrowed_to_categories_and_a_neighbourhood(client):
    museums = client.get(f"/api/map/places?bbox={LISBON}&categories=museum").json()
    assert {f["properties"]["category"] for f in museums["features"]} == {"museum"}
    none = client.get(f"/api/map/places?bbox={LISBON}&categories=").json()
    assert none["features"] == []
    parish = client.get(f"/api/map/places?bbox={LISBON}&neighbourhood=6").json()
    assert len(parish["features"]) == 118


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=10,10,0,0",
        "bbox=-200,0,0,10",
        "bbox=0,-95,1,1",
        "bbox=nan,0,1,1",
        "bbox=" + LISBON + "&zoom=40",
        "bbox=" + LISBON + "&zoom=x",
        "bbox=" + LISBON + "&categories=museum,dragons",
        "",
    ],
)
def test_bad_view_requests_get_a_clear_4xx(client, query):
    body = problem(client.get(f"/api/map/places?{query}"), 422)
    assert body["detail"]


def test_unknown_scope_is_404(client):
    problem(client.get(f"/api/map/places?bbox={LISBON}&neighbourhood=999"), 404)
    problem(client.get(f"/api/map/places?bbox={LISBON}&workshop=NOPE"), 404)


def test_popup_of_a_public_place_in_the_viewers_language(client, lisbon_store):
    place = lisbon_store.add(make_place(workshop=None))
    body = client.get(f"/api/map/places/{place.id}?lang=en").json()
    assert body["title"] == "Casa do Fado"
    assert body["narrative"]["language_name"] == "Portuguese"
    assert "Maria" not in str(body) and "example.org" not in str(body)


@pytest.mark.parametrize(
    "fields",
    [{"status": Status.PENDING}, {"status": Status.REJECTED}, {"status": Status.WITHDRAWN}],
)
def test_popup_of_a_place_that_is_not_public_is_404(client, lisbon_store, fields):
    place = lisbon_store.add(make_place(**fields))
    problem(client.get(f"/api/map/places/{place.id}"), 404)


def test_popup_shows_protocol_labels_and_the_chosen_display_name(client, lisbon_store):
    from geodata.place_attachments import ProtocolLabel

    place = lisbon_store.add(make_place(workshop=None, display_name="Tia Rosa"))
    label = ProtocolLabel("tk_a", "TK Attribution", "Cite the Mouraria elders.")
    lisbon_store.set_protocol_labels(place.id, [label])
    body = client.get(f"/api/map/places/{place.id}").json()
    assert body["protocol_labels"] == [
        {"id": "tk_a", "name": "TK Attribution", "text": "Cite the Mouraria elders.", "url": None}
    ]
    assert body["display_name"] == "Tia Rosa"


BELEM = "Monastery of the Hieronymites and Tower of Belém in Lisbon"


def test_popup_of_a_demo_story_shows_it_with_its_source_and_licence(client, lisbon_store):
    (belem,) = [p for p in lisbon_store.list() if p.title == BELEM]
    body = client.get(f"/api/map/places/{belem.id}?lang=fr").json()
    assert body["narrative"]["language"] == "fr"
    assert body["narrative"]["text"].startswith("À l'entrée du port de Lisbonne")
    assert body["narrative"]["licence"] == "CC BY-SA 3.0 IGO (© UNESCO World Heritage Centre)"
    assert "short_description_fr" in body["narrative"]["source"]
    assert (body["licence"], body["attribution"]) == (
        "CC-BY-SA-3.0-IGO",
        "© UNESCO World Heritage Centre",
    )
    assert client.get(f"/api/map/places/{belem.id}?lang=en").json()["narrative"]["language"] == "en"


@pytest.mark.parametrize(
    ("language", "invitation", "credit"),
    [
        ("en", "Do you know this place's story?", "Story: {licence}"),
        ("pt", "Conhece a história deste lugar?", "História: {licence}"),
        ("fr", "Connaissez-vous l'histoire de ce lieu ?", "Récit : {licence}"),
        ("ar", "هل تعرف حكاية هذا المكان؟", "الحكاية: {licence}"),
    ],
)
def test_map_pages_invite_a_story_in_the_viewers_language(client, language, invitation, credit):
    import json

    page = client.get("/maps/neighbourhoods/6", headers={"Accept-Language": language}).text
    start = page.index("{", page.index("AtlasMap.start("))
    config, _ = json.JSONDecoder().raw_decode(page, start)
    assert config["text"]["no_story"] == invitation and config["text"]["story_licence"] == credit
    assert config["contributeUrl"] == "/contribute"


def test_popup_of_a_generalised_place_says_so(client, lisbon_store):
    place = lisbon_store.add(make_place(sensitivity=Sensitivity.GENERALISED))
    assert client.get(f"/api/map/places/{place.id}").json()["location_generalised"] is True


def test_search_finds_neighbourhoods_and_places(client):
    body = client.get("/api/map/search?q=santa maria").json()
    assert [n["name"] for n in body["neighbourhoods"]] == ["Santa Maria Maior"]
    assert client.get("/api/map/search?q=museu").json()["places"]
    scoped = client.get("/api/map/search?q=museu&neighbourhood=6").json()
    assert scoped["neighbourhoods"] == []
    problem(client.get("/api/map/search"), 422)


def test_search_ignores_accents_and_case_and_puts_title_starts_first(client):
    body = client.get("/api/map/search", params={"q": "CASTELO DE SAO JORGE"}).json()
    found = [p["title"] for p in body["places"]]
    assert found[:2] == [
        "Castelo de São Jorge",  # the title itself (a place of the demo's stories)
        "Castelo de São Jorge e restos das Cercas de Lisboa",  # starts with it
    ]
    assert set(found[2:]) == {"Núcleo Museológico do Castelo de São Jorge"}
    jorge = client.get("/api/map/search", params={"q": "sao jorge"}).json()["places"]
    assert len(jorge) == len(found)
    ajuda = client.get("/api/map/search", params={"q": "ajuda"}).json()["places"]
    titled = [p for p in ajuda if "Ajuda" in p["title"]]
    assert titled and ajuda[: len(titled)] == titled  # titles first, then stories naming it
    hoods = client.get("/api/map/search", params={"q": "SAO vicente"}).json()["neighbourhoods"]
    assert [n["name"] for n in hoods] == ["São Vicente"]


def test_search_finds_places_in_every_script_and_in_their_stories(client, lisbon_store):
    chinese = lisbon_store.add(make_place(title="圣乔治城堡", narratives=[]))
    arabic = lisbon_store.add(make_place(title="مَسْجِد لشبونة المركزي", narratives=[]))
    ukrainian = lisbon_store.add(make_place(title="Українська церква", narratives=[]))
    story = lisbon_store.add(
        make_place(title="Tasca", narratives=[Narrative("Cantava-se o fado às sextas.", "pt")])
    )
    for query, place in (("城堡", chinese), ("مسجد", arabic), ("українська", ukrainian),
                         ("ЦЕРКВА", ukrainian), ("cantava", story)):  # fmt: skip
        body = client.get("/api/map/search", params={"q": query}).json()
        assert [p["id"] for p in body["places"]] == [place.id], query


def test_search_shows_no_hidden_place_and_no_true_point_of_a_generalised_one(client, lisbon_store):
    true_point = (-9.13649, 38.71049)
    coarse = lisbon_store.add(
        make_place(true_point, title="Zzcoarse memory", sensitivity=Sensitivity.GENERALISED)
    )
    lisbon_store.add(make_place(title="Zzhidden memory", sensitivity=Sensitivity.HIDDEN))
    lisbon_store.add(
        make_place(
            title="Quiet corner",
            narratives=[Narrative("Zzhidden story", "en")],
            sensitivity=Sensitivity.HIDDEN,
        )
    )
    lisbon_store.add(make_place(title="Zzpending memory", status=Status.PENDING))
    found = client.get("/api/map/search", params={"q": "zzcoarse"}).json()["places"]
    assert [p["id"] for p in found] == [coarse.id]
    shown = generalise(coarse.geometry)
    assert (found[0]["lon"], found[0]["lat"]) == (round(shown.x, 6), round(shown.y, 6))
    assert (found[0]["lon"], found[0]["lat"]) != true_point
    for query in ("zzhidden", "zzpending", "memory"):
        body = client.get("/api/map/search", params={"q": query}).json()
        assert [p["id"] for p in body["places"]] == ([coarse.id] if query == "memory" else [])


@pytest.mark.parametrize(
    "q", ['"', "NEAR(", "*", "a*", "'; DROP TABLE places; --", "%_\\", "\x00", "(((", "^x",
          "title:x", "😀😀", "x" * 200]
)  # fmt: skip
def test_search_answers_any_query_without_error(client, q):
    r = client.get("/api/map/search", params={"q": q})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"query", "neighbourhoods", "places"}


def test_search_refuses_an_overlong_query_with_a_problem(client):
    problem(client.get("/api/map/search", params={"q": "x" * 201}), 422)


@pytest.fixture
def workshop(lisbon_store) -> Workshop:
    now = utcnow()
    return lisbon_store.add_workshop(
        Workshop(
            code="ALF1",
            title="Alfama <b>memories</b>",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=2),
            neighbourhood_id=6,
        )
    )


def test_workshop_projection_page(client, workshop):
    r = client.get("/workshops/alf1/live")
    assert r.status_code == 200
    assert "Alfama &lt;b&gt;memories&lt;/b&gt;" in r.text
    assert "http://127.0.0.1/contribute?workshop=ALF1" in r.text
    assert "<svg" in r.text  # the QR code, drawn inline


def test_workshop_join_link_uses_the_public_url(app, client, workshop):
    app.state.settings = app.state.settings.model_copy(
        update={"public_url": "https://atlas.example.org/"}
    )
    assert (
        "https://atlas.example.org/contribute?workshop=ALF1"
        in client.get("/workshops/ALF1/live").text
    )


def test_workshop_updates_since_a_cursor(client, lisbon_store, workshop):
    first = client.get("/api/map/workshops/ALF1/updates").json()
    assert first["features"] == [] and first["count"] == 0
    lisbon_store.add(make_place(title="Fado house", workshop="ALF1"))
    r = client.get("/api/map/workshops/ALF1/updates", params={"since": first["cursor"]})
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert [f["properties"]["title"] for f in body["features"]] == ["Fado house"]
    assert body["count_label"] == "1 place"
    assert body["latest"][0]["title"] == "Fado house"
    problem(client.get("/api/map/workshops/ALF1/updates?since=yesterday"), 422)
    problem(client.get("/api/map/workshops/NOPE/updates"), 404)
