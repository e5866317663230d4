"""Bulk import of places: read, validate as arrays, assign neighbourhoods, store at once.

All or nothing: a file with any bad feature stores nothing unless ``skip_invalid``
is set, in which case the good features are stored and the bad ones reported.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodata.errors import InvalidInput, Rejection
from geodata.geometry import (
    BulkVerdicts,
    GeometryRules,
    ProjectArea,
    validate_place_geometries,
)
from geodata.io.sources import SourceFeatures, read_features
from geodata.io.spreadsheet import SpreadsheetWriter
from geodata.models import Consent, Narrative, NewPlaces, Status, new_place_ids, utcnow
from geodata.neighbourhoods import assign_neighbourhoods
from geodata.store.base import PlaceStore
from geodata.text import check_language, check_text
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


@dataclass
class ImportResult:
    read: int
    imported: int
    repaired: int
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[tuple[int, str | None, str]] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        return self.imported > 0


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


_DETAIL_NAMES = ("year_from", "start_date", "year_to", "tags", "period")


@functools.lru_cache(maxsize=256)
def _names(keys: tuple[str, ...]) -> _Names:
    """The names to read from a feature with these ``keys``: features of one file share
    their keys, so each of them asks for what is there instead of trying every name."""
    have = set(keys)
    return _Names(
        title=tuple(n for n in TITLE_FIELDS if n in have),
        narrative=tuple(n for n in NARRATIVE_FIELDS if n in have),
        category=tuple(n for n in CATEGORY_FIELDS if n in have),
        narratives="narratives" in have,
        details=not have.isdisjoint(_DETAIL_NAMES),
    )


def property_values(
    props: dict[str, Any], vocabulary: Vocabulary, options: ImportOptions
) -> tuple[Any, ...]:
    """One feature's place fields in :data:`_FIELD_COLUMNS` order (what
    :func:`properties_to_fields` gives, without a dict per feature)."""
    names = _names(tuple(props))
    title = _first(props, names.title)
    title = check_text(str(title) if title is not None else "", "title", max_length=200)
    narratives: list[Narrative] = []
    given = props["narratives"] if names.narratives else None
    if isinstance(given, list):
        for n in given:
            if not isinstance(n, dict):
                raise InvalidInput("each narrative must be an object with text and language")
            narratives.append(
                Narrative(
                    check_text(str(n.get("text", "")), "narrative", max_length=20_000),
                    check_language(str(n.get("language") or options.language)),
                )
            )
    elif names.narrative:
        text = _first(props, names.narrative)
        if text is not None:
            lang = props.get("language") or props.get("lang") or options.language
            narratives.append(
                Narrative(
                    check_text(str(text), "narrative", max_length=20_000), check_language(str(lang))
                )
            )
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


def import_features(
    store: PlaceStore,
    features: SourceFeatures,
    options: ImportOptions,
    vocabulary: Vocabulary | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Validate, assign and store features as places (see the module docstring).

    Geometries are validated and assigned to neighbourhoods all at once (shapely and
    geopandas array operations). Properties are then checked a batch at a time, and each
    batch goes to the store as soon as it is built, so the store writes one batch while
    the next is checked. When a feature is refused without ``skip_invalid``, the store's
    transaction ends unwritten; every feature is still checked, so that the report names
    them all.
    """
    vocabulary = vocabulary or Vocabulary()
    step = progress or (lambda _label, _n: None)
    neighbourhoods = store.neighbourhoods()
    area = ProjectArea.from_geometries([n.geometry for n in neighbourhoods], options.margin_m)
    verdicts = validate_place_geometries(features.geometries, GeometryRules(area=area))
    step("validated", len(features))
    result = ImportResult(read=len(features), imported=0, repaired=0)
    valid: list[int] = []
    for i, (code, message) in enumerate(zip(verdicts.codes, verdicts.messages, strict=True)):
        if code is None:
            valid.append(i)
        else:
            result.rejected.append(Rejection(i, features.ids[i], code, message or code))
    if result.rejected and not options.skip_invalid:
        for start in range(0, len(valid), _BATCH):  # name the features refused for more
            _checked(features, valid[start : start + _BATCH], vocabulary, options, result)
    else:
        nids = assign_neighbourhoods(verdicts.geometries[valid], neighbourhoods)
        step("assigned", len(valid))
        batches = _place_batches(features, verdicts, valid, nids, options, vocabulary, result)
        try:
            result.imported = store.add_new(_counted(batches, step))
        except _Refused:
            result.imported = 0
    result.rejected.sort(key=lambda r: r.index)
    return result


_BATCH = 5000  # features checked, built and handed to the store at a time


class _Refused(Exception):
    """Raised from the batches handed to the store when a feature was refused and
    ``skip_invalid`` is not set: the store rolls back what it had written."""


def _checked(
    features: SourceFeatures,
    indices: Sequence[int],
    vocabulary: Vocabulary,
    options: ImportOptions,
    result: ImportResult,
) -> tuple[list[int], list[tuple[Any, ...]]]:
    """The features of ``indices`` whose properties are good, with their place fields;
    the others are added to ``result.rejected``."""
    good, rows = [], []
    for i in indices:
        try:
            rows.append(property_values(features.properties[i], vocabulary, options))
        except InvalidInput as exc:
            result.rejected.append(Rejection(i, features.ids[i], exc.code, exc.message))
        else:
            good.append(i)
    return good, rows


def _place_batches(
    features: SourceFeatures,
    verdicts: BulkVerdicts,
    valid: list[int],
    nids: list[int | None],
    options: ImportOptions,
    vocabulary: Vocabulary,
    result: ImportResult,
) -> Iterator[NewPlaces]:
    """The good features as batches of new places; raises :class:`_Refused` at the end
    if any was refused and ``skip_invalid`` is not set (after checking every one)."""
    now = utcnow()
    consent = Consent(publish=True, open_data=True, research=False, given_at=now)
    nid_of = dict(zip(valid, nids, strict=True))
    repaired = {i for i, warnings in enumerate(verdicts.warnings) if warnings}
    for start in range(0, len(valid), _BATCH):
        good, rows = _checked(features, valid[start : start + _BATCH], vocabulary, options, result)
        for i in sorted(repaired.intersection(good)) if repaired else ():
            result.warnings.extend((i, features.ids[i], w) for w in verdicts.warnings[i])
            result.repaired += 1
        if not good or (result.rejected and not options.skip_invalid):
            continue  # nothing more will be stored, but every feature is still checked
        titles, narratives, categories, periods, years_from, years_to, tags = (
            list(column) for column in zip(*rows, strict=True)
        )
        yield NewPlaces(
            ids=new_place_ids(len(good)),
            geometries=verdicts.geometries[good],
            titles=titles,
            narratives=narratives,
            categories=categories,
            periods=periods,
            years_from=years_from,
            years_to=years_to,
            tags=tags,
            neighbourhood_ids=[nid_of[i] for i in good],
            status=options.status,
            licence=options.licence,
            attribution=options.attribution,
            consent=consent,
            created_at=now,
        )
    if result.rejected and not options.skip_invalid:
        raise _Refused


def _counted(batches: Iterator[NewPlaces], step: Callable[[str, int], None]) -> Iterator[NewPlaces]:
    """``batches``, reporting how many places were handed on after each one."""
    handed = 0
    for batch in batches:
        yield batch
        handed += len(batch)
        step("stored", handed)


def import_places(
    store: PlaceStore,
    path: str | Path,
    options: ImportOptions | None = None,
    vocabulary: Vocabulary | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Import places from a GeoJSON, GeoPackage, CSV or other vector file."""
    with _collector_paused():
        features = read_features(path)
        if progress:
            progress("read", len(features))
        return import_features(store, features, options or ImportOptions(), vocabulary, progress)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during a bulk import.

    Parsed features are millions of small container objects that live until the end of
    the import; every collection would walk them all again (it tripled the import time).
    Nothing an import builds is cyclic, so reference counting frees it all anyway.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def write_rejects_report(result: ImportResult, path: str | Path) -> None:
    """A CSV naming each rejected feature (1-based position and id) and why.

    Ids and messages echo the imported file, so a cell a spreadsheet would run as a
    formula gets a leading ``'``."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = SpreadsheetWriter(fh)
        w.writerow(["feature", "id", "code", "reason"])
        for r in result.rejected:
            w.writerow([r.index + 1, r.feature_id or "", r.code, r.message])
