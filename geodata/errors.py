"""Domain errors: each carries a machine-readable code and a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one input field (``field`` is a dotted path such as ``geometry``)."""

    field: str
    code: str
    message: str


class HeritageError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"
    status = 400

    def __init__(
        self, message: str, *, code: str | None = None, problems: list[FieldProblem] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.problems: list[FieldProblem] = problems or []


class GeometryError(HeritageError):
    """A geometry that cannot be accepted; the message says why and where."""

    code = "invalid_geometry"
    status = 422


class InvalidInput(HeritageError):
    """Input that breaks a rule other than geometry (missing title, unknown category...)."""

    code = "invalid_input"
    status = 422


class NotFound(HeritageError):
    code = "not_found"
    status = 404


class Conflict(HeritageError):
    """The stored record changed since the caller read it (optimistic concurrency)."""

    code = "conflict"
    status = 409


class SourceError(HeritageError):
    """A file that cannot be read as vector data, or lacks what the import needs."""

    code = "unreadable_source"
    status = 400


@dataclass
class Rejection:
    """A feature refused by a bulk operation: its position/identifier and why."""

    index: int
    feature_id: str | None
    code: str
    message: str
    extra: dict = field(default_factory=dict)
