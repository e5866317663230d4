"""Reading a request's JSON body ourselves (not by FastAPI's body parsing), so that every
error, malformed JSON included, is problem+json with field errors: the media type, members
named twice, validation into a model."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError

from geodata.errors import HeritageError, InvalidInput
from geodata.schemas import Problem, validation_problems

JSON_TYPES = ("application/json", "application/geo+json")


class UnsupportedMediaType(HeritageError):
    code = "unsupported_media_type"
    status = 415


def require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"send the place as JSON with 'Content-Type: application/json' (got "
            f"{media_type or 'no Content-Type'!r})"
        )


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise InvalidInput(
                f"{name!r} appears twice in one object; send each member once",
                code="duplicate_member",
                problems=[Problem(name, "duplicate_member", "this member appears twice")],
            )
        seen.add(name)
    return dict(pairs)


def parse_json(model: type[BaseModel], body: bytes) -> Any:
    """Validate ``body`` into ``model``; malformed JSON is a 400, wrong fields a 422.

    A member named twice in one object is refused: parsers disagree on which one counts
    (the first or the last), so what a client meant is not known."""
    try:
        parsed = model.model_validate_json(body)
        json.loads(body, object_pairs_hook=_unique_members)  # after: the body is valid JSON
        return parsed
    except ValidationError as exc:
        problems = validation_problems(exc)
        broken = any(p.code in ("json_invalid", "json_type", "json_too_deep") for p in problems)
        error = InvalidInput(
            problems[0].message
            if broken
            else "; ".join(f"{p.field}: {p.message}" for p in problems[:3]),
            code="malformed_json" if broken else "invalid_input",
            problems=problems,
        )
        if broken:
            error.status = 400
        raise error from None
