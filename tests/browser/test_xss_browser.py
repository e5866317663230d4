"""Stored XSS, tried on every page in a real browser.

Places whose every text field is a script-injection payload (script tags, event
handlers, ``javascript:`` URLs, attributes broken out of, SVG, template syntax) are
stored, published and pending, in a workshop whose title is one too, with a photo
caption and a contributor's name made of them. Then every page that shows them is
loaded, the way its users open it: the city, neighbourhood and live workshop maps with
their popups and search, the moderation queue and review page signed in, the workshop
dashboard and print page, the contribution form and a resident's edit page, the OGC API
HTML pages. Each payload would set ``window.__pwned``; it must stay undefined, no dialog
may open, no request may leave 127.0.0.1, and the console must stay free of errors, so
the service's Content-Security-Policy blocks nothing of the page's own (and nothing got
injected for it to block). Each page's own script must have run.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import httpx
import pytest
from PIL import Image

from geodata.accounts import create_account
from geodata.models import Consent, Moderation, Narrative, Status, Workshop, utcnow
from tests.mapping.conftest import make_place
from tests.mapping.xss_payloads import MARK, PAYLOADS, TEMPLATE_MARKERS

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password for the xss test"
CODE = "XSSALL"
# Attribute and URL breakers beyond the shared corpus, for form fields and links.
EXTRA = [
    f"' autofocus onfocus='{MARK}' x='",
    f'" autofocus onfocus="{MARK}" x="',
    f"javascript:/*--></title></style></textarea></script><svg/onload={MARK}>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={MARK}>",
    f"<input onfocus={MARK} autofocus>",
    "{{constructor.constructor('window.__pwned=1')()}}",
]
ALL = PAYLOADS + EXTRA


@pytest.fixture
def hostile(lisbon_store, live_server) -> dict:
    """The payloads stored everywhere a person can type, and what is needed to see them."""
    now = utcnow()
    lisbon_store.add_workshop(
        Workshop(
            code=CODE,
            title=ALL[0] + " " + ALL[2],
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            neighbourhood_id=6,
            moderation=Moderation.POST,
        )
    )
    published, pending = [], []
    for i, text in enumerate(ALL):
        common = dict(
            title=text[:200],
            narratives=[Narrative(text, "en"), Narrative(f"{text} (pt)", "pt")],
            tags=[text[:40]],
            period=text[:100],
            attribution=text[:100],
            contributor_name=text[:100],
            contributor_contact=f"x{i}@example.org",
            display_name=text[:60],
            neighbourhood_id=6,
            workshop=CODE,
            consent=Consent(publish=True, open_data=True),
        )
        published.append(lisbon_store.add(make_place((-9.1350 + i * 0.0002, 38.7110), **common)))
        pending.append(
            lisbon_store.add(
                make_place((-9.1350 + i * 0.0002, 38.7125), status=Status.PENDING, **common)
            )
        )
    # A resident's own place through the API (escaping on the way in and on the way out),
    # with a photo whose caption is a payload.
    receipt = httpx.post(
        live_server.url + "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1341, 38.7119]},
            "properties": {
                "title": ALL[1],
                "narratives": [{"text": ALL[3], "language": "en"}],
                "category": "memory",
                "tags": [ALL[5][:40]],
                "period": ALL[7][:100],
                "contributor": {"name": ALL[4][:100], "display_name": ALL[6][:60]},
                "consent": {"publish": True, "open_data": True},
                "workshop": CODE,
            },
        },
    )
    assert receipt.status_code == 201, receipt.text
    own = receipt.json()
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 100, 50)).save(jpeg, "JPEG")
    photo = httpx.post(
        live_server.url + f"/api/places/{own['id']}/media",
        files={"file": ("p.jpg", jpeg.getvalue(), "image/jpeg")},
        data={"caption": ALL[2]},
        headers={"X-Edit-Token": own["edit_token"]},
    )
    assert photo.status_code == 201, photo.text
    create_account(lisbon_store, "xss-facilitator", "facilitator", password=PASSWORD)
    return {"published": published, "pending": pending, "own": own}


def assert_clean(page, where: str) -> None:
    page.wait_for_timeout(200)  # a payload's onerror/onload would have fired by now
    assert page.evaluate("window.__pwned") is None, f"a payload ran on {where}"
    assert page.evaluate("parent.__pwned") is None
    assert page.problems == [], (where, page.problems)
    assert page.blocked_requests == [], (where, page.blocked_requests)
    text = page.locator("body").inner_text()
    for marker in TEMPLATE_MARKERS:
        assert marker not in text, f"template syntax was evaluated on {where}"


def open_every_popup(page, places) -> None:
    for place in places:
        page.evaluate(
            f"""() => {{ const k = atlas.index.get('{place.id}');
                if (k) {{ k.layer.openTooltip(); k.layer.fire('click'); }} }}"""
        )
        page.wait_for_timeout(30)


@pytest.mark.parametrize(
    "path", ["/maps/city", "/maps/neighbourhoods/6", f"/workshops/{CODE}/live"]
)
def test_no_payload_runs_on_the_maps(live_server, watched, hostile, path: str):
    watched.goto(live_server.url + path)
    watched.wait_for_selector("html[data-atlas-ready]", state="attached", timeout=15_000)
    # Zoomed in on the payloads so that each one is drawn as a place, not in a cluster.
    watched.evaluate("() => { atlas.map.setView([38.7117, -9.1330], 18, {animate: false}); }")
    watched.wait_for_timeout(500)
    open_every_popup(watched, hostile["published"])
    if path != f"/workshops/{CODE}/live":
        watched.locator(".atlas-search input").fill("script")
        watched.locator(".atlas-search-results li").first.wait_for()
    assert_clean(watched, path)


def sign_in(page, base: str) -> None:
    page.goto(base + "/login?next=/moderation")
    page.fill("#name", "xss-facilitator")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")  # not the language picker's
    page.wait_for_url(re.compile(r".*/moderation.*"))


def test_no_payload_runs_on_the_staff_pages(live_server, watched, hostile):
    base = live_server.url
    sign_in(watched, base)
    pending = hostile["pending"]
    pages = [
        ("/moderation?status=pending", ".minimap[data-ready]"),
        (f"/moderation?status=published&workshop={CODE}", ".minimap[data-ready]"),
        (f"/moderation/places/{pending[2].id}", ".minimap[data-ready]"),
        (f"/moderation/places/{hostile['own']['id']}", ".minimap[data-ready]"),
        ("/workshops", None),
        (f"/workshops/{CODE}", None),
        (f"/workshops/{CODE}/print", None),
        ("/stats", None),
    ]
    for path, ready in pages:
        watched.goto(base + path)
        if ready:  # the page's own script drew its maps under the policy
            watched.wait_for_selector(ready, state="attached", timeout=10_000)
        assert "xss-facilitator" in watched.content() or path.endswith("/print")
        assert_clean(watched, path)


def test_no_payload_runs_on_the_residents_pages(live_server, watched, hostile):
    base, own = live_server.url, hostile["own"]
    for path in (
        f"/contribute?workshop={CODE}",
        f"/contribute/edit/{own['id']}?token={own['edit_token']}",
        "/contribute?lang=ar",
    ):
        watched.goto(base + path)
        assert watched.evaluate("document.documentElement.classList.contains('js')"), path
        watched.wait_for_selector("#map.leaflet-container", timeout=10_000)
        assert_clean(watched, path)
    # The edit page's own fields hold the payloads as values, not as markup.
    watched.goto(base + f"/contribute/edit/{own['id']}?token={own['edit_token']}")
    assert watched.input_value("#field-title") == ALL[1]


def test_no_payload_runs_on_the_home_page(live_server, watched, hostile):
    """The latest stories are the payloads (the newest published places): shown as text."""
    base = live_server.url
    for lang in ("en", "pt", "ar"):
        path = f"/?lang={lang}"
        watched.goto(base + path)
        assert watched.locator(".teasers li").count() == 6
        assert_clean(watched, path)
    # The resident's own place (the newest) is listed first, its title as text.
    first = watched.locator(".teasers li a").first
    assert first.get_attribute("href") == f"/places/{hostile['own']['id']}"
    assert first.inner_text() == ALL[1].strip()


def test_no_payload_runs_on_the_ogc_api_pages(live_server, watched, hostile):
    base = live_server.url
    place = hostile["published"][3]
    for path in (
        "/ogc?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/places?f=html",
        "/ogc/collections/places/items?f=html&limit=100&bbox=-9.14,38.70,-9.12,38.72",
        f"/ogc/collections/places/items/{place.id}?f=html",
    ):
        watched.goto(base + path)
        assert watched.locator("h1").count() >= 1
        assert_clean(watched, path)
    # The payload is on the page, as text.
    assert place.title in watched.locator("body").inner_text()


def test_no_payload_runs_on_the_place_pages(live_server, watched, hostile, lisbon_store):
    from geodata.place_attachments import ProtocolLabel

    base = live_server.url
    published = hostile["published"]
    lisbon_store.set_protocol_labels(
        published[0].id, [ProtocolLabel("tk_a", "TK Attribution", ALL[3], None)]
    )
    own = httpx.get(base + f"/places/{hostile['own']['id']}")
    assert own.status_code == 200  # published at once: the workshop moderates afterwards
    pages = [(p.id, p.title) for p in published] + [(hostile["own"]["id"], ALL[1])]
    for i, (place_id, title) in enumerate(pages):
        path = f"/places/{place_id}?lang={('en', 'pt', 'ar')[i % 3]}&story=pt"
        watched.goto(base + path)
        # The page's own script drew its map under the policy, and its JSON-LD reads back.
        watched.wait_for_selector("#place-map[data-ready]", state="attached", timeout=10_000)
        described = watched.evaluate(
            "JSON.parse(document.querySelector('script[type=\"application/ld+json\"]')"
            ".textContent).name"
        )
        assert described == title, path
        assert_clean(watched, path)
    # The photo caption is the photo's alt text, as text.
    assert watched.locator(".photos img").get_attribute("alt") == ALL[2]
