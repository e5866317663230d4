"""Proposing a walk with the plain form, /walks/new."""

from __future__ import annotations

import re

from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_form_proposes_a_pending_walk_and_shows_the_private_key(client, lisbon_store):
    ids = [p.id for p in lisbon_store.list(public_filter(PlaceFilter(), "map"), limit=2)]
    before = lisbon_store.count_walks("pending")
    form = client.get("/walks/new?lang=pt")
    assert form.status_code == 200 and "Propor um percurso" in form.text
    sent = client.post("/walks/new?lang=pt", data={
        "csrf_token": csrf(form.text), "title": "O meu caminho", "introduction": "Dois lugares.",
        "language": "pt", "stop_0_place": f"http://127.0.0.1/places/{ids[0]}?story=pt",
        "stop_0_text": "Aqui.", "stop_1_place": ids[1], "stop_1_text": "E aqui.",
        "consent": "yes",
    })  # fmt: skip
    assert sent.status_code == 201, sent.text
    assert lisbon_store.count_walks("pending") == before + 1
    walk = lisbon_store.walks("pending", limit=1)[0]
    assert [s.place_id for s in walk.stops] == ids and walk.titles[0].language == "pt"
    assert f'value="http://127.0.0.1/walks/{walk.id}/edit?token=' in sent.text  # the private link
    assert not walk.consent.open_data  # the open-data box was left unticked


def test_each_problem_is_shown_beside_its_field_and_nothing_is_stored(client, lisbon_store):
    before = lisbon_store.count_walks()
    form = client.get("/walks/new?lang=en")
    sent = client.post("/walks/new?lang=en", data={
        "csrf_token": csrf(form.text), "title": "Mine", "introduction": "Two.",
        "stop_0_place": "pl_does_not_exist", "stop_0_text": "Here.",
    })  # fmt: skip
    assert sent.status_code == 422
    assert re.search(r'id="stop_0_place-error">[^<]*not a public place', sent.text)
    assert 'id="consent-error"' in sent.text
    assert lisbon_store.count_walks() == before
    no_token = client.post("/walks/new", data={"title": "x"})
    assert no_token.status_code == 403 and lisbon_store.count_walks() == before
