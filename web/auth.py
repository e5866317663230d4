"""Who is asking, and may they: staff accounts from a bearer token or a session cookie,
and the role guard every non-public route declares.

A route states what it needs with a dependency, e.g. ``Depends(FACILITATOR)`` for the
API or ``Depends(FACILITATOR_PAGE)`` for an HTML page (which sends an anonymous visitor
to the sign-in page instead of answering 401). Admins pass every guard. A test walks
every route of the app and checks each one either has a guard or is on the public list.

Requests signed in with the session cookie must also send the page's CSRF token
(``X-CSRF-Token`` header or ``csrf_token`` form field) with every change; bearer
tokens need none, since a browser never sends them on its own.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from geodata import accounts
from geodata.account_records import Account, Credential, Role
from geodata.accounts import NotAllowed, NotSignedIn
from geodata.audit import Actor
from geodata.store.base import PlaceStore
from web.errors import problem
from web.i18n import gettext_for
from web.language_choice import request_language
from web.settings import Settings
from web.staff_words import word_for

SESSION_COOKIE = "heritage_session"
ACCOUNT_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="AccountToken",
    description="A staff API token (heritage-atlas create-user prints one): "
    "`Authorization: Bearer hat_...`",
)
SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="StaffSession",
    description="The session cookie set by signing in at /login",
)
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(NotSignedIn):
    """An HTML page needs a signed-in account: the visitor is sent to the sign-in page."""


class PageNotAllowed(NotAllowed):
    """An HTML page the signed-in account's role may not see (answered as an HTML 403)."""

    roles: tuple[str, ...] = ()  # the roles that may see it


class BadCsrfToken(NotAllowed):
    code = "bad_csrf_token"


@dataclass(frozen=True)
class SignedIn:
    """The account behind a request, and how it proved who it is."""

    account: Account
    credential: Credential
    via: str  # "token" or "session"
    value: str  # the credential as sent (needed to derive the session's CSRF token)

    @property
    def actor(self) -> Actor:
        return Actor.of(self.account)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def service_key(request: Request, name: str) -> bytes:
    """A secret shared by every worker: derived from ``secret_key`` or kept in the store."""
    settings: Settings = request.app.state.settings
    if settings.secret_key:
        return hmac.digest(settings.secret_key.encode(), name.encode(), "sha256")
    store: PlaceStore = request.app.state.store
    return store.secret(name, lambda: secrets.token_bytes(32))


def _authenticate(request: Request) -> SignedIn | None:
    store: PlaceStore = request.app.state.store
    token = _bearer(request)
    if token is not None:
        # A bearer that is not an account token (a resident's edit token, say) proves
        # nothing here: refuse it rather than fall back to a cookie.
        account, credential = accounts.authenticate(store, token, accounts.TOKEN)
        return SignedIn(account, credential, accounts.TOKEN, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            account, credential = accounts.authenticate(store, cookie, accounts.SESSION)
        except NotSignedIn:
            return None  # an old cookie: as if signed out
        return SignedIn(account, credential, accounts.SESSION, cookie)
    return None


async def signed_in(request: Request) -> SignedIn | None:
    """The signed-in account of this request, if any (checked once per request)."""
    if not hasattr(request.state, "signed_in"):
        request.state.signed_in = await run_in_threadpool(_authenticate, request)
    return request.state.signed_in


def csrf_token(request: Request, who: SignedIn | None) -> str:
    """The token this page's forms and scripts send back (empty without a session)."""
    if who is None or who.via != accounts.SESSION:
        return ""
    return accounts.csrf_token(who.value, service_key(request, "staff-csrf"))


async def _check_csrf(request: Request, who: SignedIn) -> None:
    if who.via != accounts.SESSION or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token(request, who)):
        raise BadCsrfToken(
            "this form is out of date or came from another site; reload the page and try again"
        )


class RoleGuard:
    """A dependency that lets through signed-in accounts with one of ``roles`` (admins
    always) and answers 401 to anyone else, or 403 to a wrong role. Pages (``page=True``)
    send anonymous visitors to the sign-in page instead."""

    def __init__(self, roles: Iterable[Role], *, page: bool = False) -> None:
        self.roles = frozenset(roles) | {Role.ADMIN}
        self.page = page

    def __repr__(self) -> str:
        kind = "page" if self.page else "api"
        return f"RoleGuard({', '.join(sorted(self.roles))}; {kind})"

    async def __call__(
        self,
        request: Request,
        # Declared for the OpenAPI document (the two ways to sign in); read by signed_in.
        _token: HTTPAuthorizationCredentials | None = Depends(ACCOUNT_TOKEN),
        _session: str | None = Depends(SESSION),
    ) -> SignedIn:
        who = await signed_in(request)
        if who is None:
            if self.page:
                raise SignInRequired("sign in to see this page")
            raise NotSignedIn(
                "sign in first: send 'Authorization: Bearer <API token>' "
                "(heritage-atlas create-user prints one) or sign in at /login"
            )
        if who.account.role not in self.roles:
            needed = " or ".join(sorted(r.value for r in self.roles))
            error = PageNotAllowed if self.page else NotAllowed
            refused = error(
                f"{who.account.name} is a {who.account.role}; this needs a {needed} account"
            )
            # Admins pass every guard: the page names the other roles it is for.
            named = (self.roles - {Role.ADMIN}) or {Role.ADMIN}
            refused.roles = tuple(sorted(r.value for r in named))  # type: ignore[attr-defined]
            raise refused
        await _check_csrf(request, who)
        return who


# What each kind of route needs. Admins pass every one of them.
FACILITATOR = RoleGuard({Role.FACILITATOR})
FACILITATOR_PAGE = RoleGuard({Role.FACILITATOR}, page=True)
STAFF = RoleGuard({Role.FACILITATOR, Role.PLANNER})
STAFF_PAGE = RoleGuard({Role.FACILITATOR, Role.PLANNER}, page=True)
ADMIN = RoleGuard({Role.ADMIN})
ADMIN_PAGE = RoleGuard({Role.ADMIN}, page=True)


# ---------------------------------------------------------------------------
# The session cookie
# ---------------------------------------------------------------------------


def secure_cookies(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return request.url.scheme == "https" or (settings.public_url or "").startswith("https://")


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(timedelta(hours=settings.session_hours).total_seconds()),
        path="/",
        httponly=True,  # scripts never see it
        samesite="lax",  # not sent with another site's POST
        secure=secure_cookies(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )


def safe_next(target: str | None, default: str = "/workshops") -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def install(app: FastAPI) -> None:
    """Answer page guards in HTML: a redirect to sign in, or a readable 403 page."""

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(PageNotAllowed)
    async def not_for_you(request: Request, exc: PageNotAllowed) -> Response:
        from web.templating import templates

        who = await signed_in(request)
        _ = gettext_for(request_language(request))
        roles = " / ".join(word_for(_)("role", r) for r in exc.roles)
        forbidden = _("This page needs a {roles} account.").format(roles=roles)
        return templates.TemplateResponse(
            request,
            "login.html",
            {"forbidden": forbidden, "who": who, "next": request.url.path, "csrf": ""},
            status_code=403,
        )

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return problem(
            401,
            exc.message,
            code=exc.code,
            instance=request.url.path,
            headers={"WWW-Authenticate": 'Bearer realm="heritage-atlas"'},
        )
