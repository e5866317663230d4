"""Who the client is behind our own reverse proxies: ``X-Forwarded-For`` and ``Forwarded``.

Rate limits and the audit trail key on ``scope["client"]``. Anyone can send either
header, so they are read only when the direct peer is one of the configured trusted
proxies (``HERITAGE_TRUSTED_PROXIES``: addresses and CIDR networks, none by default),
and then walked from the right, skipping our own proxies, as nginx's
``real_ip_recursive`` does: the first address that is not ours is the client. Entries
further left were written by the client itself and prove nothing.

A proxy keeps one of the two headers and passes the other through untouched, so a
client can forge the one our proxy does not keep. When a request carries both and
they name different clients, neither is believed and the peer stays the client.
An ``unknown`` or obfuscated hop (RFC 7239 ``for=_hidden``) ends the walk: the proxy
that reported it is taken as the client, never an entry to its left.

uvicorn's own handling is switched off (``proxy_headers=False`` in ``serve``) so this
is the only place the headers are read.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = {"http": ("http", "ws"), "https": ("https", "wss")}  # proto -> (http, websocket)
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PAIR = re.compile(rf'\s*({_TOKEN})\s*=\s*({_TOKEN}|"(?:[^"\\]|\\.)*")\s*')
_ESCAPE = re.compile(r"\\(.)")


class TrustedProxies:
    """A set of addresses and networks; ``host in proxies`` for a host string or address."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(e.strip(), strict=False) for e in entries]

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, host: object) -> bool:
        address = parse_address(host) if isinstance(host, str) else host
        return isinstance(address, IPAddress) and any(address in n for n in self.networks)


def parse_address(text: str) -> IPAddress | None:
    """An IP address (an IPv4-mapped IPv6 one as IPv4), or None if ``text`` is none."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class Hop:
    """One entry of a forwarding chain: the address a proxy saw (None if it did not say
    or hid it) and the protocol of that connection, if given."""

    address: IPAddress | None
    port: int = 0
    proto: str | None = None


def parse_node(text: str) -> tuple[IPAddress | None, int]:
    """A ``for=`` node or X-Forwarded-For entry: ``192.0.2.1``, ``192.0.2.1:80``,
    ``[2001:db8::1]:443``, bare ``2001:db8::1``; ``unknown`` and ``_obfuscated`` give None."""
    text = text.strip()
    host, port = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            return None, 0
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has more colons
        host, _, port = text.partition(":")
    address = parse_address(host)
    if address is None or (port and not (port.isdigit() and len(port) <= 5)):
        return address, 0
    return address, int(port) if port else 0


def parse_forwarded(values: Iterable[str]) -> list[Hop] | None:
    """The hops of ``Forwarded`` header values (RFC 7239), left to right; None if any
    value is malformed (then nothing in it can be believed). Empty elements are skipped;
    an element without ``for=`` is a hop whose address is unknown."""
    hops: list[Hop] = []
    for value in values:
        pairs: dict[str, str] = {}
        position = 0
        while True:
            match = _PAIR.match(value, position)
            if match is not None:
                name, raw = match.group(1).lower(), match.group(2)
                if name in pairs:
                    return None  # RFC 7239 section 4: once per element
                pairs[name] = _ESCAPE.sub(r"\1", raw[1:-1]) if raw.startswith('"') else raw
                position = match.end()
            rest = value[position:].lstrip(" \t")
            position = len(value) - len(rest)
            if not rest:
                break
            if rest[0] not in ",;":
                return None
            if rest[0] == "," and pairs:
                hops.append(_hop(pairs))
                pairs = {}
            position += 1
        if pairs:
            hops.append(_hop(pairs))
    return hops


def _hop(pairs: dict[str, str]) -> Hop:
    address, port = parse_node(pairs["for"]) if "for" in pairs else (None, 0)
    proto = pairs.get("proto", "").lower()
    return Hop(address, port, proto if proto in SCHEMES else None)


def parse_x_forwarded_for(values: Iterable[str], protos: Iterable[str] = ()) -> list[Hop]:
    """The hops of ``X-Forwarded-For`` (with ``X-Forwarded-Proto``), left to right.

    Protocols are matched to addresses one for one when both lists are as long;
    otherwise the last protocol (the nearest proxy's) goes with every hop.
    """
    entries = [e for value in values for e in value.split(",") if e.strip()]
    schemes = [p.strip().lower() for value in protos for p in value.split(",") if p.strip()]
    if len(schemes) != len(entries):
        schemes = [schemes[-1] if schemes else ""] * len(entries)
    hops = []
    for entry, scheme in zip(entries, schemes, strict=True):
        address, port = parse_node(entry)
        hops.append(Hop(address, port, scheme if scheme in SCHEMES else None))
    return hops


def client_hop(peer: Hop, hops: list[Hop], trusted: TrustedProxies) -> Hop:
    """The client: walk ``hops`` from the right past our trusted proxies (``peer`` is the
    nearest); the first hop that is not ours, or the last of ours before a hop that is
    unknown or hidden. Its ``proto`` is the one the outermost hop examined reported."""
    current, proto = peer, None
    for hop in reversed(hops):
        proto = hop.proto or proto
        if hop.address is None:
            break
        current = hop
        if hop.address not in trusted:
            break
    return Hop(current.address, current.port, proto)


def resolve(
    peer: tuple[str, int] | None, headers: list[tuple[bytes, bytes]], trusted: TrustedProxies
) -> Hop | None:
    """The client behind ``peer`` according to the forwarding headers, or None when they
    are not to be believed (peer not trusted, no header, headers that disagree)."""
    if peer is None or not trusted or peer[0] not in trusted:
        return None
    xff: list[str] = []
    xfp: list[str] = []
    forwarded: list[str] = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            xff.append(value.decode("latin-1"))
        elif name == b"x-forwarded-proto":
            xfp.append(value.decode("latin-1"))
        elif name == b"forwarded":
            forwarded.append(value.decode("latin-1"))
    start = Hop(parse_address(peer[0]), peer[1])
    answers = []
    if xff:
        answers.append(client_hop(start, parse_x_forwarded_for(xff, xfp), trusted))
    if forwarded:
        hops = parse_forwarded(forwarded)
        if hops is None:
            return None
        answers.append(client_hop(start, hops, trusted))
    if not answers or any(a.address != answers[0].address for a in answers):
        return None
    # Forwarded's proto= when it gives one, else X-Forwarded-Proto's.
    return next((a for a in reversed(answers) if a.proto), answers[0])


class ClientAddress:
    """ASGI middleware: the client address (and scheme) from trusted proxies' headers."""

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str]) -> None:
        self.app = app
        self.trusted = TrustedProxies(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            hop = resolve(scope.get("client"), scope["headers"], self.trusted)
            if hop is not None and hop.address is not None:
                scope = dict(scope)
                scope["client"] = (str(hop.address), hop.port)
                if hop.proto:
                    scope["scheme"] = SCHEMES[hop.proto][scope["type"] == "websocket"]
        await self.app(scope, receive, send)
