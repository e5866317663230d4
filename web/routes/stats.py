"""Aggregate numbers for planners (and facilitators and admins): how many places in each
status, and how the published ones spread over neighbourhoods, categories and
workshops. Counts only: no place, no story, no personal data.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from geodata.models import Status
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.vocabulary import Vocabulary
from web.auth import STAFF, STAFF_PAGE, SignedIn
from web.dependencies import get_store, get_vocabulary
from web.language_choice import request_language
from web.routes.accounts import staff_page

router = APIRouter(tags=["numbers"])


def aggregate_counts(
    store: PlaceStore, vocabulary: Vocabulary, language: str = "en"
) -> dict[str, Any]:
    published = PlaceFilter(status=str(Status.PUBLISHED))
    names = {n.id: n.name for n in store.neighbourhoods()}
    by_hood = store.counts_by_neighbourhood(published)
    by_category: dict[str, int] = {}
    for (_, category), n in store.category_counts(published).items():
        by_category[category] = by_category.get(category, 0) + n
    return {
        "by_status": {str(s): store.count(PlaceFilter(status=str(s))) for s in Status},
        "published": {
            "total": store.count(published),
            "on_public_maps": store.count(public_filter(None, "map")),
            "in_open_data": store.count(public_filter(None, "open_data")),
            "by_neighbourhood": [
                {"id": nid, "name": names.get(nid) if nid else None, "count": n}
                for nid, n in sorted(by_hood.items(), key=lambda kv: -kv[1])
            ],
            "by_category": [
                {
                    "category": key,
                    "label": vocabulary[key].label(language) if key in vocabulary else key,
                    "count": n,
                }
                for key, n in sorted(by_category.items(), key=lambda kv: -kv[1])
            ],
            "by_workshop": [
                {
                    "code": w.code,
                    "title": w.title,
                    "count": store.count(
                        PlaceFilter(status=str(Status.PUBLISHED), workshop=w.code)
                    ),
                }
                for w in store.workshops()
            ],
        },
    }


@router.get("/api/stats", summary="Aggregate counts (planners, facilitators, admins)")
def stats(
    who: SignedIn = Depends(STAFF),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> dict[str, Any]:
    return aggregate_counts(store, vocabulary)


@router.get("/stats", response_class=HTMLResponse, summary="The numbers page")
def stats_page(
    request: Request,
    who: SignedIn = Depends(STAFF_PAGE),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> HTMLResponse:
    counts = aggregate_counts(store, vocabulary, request_language(request))
    return staff_page(request, "admin_stats.html", {"stats": counts}, who)
