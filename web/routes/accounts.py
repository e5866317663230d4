"""Signing in and out, API tokens, and the admins' account pages.

``/login`` and ``POST /logout`` for browsers (a session kept in the database, in an
HttpOnly, SameSite=Lax cookie, Secure over https); ``/api/me`` and ``/api/tokens`` for
any staff account; ``/api/accounts`` and ``/admin`` for admins only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from geodata import accounts, login_throttle
from geodata.account_records import Account, Credential, Role
from geodata.errors import HeritageError
from geodata.store.base import PlaceStore
from web.auth import (
    ADMIN,
    ADMIN_PAGE,
    STAFF,
    STAFF_PAGE,
    SignedIn,
    clear_session_cookie,
    csrf_token,
    safe_next,
    service_key,
    set_session_cookie,
    signed_in,
)
from web.dependencies import get_store
from web.i18n import N_, gettext_for, localised_message
from web.language_choice import request_language
from web.middleware import csrf_token_valid, issue_csrf_token
from web.rate_limits import RateLimited, client_host, client_key, retry_after
from web.security import content_security_policy, csp_nonce, tile_origins
from web.settings import Settings
from web.templating import templates

router = APIRouter(tags=["accounts"])
LOGIN_CSRF_COOKIE = "heritage_login_csrf"
LOGIN_ATTEMPTS = 20  # per client per window: slows down password guessing
LOGIN_WINDOW_S = 600
# Staff pages are English only (see admin_layout.html).
TOO_MANY_SIGN_INS = "too many sign-in attempts; wait a few minutes and try again"
TOO_MANY_SIGN_INS_PAGE = N_("Too many sign-in attempts. Wait a few minutes and try again.")


# ---------------------------------------------------------------------------
# Rendering staff pages
# ---------------------------------------------------------------------------


def staff_headers(request: Request) -> dict[str, str]:
    """Staff pages show personal data: never cached, never framed, our scripts and styles
    only (the service-wide policy, with this request's nonce)."""
    settings: Settings = request.app.state.settings
    policy = content_security_policy(
        csp_nonce(request), img_origins=tile_origins(settings), frame_ancestors="'none'"
    )
    return {"Content-Security-Policy": policy, "Cache-Control": "no-store"}


def staff_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    who: SignedIn | None,
    status_code: int = 200,
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        template,
        {"who": who, "csrf": csrf_token(request, who), **context},
        status_code=status_code,
        headers=staff_headers(request),
    )
    return response


# ---------------------------------------------------------------------------
# Signing in and out
# ---------------------------------------------------------------------------


def _login_form(
    request: Request, next_url: str, error: str | None = None, name: str = "", status: int = 200
) -> HTMLResponse:
    token = issue_csrf_token(service_key(request, "login-csrf"))
    response = staff_page(
        request,
        "login.html",
        {"next": next_url, "error": error, "name": name, "login_csrf": token},
        None,
        status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login", max_age=86400
    )
    return response


@router.get("/login", response_class=HTMLResponse, summary="The sign-in page")
async def login_page(request: Request, next: str | None = None) -> Response:
    who = await signed_in(request)
    if who is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, safe_next(next))


def lock_policy(settings: Settings) -> login_throttle.LockPolicy:
    return login_throttle.LockPolicy(
        settings.login_lock_after, settings.login_lock_first_s, settings.login_lock_max_s
    )


def _sign_in(request: Request, name: str, password: str) -> str:
    """A new session's value; RateLimited (this address) or AccountLocked (this name)
    before the password is checked, NotSignedIn if it is wrong."""
    store: PlaceStore = request.app.state.store
    settings: Settings = request.app.state.settings
    if store.count_hit(f"login:{client_key(request)}", LOGIN_WINDOW_S) > LOGIN_ATTEMPTS:
        raise RateLimited(TOO_MANY_SIGN_INS, retry_after=retry_after(LOGIN_WINDOW_S))
    policy = lock_policy(settings)
    login_throttle.admit(store, name, policy)
    try:
        account = accounts.sign_in(store, name, password)
    except accounts.NotSignedIn:
        login_throttle.failed(store, name, policy, client_host(request))
        raise
    login_throttle.succeeded(store, name)
    value, _ = accounts.start_session(store, account, timedelta(hours=settings.session_hours))
    return value


@router.post("/login", response_class=HTMLResponse, summary="Sign in with name and password")
async def login(
    request: Request,
    name: str = Form("", max_length=200),
    password: str = Form("", max_length=2000),
    next: str = Form("/workshops", max_length=2000),
    csrf_token_field: str = Form("", alias="csrf_token", max_length=500),
) -> Response:
    target = safe_next(next)
    if not csrf_token_valid(
        service_key(request, "login-csrf"), request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token_field
    ):
        _ = gettext_for(request_language(request))
        expired = _("The form expired; please sign in again.")
        return _login_form(request, target, expired, name, 400)
    try:
        value = await run_in_threadpool(_sign_in, request, name, password)
    except (RateLimited, login_throttle.AccountLocked) as exc:
        # One message for both: it does not say whether the address or the name is held.
        too_many = gettext_for(request_language(request))(TOO_MANY_SIGN_INS_PAGE)
        response = _login_form(request, target, too_many, name, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except HeritageError as exc:
        message = localised_message(exc, request_language(request))
        return _login_form(request, target, message, name, 401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, value)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post(
    "/logout",
    summary="Sign out (ends the session everywhere)",
    status_code=303,
    response_class=RedirectResponse,
)
def logout(
    request: Request, who: SignedIn = Depends(STAFF_PAGE), store: PlaceStore = Depends(get_store)
) -> Response:
    if who.via == accounts.SESSION:
        accounts.end_session(store, who.value)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


# ---------------------------------------------------------------------------
# The API: who am I, my tokens
# ---------------------------------------------------------------------------


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "role": str(account.role),
        "created_at": account.created_at.isoformat(),
        "disabled": account.disabled_at is not None,
        "signs_in_with_password": account.password_hash is not None,
    }


def credential_json(c: Credential) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "label": c.label,
        "created_at": c.created_at.isoformat(),
        "expires_at": c.expires_at.isoformat() if c.expires_at else None,
        "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
    }


@router.get("/api/me", summary="The signed-in account")
def me(who: SignedIn = Depends(STAFF)) -> dict[str, Any]:
    return {**account_json(who.account), "signed_in_with": who.via, "credential": who.credential.id}


@router.get("/api/tokens", summary="Your API tokens and sessions")
def my_tokens(
    who: SignedIn = Depends(STAFF), store: PlaceStore = Depends(get_store)
) -> list[dict[str, Any]]:
    return [credential_json(c) for c in store.credentials(who.account.id)]


class TokenRequest(BaseModel):
    label: str | None = Field(None, max_length=100, description="what the token is for")


@router.post("/api/tokens", status_code=201, summary="A new API token for yourself (shown once)")
def new_token(
    body: TokenRequest, who: SignedIn = Depends(STAFF), store: PlaceStore = Depends(get_store)
) -> Response:
    value, credential = accounts.issue_token(store, who.account, body.label)
    return _no_store_json({**credential_json(credential), "token": value}, 201)


@router.delete("/api/tokens/{credential_id}", status_code=204, summary="Revoke a token")
def revoke(
    credential_id: str, who: SignedIn = Depends(STAFF), store: PlaceStore = Depends(get_store)
) -> Response:
    """Yours, or anyone's if you are an admin; it stops working at once, in every worker."""
    accounts.revoke_token(store, credential_id, who.account)
    return Response(status_code=204)


def _no_store_json(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


# ---------------------------------------------------------------------------
# Admins: accounts
# ---------------------------------------------------------------------------


class AccountRequest(BaseModel):
    name: str = Field(max_length=64)
    role: Role
    password: str | None = Field(None, max_length=1024, description="to sign in on the web")


@router.get("/api/accounts", summary="Every staff account (admins)")
def list_accounts(
    who: SignedIn = Depends(ADMIN), store: PlaceStore = Depends(get_store)
) -> list[dict[str, Any]]:
    return [account_json(a) for a in store.accounts()]


@router.post("/api/accounts", status_code=201, summary="Create a staff account (admins)")
def create_account(
    body: AccountRequest, who: SignedIn = Depends(ADMIN), store: PlaceStore = Depends(get_store)
) -> Response:
    """Answers with the account's first API token: shown this once, only its hash kept."""
    account, token = accounts.create_account(
        store, body.name, body.role, password=body.password, created_by=who.account
    )
    return _no_store_json({"account": account_json(account), "token": token}, 201)


def _admin_context(store: PlaceStore) -> dict[str, Any]:
    listed = store.accounts()
    return {
        "accounts": listed,
        "credentials": {a.id: store.credentials(a.id) for a in listed},
        "roles": [r.value for r in Role],
    }


@router.get("/admin", response_class=HTMLResponse, summary="Accounts and tokens (admins)")
def admin_page(
    request: Request, who: SignedIn = Depends(ADMIN_PAGE), store: PlaceStore = Depends(get_store)
) -> HTMLResponse:
    return staff_page(request, "admin_accounts.html", _admin_context(store), who)


@router.post("/admin/accounts", response_class=HTMLResponse, summary="Create an account (form)")
def admin_create_account(
    request: Request,
    name: str = Form(max_length=200),
    role: str = Form(max_length=20),
    password: str = Form("", max_length=1024),
    who: SignedIn = Depends(ADMIN_PAGE),
    store: PlaceStore = Depends(get_store),
) -> HTMLResponse:
    try:
        account, token = accounts.create_account(
            store, name, role, password=password or None, created_by=who.account
        )
    except HeritageError as exc:
        error = localised_message(exc, request_language(request), min=accounts.MIN_PASSWORD)
        context = {**_admin_context(store), "error": error, "form_name": name}
        return staff_page(request, "admin_accounts.html", context, who, exc.status)
    context = {**_admin_context(store), "created": account, "token": token}
    return staff_page(request, "admin_accounts.html", context, who, 201)


@router.post(
    "/admin/tokens/{credential_id}/revoke",
    summary="Revoke a token or session (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def admin_revoke(
    credential_id: str,
    who: SignedIn = Depends(ADMIN_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    accounts.revoke_token(store, credential_id, who.account)
    return RedirectResponse("/admin", status_code=303)
