"""Which of a file's fields are the atlas's (``title=name``) and which of its own
categories (layers, folders...) are which of the atlas's category keys
(``category.Churches=religious``): from ``--map`` options or a small TOML file::

    [fields]
    title = "name"
    narrative = "description"

    [categories]
    "Churches" = "religious"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from geodata.errors import InvalidInput, SourceError
from geodata.io.sources.base import LAYER, SourceRead

# A property naming why a row cannot be mapped; the importer refuses that row with it.
PROBLEM = "__unmappable__"

# The atlas fields a file's field can be mapped to, and the property the importer reads
# each from (geodata.import_fields).
TARGETS = {
    "title": "title",
    "narrative": "narrative",
    "narrative_language": "language",
    "category": "category",
    "layer": LAYER,
    "tags": "tags",
    "period": "period",
    "year_from": "year_from",
    "year_to": "year_to",
    "geopoint": "geopoint",
}


@dataclass
class FieldMap:
    fields: dict[str, str] = field(default_factory=dict)  # atlas field -> file's field
    categories: dict[str, str] = field(default_factory=dict)  # file's category -> key

    def __bool__(self) -> bool:
        return bool(self.fields or self.categories)

    def add(self, spec: str) -> None:
        """Add one ``--map`` option: ``FIELD=SOURCE_FIELD`` or ``category.NAME=KEY``."""
        target, sep, value = spec.partition("=")
        target, value = target.strip(), value.strip()
        if not sep or not target or not value:
            raise InvalidInput(
                f"--map {spec!r}: write FIELD=SOURCE_FIELD or category.NAME=KEY",
                code="bad_option",
            )
        if target.startswith("category."):
            self.categories[target.removeprefix("category.")] = value
        elif target in TARGETS:
            self.fields[target] = value
        else:
            raise InvalidInput(
                f"--map {spec!r}: {target!r} is not an atlas field; use one of "
                f"{', '.join(TARGETS)} or category.NAME",
                code="bad_option",
            )

    @classmethod
    def load(cls, path: str | Path) -> FieldMap:
        """A field map from a TOML file with ``[fields]`` and ``[categories]`` tables."""
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SourceError(f"{path}: is not a readable TOML mapping ({exc})") from None
        out = cls()
        for table in ("fields", "categories"):
            entries = doc.get(table, {})
            if not isinstance(entries, dict):
                raise SourceError(f"{path}: [{table}] must be a table of names")
            for name, value in entries.items():
                if not isinstance(value, str):
                    raise SourceError(f"{path}: [{table}] {name} must be a text")
                out.add(f"{'category.' if table == 'categories' else ''}{name}={value}")
        unknown = sorted(set(doc) - {"fields", "categories"})
        if unknown:
            raise SourceError(f"{path}: unknown table [{unknown[0]}]; use [fields], [categories]")
        return out

    def apply(self, read: SourceRead, default_category: str | None) -> None:
        """Copy each mapped field to the property the importer reads, split tags, and
        turn each feature's own category (``layer``) into a category key: its mapping,
        else ``default_category``, else itself (refused later unless it is a key)."""
        props_list = read.features.properties
        have: set[str] = set()
        for props in props_list:
            have.update(props)
        for target, source in self.fields.items():
            if source not in have:
                raise SourceError(
                    f"--map {target}={source}: no row has a field {source!r}; the fields "
                    f"are: {', '.join(sorted(have)) or 'none'}"
                )
        for props in props_list:
            for target, source in self.fields.items():
                if target == "geopoint":
                    continue  # read by the readers that have geopoints
                value = props.get(source)
                if value in (None, "") and target in ("title", "category", "layer"):
                    props[PROBLEM] = f"its field {source!r} (--map {target}={source}) is empty"
                props[TARGETS[target]] = value
            tags = props.get("tags")
            if isinstance(tags, str) and read.list_separator != ",":
                props["tags"] = tags.split(read.list_separator.strip() or None)
            layer = props.get(LAYER)
            if layer in (None, "") or "category" in self.fields:
                continue
            key = self.categories.get(str(layer))
            props["category"] = key or default_category or str(layer)
