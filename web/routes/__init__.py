"""HTTP routes, one module per concern; ``register_routes`` mounts them all."""

from __future__ import annotations

from fastapi import FastAPI


def register_routes(app: FastAPI) -> None:
    from web.routes import health

    app.include_router(health.router)
    from web.routes import (
        export,
        export_columnar,
        ogc,
        ogc_queryables,
        ogc_tiles,
        ogc_vector_tile,
    )

    app.include_router(export.router)
    app.include_router(export_columnar.router)  # after export: its places.{fmt} catches the rest
    app.include_router(ogc.router)
    app.include_router(ogc_tiles.router)
    app.include_router(ogc_vector_tile.router)
    app.include_router(ogc_queryables.router)
    from web.routes import assets, basemap, home, map_data, maps, orientation, place_pages

    app.include_router(home.router)
    app.include_router(maps.router)
    app.include_router(map_data.router)
    app.include_router(orientation.router)
    app.include_router(basemap.router)
    app.include_router(place_pages.router)
    assets.mount_static(app)  # /static/vendor/..., /static/atlas/..., /static/...
    from web.routes import contribute, media, places

    places.install(app)
    app.include_router(media.router)
    from web.routes import audio

    app.include_router(audio.router)
    app.include_router(contribute.router)
    from web.routes import contribute_edit

    app.include_router(contribute_edit.router)
    from web.routes import contribute_voice

    app.include_router(contribute_voice.router)
    from web.routes import place_narratives

    app.include_router(place_narratives.router)
    from web import auth
    from web.routes import (
        accounts,
        backup,
        moderation,
        moderation_api,
        stats,
        workshop_print,
        workshops,
    )

    auth.install(app)  # page guards answer with a sign-in redirect or an HTML 403
    app.include_router(accounts.router)
    app.include_router(moderation.router)
    app.include_router(moderation_api.router)
    app.include_router(moderation_api.api)
    from web.routes import narrative_moderation

    app.include_router(narrative_moderation.router)
    app.include_router(narrative_moderation.api)
    app.include_router(workshops.router)
    app.include_router(workshop_print.router)
    app.include_router(stats.router)
    app.include_router(backup.router)
    from web.routes import sync_api, sync_moderation

    app.include_router(sync_api.router)
    app.include_router(sync_moderation.router)
    from web.routes import (
        walk_audio,
        walk_downloads,
        walk_form,
        walk_moderation,
        walk_offline,
        walk_private,
        walk_voice_form,
        walks,
        walks_api,
    )

    walks_api.install(app)
    app.include_router(walk_moderation.router)
    app.include_router(walk_private.router)
    app.include_router(walk_audio.router)
    app.include_router(walk_voice_form.router)
    app.include_router(walk_downloads.router)  # before walks: /walks/{id}.gpx is not a page
    app.include_router(walk_form.router)  # and /walks/new is not a walk
    app.include_router(walk_offline.router)  # nor /walks/sw.js
    app.include_router(walks.router)
