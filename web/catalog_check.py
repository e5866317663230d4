"""How complete each interface catalog is, and starting a new one.

A shipped catalog is complete when it has every message of ``messages.pot``, each
translated (every plural form), none marked fuzzy, and each keeping exactly the
placeholders of its original (``{name}``, ``%(name)s``, ``%s``): a translation that
loses or invents one would break or garble the sentence it fills. The source language's
catalog (English) needs only the messages, not translations.

Used by ``heritage-atlas languages`` and by the catalog tests, so both judge alike.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from web.i18n import CATALOG_TEMPLATE, SOURCE_LANGUAGE, catalog_path
from web.language_choice import LOCALE_DIR, babel_locale, own_name, shipped_languages

PROJECT = "Heritage Atlas"
_PERCENT = re.compile(r"%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?$")


@dataclass(frozen=True)
class CatalogReport:
    """One catalog measured against ``messages.pot``."""

    tag: str
    name: str
    total: int
    translated: int
    missing: tuple[str, ...]
    untranslated: tuple[str, ...]
    fuzzy: tuple[str, ...]
    placeholder_mismatches: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not (self.missing or self.untranslated or self.fuzzy or self.placeholder_mismatches)

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.total if self.total else 100.0

    def problems(self) -> list[str]:
        """One line per message that keeps the catalog from being complete."""
        kinds = (
            ("missing", self.missing),
            ("untranslated", self.untranslated),
            ("fuzzy", self.fuzzy),
            ("placeholders differ", self.placeholder_mismatches),
        )
        return [f"{self.tag}: {kind}: {msgid!r}" for kind, ids in kinds for msgid in ids]


def placeholders(text: str) -> set[str]:
    """The fields a message fills in: ``{name}`` and ``%(name)s`` / ``%s`` alike.

    Raises ``ValueError`` for a malformed brace field (``{name`` without its end), which
    ``str.format`` would refuse too."""
    found = {m.group(0) for m in _PERCENT.finditer(text.replace("%%", ""))}
    found |= {"{" + field + "}" for _, field, _, _ in string.Formatter().parse(text) if field}
    return found


def _placeholders_differ(msgid: str, translation: str, brace: bool, plural: bool = False) -> bool:
    try:
        wanted, given = placeholders(msgid), placeholders(translation)
    except ValueError:
        return True
    if not brace:  # then "{" is ordinary text: compare the %-style fields only
        wanted, given = {p for p in wanted if "%" in p}, {p for p in given if "%" in p}
    # A plural form may say its number in words ("one place", "two places" in Arabic),
    # as msgfmt allows; it may never invent a field.
    return not given <= wanted if plural else wanted != given


def _forms(message: Message) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return ids, strings


def read_catalog(path: Path, locale: Locale | str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def check_catalog(tag: str, template: Catalog, catalog: Catalog) -> CatalogReport:
    """``catalog`` (of language ``tag``) measured against ``template``."""
    wanted = [m for m in template if m.id]
    missing, untranslated, fuzzy, mismatched = [], [], [], []
    translated = 0
    for original in wanted:
        key = original.id[0] if isinstance(original.id, tuple) else original.id
        message = catalog.get(original.id, original.context)
        if message is None:
            missing.append(key)
            continue
        if tag == SOURCE_LANGUAGE:
            translated += 1
            continue
        ids, strings = _forms(message)
        forms = catalog.num_plurals if isinstance(message.id, tuple) else 1
        if len(strings) < forms or not all(strings[:forms]):
            untranslated.append(key)
            continue
        if message.fuzzy:
            fuzzy.append(key)
            continue
        # Brace fields are placeholders only in brace-format messages; elsewhere a "{" is
        # ordinary text (the Python and Jinja strings we extract all use one style or none).
        brace = "python-brace-format" in message.flags or "python-brace-format" in original.flags
        brace = brace or bool(re.search(r"\{\w+\}", ids[0]))
        originals = [ids[min(i, len(ids) - 1)] for i in range(len(strings))]
        plural = isinstance(message.id, tuple)
        pairs = zip(originals, strings, strict=True)
        if any(_placeholders_differ(o, s, brace, plural) for o, s in pairs):
            mismatched.append(key)
            continue
        translated += 1
    return CatalogReport(
        tag=tag,
        name=own_name(tag),
        total=len(wanted),
        translated=translated,
        missing=tuple(missing),
        untranslated=tuple(untranslated),
        fuzzy=tuple(fuzzy),
        placeholder_mismatches=tuple(mismatched),
    )


def check_catalogs(locale_dir: Path = LOCALE_DIR) -> list[CatalogReport]:
    """Every catalog on disk, measured against the template beside them."""
    template = read_catalog(locale_dir / CATALOG_TEMPLATE.name)
    reports = []
    for tag in shipped_languages(locale_dir):
        path = catalog_path(tag, locale_dir)
        reports.append(check_catalog(tag, template, read_catalog(path, babel_locale(tag))))
    return reports


class CatalogError(ValueError):
    """A language tag that cannot start a catalog; the message says why."""


def start_catalog(tag: str, locale_dir: Path = LOCALE_DIR) -> Path:
    """A new, empty catalog for ``tag`` (BCP 47, such as ``ro`` or ``zh-Hant``) made from
    ``messages.pot`` as ``pybabel init`` makes it: plural rules from CLDR, every message
    waiting for its translation. Refuses a tag Babel does not know or one that exists."""
    tag = tag.strip().replace("_", "-")
    if not _TAG.match(tag):
        raise CatalogError(f"'{tag}' is not a language tag such as 'ro', 'pt-BR' or 'zh-Hant'.")
    try:
        locale = babel_locale(tag)
    except (UnknownLocaleError, ValueError):
        raise CatalogError(f"'{tag}' is not a language Babel (CLDR) knows.") from None
    tag = "-".join(filter(None, (locale.language, locale.script, locale.territory)))
    path = catalog_path(tag, locale_dir)
    if path.exists():
        raise CatalogError(f"There is already a catalog for '{tag}': {path}")
    template = read_catalog(locale_dir / CATALOG_TEMPLATE.name)
    now = datetime.now(UTC)
    catalog = Catalog(
        locale=locale,
        project=PROJECT,
        version="0.1",
        copyright_holder=f"{PROJECT} contributors",
        creation_date=now,
        revision_date=now,
        fuzzy=False,
    )
    for message in template:
        if message.id:
            catalog.add(message.id, None, flags=message.flags, context=message.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False)
    return path
