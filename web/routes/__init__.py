"""HTTP routes, one module per concern; ``register_routes`` mounts them all."""

from __future__ import annotations

from fastapi import FastAPI


def register_routes(app: FastAPI) -> None:
    from web.routes import health

    app.include_router(health.router)
    from web.routes import media, places

    places.install(app)
    app.include_router(media.router)
