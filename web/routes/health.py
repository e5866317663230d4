"""Liveness and readiness: is the process up, can it reach its database."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from geodata.store.base import PlaceStore
from web.dependencies import get_store

router = APIRouter(tags=["service"])


@router.get("/healthz", summary="The service is up and its database answers")
def health(store: PlaceStore = Depends(get_store)) -> dict[str, object]:
    return {"status": "ok", "places": store.count(), "neighbourhoods": len(store.neighbourhoods())}
