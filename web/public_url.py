"""The address the service is reached at, for every absolute link it hands out.

Edit links, join links and QR codes, OGC API links and the downloads' ``Link`` header
are built by :func:`public_base_url`: ``HERITAGE_PUBLIC_URL`` when it is set, otherwise
the request's own address. A request's ``Host`` header is whatever the client wrote, so
it is only trusted (by :class:`TrustedHosts`, for every request) when it is

- a name in ``HERITAGE_ALLOWED_HOSTS`` (``*.example.org`` matches every subdomain, ``*``
  anything; by default the loopback names), or the host of ``HERITAGE_PUBLIC_URL``;
- the very IP address the connection arrived at (a phone on the workshop's Wi-Fi that
  opened ``http://192.168.1.20:8000/``): a link to it leads back here, never elsewhere;
- absent (HTTP/1.0): then the connection's address is used.

Any other host gets a 400 (problem+json, or a short page for a browser) instead of a
page whose links lead to a site of the sender's choosing. That also stops DNS
rebinding: a web page whose own name was pointed at this machine cannot read from it.
"""

from __future__ import annotations

import html
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from geodata.errors import HeritageError
from web.errors import problem
from web.i18n import N_, direction, translate_text
from web.language_choice import request_language
from web.settings import Settings

UNTRUSTED_HOST = N_(
    "This service does not answer to the address {host}. If it should, its operator "
    "can add the name to HERITAGE_ALLOWED_HOSTS or set HERITAGE_PUBLIC_URL."
)
BAD_HOST = N_("The request's Host header is not a host name or address.")
_NAME = re.compile(r"[a-z0-9_.-]+")  # what a DNS name or an IPv4 address is made of


class UntrustedHost(HeritageError):
    """A ``Host`` header naming an address that is not this service's."""

    code = "untrusted_host"
    status = 400


def host_of(value: str) -> str | None:
    """The host of a ``Host`` header (``example.org:8000``, ``[::1]:8000``), in lower
    case without port, brackets or final dot; ``None`` if it is no host at all."""
    value = value.strip().lower()
    if value.startswith("["):  # an IPv6 address
        end = value.find("]")
        host, rest = value[1:end], value[end + 1 :]
        if end < 0 or (rest and not (rest[:1] == ":" and rest[1:].isdigit())):
            return None
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            return None
    host, colon, port = value.partition(":")
    if colon and not port.isdigit():
        return None
    host = host.removesuffix(".")
    return host if host and _NAME.fullmatch(host) else None


@dataclass(frozen=True)
class HostRules:
    """Which ``Host`` values name this service (Starlette's TrustedHostMiddleware rules,
    plus the address of the connection itself)."""

    names: frozenset[str]
    suffixes: tuple[str, ...]  # from "*.example.org": ".example.org"
    everything: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> HostRules:
        patterns = list(settings.allowed_hosts)
        if settings.public_url and (public := urlsplit(settings.public_url).hostname):
            patterns.append(public.lower())
        return cls(
            names=frozenset(p for p in patterns if not p.startswith("*")),
            suffixes=tuple(p[1:] for p in patterns if p.startswith("*.")),
            everything="*" in patterns,
        )

    def allows(self, host: str, server: str | None = None) -> bool:
        """Whether ``host`` (from :func:`host_of`) names us; ``server`` is the address
        the connection arrived at."""
        return (
            self.everything
            or host in self.names
            or host.endswith(self.suffixes)
            or (server is not None and host == server.lower())
        )

    def check(self, scope: Scope) -> str | None:
        """``None`` if the request's ``Host`` may be trusted, else what to answer."""
        header = Headers(scope=scope).get("host")
        if header is None or self.everything:
            return None
        host = host_of(header)
        if host is None:
            return BAD_HOST
        server = scope.get("server")
        return None if self.allows(host, server[0] if server else None) else UNTRUSTED_HOST


def host_rules(app: FastAPI, settings: Settings) -> HostRules:
    rules = getattr(app.state, "host_rules", None)
    return rules if rules is not None else HostRules.from_settings(settings)


def public_base_url(request: Request, settings: Settings) -> str:
    """Where this service is reached, without a final ``/``: ``HERITAGE_PUBLIC_URL``,
    else the request's own address once its ``Host`` is found trustworthy.

    Example: ``public_base_url(request, settings) + "/contribute"``.
    """
    if settings.public_url:
        return settings.public_url.rstrip("/")
    # TrustedHosts has refused other hosts already; this guards an app built without it.
    if host_rules(request.app, settings).check(request.scope) is not None:
        raise UntrustedHost(
            UNTRUSTED_HOST.format(host=request.headers.get("host", "")), code="untrusted_host"
        )
    return str(request.base_url).rstrip("/")


def public_url_for(request: Request, settings: Settings, name: str, **path_params: str) -> str:
    """The absolute public URL of the route called ``name``."""
    return public_base_url(request, settings) + str(request.app.url_path_for(name, **path_params))


class TrustedHosts:
    """Pure ASGI middleware: answer 400 to a request whose ``Host`` is not ours."""

    def __init__(self, app: ASGIApp, rules: HostRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.rules.check(scope) if scope["type"] in ("http", "websocket") else None
        if refusal is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.refuse(refusal, scope)(scope, receive, send)

    @staticmethod
    def refuse(message: str, scope: Scope) -> Response:
        request = Request(scope)
        language = request_language(request)
        host = request.headers.get("host", "")
        detail = translate_text(message, language).format(host=host)
        headers = {"Content-Language": language, "Cache-Control": "no-store"}
        accept = request.headers.get("accept", "").lower()
        html_at, json_at = accept.find("text/html"), accept.find("json")
        if html_at == -1 or (json_at != -1 and json_at < html_at):
            return problem(
                400, detail, code="untrusted_host", instance=scope["path"], headers=headers
            )
        page = (
            f'<!doctype html><html lang="{language}" dir="{direction(language)}">'
            '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            f"<title>Heritage Atlas</title></head><body><h1>Heritage Atlas</h1>"
            f"<p>{html.escape(detail)}</p></body></html>"
        )
        return HTMLResponse(page, status_code=400, headers=headers)


def install_host_guard(app: FastAPI, settings: Settings) -> None:
    """Refuse foreign ``Host`` headers (call once, from the app factory)."""
    app.state.host_rules = HostRules.from_settings(settings)
    app.add_middleware(TrustedHosts, rules=app.state.host_rules)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int, settings: Settings) -> str | None:
    """What ``serve`` should say when it listens beyond this machine with neither the
    public address nor the allowed host names configured, else ``None``."""
    if is_loopback(host) or settings.public_url or "allowed_hosts" in settings.model_fields_set:
        return None
    example = host if host not in ("", "0.0.0.0", "::") else "192.168.1.20"
    if ":" in example:
        example = f"[{example}]"
    return (
        f"listening on {host} without HERITAGE_PUBLIC_URL or HERITAGE_ALLOWED_HOSTS: "
        "requests are answered only for this machine's IP addresses and localhost, and "
        "join links and QR codes show whatever address your own browser used. Set "
        f"HERITAGE_PUBLIC_URL to the address people reach (e.g. http://{example}:{port}), "
        "or HERITAGE_ALLOWED_HOSTS to the names this machine is reached by."
    )
