"""The interface catalogs: the nine shipped languages complete (no untranslated, fuzzy or
placeholder-mismatched message), messages.pot as fresh as a new extraction, no interface
text in templates or map markup outside the catalogs, language negotiation by script
(``zh-CN`` gets simplified Chinese, ``zh-TW`` does not), and ``heritage-atlas languages``."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from typer.testing import CliRunner

import web.catalog_check as catalog_check
from tests.web.interface_text import python_markup_text, template_text
from web.catalog_check import CatalogError, check_catalog, check_catalogs, start_catalog
from web.cli import app as cli
from web.i18n import CATALOG_TEMPLATE, direction, translations
from web.language_choice import LANGUAGES, LOCALE_DIR, babel_locale, negotiate

ROOT = LOCALE_DIR.parent.parent
TEMPLATES_DIR = ROOT / "web" / "templates"
SHIPPED = {
    "en": "English",
    "pt": "Português",
    "fr": "Français",
    "ar": "العربية",
    "es": "Español",
    "uk": "Українська",
    "zh-Hans": "简体中文",
    "ne": "नेपाली",
    "bn": "বাংলা",
}
# As Babel writes them from CLDR: Spanish has a third form there ("un millón de
# lugares", n % 1000000 == 0), which gettext's older two-form rule for it lacks.
PLURAL_FORMS = {"es": 3, "uk": 3, "zh-Hans": 1, "ne": 2, "bn": 2}


def test_the_nine_languages_are_shipped_each_named_in_itself():
    assert LANGUAGES == SHIPPED


@pytest.mark.parametrize("report", check_catalogs(), ids=lambda r: r.tag)
def test_each_shipped_catalog_is_complete(report):
    """No message missing, untranslated, fuzzy or with other placeholders than its msgid."""
    assert report.problems() == []
    assert report.translated == report.total > 200


@pytest.mark.parametrize("tag", sorted(PLURAL_FORMS))
def test_new_catalogs_carry_their_languages_plural_rules(tag):
    with (LOCALE_DIR / tag.replace("-", "_") / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=babel_locale(tag))
    assert catalog.num_plurals == PLURAL_FORMS[tag]


def _extracted_msgids() -> set[str]:
    """What ``pybabel extract -F web/locale/babel.cfg -k N_`` finds today."""
    with (LOCALE_DIR / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    catalog = Catalog()
    for _filename, _lineno, message, comments, context in found:
        catalog.add(message, None, [], auto_comments=comments, context=context)
    written = io.BytesIO()  # through a .pot file, as pybabel would write it
    write_po(written, catalog, omit_header=True)
    written.seek(0)
    return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(written) if m.id}


def test_messages_pot_holds_exactly_what_extraction_finds():
    with CATALOG_TEMPLATE.open("rb") as fh:
        in_pot = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    extracted = _extracted_msgids()
    assert sorted(extracted - in_pot) == [], "run pybabel extract (see web/locale/babel.cfg)"
    assert sorted(in_pot - extracted) == [], "messages.pot holds strings no code uses"


def _markup_sources() -> list[Path]:
    return sorted(TEMPLATES_DIR.glob("*.html")) + sorted((ROOT / "mapping").glob("*.py"))


@pytest.mark.parametrize("source", _markup_sources(), ids=lambda path: path.name)
def test_no_interface_text_outside_the_catalogs(source: Path):
    found = template_text(source) if source.suffix == ".html" else python_markup_text(source)
    assert [str(f) for f in found] == []


# --- the checks themselves catch what they are for ------------------------------------


def test_the_template_check_finds_bare_text_and_wording_attributes(tmp_path: Path):
    page = tmp_path / "page.html"
    page.write_text(
        '<h1>{{ _("Welcome") }}</h1>{% trans %}Hello {{ name }}{% endtrans %}\n'
        '<p>© 2026 · <a href="https://example.org/">https://example.org/</a> · GeoJSON</p>\n'
        "<p>Opening hours: {{ hours }}</p>\n"
        '<img src="x.png" alt="A tram">{% if x %}<b>{{ x }}</b>{% else %}Nothing{% endif %}\n'
        "<script>const label = 'not judged: code';</script>\n",
        encoding="utf-8",
    )
    assert [f.text for f in template_text(page)] == ["Opening hours:", "A tram", "Nothing"]


def test_the_map_markup_check_reads_html_written_by_python(tmp_path: Path):
    module = tmp_path / "legend.py"
    module.write_text(
        '"""A <b>docstring</b> is not markup."""\n'
        "import re\n"
        "PATTERN = re.compile(r'<(?P<tag>\\w+)>')\n"
        "def legend(title, n):\n"
        "    return f'<h2>{title}</h2><p>{n} places</p><span aria-label=\"Close\">×</span>'\n",
        encoding="utf-8",
    )
    assert [f.text for f in python_markup_text(module)] == ["places", "Close"]


def _catalog(entries: list[tuple[str, str, bool]]) -> tuple[Catalog, Catalog]:
    template, catalog = Catalog(), Catalog(locale="pt")
    for msgid, msgstr, fuzzy in entries:
        template.add(msgid)
        catalog.add(msgid, msgstr, flags=["fuzzy"] if fuzzy else [])
    return template, catalog


def test_the_catalog_check_flags_each_kind_of_incomplete_message():
    template, catalog = _catalog(
        [
            ("Save", "Guardar", False),
            ("Untranslated", "", False),
            ("Fuzzy", "Difuso", True),
            ("{n} places", "{count} lugares", False),
            ("Broken {n}", "Partido {n", False),
            ("%(name)s wrote", "escreveu", False),
        ]
    )
    template.add("Missing")
    report = check_catalog("pt", template, catalog)
    assert (report.translated, report.total) == (1, 7)
    assert report.missing == ("Missing",)
    assert report.untranslated == ("Untranslated",)
    assert report.fuzzy == ("Fuzzy",)
    assert report.placeholder_mismatches == ("{n} places", "Broken {n}", "%(name)s wrote")
    assert not report.complete and len(report.problems()) == 6


def test_the_source_language_needs_its_messages_but_no_translations():
    template, catalog = _catalog([("Save", "", False)])
    template.add("Missing")
    report = check_catalog("en", template, catalog)
    assert report.missing == ("Missing",) and report.untranslated == ()


# --- a community adds a language ----------------------------------------------------------


def _locale_copy(tmp_path: Path) -> Path:
    locale_dir = tmp_path / "locale"
    locale_dir.mkdir()
    (locale_dir / "messages.pot").write_bytes(CATALOG_TEMPLATE.read_bytes())
    return locale_dir


def test_starting_a_catalog_makes_one_from_messages_pot_with_cldr_plural_rules(tmp_path):
    locale_dir = _locale_copy(tmp_path)
    path = start_catalog("ro", locale_dir)
    assert path == locale_dir / "ro" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="ro")
    assert catalog.num_plurals == 3 and catalog.project == "Heritage Atlas"
    (report,) = check_catalogs(locale_dir)
    assert report.tag == "ro" and report.name == "Română"
    assert report.translated == 0 and len(report.untranslated) == report.total
    assert start_catalog("zh-Hant", locale_dir).parent.parent.name == "zh_Hant"
    assert start_catalog("pt_BR", locale_dir).parent.parent.name == "pt_BR"
    assert [r.name for r in check_catalogs(locale_dir)] == [
        "Português (Brasil)",
        "Română",
        "中文 (繁體)",
    ]


@pytest.mark.parametrize("tag", ["xx-!!", "../etc", "qqq", ""])
def test_starting_a_catalog_refuses_what_is_not_a_known_language(tmp_path, tag):
    with pytest.raises(CatalogError):
        start_catalog(tag, _locale_copy(tmp_path))


def test_starting_a_catalog_never_overwrites_one(tmp_path):
    locale_dir = _locale_copy(tmp_path)
    start_catalog("ro", locale_dir)
    with pytest.raises(CatalogError, match="already"):
        start_catalog("ro", locale_dir)


def test_languages_command_reports_every_catalog_and_check_passes():
    result = CliRunner().invoke(cli, ["languages", "--check"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    for tag, name in SHIPPED.items():
        assert tag in result.output and name in result.output
    assert "243/243" not in result.output or "100.0%" in result.output


def test_languages_check_fails_and_lists_what_is_left_when_a_catalog_is_incomplete(
    tmp_path, monkeypatch
):
    locale_dir = _locale_copy(tmp_path)
    start_catalog("ro", locale_dir)
    real = catalog_check.check_catalogs
    monkeypatch.setattr(catalog_check, "check_catalogs", lambda: real(locale_dir))
    result = CliRunner().invoke(cli, ["languages", "--check"], env={"COLUMNS": "120"})
    assert result.exit_code == 1
    assert "ro: untranslated: 'title'" in result.output
    assert "1 of 1 catalogs are incomplete" in result.output
    assert CliRunner().invoke(cli, ["languages"]).exit_code == 0  # the report alone


def test_languages_add_refuses_an_unknown_language_in_one_line():
    result = CliRunner().invoke(cli, ["languages", "add", "qqq"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error:") and "Traceback" not in result.output


# --- choosing the language --------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "given"),
    [
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-Hans", "zh-Hans"),
        ("zh_Hans", "zh-Hans"),
        ("zh-hans-cn", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh-TW", "en"),
        ("zh-Hant", "en"),
        ("zh-HK", "en"),
        ("zh-Hant-HK", "en"),
        ("uk-UA", "uk"),
        ("es-419", "es"),
        ("ne-NP", "ne"),
        ("bn-IN", "bn"),
        ("pt-BR", "pt"),
    ],
)
def test_a_tag_gets_the_catalog_of_its_language_and_script(asked, given):
    assert negotiate(None, asked) == given
    assert negotiate(asked) == given


def test_traditional_chinese_readers_fall_through_to_their_next_choice():
    assert negotiate("zh-TW, fr;q=0.8") == "fr"
    assert negotiate("zh-Hant;q=1, zh-Hans;q=0.5") == "zh-Hans"


@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_dates_and_directions_come_from_babel_for_every_language(tag):
    assert format_date(date(2026, 12, 5), "long", locale=babel_locale(tag))
    assert direction(tag) == ("rtl" if tag == "ar" else "ltr")


@pytest.mark.parametrize("tag", ["es", "uk", "zh-Hans", "ne", "bn"])
def test_each_new_language_is_served(client, tag):
    page = client.get("/", params={"lang": tag})
    assert page.status_code == 200
    assert f'<html lang="{tag}"' in page.text
    assert page.headers["content-language"] == tag
    assert translations(tag).gettext("Add a place") in page.text
    assert translations(tag).gettext("Add a place") != "Add a place"
    for name in SHIPPED.values():
        assert name in page.text  # the picker offers every language, named in itself


def test_accept_language_zh_cn_gets_simplified_chinese_and_zh_tw_the_default(client):
    simplified = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans"' in simplified.text
    traditional = client.get("/", headers={"Accept-Language": "zh-TW"})
    assert '<html lang="en"' in traditional.text


def test_a_story_written_on_the_chinese_interface_starts_tagged_simplified_chinese(client):
    form = client.get("/contribute", params={"lang": "zh-Hans"})
    assert 'name="narrative_language"' in form.text
    assert re.search(r'name="narrative_language"[^>]*value="zh-Hans"', form.text)
