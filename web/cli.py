"""The ``heritage-atlas`` command line.

Every command reads settings from the environment or ``.env`` (prefix ``HERITAGE_``);
errors are printed as one line and exit non-zero, never as a traceback.
"""

from __future__ import annotations

from web.cli_common import (
    DatabaseOption,
    app,
    console,
    one_line_errors,
    settings_and_store,
)

__all__ = ["app", "main"]


@app.command()
@one_line_errors
def init(database_url: DatabaseOption = None) -> None:
    """Create (or upgrade) the database."""
    settings, store = settings_and_store(database_url)
    console.print(f"database ready: {settings.database_url}")
    store.close()


# The import commands and ``serve`` live in modules of their own (``kit open`` runs
# ``serve`` too), registered here: they come second and third.
from web import cli_import, cli_serve  # noqa: E402, F401


def main() -> None:  # pragma: no cover - console script entry point
    app()


# The export, staff, maintenance and standalone-map commands live in modules of their own.
from web import cli_admin, cli_basemap, cli_export, cli_kit, cli_languages, cli_sync  # noqa: E402, F401
