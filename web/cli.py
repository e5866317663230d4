"""The ``heritage-atlas`` command line.

Every command reads settings from the environment or ``.env`` (prefix ``HERITAGE_``);
errors are printed as one line and exit non-zero, never as a traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from web.cli_common import (
    DatabaseOption,
    app,
    console,
    err_console,
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


# The import commands live in their own module (registered here: they come second).
from web import cli_import  # noqa: E402, F401


@app.command()
@one_line_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load the bundled Lisbon demo into an empty database first.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    limit_concurrency: Annotated[
        int,
        typer.Option(
            help="Requests in progress at once per worker; more get a 503 (open "
            "connections without a request in progress do not count)."
        ),
    ] = 1000,
    timeout_keep_alive: Annotated[
        float | None,
        typer.Option(
            help="Seconds an idle connection stays open (default: HERITAGE_KEEP_ALIVE_S).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Serve the maps, the contribution form and the API."""
    import os

    from rich.markup import escape

    from geodata.demo import load_demo
    from web.public_url import exposure_warning
    from web.server import is_loopback, raise_open_file_limit, run_server

    settings, store = settings_and_store(database_url)
    if warning := exposure_warning(host, port, settings):
        err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    if demo:
        results = load_demo(store)
        if results is None:
            console.print("demo: the database already holds data; left as it is")
        else:
            told = sum(1 for place in store.list() if place.narratives)
            console.print(
                f"demo: loaded 24 Lisbon parishes and "
                f"{sum(r.imported for r in results)} heritage places, {told} with a story"
            )
    store.close()
    if database_url:
        os.environ["HERITAGE_DATABASE_URL"] = database_url
    open_files = raise_open_file_limit()  # one file per connection: make room for many
    if open_files is not None and open_files < 4096:
        err_console.print(
            f"[yellow]warning:[/yellow] this process may open only {open_files} files, so "
            "only about as many connections; raise the limit (ulimit -n, or LimitNOFILE= "
            "in a systemd unit)",
            highlight=False,
        )
    if not is_loopback(host):
        err_console.print(
            f"[yellow]warning:[/yellow] listening on {host}, beyond this machine: for public "
            "exposure, put a reverse proxy (nginx, Caddy) in front; see docs/deployment.md",
            highlight=False,
        )
    console.print(f"Heritage Atlas on http://{host}:{port}/")
    run_server(
        settings,
        host=host,
        port=port,
        workers=workers,
        max_requests=limit_concurrency,
        keep_alive_s=timeout_keep_alive,
    )


def main() -> None:  # pragma: no cover - console script entry point
    app()


# The export, staff, maintenance and standalone-map commands live in modules of their own.
from web import cli_admin, cli_basemap, cli_export, cli_languages  # noqa: E402, F401
