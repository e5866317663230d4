"""The page where moderators decide what a workshop venue's push could not apply
(``/moderation/conflicts``): each change beside what the atlas holds now, with *keep this
atlas's version* and, where it can be applied, *apply the venue's version*. Plain HTML
forms, no JavaScript needed; facilitators and admins only (the same as
``/api/sync/conflicts``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Form, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from geodata.errors import HeritageError
from geodata.store.base import PlaceStore
from geodata.store.base_sync import SyncConflict
from geodata.sync_conflicts import CannotTakeVenue, atlas_now, resolve, venue_applicable
from web.auth import FACILITATOR_PAGE, SignedIn
from web.dependencies import get_store
from web.i18n import N_
from web.routes.accounts import staff_page
from web.routes.moderation_api import PAGE_SIZE
from web.routes.sync_api import receiving

router = APIRouter(tags=["moderation"])
PAGE = "/moderation/conflicts"
REASONS = {
    "edited_centrally": N_("Changed on this atlas too, since the venue had it"),
    "erased_centrally": N_("Erased on this atlas meanwhile"),
    "withdrawn_centrally": N_("Withdrawn by its contributor on this atlas meanwhile"),
    "refused": N_("Not accepted by this atlas's rules"),
}
KINDS = {
    "place": N_("Place"),
    "narrative": N_("Memory or translation"),
    "photo": N_("Photo"),
    "recording": N_("Recording"),
    "deletion": N_("Removal"),
}
OUTCOMES = {
    "kept_central": N_("Kept this atlas's version."),
    "took_venue": N_("Applied the venue's version."),
    "cannot_take_venue": N_(
        "The venue's version cannot be applied: what it changes is gone or was withdrawn "
        "here. Keep this atlas's version."
    ),
    "decided": N_("This change was decided already."),
}


@dataclass(frozen=True)
class Row:
    field: str
    venue: str
    atlas: str | None  # None: nothing to compare with


@dataclass(frozen=True)
class ConflictView:
    conflict: SyncConflict
    title: str
    rows: list[Row]
    applicable: bool


def _shown(value: Any) -> str:
    """A stored value as a moderator reads it (stories by their text)."""
    if value is None:
        return "–"
    stories = isinstance(value, list) and value
    if stories and all(isinstance(v, dict) and "text" in v for v in value):
        return " / ".join(f"[{v.get('language', '')}] {v['text']}" for v in value)
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return str(value)


def _view(store: PlaceStore, c: SyncConflict) -> ConflictView:
    venue = c.venue
    state, base = venue.get("state") or {}, venue.get("base")
    extra = venue.get("extra") or {}
    now = atlas_now(store, c)
    if base is not None:
        changed = [k for k in state if state.get(k) != base.get(k)]
        rows = [Row(k, _shown(state[k]), _shown(now.get(k)) if now else None) for k in changed]
    else:
        shown = {**{k: extra[k] for k in ("text", "language") if k in extra}, **state}
        keep = ("title", "narratives", "category", "text", "language", "caption", "status")
        rows = [Row(k, _shown(v), None) for k, v in shown.items() if k in keep]
    title = state.get("title") or extra.get("text") or c.record_id
    return ConflictView(c, str(title)[:120], rows, venue_applicable(store, c))


@router.get(PAGE, response_class=HTMLResponse, summary="Changes from venues to decide")
def conflicts_page(
    request: Request,
    offset: int = Query(0, ge=0, le=2**31 - 1),
    done: str | None = Query(None, max_length=40),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> HTMLResponse:
    items = store.sync_conflicts("open", limit=PAGE_SIZE, offset=offset)
    context = {
        "items": [_view(store, c) for c in items],
        "total": store.count_sync_conflicts("open"),
        "offset": offset,
        "page_size": PAGE_SIZE,
        "done": OUTCOMES.get(done or ""),
        "failed": done in ("cannot_take_venue", "decided"),
        "reasons": REASONS,
        "kinds": KINDS,
    }
    return staff_page(request, "moderation_conflicts.html", context, who)


@router.post(
    PAGE + "/{conflict_id}/resolve",
    summary="Decide a change from a venue (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def form_resolve(
    request: Request,
    conflict_id: str,
    keep: str = Form(..., pattern="^(central|venue)$"),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    conflict = store.sync_conflict(conflict_id)
    try:
        decided = resolve(receiving(request, who, conflict.kit_id), conflict.id, keep)
    except CannotTakeVenue:
        outcome = "cannot_take_venue"
    except HeritageError:
        outcome = "decided"
    else:
        outcome = decided.resolution or "decided"
    return RedirectResponse(f"{PAGE}?done={outcome}", status_code=303)
