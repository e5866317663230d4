"""Input models at the edge: what a submission or a correction may contain, by type.

Pydantic checks shapes and types (text is text, years are whole numbers, unknown
fields are refused); the rules that need the project's data (geometry inside the
area, category in the vocabulary, language tags, text limits, workshop codes) are
checked by :mod:`geodata.contributions`, which reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geodata.errors import FieldProblem
from geodata.models import DEFAULT_LICENCE, Provenance, Sensitivity

# Licences a resident may choose for what they contribute (SPDX identifiers).
LICENCES = ("CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0")


class _Input(BaseModel):
    # Strict: "12" is not a year and "yes" is not consent; unknown fields are typos.
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)


class NarrativeIn(_Input):
    """One language version of the story told about the place."""

    text: str = Field(description="the story, as the contributor wrote or translated it")
    language: str = Field(description="BCP 47 language tag, e.g. 'pt', 'pt-BR', 'ar'")
    provenance: Provenance = Field(
        Provenance.ORIGINAL,
        description="'original', 'community_translation' or 'machine_translation'",
    )


class ConsentIn(_Input):
    """What the contributor agrees to; publishing is required, the rest is opt-in."""

    publish: bool = Field(description="must be true: the place may be shown on public maps")
    open_data: bool = Field(False, description="may be included in open-data downloads")
    research: bool = Field(False, description="may be used for research")


class ContributorIn(_Input):
    """Who contributed. Name and contact are personal data and never published."""

    name: str | None = Field(None, description="kept private, for the moderators")
    contact: str | None = Field(None, description="e-mail or phone, kept private")
    display_name: str | None = Field(
        None, description="the name (or nickname) to show with the place, if any"
    )


class PlaceProperties(_Input):
    title: str = Field(description="a short name for the place")
    narratives: list[NarrativeIn] = Field(
        description="one or more language versions of the story; exactly one original"
    )
    category: str = Field(description="a key of the category vocabulary, e.g. 'memory'")
    period: str | None = Field(None, description="when, in words: 'the 1960s', 'every June'")
    year_from: int | None = Field(None, description="first year of the period, if known")
    year_to: int | None = Field(None, description="last year of the period, if known")
    tags: list[str] = Field(default_factory=list, description="free keywords")
    contributor: ContributorIn | None = None
    consent: ConsentIn
    licence: str = Field(DEFAULT_LICENCE, description="one of " + ", ".join(LICENCES))
    sensitivity: Sensitivity = Field(
        Sensitivity.PUBLIC,
        description="'public' (shown where it is), 'generalised' (shown on a coarse grid) "
        "or 'hidden' (counted, never drawn)",
    )
    workshop: str | None = Field(None, description="the join code of a workshop, if any")


class PlaceSubmission(BaseModel):
    """A new place: a GeoJSON Feature (RFC 7946) with a Point, LineString or Polygon."""

    # A Feature may carry "id" or "bbox" (ignored: the service assigns ids), nothing else
    # that matters; the properties themselves are strict.
    model_config = ConfigDict(extra="ignore", strict=True)

    type: Literal["Feature"]
    geometry: Any = Field(
        json_schema_extra={
            "description": "GeoJSON Point, LineString or Polygon, longitude first (EPSG:4326)"
        }
    )
    properties: PlaceProperties


class PlacePropertiesPatch(_Input):
    """A correction: only the fields given change (``narratives`` and ``tags`` as a whole)."""

    title: str | None = None
    narratives: list[NarrativeIn] | None = None
    category: str | None = None
    period: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    tags: list[str] | None = None
    contributor: ContributorIn | None = None
    consent: ConsentIn | None = None
    licence: str | None = None
    sensitivity: Sensitivity | None = None


class PlacePatch(BaseModel):
    """A correction to a place: a partial GeoJSON Feature."""

    model_config = ConfigDict(extra="ignore", strict=True)

    type: Literal["Feature"] = "Feature"
    geometry: Any = None
    properties: PlacePropertiesPatch = Field(default_factory=PlacePropertiesPatch)


# ---------------------------------------------------------------------------
# Problems, and how pydantic's type errors read to a person
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem(FieldProblem):
    """A field problem with the values its message was built from (for translations)."""

    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


_TYPE_MESSAGES = {
    "missing": "this field is required",
    "string_type": "write this as text (in quotes)",
    "int_type": "give a whole number, such as 1960",
    "int_parsing": "give a whole number, such as 1960",
    "int_from_float": "give a whole number, such as 1960",
    "bool_type": "give true or false",
    "bool_parsing": "give true or false",
    "list_type": "give a list (in square brackets)",
    "dict_type": "give an object (in curly brackets)",
    "model_type": "give an object (in curly brackets)",
    "model_attributes_type": "give an object (in curly brackets)",
    "extra_forbidden": "this field is not known here; check its spelling",
    "json_invalid": "the body is not valid JSON; check for a missing bracket, comma or quote",
    "json_type": "the body must be a JSON object",
}


def validation_problems(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems, each naming its field in dotted form."""
    out = []
    for err in exc.errors(include_url=False):
        kind = err.get("type", "invalid")
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        ctx = err.get("ctx") or {}
        reason = str(ctx.get("error", ""))  # e.g. "number out of range at line 1 column 9"
        if kind == "json_invalid" and "recursion limit" in reason:
            kind = "json_too_deep"  # a bracket bomb, not a typo: say so
            message, params = "the body is nested too deeply to be a place; send plain GeoJSON", {}
        elif kind == "json_invalid" and reason:
            message, params = f"{_TYPE_MESSAGES[kind]} ({reason})", {}
        elif kind in ("enum", "literal_error"):
            expected = str(ctx.get("expected", "")).replace("'", "")
            message = f"choose one of: {expected}"
            params: dict[str, Any] = {"choices": expected}
        else:
            message = _TYPE_MESSAGES.get(kind, str(err.get("msg", "invalid value")))
            params = {}
        out.append(Problem(where, kind, message, params))
    return out


class NarrativeAdditionIn(_Input):
    """A memory of a place, or a translation of one of its stories, added by a resident."""

    kind: Literal["memory", "translation"] = Field(
        description="'memory': your own memory of the place; 'translation': one of its "
        "stories in another language"
    )
    text: str = Field(description="plain text (no HTML or other markup)")
    language: str = Field(description="BCP 47 language tag of the text, e.g. 'pt', 'ar'")
    translates: str | None = Field(
        None,
        description="for a translation: the story it translates, as the place's narratives "
        "name it (an added story's id, otherwise the story's language tag)",
    )
    provenance: Literal["community_translation", "machine_translation"] | None = Field(
        None, description="for a translation: made by a person (default) or by a program"
    )
    author: str | None = Field(None, description="the name to show with it, if any")
    contact: str | None = Field(
        None, description="e-mail or phone, kept private: only to erase it on your request"
    )
    consent: bool = Field(
        description="must be true: it may be shown with the place and included in its "
        "open-data downloads, under the place's licence"
    )
