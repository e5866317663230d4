"""Workshops for facilitators (and admins): create one, its dashboard (join code, contribute
link, QR code, live projection, queue, counts), close it, and take away its outcome: a
GeoJSON of its published places and a printable map (:mod:`web.routes.workshop_print`).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import segno
from fastapi import APIRouter, Depends, Form, Request
from pydantic import AwareDatetime, BaseModel, Field
from starlette.responses import HTMLResponse, RedirectResponse, Response

from geodata import workshops as domain
from geodata.errors import HeritageError, InvalidInput, NotFound
from geodata.io.export import DatasetInfo
from geodata.io.geojson import MEDIA_TYPE, write_places_geojson
from geodata.models import Moderation, Workshop, utcnow
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.workshops import WorkshopPlan
from web.auth import FACILITATOR, FACILITATOR_PAGE, SignedIn
from web.dependencies import get_settings, get_store
from web.i18n import gettext_for, localised_message
from web.language_choice import request_language
from web.routes.accounts import staff_page
from web.routes.maps import join_url
from web.settings import Settings

router = APIRouter(tags=["workshops"])
DEFAULT_LENGTH = timedelta(hours=3)


def live_url(code: str) -> str:
    return f"/workshops/{code}/live"


def workshop_json(
    request: Request, settings: Settings, store: PlaceStore, w: Workshop
) -> dict[str, Any]:
    return {
        "code": w.code,
        "spoken_code": domain.spoken(w.code),
        "title": w.title,
        "neighbourhood_id": w.neighbourhood_id,
        "starts_at": w.starts_at.isoformat(),
        "ends_at": w.ends_at.isoformat(),
        "state": domain.state(w),
        "moderation": str(w.moderation),
        "languages": w.languages,
        "created_by": w.created_by,
        "contribute_url": join_url(request, settings, w.code),
        "qr_code_url": f"/workshops/{w.code}/qr.svg",
        "live_url": live_url(w.code),
        "queue_url": f"/moderation?workshop={w.code}",
        "outcome_geojson_url": f"/workshops/{w.code}/outcome.geojson",
        "print_url": f"/workshops/{w.code}/print",
        "counts": domain.workshop_counts(store, w.code),
    }


def qr_code(url: str) -> segno.QRCode:
    # Level M survives a smudged or partly hidden projection and stays coarse enough
    # to scan from the back of a room.
    return segno.make(url, error="m")


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------


class WorkshopIn(BaseModel):
    title: str = Field(max_length=1000)
    neighbourhood_id: int | None = Field(None, ge=1, le=2**31 - 1)
    starts_at: AwareDatetime | None = Field(None, description="default: now")
    ends_at: AwareDatetime | None = Field(None, description="default: three hours later")
    moderation: Moderation = Field(
        Moderation.PRE, description="'pre': publish by hand; 'post': shown at once, can be hidden"
    )
    languages: list[str] = Field(default_factory=list, max_length=20)


def _plan(body: WorkshopIn) -> WorkshopPlan:
    starts = body.starts_at or utcnow()
    return WorkshopPlan(
        title=body.title,
        starts_at=starts,
        ends_at=body.ends_at or starts + DEFAULT_LENGTH,
        neighbourhood_id=body.neighbourhood_id,
        moderation=body.moderation,
        languages=body.languages,
    )


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


@router.post("/api/workshops", status_code=201, summary="Create a workshop (facilitators)")
def api_create(
    request: Request,
    body: WorkshopIn,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Answers with its join code, contribute link, QR code and dashboard links."""
    workshop = domain.create_workshop(store, _plan(body), who.actor)
    return _json(
        workshop_json(request, settings, store, workshop),
        201,
        {"Location": f"/api/workshops/{workshop.code}"},
    )


@router.get("/api/workshops", summary="Every workshop, newest first (facilitators)")
def api_list(
    request: Request,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    return _json([workshop_json(request, settings, store, w) for w in store.workshops()])


@router.get("/api/workshops/{code}", summary="A workshop with its counts (facilitators)")
def api_get(
    request: Request,
    code: str,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    return _json(workshop_json(request, settings, store, store.get_workshop(code)))


@router.post("/api/workshops/{code}/close", summary="End a workshop now (facilitators)")
def api_close(
    request: Request,
    code: str,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Submissions with its code are refused from now on; its places stay."""
    workshop = domain.close_workshop(store, code, who.actor)
    return _json(workshop_json(request, settings, store, workshop))


# ---------------------------------------------------------------------------
# QR code and outcome
# ---------------------------------------------------------------------------


@router.get(
    "/workshops/{code}/qr.svg",
    summary="The QR code of a workshop's contribute link",
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def qr_svg(
    request: Request,
    code: str,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    workshop = store.get_workshop(code)
    buffer = io.BytesIO()
    qr_code(join_url(request, settings, workshop.code)).save(
        buffer, kind="svg", scale=10, border=4, title=f"Join workshop {workshop.code}"
    )
    return Response(
        buffer.getvalue(),
        media_type="image/svg+xml",
        headers={
            "Content-Disposition": f'inline; filename="workshop-{workshop.code}-qr.svg"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/workshops/{code}/outcome.geojson",
    summary="The workshop's published places as GeoJSON (facilitators)",
    responses={200: {"content": {"application/geo+json": {}}}},
)
def outcome_geojson(
    code: str,
    who: SignedIn = Depends(FACILITATOR),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    """The same open-data rules as every download: published places whose contributors
    agreed to open data, sensitive locations generalised, no personal data."""
    workshop = store.get_workshop(code)
    buffer = io.BytesIO()
    info = DatasetInfo(title=f"Heritage Atlas workshop {workshop.code}: {workshop.title}")
    write_places_geojson(
        store,
        public_filter(PlaceFilter(workshop=workshop.code), "open_data"),
        buffer,
        info=info,
        grid_m=settings.privacy_grid_m,
    )
    return Response(
        buffer.getvalue(),
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="workshop-{workshop.code}.geojson"',
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


def _parse_local(text: str, zone: ZoneInfo, label: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"the {label} time is not a date and time", code="bad_time") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{name!r:.40} is not a time zone; use a name such as Europe/Lisbon or UTC",
            code="bad_time_zone",
        ) from None


def _list_context(store: PlaceStore) -> dict[str, Any]:
    return {
        "workshops": store.workshops(),
        "neighbourhoods": store.neighbourhoods(),
        "state": domain.state,
        "moderations": [m.value for m in Moderation],
    }


@router.get("/workshops", response_class=HTMLResponse, summary="Workshops (facilitators)")
def workshops_page(
    request: Request,
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> HTMLResponse:
    return staff_page(request, "workshops.html", {**_list_context(store), "form": {}}, who)


@router.post("/workshops", response_class=HTMLResponse, summary="Create a workshop (form)")
def create_from_form(
    request: Request,
    title: str = Form("", max_length=1000),
    neighbourhood_id: str = Form("", max_length=10),
    starts_at: str = Form("", max_length=40),
    ends_at: str = Form("", max_length=40),
    timezone: str = Form("UTC", max_length=64),
    moderation: str = Form("pre", max_length=10),
    languages: str = Form("", max_length=300),
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    form = {
        "title": title,
        "neighbourhood_id": neighbourhood_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": timezone,
        "moderation": moderation,
        "languages": languages,
    }
    try:
        zone = _zone(timezone)
        starts = _parse_local(starts_at, zone, "start") or utcnow()
        plan = WorkshopPlan(
            title=title,
            starts_at=starts,
            ends_at=_parse_local(ends_at, zone, "end") or starts + DEFAULT_LENGTH,
            neighbourhood_id=int(neighbourhood_id) if neighbourhood_id.isdecimal() else None,
            moderation=moderation,
            languages=[t for t in languages.replace(",", " ").split() if t],
        )
        workshop = domain.create_workshop(store, plan, who.actor)
    except HeritageError as exc:
        error = localised_message(exc, request_language(request))
        context = {**_list_context(store), "form": form, "error": error}
        return staff_page(request, "workshops.html", context, who, exc.status)
    return RedirectResponse(f"/workshops/{workshop.code}", status_code=303)


@router.get(
    "/workshops/{code}",
    response_class=HTMLResponse,
    summary="A workshop's dashboard (facilitators)",
)
def dashboard(
    request: Request,
    code: str,
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    workshop = store.get_workshop(code)
    if workshop.code != code:
        return RedirectResponse(f"/workshops/{workshop.code}", status_code=308)
    link = join_url(request, settings, workshop.code)
    _ = gettext_for(request_language(request))
    neighbourhood = None
    if workshop.neighbourhood_id is not None:
        try:
            neighbourhood = store.neighbourhood(workshop.neighbourhood_id)
        except NotFound:
            neighbourhood = None
    context = {
        "w": workshop,
        "info": workshop_json(request, settings, store, workshop),
        "spoken": domain.spoken(workshop.code),
        "link": link,
        # segno draws paths from the link's bits: no text of ours or anyone's inside.
        "qr_svg": qr_code(link).svg_inline(
            scale=8,
            border=4,
            title=_("QR code of the contribute link"),
            svgclass="qrcode",
        ),
        "neighbourhood": neighbourhood,
        "state": domain.state(workshop),
    }
    return staff_page(request, "workshop_dashboard.html", context, who)


@router.post(
    "/workshops/{code}/close",
    summary="End a workshop now (form)",
    status_code=303,
    response_class=RedirectResponse,
)
def close_from_form(
    code: str,
    who: SignedIn = Depends(FACILITATOR_PAGE),
    store: PlaceStore = Depends(get_store),
) -> Response:
    workshop = domain.close_workshop(store, code, who.actor)
    return RedirectResponse(f"/workshops/{workshop.code}", status_code=303)
