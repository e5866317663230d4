"""Reading a feature's properties as place fields: which fields hold the title, the
narratives (their language, source and licence), the category and the period, and what
the import options choose instead of the usual names."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from geodata.errors import InvalidInput, SourceError
from geodata.io.sources import SourceFeatures
from geodata.io.sources.field_map import PROBLEM
from geodata.models import Narrative, Status
from geodata.text import check_language, check_text, html_to_text
from geodata.vocabulary import Vocabulary

TITLE_FIELDS = ("title", "name", "nome", "Name", "NAME", "titulo")
NARRATIVE_FIELDS = ("narrative", "description", "descricao", "inscription", "story", "text")
CATEGORY_FIELDS = ("category", "categoria")


@dataclass
class ImportOptions:
    language: str = "und"  # BCP 47 tag of narratives that do not say (``und``: undetermined)
    category: str | None = None  # for features with no category of their own
    status: Status = Status.PUBLISHED
    licence: str = "CC-BY-4.0"
    attribution: str | None = None
    skip_invalid: bool = False
    margin_m: float = 1000.0
    # Which fields to read, where the usual names (TITLE_FIELDS, NARRATIVE_FIELDS,
    # "language"/"lang") are not the right ones; a field no feature has is an error.
    title_field: str | None = None
    narrative_field: str | None = None
    narrative_language_field: str | None = None
    # Where each narrative comes from and its licence with the credit it asks for (both
    # shown next to the story); empty values: the place's own licence covers it.
    narrative_source_field: str | None = None
    narrative_licence_field: str | None = None
    narrative_format: str = "text"  # "html": tags removed and entities decoded first
    # Each place's licence and attribution from these fields (empty: the two above).
    licence_field: str | None = None
    attribution_field: str | None = None
    # Features with the same value of this field are one place: the first one's title,
    # geometry and other fields, and the narratives of them all.
    group_field: str | None = None
    # A feature whose title names a place stored within this many metres adds its
    # narratives to that place instead of becoming another (see geodata.import_merge).
    attach_within_m: float | None = None
    # Check everything and count what would be stored, storing nothing.
    dry_run: bool = False

    def fields(self) -> tuple[str | None, ...]:
        """The field names these options read (None for those left to the usual names)."""
        return (
            self.title_field,
            self.narrative_field,
            self.narrative_language_field,
            self.narrative_source_field,
            self.narrative_licence_field,
            self.licence_field,
            self.attribution_field,
            self.group_field,
        )


NARRATIVE_FORMATS = ("text", "html")


def _first(props: dict[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        v = props.get(n)
        if v not in (None, ""):
            return v
    return None


def _year(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value)[:4]) if not isinstance(value, int) else value
    except ValueError:
        raise InvalidInput(f"year {value!r} is not a year") from None


def properties_to_fields(
    props: dict[str, Any], vocabulary: Vocabulary, options: ImportOptions
) -> dict[str, Any]:
    """Map one feature's properties to place fields; raise InvalidInput naming what is wrong."""
    return dict(zip(_FIELD_COLUMNS, property_values(props, vocabulary, options), strict=True))


# The fields a feature's properties give, in the order of NewPlaces' columns.
_FIELD_COLUMNS = ("title", "narratives", "category", "period", "year_from", "year_to", "tags")


@dataclass(frozen=True)
class _Names:
    """Which of the property names the importer reads a feature has, in reading order."""

    title: tuple[str, ...]
    narrative: tuple[str, ...]
    category: tuple[str, ...]
    narratives: bool  # a "narratives" field (a list of text and language)
    details: bool  # any of _DETAIL_NAMES
    language: tuple[str, ...]
    source: str | None  # the field naming each narrative's source, if one is read
    licence: str | None  # the field giving each narrative's licence, if one is read


_DETAIL_NAMES = ("year_from", "start_date", "year_to", "tags", "period")
_LANGUAGE_FIELDS = ("language", "lang")


@functools.lru_cache(maxsize=256)
def _names(keys: tuple[str, ...], chosen: tuple[str | None, ...]) -> _Names:
    """The names to read from a feature with these ``keys``, given the field names
    ``chosen`` (:meth:`ImportOptions.fields`): features of one file share their keys, so
    each of them asks for what is there instead of trying every name."""
    have = set(keys)
    title, narrative, language, source, licence = chosen[:5]
    return _Names(
        title=(title,) if title else tuple(n for n in TITLE_FIELDS if n in have),
        narrative=(narrative,) if narrative else tuple(n for n in NARRATIVE_FIELDS if n in have),
        category=tuple(n for n in CATEGORY_FIELDS if n in have),
        narratives=not narrative and "narratives" in have,
        details=not have.isdisjoint(_DETAIL_NAMES),
        language=(language,) if language else _LANGUAGE_FIELDS,
        source=source,
        licence=licence,
    )


def _optional_text(value: Any, name: str, max_length: int) -> str | None:
    if value in (None, ""):
        return None
    return check_text(str(value), name, max_length=max_length, required=False) or None


def feature_narratives(props: dict[str, Any], options: ImportOptions) -> list[Narrative]:
    """The narratives one feature's properties give (none is no error)."""
    return _narratives(props, _names(tuple(props), options.fields()), options)


def _narratives(props: dict[str, Any], names: _Names, options: ImportOptions) -> list[Narrative]:
    given = props["narratives"] if names.narratives else None
    if isinstance(given, list):
        narratives = []
        for n in given:
            if not isinstance(n, dict):
                raise InvalidInput("each narrative must be an object with text and language")
            narratives.append(
                Narrative(
                    check_text(str(n.get("text", "")), "narrative", max_length=20_000),
                    check_language(str(n.get("language") or options.language)),
                )
            )
        return narratives
    text = _first(props, names.narrative) if names.narrative else None
    if text is None:
        return []
    text = str(text)
    if options.narrative_format == "html":
        text = html_to_text(text)
        if not text.strip():
            return []
    lang = _first(props, names.language) or options.language
    source = licence = None
    if names.source:
        source = _optional_text(props.get(names.source), "source", 2000)
    if names.licence:
        licence = _optional_text(props.get(names.licence), "licence", 500)
    return [
        Narrative(
            check_text(text, "narrative", max_length=20_000),
            check_language(str(lang)),
            source=source,
            licence=licence,
        )
    ]


def property_values(
    props: dict[str, Any], vocabulary: Vocabulary, options: ImportOptions
) -> tuple[Any, ...]:
    """One feature's place fields in :data:`_FIELD_COLUMNS` order (what
    :func:`properties_to_fields` gives, without a dict per feature)."""
    names = _names(tuple(props), options.fields())
    if PROBLEM in props:
        raise InvalidInput(str(props[PROBLEM]), code="unmappable_field")
    title = _first(props, names.title)
    title = check_text(str(title) if title is not None else "", "title", max_length=200)
    narratives = _narratives(props, names, options) if names.narratives or names.narrative else []
    category = _first(props, names.category) or options.category
    if category is None:
        raise InvalidInput("has no category; give one in a 'category' field or with --category")
    if category not in vocabulary:
        raise InvalidInput(
            f"unknown category {category!r}; use one of {', '.join(vocabulary.keys())}"
        )
    year_from = year_to = period = None
    tags: Any = None
    if names.details:
        year_from = _year(props.get("year_from") or props.get("start_date"))
        year_to = _year(props.get("year_to"))
        tags = props.get("tags")
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        elif tags is not None and not isinstance(tags, list):
            raise InvalidInput("tags must be a list of words or words separated by commas")
        period = props.get("period")
    return (
        title,
        narratives,
        str(category),
        str(period) if period not in (None, "") else None,
        year_from,
        year_to,
        [str(t) for t in tags] if tags else [],
    )


def own_licence(props: dict[str, Any], options: ImportOptions) -> tuple[str, str | None]:
    """A feature's licence and attribution from the fields the options name, else theirs."""
    licence = attribution = None
    if options.licence_field:
        licence = _optional_text(props.get(options.licence_field), "licence", 500)
    if options.attribution_field:
        attribution = _optional_text(props.get(options.attribution_field), "attribution", 500)
    return licence or options.licence, attribution or options.attribution


def check_options(features: SourceFeatures, options: ImportOptions) -> None:
    """Refuse options that name a field no feature has (naming those there are), or an
    unknown narrative format."""
    if options.narrative_format not in NARRATIVE_FORMATS:
        raise InvalidInput(
            f"the narrative format must be one of {', '.join(NARRATIVE_FORMATS)}, "
            f"not {options.narrative_format!r}",
            code="bad_option",
        )
    named = {name for name in options.fields() if name}
    if not named or not len(features):
        return
    have: set[str] = set()
    for props in features.properties:
        have.update(props)
    missing = sorted(named - have)
    if missing:
        raise SourceError(
            f"no feature has a field {missing[0]!r}; the fields are: "
            f"{', '.join(sorted(have)) or 'none'}"
        )
