"""Request guards: a body-size limit on every endpoint, and the form's CSRF token.

The size limit is plain ASGI (no per-request task or buffering): a declared
Content-Length over the limit is refused before a byte is read, and a body that
streams past it is cut off as soon as it does. Both answer 413 problem+json.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import problem
from web.i18n import N_, translate_text
from web.language_choice import negotiate

TOO_LARGE = N_("The request is too large: {size} bytes where the limit is {limit}.")
TOO_LARGE_STREAMED = N_("The request is too large: the limit is {limit} bytes.")


class BodyTooLarge(HTTPException):
    """Raised while reading a body that streams past its limit (answered as 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, TOO_LARGE_STREAMED.format(limit=limit))


class BodySizeLimit:
    """Refuse request bodies over a limit; ``routes`` gives some paths a larger one."""

    def __init__(self, app: ASGIApp, limit: int, routes: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.limit = limit
        self.routes = [(re.compile(pattern), size) for pattern, size in routes]

    def limit_for(self, path: str) -> int:
        for pattern, size in self.routes:
            if pattern.fullmatch(path):
                return size
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
                break
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(
                    scope, receive, send, 400, "the Content-Length header is not a number", None
                )
                return
            if int(declared) > limit:
                await self._refuse(
                    scope, receive, send, 413, TOO_LARGE, {"size": int(declared), "limit": limit}
                )
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, message: str, params: dict | None
    ) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        language = negotiate(headers.get("accept-language"))
        detail = translate_text(message, language)
        if params:
            detail = detail.format(**params)
        code = "body_too_large" if status == 413 else "bad_content_length"
        response = problem(
            status,
            detail,
            code=code,
            instance=scope["path"],
            headers={"Connection": "close", "Content-Language": language},
        )
        await response(scope, receive, send)


# ---------------------------------------------------------------------------
# CSRF: a signed double-submit token for the HTML form
# ---------------------------------------------------------------------------

CSRF_COOKIE = "heritage_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_S = 24 * 3600  # a form left open all day on a workshop table still works


def _signer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="heritage-atlas-form")


def issue_csrf_token(secret: bytes) -> str:
    """A fresh token: the same value goes in a cookie and in the form's hidden field."""
    return _signer(secret).dumps(secrets.token_urlsafe(16))


def csrf_token_valid(
    secret: bytes, cookie: str | None, submitted: str | None, max_age_s: int = CSRF_MAX_AGE_S
) -> bool:
    """Whether the form's token matches the cookie's and carries our recent signature.

    Another site can make a browser post our form, but it can neither read our cookie
    nor set one with our signature, so it cannot send the matching pair.
    """
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        return False
    try:
        _signer(secret).loads(submitted, max_age=max_age_s)
    except BadSignature:  # includes SignatureExpired
        return False
    return True


def install_middleware(app, max_body_bytes: int, upload_routes: dict[str, int]) -> None:
    """Add the body-size limit to ``app`` (call once, from the app factory)."""
    app.add_middleware(BodySizeLimit, limit=max_body_bytes, routes=list(upload_routes.items()))
