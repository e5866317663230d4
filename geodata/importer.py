"""Bulk import of places: read, validate as arrays, assign neighbourhoods, store at once.

All or nothing: a file with any bad feature stores nothing unless ``skip_invalid``
is set, in which case the good features are stored and the bad ones reported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodata.errors import InvalidInput, Rejection
from geodata.geometry import BulkVerdicts, validate_place_geometries
from geodata.geometry_rules import GeometryRules, ProjectArea
from geodata.import_fields import (
    CATEGORY_FIELDS,
    NARRATIVE_FIELDS,
    TITLE_FIELDS,
    ImportOptions,
    check_options,
    feature_narratives,
    own_licence,
    properties_to_fields,
    property_values,
)
from geodata.import_merge import attach_to_stored, group_features
from geodata.io.sources import SourceFeatures
from geodata.io.sources.field_map import FieldMap
from geodata.io.sources.registry import read_source
from geodata.io.spreadsheet import SpreadsheetWriter
from geodata.models import Consent, NewPlaces, new_place_ids, utcnow
from geodata.neighbourhoods import assign_neighbourhoods
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary

# Re-exported: what an import reads from each feature lives in geodata.import_fields.
__all__ = [
    "CATEGORY_FIELDS",
    "NARRATIVE_FIELDS",
    "TITLE_FIELDS",
    "ImportOptions",
    "ImportResult",
    "import_features",
    "import_places",
    "properties_to_fields",
    "property_values",
    "write_rejects_report",
]


@dataclass
class ImportResult:
    read: int
    imported: int
    repaired: int
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[tuple[int, str | None, str]] = field(default_factory=list)
    merged: int = 0  # features whose narratives joined another feature's place
    attached: int = 0  # new places that were stored already: their stories added there
    updated: int = 0  # stored places that gained stories
    source: str | None = None  # the tool whose export was read (None: a plain file)
    # What was (or, with dry_run, would be) stored: places per category, first titles.
    categories: Counter[str] = field(default_factory=Counter)
    titles: list[str] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        return self.imported > 0


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
    them all. With ``group_field``, the features of one group become one place; with
    ``attach_within_m``, every feature is checked first, those naming a stored place add
    their stories to it, and the others are stored, all in one transaction.
    """
    vocabulary = vocabulary or Vocabulary()
    check_options(features, options)
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
    members: dict[int, list[int]] = {}
    if options.group_field:
        valid, members = group_features(
            features.properties,
            features.ids,
            verdicts.geometries,
            valid,
            options.group_field,
            result.rejected,
        )

    def checked() -> Iterator[_Rows]:
        for start in range(0, len(valid), _BATCH):
            part = valid[start : start + _BATCH]
            yield _checked(features, part, vocabulary, options, result, members)

    if result.rejected and not options.skip_invalid:
        for _ in checked():  # name the features refused for more
            pass
    elif options.attach_within_m is not None and not options.dry_run:
        rows = _Rows.joined(list(checked()))  # all checked before anything is written
        if not result.rejected or options.skip_invalid:
            with store.transaction():
                titles, narratives = [v[0] for v in rows.values], [v[1] for v in rows.values]
                found, result.updated = attach_to_stored(
                    store,
                    verdicts.geometries[rows.indices],
                    titles,
                    narratives,
                    options.attach_within_m,
                )
                result.attached = sum(found)
                rows = rows.without(found)
                nids = assign_neighbourhoods(verdicts.geometries[rows.indices], neighbourhoods)
                step("assigned", len(rows.indices))
                nid_of = dict(zip(rows.indices, nids, strict=True))
                batches = _place_batches(verdicts, [rows], nid_of, options, result, features.ids)
                result.imported = store.add_new(_counted(batches, step))
    else:
        nids = assign_neighbourhoods(verdicts.geometries[valid], neighbourhoods)
        step("assigned", len(valid))
        nid_of = dict(zip(valid, nids, strict=True))
        batches = _place_batches(verdicts, checked(), nid_of, options, result, features.ids)
        try:
            if options.dry_run:
                result.imported = sum(len(b) for b in _previewed(batches, result))
            else:
                result.imported = store.add_new(_counted(_previewed(batches, result), step))
        except _Refused:
            result.imported = 0
    if not result.imported and not result.attached:
        result.merged = 0
    result.rejected.sort(key=lambda r: r.index)
    return result


_BATCH = 5000  # features checked, built and handed to the store at a time


class _Refused(Exception):
    """Raised from the batches handed to the store when a feature was refused and
    ``skip_invalid`` is not set: the store rolls back what it had written."""


@dataclass
class _Rows:
    """Features whose properties are good: their positions and place fields (in
    :data:`_FIELD_COLUMNS` order), and each one's licence and attribution where the
    options read them from the file."""

    indices: list[int] = field(default_factory=list)
    values: list[tuple[Any, ...]] = field(default_factory=list)
    licences: list[str] | None = None
    attributions: list[str | None] | None = None

    @classmethod
    def joined(cls, parts: Sequence[_Rows]) -> _Rows:
        out = _Rows()
        for part in parts:
            out.indices += part.indices
            out.values += part.values
            if part.licences is not None and part.attributions is not None:
                out.licences = (out.licences or []) + part.licences
                out.attributions = (out.attributions or []) + part.attributions
        return out

    def without(self, dropped: Sequence[bool]) -> _Rows:
        keep = [k for k, drop in enumerate(dropped) if not drop]
        return _Rows(
            [self.indices[k] for k in keep],
            [self.values[k] for k in keep],
            [self.licences[k] for k in keep] if self.licences is not None else None,
            [self.attributions[k] for k in keep] if self.attributions is not None else None,
        )


def _checked(
    features: SourceFeatures,
    indices: Sequence[int],
    vocabulary: Vocabulary,
    options: ImportOptions,
    result: ImportResult,
    members: dict[int, list[int]] | None = None,
) -> _Rows:
    """The features of ``indices`` whose properties are good, with their place fields
    (and the narratives of the other features of their group, in ``members``); the others
    are added to ``result.rejected``."""
    rows = _Rows()
    own = bool(options.licence_field or options.attribution_field)
    if own:
        rows.licences, rows.attributions = [], []
    for i in indices:
        props = features.properties[i]
        try:
            values = property_values(props, vocabulary, options)
            if own:
                licence, attribution = own_licence(props, options)
        except InvalidInput as exc:
            result.rejected.append(Rejection(i, features.ids[i], exc.code, exc.message))
            continue
        for j in members.get(i, ()) if members else ():
            try:
                values[1].extend(feature_narratives(features.properties[j], options))
            except InvalidInput as exc:
                result.rejected.append(Rejection(j, features.ids[j], exc.code, exc.message))
            else:
                result.merged += 1
        rows.indices.append(i)
        rows.values.append(values)
        if own:
            rows.licences.append(licence)  # type: ignore[union-attr]
            rows.attributions.append(attribution)  # type: ignore[union-attr]
    return rows


def _place_batches(
    verdicts: BulkVerdicts,
    chunks: Iterable[_Rows],
    nid_of: dict[int, int | None],
    options: ImportOptions,
    result: ImportResult,
    ids: Sequence[str | None],
) -> Iterator[NewPlaces]:
    """The good features as batches of new places; raises :class:`_Refused` at the end
    if any was refused and ``skip_invalid`` is not set (after checking every one)."""
    now = utcnow()
    consent = Consent(publish=True, open_data=True, research=False, given_at=now)
    repaired = {i for i, warnings in enumerate(verdicts.warnings) if warnings}
    for rows in chunks:
        good = rows.indices
        for i in sorted(repaired.intersection(good)) if repaired else ():
            result.warnings.extend((i, ids[i], w) for w in verdicts.warnings[i])
            result.repaired += 1
        if not good or (result.rejected and not options.skip_invalid):
            continue  # nothing more will be stored, but every feature is still checked
        titles, narratives, categories, periods, years_from, years_to, tags = (
            list(column) for column in zip(*rows.values, strict=True)
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
            licences=rows.licences,
            attributions=rows.attributions,
        )
    if result.rejected and not options.skip_invalid:
        raise _Refused


_PREVIEW_TITLES = 5


def _previewed(batches: Iterator[NewPlaces], result: ImportResult) -> Iterator[NewPlaces]:
    """``batches``, counting their places per category and keeping the first titles."""
    for batch in batches:
        result.categories.update(batch.categories)
        if len(result.titles) < _PREVIEW_TITLES:
            result.titles += batch.titles[: _PREVIEW_TITLES - len(result.titles)]
        yield batch


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
    source: str | None = None,
    field_map: FieldMap | None = None,
) -> ImportResult:
    """Import places from a GeoJSON, GeoPackage, CSV or other vector file, or from the
    export of a community tool (``source``: a ``--from`` name; detected when None),
    its fields read through ``field_map``."""
    options = options or ImportOptions()
    field_map = field_map or FieldMap()
    with _collector_paused():
        found, read = read_source(path, source, field_map.fields.get("geopoint"))
        if found is not None or field_map:
            field_map.apply(read, options.category)
        defaults = {
            k: v for k, v in read.option_defaults.items() if getattr(options, k) in (None, "")
        }
        if defaults:
            options = dataclasses.replace(options, **defaults)
        if progress:
            progress("read", len(read.features))
        result = import_features(store, read.features, options, vocabulary, progress)
        result.source = found
        return result


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
