"""Rate-limit refusals in the reader's language: beside the plain forms (a place, a memory,
a walk, signing in), in the API's problem details (wherever the refusal is raised) and on
the error page a browser gets; the English sentence of the domain stays for English."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from geodata.store.base import PlaceStore
from tests.mapping.conftest import make_place
from tests.web.test_abuse_limits import feature
from tests.web.test_contribute_form import form_data
from web.app import create_app
from web.i18n import TEMPLATES, translations

HTML = {"Accept": "text/html"}


def said(language: str, code: str) -> str:
    """The catalog's sentence for a refusal code, as a page prints it."""
    sentence = translations(language).gettext(TEMPLATES[code])
    assert sentence != TEMPLATES[code], f"{code} is not translated into {language}"
    return str(escape(sentence))


@pytest.fixture
def limited(settings, lisbon_store: PlaceStore):
    """A client of an app that takes one submission per client and one wrong code."""
    changes = {"submission_rate_limit": 1, "join_code_rate_limit": 1}
    app = create_app(settings.model_copy(update=changes), store=lisbon_store)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_place_form_says_too_many_in_the_readers_language(limited, lisbon_store):
    page = limited.get("/contribute?lang=pt").text
    assert limited.post("/contribute?lang=pt", data=form_data(page)).status_code == 201
    before = lisbon_store.count()
    page = limited.get("/contribute?lang=pt").text
    refused = limited.post("/contribute?lang=pt", data=form_data(page, title="Outro lugar"))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert said("pt", "rate_limited") in refused.text
    assert "too many submissions" not in refused.text
    assert lisbon_store.count() == before


def test_the_api_refusal_is_a_problem_in_the_readers_language(limited):
    assert limited.post("/api/places", json=feature()).status_code == 201
    refused = limited.post("/api/places", json=feature("Outra"), headers={"Accept-Language": "uk"})
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["content-language"] == "uk"
    problem = refused.json()
    assert problem["code"] == "rate_limited"
    assert problem["detail"] == translations("uk").gettext(TEMPLATES["rate_limited"])
    english = limited.post("/api/places", json=feature("Outra"))
    assert "too many submissions" in english.json()["detail"]  # the domain's own, with numbers


def test_the_memory_form_says_too_many_in_the_readers_language(limited, lisbon_store):
    place = lisbon_store.add(make_place(title="Chafariz d'El-Rei"))
    assert limited.post("/api/places", json=feature()).status_code == 201  # the budget spent
    form = limited.get(f"/places/{place.id}/add?kind=memory&lang=ar").text
    refused = limited.post(
        f"/places/{place.id}/add?lang=ar",
        data={"csrf_token": csrf(form), "kind": "memory", "language": "ar", "consent": "yes",
              "text": "تعلّمت السباحة في النافورة."},
    )  # fmt: skip
    assert refused.status_code == 429
    assert said("ar", "rate_limited") in refused.text
    assert lisbon_store.count_narrative_additions() == 0


def test_the_walk_form_says_too_many_in_the_readers_language(limited, lisbon_store):
    assert limited.post("/api/places", json=feature()).status_code == 201  # the budget spent
    place_id = next(iter(lisbon_store.walks("published"))).stops[0].place_id
    form = limited.get("/walks/new?lang=es").text
    refused = limited.post("/walks/new?lang=es", data={
        "csrf_token": csrf(form), "title": "Mi camino", "introduction": "Un lugar.",
        "language": "es", "stop_0_place": place_id, "stop_0_text": "Aquí.", "consent": "yes",
    })  # fmt: skip
    assert refused.status_code == 429
    assert re.search(r'id="form-error">' + re.escape(said("es", "rate_limited")), refused.text)


def test_a_refusal_raised_outside_the_forms_is_translated_too(limited):
    # One wrong workshop code is the whole budget: the next lookup is refused wherever.
    assert limited.get("/api/map/search?q=fado&workshop=NOPE01").status_code == 404
    api = limited.get(
        "/api/map/search?q=fado&workshop=NOPE02", headers={"Accept-Language": "zh-Hans"}
    )
    assert api.status_code == 429 and int(api.headers["retry-after"]) > 0
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["detail"] == translations("zh-Hans").gettext(TEMPLATES["too_many_codes"])
    page = limited.get("/workshops/NOPE03/live", headers={**HTML, "Accept-Language": "ne"})
    assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
    assert said("ne", "too_many_codes") in page.text


def test_signing_in_too_often_is_refused_in_the_readers_language(client, monkeypatch):
    from web.routes import accounts

    monkeypatch.setattr(accounts, "LOGIN_ATTEMPTS", 1)
    for _ in range(2):
        form = client.get("/login?lang=bn").text
        answer = client.post(
            "/login?lang=bn",
            data={"name": "nobody", "password": "wrong password", "csrf_token": csrf(form)},
        )
    assert answer.status_code == 429
    assert said("bn", "too_many_sign_ins") in answer.text
