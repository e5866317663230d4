"""The ``heritage-atlas`` command line.

Every command reads settings from the environment or ``.env`` (prefix ``HERITAGE_``);
errors are printed as one line and exit non-zero, never as a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from geodata.errors import HeritageError
from geodata.store import open_store
from geodata.store.base import PlaceStore
from web.settings import Settings

app = typer.Typer(
    name="heritage-atlas",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Heritage Atlas: participatory heritage mapping.",
)
# soft_wrap: a message stays one line however narrow the terminal.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(func: F) -> F:
    """Turn domain errors into one readable line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HeritageError as exc:
            err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            err_console.print(
                f"[red]error:[/red] {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
                highlight=False,
            )
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug of ours: still one line, never a traceback
            err_console.print(
                f"[red]error:[/red] unexpected {type(exc).__name__}: {exc}", highlight=False
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def settings_and_store(database_url: str | None = None) -> tuple[Settings, PlaceStore]:
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings, open_store(settings.database_url)


DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides HERITAGE_DATABASE_URL.", show_default=False),
]


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


@app.command()
@one_line_errors
def init(database_url: DatabaseOption = None) -> None:
    """Create (or upgrade) the database."""
    settings, store = settings_and_store(database_url)
    console.print(f"database ready: {settings.database_url}")
    store.close()


@app.command("import-neighbourhoods")
@one_line_errors
def import_neighbourhoods(
    path: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile...")],
    name_field: Annotated[str | None, typer.Option(help="Field holding each name.")] = None,
    code_field: Annotated[str | None, typer.Option(help="Field holding an official code.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Replace the neighbourhoods with the polygons of a vector file (any CRS)."""
    from geodata.neighbourhoods import assign_neighbourhoods, read_neighbourhoods

    _, store = settings_and_store(database_url)
    with err_console.status(f"reading {path}"):
        result = read_neighbourhoods(path, name_field, code_field)
    for line in result.repaired:
        console.print(f"[yellow]repaired[/yellow] {line}", highlight=False)
    for r in result.rejected:
        console.print(f"[red]refused[/red] {r.message}", highlight=False)
    if not result.items:
        raise HeritageError(f"{path}: no usable neighbourhood polygon")
    with store.transaction():
        neighbourhoods = store.replace_neighbourhoods(result.items)
        places = list(store.list())
        ids = assign_neighbourhoods([p.geometry for p in places], neighbourhoods)
        store.set_neighbourhood_ids(zip([p.id for p in places], ids, strict=True))
    console.print(
        f"imported {len(result.items)} neighbourhoods ({len(result.repaired)} repaired, "
        f"{len(result.rejected)} refused) from CRS {result.source_crs or 'unset'}; "
        f"{len(places)} places reassigned"
    )
    store.close()


@app.command("import-places")
@one_line_errors
def import_places_command(
    path: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, CSV with lon/lat columns...")],
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the good features even if some are bad.")
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the rejects report (CSV). Default: NAME.rejects.csv in the "
            "current directory."
        ),
    ] = None,
    language: Annotated[
        str, typer.Option(help="BCP 47 tag of narratives that do not name their language.")
    ] = "und",
    category: Annotated[
        str | None, typer.Option(help="Category for features that have none.")
    ] = None,
    status: Annotated[str, typer.Option(help="pending or published.")] = "published",
    licence: Annotated[str, typer.Option(help="Licence of the imported data.")] = "CC-BY-4.0",
    attribution: Annotated[str | None, typer.Option(help="Who to credit.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Import places; a file with bad features imports nothing unless --skip-invalid."""
    from geodata.importer import ImportOptions, import_places, write_rejects_report
    from geodata.models import Status
    from geodata.text import check_language

    if status not in ("pending", "published"):
        raise HeritageError(f"--status must be pending or published, not {status!r}")
    settings, store = settings_and_store(database_url)
    options = ImportOptions(
        language=check_language(language),
        category=category,
        status=Status(status),
        licence=licence,
        attribution=attribution,
        skip_invalid=skip_invalid,
        margin_m=settings.project_margin_m,
    )
    with progress_bar() as bar:
        task = bar.add_task(f"reading {path.name}", total=None)

        def step(label: str, n: int) -> None:
            bar.update(task, description=label, total=max(n, 1), completed=n)

        result = import_places(store, path, options, progress=step)
    report = rejects or Path.cwd() / (path.name + ".rejects.csv")
    if result.rejected:
        write_rejects_report(result, report)
    console.print(
        f"read {result.read:,}  imported {result.imported:,}  "
        f"repaired {result.repaired:,}  rejected {len(result.rejected):,}"
    )
    store.close()
    if result.rejected:
        for r in result.rejected[:5]:
            err_console.print(
                f"  feature {r.index + 1}"
                f"{f' ({r.feature_id})' if r.feature_id else ''}: {r.message}",
                highlight=False,
            )
        if len(result.rejected) > 5:
            err_console.print(f"  ... and {len(result.rejected) - 5:,} more", highlight=False)
        err_console.print(f"rejects report: {report}", highlight=False)
        if not skip_invalid:
            err_console.print(
                "[red]error:[/red] nothing imported because some features are "
                "invalid; fix them or pass --skip-invalid",
                highlight=False,
            )
            raise typer.Exit(1)


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
            console.print(
                f"demo: loaded 24 Lisbon parishes and "
                f"{sum(r.imported for r in results)} heritage places"
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
from web import cli_admin, cli_export  # noqa: E402, F401
