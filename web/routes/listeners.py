"""Who is listening, and what they may hear: the resident who owns a place or a walk
(its edit token, as a header or ``?token=``, as an ``<audio>`` element can only send),
signed-in staff (a session: the workshop's screen), or anyone.

A recording's own consent scope decides (:func:`geodata.voices.playable`); a public one
is heard by anyone only while its place (or its walk, with the stop shown) is public.
"""

from __future__ import annotations

from fastapi import Request

from geodata import accounts, contributions
from geodata.account_records import Role
from geodata.errors import HeritageError, NotFound
from geodata.models import Status
from geodata.place_attachments import AudioScope, Recording
from geodata.store.base import PlaceStore
from geodata.voices import playable
from geodata.walk_lifecycle import check_walk_token
from geodata.walk_voices import heard_by_public
from web.auth import SESSION_COOKIE
from web.routes.places import edit_token_of

_STAFF = (Role.FACILITATOR, Role.ADMIN)
_REFUSED = (contributions.EditTokenRequired, contributions.WrongEditToken, NotFound)


def _token(request: Request) -> str | None:
    return edit_token_of(request) or request.query_params.get("token")


def owns_place(request: Request, place_id: str) -> bool:
    token = _token(request)
    if not token:
        return False
    try:
        contributions.check_edit_token(request.app.state.store, place_id, token)
    except _REFUSED:
        return False
    return True


def owns_walk(request: Request, walk_id: str) -> bool:
    token = _token(request)
    if not token:
        return False
    try:
        check_walk_token(request.app.state.store, walk_id, token)
    except _REFUSED:
        return False
    return True


def is_staff(request: Request) -> bool:
    """Whether a facilitator or admin is signed in (by session: the workshop's screen)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return False
    try:
        account, _ = accounts.authenticate(request.app.state.store, cookie, accounts.SESSION)
    except HeritageError:
        return False
    return account.role in _STAFF


def place_public(store: PlaceStore, place_id: str) -> bool:
    place = store.get(place_id)
    return place.status == Status.PUBLISHED and place.consent.publish


def heard_publicly(store: PlaceStore, item: Recording) -> bool:
    """Whether anyone may hear ``item`` now."""
    if item.walk_id is not None:
        return heard_by_public(store, item)
    return item.scope == AudioScope.PUBLIC and place_public(store, item.place_id)


def may_hear(request: Request, item: Recording) -> tuple[bool, bool]:
    """(whether this listener may hear ``item``, whether anyone may)."""
    store = request.app.state.store
    if heard_publicly(store, item):
        return True, True
    if item.walk_id is not None:
        owner = owns_walk(request, item.walk_id)
    else:
        owner = owns_place(request, item.place_id)
    staff = not owner and is_staff(request)
    return (owner or staff) and playable(item, staff=staff, owner=owner), False
