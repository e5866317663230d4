"""Every page a browser reaches, in every shipped interface language: no English
interface text is left on it.

The English sentences looked for are the catalog's own msgids (those the language
translates to something else), so a string added to a page and to the catalogs is
covered at once, and a new catalog in ``web.language_choice.LANGUAGES`` is tested without
touching this file. Residents' words are kept out of the check: the fixture's places
and neighbourhoods have Portuguese names, and what the pages mark as someone's text
(``<bdi>``, an element in another language) is skipped.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from shapely.geometry import Point, box

from geodata import walk_lifecycle
from geodata.audit import Actor
from geodata.geometry_rules import GeometryRules
from geodata.models import Consent, Moderation, Narrative, Place, Status, Workshop, utcnow
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from geodata.walk_checks import WalkSubmission, prepare_walk
from tests.kit_helpers import venue_change
from tests.web.staff_helpers import PASSWORD, make_staff
from web.i18n import translations
from web.language_choice import LANGUAGES, LOCALE_DIR

pytestmark = pytest.mark.browser

ERROR_PAGES = (
    "/no/such/page",
    "/maps/neighbourhoods/not-a-number",
    "/places/no-such-place",
    "/walks/no-such-walk",
)
MIN_LETTERS = 4
# Names, the same in every language.
PROPER_NOUNS = (
    "OGC API – Features",
    "OGC API – Tiles",
    "OpenAPI",
    "GeoJSON",
    "Local Contexts",
)  # shorter English words ("Id", "any") also occur in other languages
WORKSHOP = "FADO42"

# Text a page's reader sees, hears (labels, alternatives, placeholders) or reads in its
# title; minus code, residents' words (<bdi>, another language's element) and
# anything not shown.
VISIBLE_TEXT = """() => {
  const page = document.documentElement.lang;
  const skipped = (el) => el.closest("code, pre, bdi, script, style, noscript, svg") ||
    (el.closest("[lang]") && el.closest("[lang]").getAttribute("lang") !== page) ||
    (el.closest("[hidden]") !== null);
  const shown = (el) => el.getClientRects().length > 0;
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (el && !skipped(el) && shown(el)) out.push(walker.currentNode.textContent);
  }
  for (const el of document.body.querySelectorAll("[aria-label], [placeholder], [alt], [title]")) {
    if (skipped(el)) continue;
    for (const name of ["aria-label", "placeholder", "alt", "title"]) {
      if (el.hasAttribute(name)) out.push(el.getAttribute(name));
    }
  }
  // The map client's own words (popups, search, status lines), even before they show.
  if (window.atlas && window.atlas.text) out.push(...Object.values(window.atlas.text));
  return out.join("\\n");
}"""


def english_fragments(language: str) -> frozenset[str]:
    """The catalog's English texts that ``language`` translates to something else, cut at
    their placeholders, each piece with at least ``MIN_LETTERS`` letters; a piece the
    language's own translations also use ("Licence" in French) is a word of it too."""
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    catalog = translations(language)
    pieces: set[str] = set()
    own_words: list[str] = []
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            pairs = [(singular, catalog.ngettext(singular, plural, 1))]
            pairs.append((plural, catalog.ngettext(singular, plural, 5)))
        else:
            pairs = [(message.id, catalog.gettext(message.id))]
        for english, translated in pairs:
            own_words.append(translated)
            if translated == english:
                continue  # the same in both (a name, "Collections" in French)
            for piece in re.split(r"\{\w*\}", english):
                piece = piece.strip(" :;,.()–—“”«»")
                if sum(ch.isalpha() for ch in piece) >= MIN_LETTERS:
                    pieces.add(piece)
    own_words += [category.label(language) for category in Vocabulary()]
    own = "\n".join(own_words)
    # A piece not even inside the text cannot be a word of it: most regexes are skipped.
    return frozenset(p for p in pieces if p not in own or not re.search(_word(p), own))


def _word(piece: str) -> str:
    return r"(?<![\w-])" + re.escape(piece) + r"(?![\w-])"


def readable(text: str) -> str:
    """The text without what is not interface language: placeholders left for the map
    client to fill, addresses and paths, and the names of standards and products."""
    text = re.sub(r"\{\w*\}", " ", text)
    text = re.sub(r"(?:https?://|/)[\w.~:/?#@!$&'()*+,;=%-]*", " ", text)
    for name in PROPER_NOUNS:
        text = text.replace(name, " ")
    return text


def english_left(text: str, pieces: frozenset[str]) -> list[str]:
    text = readable(text)
    # Only a piece inside the text is looked for as a word: a regex for each of the ~900
    # pieces cost 0.14 s a page (more patterns than re caches, compiled again each time).
    return sorted(p for p in pieces if p in text and re.search(_word(p), text))


@pytest.fixture
def atlas(sqlite_store: PlaceStore) -> dict[str, str]:
    """Two neighbourhoods, a published place and a workshop, all named in Portuguese."""
    store = sqlite_store
    alfama, mouraria = store.replace_neighbourhoods(
        [
            ("Alfama", box(-9.1345, 38.7090, -9.1260, 38.7150), "AL"),
            ("Mouraria", box(-9.1390, 38.7150, -9.1320, 38.7190), "MO"),
        ]
    )
    place = store.add(
        Place(
            geometry=Point(-9.1300, 38.7120),
            title="Chafariz d'El-Rei",
            narratives=[Narrative("A água que toda a vizinhança bebia.", "pt")],
            category="tradition",
            status=Status.PUBLISHED,
            consent=Consent(publish=True, open_data=True),
            neighbourhood_id=alfama.id,
            workshop=WORKSHOP,
            period="século XVIII",
        )
    )
    now = utcnow()
    store.add_workshop(
        Workshop(
            WORKSHOP,
            "Memórias da Alfama",
            now - timedelta(hours=1),
            now + timedelta(hours=2),
            neighbourhood_id=alfama.id,
            moderation=Moderation.PRE,
        )
    )
    venue_change(store, place.id)
    walk = prepare_walk(
        store,
        WalkSubmission.model_validate(
            {
                "titles": [{"text": "Pela Alfama", "language": "pt"}],
                "introductions": [{"text": "Da fonte ao miradouro.", "language": "pt"}],
                "stops": [
                    {"place_id": place.id,
                     "chapters": [{"text": "A água de todos.", "language": "pt"}]}
                ],
                "consent": {"publish": True, "open_data": True},
                "contributor": {"name": "Dona Lurdes", "contact": "lurdes@exemplo.pt"},
            }
        ),
        GeometryRules(),
    )  # fmt: skip
    walk_lifecycle.save_walk(store, walk)
    walk_lifecycle.publish(store, walk.id, Actor("test", None))
    return {
        "place": place.id,
        "alfama": str(alfama.id),
        "mouraria": str(mouraria.id),
        "walk": walk.id,
    }


@pytest.fixture
def app(settings, sqlite_store, atlas):
    from web.app import create_app

    return create_app(settings, store=sqlite_store)


def send_place(base: str) -> tuple[str, str]:
    """A resident's place, sent as the form's script sends it: (id, edit token)."""
    r = httpx.post(
        base + "/api/places",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.1350, 38.7170]},
            "properties": {
                "title": "Tasca da Esquina",
                "narratives": [{"text": "Aqui cantava-se o fado às sextas.", "language": "pt"}],
                "category": "tradition",
                "consent": {"publish": True, "open_data": True},
                "contributor": {"name": "Dona Lurdes", "contact": "lurdes@exemplo.pt"},
                "workshop": WORKSHOP,
            },
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["edit_token"]


def send_walks(base: str, store: PlaceStore, place_id: str) -> dict[str, str]:
    """Two walks through the atlas's place, in Portuguese: one left pending (its private
    link, for the proposer's page), one published."""
    from geodata import walk_lifecycle
    from geodata.audit import Actor

    def propose(title: str) -> dict:
        r = httpx.post(base + "/api/walks", json={
            "titles": [{"text": title, "language": "pt"}],
            "introductions": [{"text": "Onde a vizinhança ia buscar água.", "language": "pt"}],
            "stops": [{"place_id": place_id,
                       "chapters": [{"text": "A água que todos bebiam.", "language": "pt"}]}],
            "consent": {"publish": True, "open_data": True},
            "contributor": {"contact": "lurdes@exemplo.pt"},
        })  # fmt: skip
        assert r.status_code == 201, r.text
        return r.json()

    pending, published = propose("Caminho da água"), propose("Caminho do chafariz")
    walk_lifecycle.publish(store, published["id"], Actor("ana (facilitator)"))
    return {
        "pending": pending["id"],
        "private": pending["edit_url"].removeprefix(base),
        "published": published["id"],
    }


def check(page, url: str, language: str, pieces: frozenset[str], problems: list[str]) -> None:
    before = len(page.problems)
    page.goto(url, wait_until="load")
    if url.endswith(ERROR_PAGES):  # answered with its 4xx status on purpose
        del page.problems[before:]
    if page.evaluate("() => window.AtlasMap !== undefined"):  # a map page: its client
        page.wait_for_function("() => window.atlas !== undefined")
    elif page.locator("article.walk").count():  # a walk's story map and its list of stops
        page.wait_for_selector(".walk[data-ready]", state="attached")
    html = page.locator("html")
    expected_dir = "rtl" if language == "ar" else "ltr"
    if html.get_attribute("lang") != language or html.get_attribute("dir") != expected_dir:
        problems.append(f"{language} {url}: <html lang={html.get_attribute('lang')} "
                        f"dir={html.get_attribute('dir')}>")  # fmt: skip
    if page.locator("select[name=lang]").count() != 1:
        problems.append(f"{language} {url}: no language picker")
    left = english_left(page.evaluate(VISIBLE_TEXT), pieces)
    if left:
        problems.append(f"{language} {url}: {left}")


# One test per language: each takes some seconds, and the workers share them out.
@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_no_english_interface_text_on_any_page_in_any_language(
    language, watched, live_server, atlas, sqlite_store
):
    page, base = watched, live_server.url
    place_id, token = send_place(base)
    walks = send_walks(base, sqlite_store, atlas["place"])
    send_place(base)  # the same again: the moderators see it flagged as a possible duplicate
    public = [
        "/",
        "/maps/city",
        f"/maps/neighbourhoods/{atlas['alfama']}",
        f"/maps/neighbourhoods/{atlas['mouraria']}",  # no places yet
        f"/places/{atlas['place']}",
        "/places/no-such-place",
        "/contribute",
        f"/contribute?workshop={WORKSHOP}",
        f"/contribute/edit/{place_id}?token={token}",
        f"/workshops/{WORKSHOP}/live",
        "/walks",
        f"/walks/{atlas['walk']}",
        f"/walks/{atlas['walk']}/print",
        "/ogc",
        "/ogc/conformance?f=html",
        "/ogc/api?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/places?f=html",
        "/ogc/collections/places/queryables?f=html",
        "/ogc/collections/places/schema?f=html",
        "/ogc/collections/neighbourhoods/schema?f=html",
        "/ogc/collections/walks/schema?f=html",
        "/ogc/collections/places/items?f=html",
        f"/ogc/collections/places/items/{atlas['place']}?f=html",
        "/ogc/collections/neighbourhoods/items?f=html",
        "/no/such/page",
        "/maps/neighbourhoods/not-a-number",
        "/login",
        "/walks",
        f"/walks/{walks['published']}",
        f"/walks/{walks['published']}/print",
        "/walks/new",
        walks["private"],
        "/walks/no-such-walk",
    ]
    staff_pages = [
        "/workshops",
        f"/workshops/{WORKSHOP}",
        f"/workshops/{WORKSHOP}/print",
        "/moderation",
        f"/moderation/places/{place_id}",
        "/moderation/walks",
        f"/moderation/walks/{walks['pending']}",
        "/moderation/conflicts",
        "/stats",
        "/admin",
    ]
    problems: list[str] = []
    pieces = english_fragments(language)
    page.goto(f"{base}/?lang={language}")  # remembered in the cookie from here on
    for path in public:
        check(page, base + path, language, pieces, problems)
    page.goto(f"{base}/login?lang=en")
    page.fill("#name", "test-admin")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base}/workshops")
    page.goto(f"{base}/stats?lang={language}")
    for path in staff_pages:
        check(page, base + path, language, pieces, problems)
    assert not problems, "\n".join(problems)
    assert not page.problems, "\n".join(page.problems)


@pytest.fixture(autouse=True)
def _staff(sqlite_store: PlaceStore, atlas) -> None:
    make_staff(sqlite_store)  # test-facilitator, test-planner, test-admin
