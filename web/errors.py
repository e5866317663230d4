"""Every error the API answers is RFC 9457 problem details (``application/problem+json``).

Domain errors are mapped here once; handlers never leak tracebacks.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from geodata.errors import FieldProblem, HeritageError

log = logging.getLogger("heritage_atlas")
PROBLEM_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[FieldProblem] | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response; ``errors`` lists field-level problems."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}" if code else "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if code:
        body["code"] = code
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "code": e.code, "message": e.message} for e in errors]
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_TYPE, headers=headers
    )


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details, with a list of field errors",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Say in the OpenAPI document what every 4xx really is: problem+json (and, for the
    HTML forms, also an HTML page), not FastAPI's default validation-error JSON."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem_content = {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            html = "text/html" in responses.get("200", {}).get("content", {})
            for status, response in responses.items():
                if status.startswith("4"):
                    response["content"] = dict(problem_content)
                    if html:
                        response["content"]["text/html"] = {"schema": {"type": "string"}}
    return schema


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _pydantic_message(err: dict[str, Any]) -> str:
    kind, msg = err.get("type", ""), err.get("msg", "invalid value")
    if kind == "missing":
        return "this field is required"
    if kind == "json_invalid":
        return "the body is not valid JSON; check for a missing bracket or quote"
    # Pydantic prefixes custom errors with "Value error, "; people do not need it.
    return msg.removeprefix("Value error, ")


def install_error_handlers(app: FastAPI) -> None:
    documented = app.openapi
    app.openapi = lambda: document_problems(documented())  # type: ignore[method-assign]

    @app.exception_handler(HeritageError)
    async def heritage_error(request: Request, exc: HeritageError) -> Response:
        retry_after = getattr(exc, "retry_after", None)  # rate limits and locks say when
        return problem(
            exc.status,
            exc.message,
            code=exc.code,
            errors=exc.problems,
            instance=request.url.path,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            FieldProblem(
                _field_path(tuple(e.get("loc", ()))), e.get("type", "invalid"), _pydantic_message(e)
            )
            for e in exc.errors()
        ]
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
        return problem(
            422,
            detail or "invalid input",
            code="invalid_input",
            errors=problems,
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return problem(
            exc.status_code,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "something went wrong on our side; it has been logged",
            code="server_error",
            instance=request.url.path,
        )
