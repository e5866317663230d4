"""Security headers on every response, the per-request CSP nonce, and a body read timeout.

Every answer gets ``X-Content-Type-Options``, ``Referrer-Policy``, ``X-Frame-Options``,
``Permissions-Policy``, ``Cross-Origin-Opener-Policy`` (and HSTS over https) and a
Content-Security-Policy that lets only our own scripts and styles run: files served by
us, and inline ``<script>``/``<style>`` elements carrying this request's nonce
(:func:`add_nonce` marks the ones a page wrote itself, e.g. folium's).
A route that needs a different policy (a photo, the staff pages) sets its own header;
the middleware only fills in what is missing.

A client that stops sending half-way through its body gets a 408 after
``body_timeout_s`` instead of holding a worker and a connection for ever; so does one
that keeps sending too slowly to finish: after ``body_timeout_s``, the body must have
come at ``body_min_rate`` bytes a second on average (one byte every 29 seconds is cut
off after about 30 seconds, a photo over a poor phone connection is not). Heads, and
bodies the application never reads, are timed by :mod:`web.server`.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.i18n import N_, translate_text
from web.language_choice import negotiate
from web.settings import Settings

NONCE_STATE = "csp_nonce"
# Features no page of ours uses are switched off; the contribution form may locate the
# resident, so geolocation stays allowed for our own origin, and record a voice, so the
# microphone does too.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(self), payment=(), usb=(), serial=(), bluetooth=(), midi=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), "
    "interest-cohort=(), geolocation=(self)"
)
BODY_TIMEOUT_S = 30.0
# The slowest average a body may arrive at once BODY_TIMEOUT_S has passed, in bytes a
# second (Apache's mod_reqtimeout uses the same rule and rate): a 9 MiB photo may take
# five hours, a trickle of a byte now and then is cut off.
BODY_MIN_RATE = 500.0
BODY_STOPPED = N_("The request body stopped arriving for {seconds} seconds; send it again.")
BODY_TOO_SLOW = N_(
    "The request body arrived too slowly (under {rate} bytes a second); send it again."
)
# An opening <script> or <style> tag that has no nonce yet.
_INLINE_TAG = re.compile(r"<(script|style)\b(?![^>]*\bnonce=)", re.IGNORECASE)


def tile_origins(settings: Settings) -> str:
    """The origin(s) of the configured map tiles, for ``img-src`` (empty without tiles)."""
    if not settings.tiles_enabled:
        return ""
    parts = urlsplit(settings.tiles.replace("{s}", "subdomain"))
    if parts.scheme not in ("http", "https") or not parts.netloc or "{" in parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.replace('subdomain', '*')}"


def content_security_policy(
    nonce: str,
    *,
    img_origins: str = "",
    style_attributes: bool = False,
    frame_ancestors: str = "'self'",
) -> str:
    """Scripts and styles only from us: our files, or inline elements with ``nonce``.

    ``style_attributes`` allows ``style="..."`` attributes (map legends and pins colour
    themselves that way); they can restyle a page but never run code.
    """
    policy = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        f"img-src 'self' data: blob:{' ' + img_origins if img_origins else ''}",
        "font-src 'self' data:",
        "media-src 'self' blob:",  # blob: a voice just recorded, heard before it is sent
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ]
    if style_attributes:
        policy.insert(3, "style-src-attr 'unsafe-inline'")
    return "; ".join(policy)


def csp_nonce(request: Request) -> str:
    """This request's nonce: put it on every inline ``<script>`` and ``<style>`` a page
    writes (templates get it as ``nonce``)."""
    nonce = getattr(request.state, NONCE_STATE, None)
    if nonce is None:  # an app without the middleware (a unit test): still a fresh one
        nonce = secrets.token_urlsafe(18)
        setattr(request.state, NONCE_STATE, nonce)
    return nonce


def add_nonce(html: str, nonce: str) -> str:
    """Mark every inline ``<script>`` and ``<style>`` element of ``html`` with ``nonce``.

    Only for HTML whose markup is ours: text people typed must already be escaped (no
    ``<`` survives in it), so every tag found here is one we wrote.
    """
    return _INLINE_TAG.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', html)


class SecurityHeaders:
    """Pure ASGI middleware: a nonce per request, the security headers on every answer,
    and a timeout on each wait for the next piece of a request body."""

    def __init__(
        self,
        app: ASGIApp,
        img_origins: str = "",
        body_timeout_s: float = BODY_TIMEOUT_S,
        body_min_rate: float = BODY_MIN_RATE,
    ) -> None:
        self.app = app
        self.img_origins = img_origins
        self.body_timeout_s = body_timeout_s
        self.body_min_rate = body_min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})[NONCE_STATE] = nonce
        defaults = {
            "Content-Security-Policy": content_security_policy(nonce, img_origins=self.img_origins),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "SAMEORIGIN",
            "Permissions-Policy": PERMISSIONS_POLICY,
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if scope.get("scheme") == "https":  # behind a TLS proxy: browsers keep to https
            defaults["Strict-Transport-Security"] = "max-age=31536000"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in defaults.items():
                    headers.setdefault(name, value)
                if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        body_done = False
        started: float | None = None  # when the application first asked for the body
        received = 0

        async def timed_receive() -> Message:
            nonlocal body_done, started, received
            if body_done:  # after the body, receive() waits for a disconnect: no limit
                return await receive()
            now = time.monotonic()
            if started is None:
                started = now
            # The body's deadline moves on by a second for every body_min_rate bytes.
            left = started + self.body_timeout_s + received / self.body_min_rate - now
            wait = min(self.body_timeout_s, left)
            try:
                if wait <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), wait)
            except TimeoutError:
                too_slow = wait < self.body_timeout_s
                raise self._timeout(scope, too_slow) from None
            received += len(message.get("body", b""))
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, timed_receive, send_with_headers)

    def _timeout(self, scope: Scope, too_slow: bool) -> HTTPException:
        """408, in the client's language, asking it to close the connection."""
        accept = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
        language = negotiate(accept.decode("latin-1") or None)
        if too_slow:
            detail = translate_text(BODY_TOO_SLOW, language).format(rate=f"{self.body_min_rate:g}")
        else:
            detail = translate_text(BODY_STOPPED, language).format(
                seconds=f"{self.body_timeout_s:g}"
            )
        headers = {"Connection": "close", "Content-Language": language}
        return HTTPException(408, detail, headers=headers)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the security headers (call once, from the app factory)."""
    app.add_middleware(SecurityHeaders, img_origins=tile_origins(settings))
