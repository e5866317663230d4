"""Map pages: the city overview, neighbourhood maps, the workshop
projection. Each page is a folium map whose places are loaded from ``/api/map``."""

from __future__ import annotations

from urllib.parse import quote

import folium
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from geodata.errors import NotFound
from geodata.models import Neighbourhood, utcnow
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.store.records import iso
from geodata.vocabulary import Vocabulary
from mapping.city import city_map
from mapping.live import workshop_summary
from mapping.neighbourhood import neighbourhood_map
from mapping.options import MapOptions
from mapping.places_list import store_listing
from mapping.workshop import workshop_map
from web.basemap import ORIENTATION_URL, local_basemap
from web.dependencies import get_settings, get_store, get_vocabulary
from web.i18n import plural_samples, translations
from web.language_choice import LANGUAGES, request_language
from web.public_url import public_base_url
from web.rate_limits import find_workshop
from web.security import add_nonce, content_security_policy, csp_nonce, tile_origins
from web.settings import Settings

router = APIRouter(tags=["maps"])
API_BASE = "/api/map"


def map_plurals(language: str) -> tuple[str, dict[str, list[str]]]:
    """The catalog's plural rule and every form of the map's messages with a number."""
    rule, samples = plural_samples(language)
    ngettext = translations(language).ngettext
    return rule, {
        "in_view": [ngettext("{n} place in view", "{n} places in view", n) for n in samples]
    }


def map_options(settings: Settings, language: str = "en") -> MapOptions:
    """The map settings of this service, for a viewer reading ``language`` (its catalog,
    and the language picker)."""
    rule, plurals = map_plurals(language)
    return MapOptions(
        tiles=settings.tiles if settings.tiles_enabled else None,
        tiles_attribution=settings.tiles_attribution,
        basemap=local_basemap(settings),
        orientation_url=ORIENTATION_URL,
        k=settings.privacy_k,
        grid_m=settings.privacy_grid_m,
        language=language,
        api_base=API_BASE,
        max_features=settings.map_max_features,
        languages=LANGUAGES,
        translations=translations(language),
        plurals=plurals,
        plural_rule=rule,
    )


def neighbourhood_url(neighbourhood_id: int) -> str:
    return f"/maps/neighbourhoods/{neighbourhood_id}"


def map_page(m: folium.Map, request: Request) -> HTMLResponse:
    """A rendered map as an HTML response under the service's strict content policy."""
    nonce = csp_nonce(request)
    settings: Settings = request.app.state.settings
    # Every <script>/<style> element of the page is ours or folium's; text people typed is
    # escaped (no "<" survives in it), so this marks exactly the elements we wrote.
    html = add_nonce(m.get_root().render(), nonce)
    policy = content_security_policy(
        nonce, img_origins=tile_origins(settings), style_attributes=True
    )
    return HTMLResponse(
        html, headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"}
    )


@router.get("/maps/city", response_class=HTMLResponse, summary="The city map")
def city_page(
    request: Request,
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> HTMLResponse:
    """Neighbourhoods shaded by their number of published places, the places on top."""
    options = map_options(settings, request_language(request))
    shown = public_filter(PlaceFilter(), "map")
    counts = store.counts_by_neighbourhood(shown)
    m = city_map(
        store.neighbourhoods(),
        counts,
        vocabulary,
        options,
        neighbourhood_url,
        listed=store_listing(store, shown),
    )
    return map_page(m, request)


@router.get(
    "/maps/neighbourhoods/{neighbourhood_id}",
    response_class=HTMLResponse,
    summary="A neighbourhood's map",
)
def neighbourhood_page(
    request: Request,
    neighbourhood_id: int = Path(ge=1, le=2**31 - 1),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> HTMLResponse:
    neighbourhood = store.neighbourhood(neighbourhood_id)
    options = map_options(settings, request_language(request))
    shown = public_filter(PlaceFilter(neighbourhood_id=neighbourhood_id), "map")
    listed = store_listing(store, shown)
    m = neighbourhood_map(neighbourhood, store.count(shown), vocabulary, options, listed=listed)
    return map_page(m, request)


def join_url(request: Request, settings: Settings, code: str) -> str:
    """Where residents join: the contribution form with the workshop's code."""
    return f"{public_base_url(request, settings)}/contribute?workshop={quote(code)}"


@router.get(
    "/workshops/{code}/live",
    response_class=HTMLResponse,
    summary="The workshop's live map, for projection",
)
def workshop_page(
    request: Request,
    code: str = Path(min_length=1, max_length=40),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> HTMLResponse:
    workshop = find_workshop(request, code)
    neighbourhood: Neighbourhood | None = None
    if workshop.neighbourhood_id is not None:
        try:
            neighbourhood = store.neighbourhood(workshop.neighbourhood_id)
        except NotFound:
            neighbourhood = None
    options = map_options(settings, request_language(request))
    m = workshop_map(
        workshop,
        neighbourhood,
        store.neighbourhoods() if neighbourhood is None else [],
        vocabulary,
        options,
        join_url=join_url(request, settings, workshop.code),
        summary=workshop_summary(store, workshop, options),
        cursor=iso(utcnow()),
        live_url=f"{API_BASE}/workshops/{quote(workshop.code)}/updates",
        listed=store_listing(store, public_filter(PlaceFilter(workshop=workshop.code), "map")),
    )
    return map_page(m, request)
