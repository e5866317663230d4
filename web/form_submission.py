"""The plain contribution form's fields read into an API submission: the same GeoJSON
Feature the API takes, with problems for what cannot be read (the new-place form and the
edit page share it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.datastructures import FormData, UploadFile

from geodata.errors import FieldProblem, InvalidInput
from geodata.schemas import LICENCES, Problem

TEXT_FIELDS = (
    "title",
    "narrative",
    "narrative_language",
    "translation",
    "translation_language",
    "translation_provenance",
    "category",
    "period",
    "year_from",
    "year_to",
    "tags",
    "contributor_name",
    "contributor_contact",
    "display_name",
    "licence",
    "sensitivity",
    "workshop",
    "latitude",
    "longitude",
    "geometry",
    "caption",
    "submission_id",
    # a recording sent with a new place (web.routes.new_place_voice)
    "voice_scope",
    "voice_title",
    "voice_transcript",
    "voice_language",
)
CHECKBOXES = ("consent_publish", "consent_open_data", "consent_research")


def form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: str(form.get(k) or "") for k in TEXT_FIELDS if not isinstance(form.get(k), UploadFile)
    }
    for box in CHECKBOXES:
        values[box] = form.get(box) is not None
    return values


def form_number(text: str, where: str, problems: list[Problem], *, integer: bool) -> Any:
    text = text.strip().replace(",", ".") if not integer else text.strip()
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        code = "int_parsing" if integer else "coordinates_not_numbers"
        message = (
            "give a whole number, such as 1960"
            if integer
            else "latitude and longitude must be numbers, such as 38.7101 and -9.1402"
        )
        problems.append(Problem(where, code, message))
        return None


def geometry_from_form(values: Mapping[str, Any], problems: list[Problem]) -> Any:
    drawn = values.get("geometry", "").strip()
    if drawn:
        try:
            return orjson.loads(drawn)
        except orjson.JSONDecodeError:
            problems.append(
                Problem(
                    "geometry",
                    "bad_coordinates",
                    "the shape drawn on the map could not be read; draw it again",
                )
            )
            return None
    lat = form_number(values.get("latitude", ""), "geometry", problems, integer=False)
    lon = form_number(values.get("longitude", ""), "geometry", problems, integer=False)
    if problems and problems[-1].field == "geometry":
        return None
    if lat is None or lon is None:
        problems.append(
            Problem(
                "geometry",
                "no_location",
                "put the place on the map: tap it, or give its latitude and longitude",
            )
        )
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def properties_from_form(
    values: Mapping[str, Any], problems: list[Problem], partial: bool = False
) -> dict[str, Any]:
    narratives = [
        {
            "text": values.get("narrative", ""),
            "language": values.get("narrative_language", ""),
            "provenance": "original",
        }
    ]
    if values.get("translation", "").strip():
        narratives.append(
            {
                "text": values["translation"],
                "language": values.get("translation_language", ""),
                "provenance": values.get("translation_provenance") or "community_translation",
            }
        )
    props: dict[str, Any] = {
        "title": values.get("title", ""),
        "narratives": narratives,
        "category": values.get("category", ""),
        "period": values.get("period") or None,
        "year_from": form_number(
            values.get("year_from", ""), "properties.year_from", problems, integer=True
        ),
        "year_to": form_number(
            values.get("year_to", ""), "properties.year_to", problems, integer=True
        ),
        "tags": [t.strip() for t in values.get("tags", "").split(",") if t.strip()],
        "contributor": {
            "name": values.get("contributor_name") or None,
            "contact": values.get("contributor_contact") or None,
            "display_name": values.get("display_name") or None,
        },
        "consent": {
            "publish": values.get("consent_publish", False),
            "open_data": values.get("consent_open_data", False),
            "research": values.get("consent_research", False),
        },
        "licence": values.get("licence") or LICENCES[0],
        "sensitivity": values.get("sensitivity") or "public",
    }
    if not partial:
        props["workshop"] = values.get("workshop") or None
    return props


def merge_problems(first: list[Problem], exc: InvalidInput) -> list[FieldProblem]:
    """Form-level problems, plus the domain's for fields the form did not already fault."""
    faulted = {p.field for p in first}
    return [*first, *(p for p in exc.problems if p.field not in faulted)]
