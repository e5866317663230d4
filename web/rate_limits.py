"""Rate limits on what anyone may do without an account: submit places, try workshop codes.

Every count is kept in the store (``count_hit``, fixed windows), so all workers share
it. Clients are told apart by the address :mod:`web.client_address` resolved; an IPv6
client by its /64 network, since one home or phone line is given a whole /64 and could
otherwise take a fresh address for every request.

- Submissions: ``submission_rate_limit`` per client per window; a submission attached
  to an open workshop counts against that workshop's own budget instead
  (``workshop_rate_limit``), so a room full of residents behind one NAT is not held to
  one client's share. Only a code the domain accepted (known and open now) reaches
  that budget.
- Workshop codes: a client may try ``join_code_rate_limit`` codes that are wrong or
  not open per window. A code that works costs nothing, but once the budget is spent
  every code is refused, so a refusal says nothing about the code tried.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import TypeVar

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from geodata.errors import FieldProblem, HeritageError, InvalidInput, NotFound
from geodata.models import Workshop
from geodata.store.base import PlaceStore
from web.client_address import parse_address
from web.i18n import localised_problem
from web.language_choice import request_language
from web.settings import Settings

T = TypeVar("T")
WORKSHOP_NOT_OPEN = "workshop_not_open"  # the domain's one problem for a wrong or shut code
WORKSHOP_FIELD = "properties.workshop"


class RateLimited(HeritageError):
    """Too many requests of one kind from one client (or for one workshop)."""

    code = "rate_limited"
    status = 429

    def __init__(
        self,
        message: str,
        *,
        retry_after: int,
        problems: list[FieldProblem] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, problems=problems, code=code)
        self.retry_after = retry_after


def install_rate_limit_answers(app: FastAPI) -> None:
    """A refusal is problem+json in the reader's language, with Retry-After, wherever it
    is raised (a browser gets the error page: :mod:`web.error_pages` wraps this)."""

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimited)
        headers = {"Retry-After": str(exc.retry_after)}
        return localised_problem(exc, request_language(request), request.url.path, headers)

    app.add_exception_handler(RateLimited, refused)


def client_host(request: Request) -> str:
    """The client's address, as resolved behind our trusted proxies."""
    return request.client.host if request.client else "unknown"


def rate_key(host: str) -> str:
    """What a per-client limit counts by: the IPv4 address, or the IPv6 /64 network."""
    address = parse_address(host)
    if address is None:
        return host[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_key(request: Request) -> str:
    return rate_key(client_host(request))


def retry_after(window_s: int, now: float | None = None) -> int:
    """Seconds until the current fixed window (of ``count_hit``) ends."""
    now = time.time() if now is None else now
    return max(1, int(window_s - now % window_s))


def _minutes(seconds: int) -> int:
    return seconds // 60 or 1


def count_submission(request: Request, workshop: str | None) -> None:
    """Count a submission (``workshop``: the open workshop it joins, checked by the domain)
    against that workshop's budget or its client's; RateLimited when over."""
    _submission_budget(request, workshop, cost=1)


def peek_submission(request: Request, workshop: str | None) -> None:
    """RateLimited if a submission would now be over its budget, counting nothing: a look
    before costly work such as decoding a photo (the submission itself counts later)."""
    _submission_budget(request, workshop, cost=0)


def _submission_budget(request: Request, workshop: str | None, cost: int) -> None:
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    window = settings.submission_rate_window_s
    if workshop:
        limit, bucket = settings.workshop_rate_limit, f"workshop:{workshop}"
    else:
        limit, bucket = settings.submission_rate_limit, f"submit:{client_key(request)}"
    if limit <= 0:
        return
    hits = store.count_hit(bucket, window, cost=cost)
    if (hits > limit) if cost else (hits >= limit):
        _refuse_submission(limit, window, workshop)


def _refuse_submission(limit: int, window: int, workshop: str | None) -> None:
    if workshop:
        message = (
            f"this workshop has received as many places as it can take for now ({limit} "
            f"per {_minutes(window)} minutes); wait a few minutes and send yours again"
        )
        raise RateLimited(
            message,
            retry_after=retry_after(window),
            problems=[FieldProblem(WORKSHOP_FIELD, "workshop_busy", message)],
        )
    raise RateLimited(
        f"too many submissions from this connection ({limit} per {_minutes(window)} "
        "minutes); wait a little and send it again",
        retry_after=retry_after(window),
    )


def count_join_code(request: Request, works: bool) -> None:
    """Count one workshop-code lookup by this client (``works``: the code did what was
    asked); RateLimited once its budget of codes that did not work is spent."""
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    limit, window = settings.join_code_rate_limit, settings.submission_rate_window_s
    if limit <= 0:
        return
    # A code that works only reads the count; one that does not adds to it. Both are
    # refused from the same point on: the limit-th failure is the last one answered.
    tried = store.count_hit(f"join:{client_key(request)}", window, cost=0 if works else 1)
    if (tried >= limit) if works else (tried > limit):
        message = (
            f"too many workshop codes were tried from this connection ({limit} per "
            f"{_minutes(window)} minutes); wait a few minutes and try again"
        )
        raise RateLimited(
            message,
            retry_after=retry_after(window),
            problems=[FieldProblem(WORKSHOP_FIELD, "too_many_codes", message)],
        )


def find_workshop(request: Request, code: str) -> Workshop:
    """The workshop with this code, for public pages (any state); NotFound counts against
    the client's budget of codes, and RateLimited once it is spent."""
    store: PlaceStore = request.app.state.store
    try:
        workshop = store.get_workshop(code)
    except NotFound:
        count_join_code(request, works=False)
        raise
    count_join_code(request, works=True)
    return workshop


def with_join_code(request: Request, code: str | None, prepare: Callable[[], T]) -> T:
    """Run the domain's check of a submission (``prepare``) that may carry a workshop
    code, counting the code against the client's budget when it is wrong or not open."""
    if not code or not code.strip():
        return prepare()
    try:
        prepared = prepare()
    except InvalidInput as exc:
        count_join_code(request, works=all(p.code != WORKSHOP_NOT_OPEN for p in exc.problems))
        raise
    count_join_code(request, works=True)
    return prepared
