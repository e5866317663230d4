"""The HTTP server's guard against slow and idle clients (uvicorn's h11 protocol, extended).

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but nothing
bounds how long a request head may take: a client that sends one header byte every few
seconds holds its connection for ever, and a body nobody reads (a POST answered 404)
can trickle for ever too. And uvicorn's ``limit_concurrency`` counts open connections,
so 1,000 such clients got every honest request answered 503. :class:`GuardedH11Protocol`
adds, per connection:

- a deadline for the request head: ``header_timeout_s`` from the connection's start,
  and on a kept-alive connection from the first byte of each next request (waiting
  for that byte is ``timeout_keep_alive``'s business); a client that has sent part of
  a head gets ``408`` and the connection is closed;
- a deadline for a request body the application answered without reading (the same
  ``header_timeout_s`` from the answer: time enough to finish sending, so that closing
  does not reset the answer away, but no more);
- a cap on open connections per client address in this worker, except for the
  trusted proxies' addresses (every client arrives from the proxy);
- ``max_requests``: requests in progress at once in this worker, over which a request
  gets 503; connections that are open but have no request in progress do not count
  (in asyncio a waiting socket costs a few kilobytes, not a thread).

A body the application reads is timed by :class:`web.security.SecurityHeaders`, which
answers 408 when it stops arriving or arrives too slowly.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from web.settings import Settings

log = logging.getLogger("uvicorn.error")
# Sent, then the connection closed, to a client that started a request head and did not
# finish it in time (a browser on a reused connection sends its request again).
REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
REFUSALS_LOG_EVERY_S = 60.0
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ClientLimits:
    """What one worker allows each connection (picklable: it travels to every worker)."""

    header_timeout_s: float = 10.0
    max_connections_per_client: int = 256  # 0: no cap
    max_requests: int | None = 1000  # in progress at once; None: no limit
    exempt: tuple[str, ...] = ()  # trusted proxies: addresses or networks, never capped


@dataclass
class ConnectionBook:
    """One server's open connections per client address, and its refusals."""

    exempt: tuple[IpNetwork, ...] | None  # None: every address is exempt ("*")
    open: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    refusals_logged_at: float = float("-inf")


_books: WeakKeyDictionary[ServerState, ConnectionBook] = WeakKeyDictionary()


def parse_networks(entries: Iterable[str]) -> tuple[IpNetwork, ...] | None:
    """Addresses and networks (``10.0.0.5``, ``10.0.0.0/8``, ``::1``); ``None`` for ``*``.

    Names that are not addresses (a Unix socket path, ``unix:``) are left out.
    """
    networks: list[IpNetwork] = []
    for entry in entries:
        entry = entry.strip()
        if entry == "*":
            return None
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def is_exempt(host: str, exempt: tuple[IpNetwork, ...] | None) -> bool:
    if exempt is None:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in exempt)


def _book(server_state: ServerState, config: Config, limits: ClientLimits) -> ConnectionBook:
    book = _books.get(server_state)
    if book is None:
        book = _books[server_state] = ConnectionBook(parse_networks(limits.exempt))
    return book


def limit_requests(app: Any, tasks: set[asyncio.Task[None]], limit: int) -> Any:
    """``app``, answering 503 while more than ``limit`` requests are in progress."""

    async def limited(scope: Any, receive: Any, send: Any) -> None:
        # uvicorn adds this request's task to ``tasks`` before the task starts.
        if scope["type"] == "http" and len(tasks) > limit:
            log.warning("Exceeded concurrency limit.")
            await service_unavailable(scope, receive, send)
            return
        await app(scope, receive, send)

    return limited


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines for heads and unread bodies, and a cap on
    connections per client address (see the module's docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ClientLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self.book = _book(server_state, config, limits)
        self.counted_as: str | None = None
        self.deadline: asyncio.TimerHandle | None = None
        self.waiting_for: str | None = None  # "head" or "body"
        # Our limit replaces uvicorn's, which counts idle connections as well.
        self.limit_concurrency = None
        if limits.max_requests is not None:
            self.app = limit_requests(self.app, self.tasks, limits.max_requests)

    # -- the connection's life --------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else None
        cap = self.limits.max_connections_per_client
        if host is not None and cap and not is_exempt(host, self.book.exempt):
            if self.book.open[host] >= cap:
                self._refuse(host)
                return
            self.book.open[host] += 1
            self.counted_as = host
        self._wait_for("head", self.limits.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._stop_waiting()
        if self.counted_as is not None:
            self.book.open[self.counted_as] -= 1
            if self.book.open[self.counted_as] <= 0:
                del self.book.open[self.counted_as]
            self.counted_as = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            self._stop_waiting()
        elif self.conn.their_state is h11.IDLE and not self.conn.trailing_data[0]:
            # Nothing of a next request yet: uvicorn's keep-alive timer now runs.
            self._stop_waiting()
        else:
            self._stop_waiting()  # a next head, if any, is timed from now
            self._watch()

    # -- deadlines --------------------------------------------------------------------

    def _watch(self) -> None:
        """Arm or clear the deadline for what the client now owes us."""
        if self.transport.is_closing():
            return
        theirs, ours = self.conn.their_state, self.conn.our_state
        if theirs is h11.IDLE:  # (part of) a request head, timed from its first byte
            if self.waiting_for != "head":
                self._wait_for("head", self.limits.header_timeout_s)
        elif theirs is h11.SEND_BODY and ours in (h11.DONE, h11.MUST_CLOSE):
            # Answered without reading the body: let the client finish sending it (so the
            # close does not reset the answer away), but not for ever.
            if self.waiting_for != "body":
                self._wait_for("body", self.limits.header_timeout_s)
        else:  # a request in progress: the application's time, and its body timeout
            self._stop_waiting()

    def _wait_for(self, what: str, seconds: float) -> None:
        self._stop_waiting()
        self.waiting_for = what
        self.deadline = self.loop.call_later(seconds, self._deadline_passed)

    def _stop_waiting(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = None
        self.waiting_for = None

    def _deadline_passed(self) -> None:
        waiting_for, self.deadline, self.waiting_for = self.waiting_for, None, None
        if self.transport.is_closing():
            return
        if waiting_for == "head" and self.conn.their_state is h11.IDLE:
            if self.conn.trailing_data[0]:
                self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()
        elif waiting_for == "body" and self.conn.their_state is h11.SEND_BODY:
            self.transport.close()

    # -- the per-address cap ----------------------------------------------------------

    def _refuse(self, host: str) -> None:
        self.transport.close()
        book = self.book
        book.refused += 1
        now = time.monotonic()
        if now - book.refusals_logged_at >= REFUSALS_LOG_EVERY_S:
            log.warning(
                "Closed %d connection(s) over the cap of %d per client address since the "
                "last such report (the last from %s); next report in a minute at the earliest.",
                book.refused,
                self.limits.max_connections_per_client,
                host,
            )
            book.refused, book.refusals_logged_at = 0, now


def guarded_protocol(limits: ClientLimits) -> Callable[..., GuardedH11Protocol]:
    """The ``http=`` argument for uvicorn: our protocol with ``limits`` (picklable, so
    it also reaches the worker processes)."""
    return functools.partial(GuardedH11Protocol, limits=limits)


def raise_open_file_limit() -> int | None:
    """Raise this process's open-file soft limit to its hard limit (each connection is
    one file); the limit now in force, or ``None`` where there is no such limit."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return None if soft == resource.RLIM_INFINITY else soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # macOS refuses more than OPEN_MAX: keep what we have
        return soft
    return target


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine (``127.0.0.1``, ``::1``...)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run_server(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    max_requests: int | None = 1000,
    keep_alive_s: float | None = None,
) -> None:
    """Serve ``web.asgi:app`` with uvicorn and our protocol, until stopped."""
    import uvicorn

    limits = ClientLimits(
        header_timeout_s=settings.header_timeout_s,
        max_connections_per_client=settings.max_connections_per_client,
        max_requests=max_requests,
        # Every client arrives from a trusted proxy's address: the cap is not for them.
        exempt=tuple(settings.trusted_proxies),
    )
    uvicorn.run(
        "web.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # h11 (not httptools) because it caps the request line and headers: 64 KB is
        # generous for any browser, and a megabyte of headers is refused with a 400.
        http=guarded_protocol(limits),  # type: ignore[arg-type]
        h11_max_incomplete_event_size=64 * 1024,
        limit_concurrency=None,  # ours (max_requests) does not count idle connections
        timeout_keep_alive=keep_alive_s or settings.keep_alive_s,  # type: ignore[arg-type]
        timeout_graceful_shutdown=30,
        # The client behind a proxy comes from HERITAGE_TRUSTED_PROXIES alone
        # (web.client_address); uvicorn would otherwise believe any X-Forwarded-For
        # sent from 127.0.0.1.
        proxy_headers=False,
    )
