"""The application factory: ``create_app(settings)`` builds a FastAPI app around one store."""

from __future__ import annotations

from fastapi import FastAPI

from geodata.store import open_store
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from web.errors import install_error_handlers
from web.photo_slots import PhotoSlots
from web.settings import Settings


def create_app(settings: Settings | None = None, store: PlaceStore | None = None) -> FastAPI:
    """A Heritage Atlas app; tests pass their own settings (and may pass a store)."""
    settings = settings or Settings()
    store = store or open_store(settings.database_url)
    app = FastAPI(
        title="Heritage Atlas",
        summary="Participatory heritage mapping: places, stories, maps and open data.",
        version="0.1.0",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.vocabulary = Vocabulary()
    app.state.photo_slots = PhotoSlots(settings.photo_concurrency)  # per worker process
    install_error_handlers(app)
    from web.rate_limits import install_rate_limit_answers

    install_rate_limit_answers(app)
    from web.middleware import install_middleware
    from web.routes.audio import AUDIO_UPLOAD_PATH, audio_body_limit
    from web.routes.media import NEW_PLACE_PATH, UPLOAD_PATH
    from web.routes.sync_api import body_limits

    install_middleware(
        app,
        settings.max_body_bytes,
        {
            UPLOAD_PATH: settings.max_upload_bytes,
            AUDIO_UPLOAD_PATH: audio_body_limit(settings),
            **body_limits(settings),
            NEW_PLACE_PATH: settings.max_upload_bytes + audio_body_limit(settings),
        },
    )
    from web.public_url import install_host_guard

    install_host_guard(app, settings)  # before the body is read, inside the headers
    from web.security import install_security

    install_security(app, settings)  # even a refused body gets the headers
    from web.page_language import LanguageCookie

    app.add_middleware(LanguageCookie)  # a language picked with ?lang= is remembered
    from web.client_address import ClientAddress

    # Outermost: everything inside sees the client (and scheme) behind our own proxies.
    app.add_middleware(ClientAddress, trusted_proxies=settings.trusted_proxies)
    # Routers are added here as each part of the service lands (see web/routes/).
    from web.routes import register_routes

    register_routes(app)
    from web.error_pages import install_error_pages

    install_error_pages(app)  # after every handler is set: browsers get a page
    return app
