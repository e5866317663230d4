"""The form without JavaScript: a plain POST, CSRF-checked, errors next to their fields,
the edit link after success; the edit page; the language picker and catalogs."""

from __future__ import annotations

import html
import io
import re

import pytest
from PIL import Image

from geodata.models import Status
from geodata.store.base import PlaceStore
from tests.web.photo_helpers import all_photo_slots_taken
from web.i18n import TEMPLATES, translations
from web.language_choice import LANGUAGES, negotiate, parse_accept_language


@pytest.fixture
def db(lisbon_store: PlaceStore) -> PlaceStore:
    return lisbon_store


def hidden(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


def field_error(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="error-{name}" >([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else ""


def form_data(page: str, **overrides) -> dict:
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "submission_id": hidden(page, "submission_id")
        if overrides.get("submission_id", "") is not None
        else None,
        "title": "Padaria <b>Portuguesa</b>",
        "narrative": "O pão da minha infância.",
        "narrative_language": "pt",
        "category": "food",
        "latitude": "38.7101",
        "longitude": "-9.1402",
        "consent_publish": "yes",
        "licence": "CC-BY-4.0",
        "sensitivity": "public",
        "display_name": "Zé",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_page_has_labels_for_every_field(client):
    page = client.get("/contribute").text
    for name in (
        "title",
        "narrative",
        "narrative_language",
        "category",
        "latitude",
        "longitude",
        "consent_publish",
        "photo",
        "period",
        "year_from",
        "tags",
    ):
        assert f'for="field-{name}"' in page or name == "consent_publish"
        assert f'id="field-{name}"' in page
    assert "cdn" not in page.lower() and "unpkg" not in page
    assert '<html lang="en" dir="ltr">' in page


def test_a_plain_post_stores_the_place_and_shows_the_edit_link(client, db):
    page = client.get("/contribute").text
    before = db.count()
    response = client.post("/contribute", data=form_data(page))
    assert response.status_code == 201
    link = html.unescape(
        re.search(r'id="edit-link" readonly value="([^"]+)"', response.text).group(1)
    )
    place_id = re.search(r"/contribute/edit/(pl_[\w-]+)", link).group(1)
    assert db.count() == before + 1
    place = db.get(place_id)
    assert place.title == "Padaria <b>Portuguesa</b>" and place.display_name == "Zé"
    assert "Padaria <b>" not in response.text  # nothing typed is ever markup
    # The same form sent twice (a double tap) stores one place.
    again = client.post("/contribute", data=form_data(page))
    assert again.status_code == 201 and db.count() == before + 1
    assert place_id in again.text


def test_errors_are_shown_next_to_their_fields_and_nothing_is_stored(client, db):
    page = client.get("/contribute").text
    before = db.count()
    response = client.post(
        "/contribute",
        data=form_data(page, title="", latitude="north", consent_publish=None, category="castle"),
    )
    assert response.status_code == 422
    assert "title is empty" in field_error(response.text, "title")
    assert "numbers" in field_error(response.text, "location")
    assert "tick the box" in field_error(response.text, "consent_publish").lower()
    assert "castle" in field_error(response.text, "category")
    assert 'aria-invalid="true"' in response.text and 'id="error-summary"' in response.text
    assert hidden(response.text, "submission_id") == hidden(page, "submission_id")
    assert 'value="north"' in response.text  # what was typed stays in the form
    assert db.count() == before


def test_a_point_outside_the_area_is_explained_next_to_the_map(client, db):
    page = client.get("/contribute").text
    response = client.post(
        "/contribute", data=form_data(page, latitude="48.8566", longitude="2.3522")
    )
    assert response.status_code == 422
    assert "outside the project area" in field_error(response.text, "location")


def test_a_drawn_route_is_accepted_from_the_geometry_field(client, db):
    page = client.get("/contribute").text
    route = '{"type":"LineString","coordinates":[[-9.14,38.71],[-9.135,38.712]]}'
    response = client.post(
        "/contribute", data=form_data(page, geometry=route, latitude="", longitude="")
    )
    assert response.status_code == 201
    place_id = re.search(r"/contribute/edit/(pl_[\w-]+)", response.text).group(1)
    assert db.get(place_id).geometry.geom_type == "LineString"


def test_a_forged_or_missing_csrf_token_is_refused(client, db):
    page = client.get("/contribute").text
    before = db.count()
    forged = client.post("/contribute", data=form_data(page, csrf_token="forged.token"))
    assert forged.status_code == 403 and "expired" in field_error(forged.text, "form")
    client.cookies.clear()
    no_cookie = client.post("/contribute", data=form_data(page))
    assert no_cookie.status_code == 403
    assert db.count() == before


def test_the_form_can_carry_a_photo_and_a_bad_one_stores_nothing(client, db):
    page = client.get("/contribute").text
    before = db.count()
    bad = client.post(
        "/contribute",
        data=form_data(page),
        files={"photo": ("me.jpg", b"not a photo", "image/jpeg")},
    )
    assert bad.status_code == 422 and "JPEG" in field_error(bad.text, "photo")
    assert db.count() == before
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "purple").save(out, "JPEG")
    page = client.get("/contribute").text
    good = client.post(
        "/contribute",
        data=form_data(page, caption="The bakery"),
        files={"photo": ("me.jpg", out.getvalue(), "image/jpeg")},
    )
    assert good.status_code == 201
    place_id = re.search(r"/contribute/edit/(pl_[\w-]+)", good.text).group(1)
    assert [m.caption for m in db.media(place_id)] == ["The bakery"]


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "purple").save(out, "JPEG")
    return out.getvalue()


def test_a_photo_is_not_decoded_while_the_form_has_another_error(app, client, db):
    page = client.get("/contribute").text
    before = db.count()
    # Every decoding slot taken: a photo that reached decoding would get a 503, and a
    # file that is no photo at all would be named as such - neither happens.
    with all_photo_slots_taken(app):
        for photo in (b"not a photo", _jpeg()):
            response = client.post(
                "/contribute",
                data=form_data(page, title=""),
                files={"photo": ("me.jpg", photo, "image/jpeg")},
            )
            assert response.status_code == 422
            assert "title is empty" in field_error(response.text, "title")
            assert field_error(response.text, "photo") == ""
    assert db.count() == before


def test_a_photo_is_not_decoded_for_a_client_over_its_rate_limit(settings, db):
    from fastapi.testclient import TestClient

    from web.app import create_app

    app = create_app(settings.model_copy(update={"submission_rate_limit": 1}), store=db)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        page = c.get("/contribute").text
        assert c.post("/contribute", data=form_data(page)).status_code == 201
        before = db.count()
        page = c.get("/contribute").text
        with all_photo_slots_taken(app):
            response = c.post(
                "/contribute",
                data=form_data(page, title="Another place"),
                files={"photo": ("me.jpg", _jpeg(), "image/jpeg")},
            )
        assert response.status_code == 429 and "too many submissions" in response.text
        assert db.count() == before


def test_a_busy_worker_asks_for_the_photo_again_and_keeps_the_form(app, client, db):
    page = client.get("/contribute").text
    before = db.count()
    with all_photo_slots_taken(app):
        busy = client.post(
            "/contribute",
            data=form_data(page, title="Padaria do Largo"),
            files={"photo": ("me.jpg", _jpeg(), "image/jpeg")},
        )
    assert busy.status_code == 503 and busy.headers["retry-after"] == "3"
    assert "again in a few seconds" in field_error(busy.text, "photo")
    assert 'value="Padaria do Largo"' in busy.text  # what was typed stays in the form
    assert db.count() == before
    page = busy.text
    sent = client.post(
        "/contribute",
        data=form_data(page, title="Padaria do Largo"),
        files={"photo": ("me.jpg", _jpeg(), "image/jpeg")},
    )
    assert sent.status_code == 201
    place_id = re.search(r"/contribute/edit/(pl_[\w-]+)", sent.text).group(1)
    assert len(db.media(place_id)) == 1
    # The edit page says the same, in the reader's language.
    token = re.search(r"/contribute/edit/pl_[\w-]+\?token=([\w-]+)", html.unescape(sent.text))
    edit = client.get(f"/contribute/edit/{place_id}", params={"token": token.group(1)})
    with all_photo_slots_taken(app):
        busy = client.post(
            f"/contribute/edit/{place_id}",
            data={
                "csrf_token": hidden(edit.text, "csrf_token"),
                "token": token.group(1),
                "action": "photo",
            },
            files={"photo": ("me.jpg", _jpeg(), "image/jpeg")},
            headers={"Accept-Language": "pt"},
        )
    assert busy.status_code == 503 and busy.headers["retry-after"] == "3"
    assert "alguns segundos" in field_error(busy.text, "photo")
    assert len(db.media(place_id)) == 1


def test_workshop_link_attaches_the_place(client, db):
    from datetime import timedelta

    from geodata.models import Moderation, Workshop, utcnow

    db.add_workshop(
        Workshop(
            code="FADO24",
            title="Fado memories",
            starts_at=utcnow() - timedelta(hours=1),
            ends_at=utcnow() + timedelta(hours=2),
            moderation=Moderation.POST,
        )
    )
    page = client.get("/contribute?workshop=fado24").text
    assert "Fado memories" in page and hidden(page, "workshop") == "FADO24"
    response = client.post("/contribute", data=form_data(page, workshop="FADO24"))
    place_id = re.search(r"/contribute/edit/(pl_[\w-]+)", response.text).group(1)
    assert db.get(place_id).workshop == "FADO24"
    assert db.get(place_id).status == Status.PUBLISHED
    wrong = client.get("/contribute?workshop=NOPE99").text
    assert "not open for contributions right now" in wrong and "NOPE99" not in wrong


def _new_place(client) -> tuple[str, str]:
    page = client.get("/contribute").text
    response = client.post("/contribute", data=form_data(page))
    link = html.unescape(
        re.search(r'id="edit-link" readonly value="([^"]+)"', response.text).group(1)
    )
    place_id, token = re.search(r"/contribute/edit/(pl_[\w-]+)\?token=([\w-]+)", link).groups()
    return place_id, token


def test_the_edit_page_corrects_and_withdraws(client, db):
    place_id, token = _new_place(client)
    page = client.get(f"/contribute/edit/{place_id}", params={"token": token})
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    assert "Padaria &lt;b&gt;Portuguesa" in page.text
    data = form_data(
        page.text, title="Padaria Portuguesa", token=token, action="save", submission_id=None
    )
    saved = client.post(f"/contribute/edit/{place_id}", data=data, follow_redirects=False)
    assert saved.status_code == 303
    assert db.get(place_id).title == "Padaria Portuguesa"
    wrong = client.get(f"/contribute/edit/{place_id}", params={"token": "guess-guess"})
    assert wrong.status_code == 403 and "not valid" in wrong.text
    page = client.get(f"/contribute/edit/{place_id}", params={"token": token}).text
    unconfirmed = client.post(
        f"/contribute/edit/{place_id}",
        data={"csrf_token": hidden(page, "csrf_token"), "token": token, "action": "withdraw"},
    )
    assert unconfirmed.status_code == 422 and db.get(place_id).status != Status.WITHDRAWN
    done = client.post(
        f"/contribute/edit/{place_id}",
        data={
            "csrf_token": hidden(page, "csrf_token"),
            "token": token,
            "action": "withdraw",
            "confirm_withdraw": "yes",
        },
        follow_redirects=True,
    )
    assert done.status_code == 200 and db.get(place_id).status == Status.WITHDRAWN
    assert db.get(place_id).display_name is None


def test_the_arabic_interface_is_right_to_left_and_translated(client):
    page = client.get("/contribute?lang=ar")
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "أرسل مكاني" in page.text
    assert page.cookies.get("lang") == "ar" or client.cookies.get("lang") == "ar"
    again = client.get("/contribute")  # the choice is remembered
    assert 'dir="rtl"' in again.text


@pytest.mark.parametrize(
    ("lang", "words"),
    [("pt", "Enviar o meu lugar"), ("fr", "Envoyer mon lieu"), ("en", "Send my place")],
)
def test_accept_language_picks_the_interface(client, lang, words):
    page = client.get("/contribute", headers={"Accept-Language": f"{lang};q=0.9, de;q=0.8"})
    assert words in page.text and f'lang="{lang}"' in page.text


def test_accept_language_parsing():
    assert parse_accept_language("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5") == ["fr-CH", "fr", "en"]
    assert negotiate("de, pt-BR;q=0.7, fr;q=0.8") == "fr"
    assert negotiate("de", chosen="ar") == "ar"
    assert negotiate("xx;q=1, en;q=0") == "en"


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_every_problem_sentence_the_api_may_send_is_translated(lang):
    """Catalog completeness as a whole is tests/web/test_catalogs.py's; this is the part
    the API's problem details depend on."""
    gettext = translations(lang).gettext
    assert sorted(t for t in set(TEMPLATES.values()) if gettext(t) == t) == []
