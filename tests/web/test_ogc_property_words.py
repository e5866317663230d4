"""The words of the OGC schema documents: none in geodata; every title and description of
``/queryables`` and ``/schema`` a catalog entry; the HTML pages say them in the reader's
language, while the JSON carries them in English, as every OGC JSON document here does."""

from __future__ import annotations

import dataclasses

import pytest
from babel.messages.pofile import read_po
from markupsafe import escape

from geodata.io.walks import WALK_FIELDS
from geodata.queryables import QUERYABLES, Queryable
from web.i18n import translations
from web.language_choice import LANGUAGES, LOCALE_DIR
from web.routes.ogc_common import reader_words
from web.routes.ogc_property_words import QUERYABLE_WORDS, WALK_WORDS

DOCUMENTS = [
    "/ogc/collections/places/queryables",
    "/ogc/collections/places/schema",
    "/ogc/collections/neighbourhoods/schema",
    "/ogc/collections/walks/schema",
]


def catalog_ids() -> set[str]:
    with (LOCALE_DIR / "messages.pot").open("rb") as fh:
        return {m.id for m in read_po(fh) if isinstance(m.id, str)}


def test_geodata_names_the_queryables_and_the_web_layer_says_what_they_are():
    assert {f.name for f in dataclasses.fields(Queryable)} == {
        "name", "kind", "nullable", "sortable",
    }  # fmt: skip
    assert set(QUERYABLE_WORDS) == set(QUERYABLES)
    assert set(WALK_WORDS) == {"id", "geometry", *WALK_FIELDS}


def words(doc: dict) -> list[str]:
    """The document's description and each property's title and description."""
    texts = [doc.get("description")] + [
        text for p in doc["properties"].values() for text in (p.get("title"), p.get("description"))
    ]
    return [t for t in texts if t]


def own_words(doc: dict) -> list[str]:
    return [t for t in words(doc) if not t.startswith("Places: ")]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_title_and_description_is_in_the_catalogs(client, path):
    ids = catalog_ids()
    for text in words(client.get(path).json()):
        # "Places: <category>": the category's label is the vocabulary's own.
        head = text.split(": ")[0] if text.startswith("Places: ") else text
        assert head in ids, f"{path}: {head!r} is not in the catalogs"


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_html_page_describes_each_property_in_the_readers_language(client, path):
    english = client.get(path).json()
    for language in [code for code in LANGUAGES if code != "en"]:
        # The JSON's words stay English whatever the reader's language (the labels of
        # categories, in closed lists and in "Places: <category>", follow it).
        there = client.get(path, headers={"Accept-Language": language}).json()
        assert own_words(there) == own_words(english)
        page = client.get(path + "?f=html", headers={"Accept-Language": language})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        say = reader_words(translations(language).gettext)
        for name, p in there["properties"].items():
            text = p.get("description") or p["title"]
            assert str(escape(say(text))) in page.text, (language, name)
    # A description the catalogs translate differently from English is not left English.
    pt = client.get(path + "?f=html", headers={"Accept-Language": "pt"}).text
    if path.endswith("/queryables"):
        assert "O identificador estável do lugar." in pt
        assert str(escape("The place's stable identifier.")) not in pt
    if path.endswith("/walks/schema"):
        assert "O número de cada paragem e o título do seu lugar, por ordem." in pt
