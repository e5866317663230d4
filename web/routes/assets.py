"""Scripts, styles, fonts and images, all served by us: nothing comes from a CDN.

``/static/vendor/<package>/...`` serves the files of the installed XStatic packages
(Leaflet, Leaflet.markercluster, jQuery, Font Awesome), ``/static/atlas/...`` the map
client shipped with :mod:`mapping`, and ``/static/...`` the web app's own files.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from mapping.assets import ATLAS, VENDOR_PACKAGES, vendor_dir

WEB_STATIC = Path(__file__).resolve().parent.parent / "static"
# Vendor files never change for a given installed version; revalidating is cheap anyway.
CACHE_CONTROL = "public, max-age=3600"


class CachedStaticFiles(StaticFiles):
    """Static files with a Cache-Control header (venues on slow links reload less)."""

    async def get_response(self, path: str, scope: Scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers.setdefault("Cache-Control", CACHE_CONTROL)
        return response


def mount_static(app: FastAPI) -> None:
    """Mount every static folder; the most specific prefixes first."""
    for package in VENDOR_PACKAGES:
        app.mount(
            f"/static/vendor/{package}",
            CachedStaticFiles(directory=vendor_dir(package)),
            name=f"vendor-{package}",
        )
    app.mount(f"/static/{ATLAS}", CachedStaticFiles(directory=vendor_dir(ATLAS)), name=ATLAS)
    # check_dir=False: the folder may be empty (and so absent from a git checkout).
    app.mount("/static", CachedStaticFiles(directory=WEB_STATIC, check_dir=False), name="static")
