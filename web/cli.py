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


EXPORT_FORMATS = ("geojson", "gpkg", "csv", "parquet", "fgb")
EXPORT_FORMAT_ALIASES = {
    "json": "geojson",
    "geopackage": "gpkg",
    "geoparquet": "parquet",
    "flatgeobuf": "fgb",
}


@app.command()
@one_line_errors
def export(
    path: Annotated[Path, typer.Argument(help="Where to write the file.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="geojson, gpkg, csv, parquet (GeoParquet) or fgb (FlatGeobuf); default: "
            "from PATH's extension.",
        ),
    ] = None,
    neighbourhood: Annotated[
        str | None, typer.Option(help="Neighbourhood id, name or code.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Category key(s), comma-separated.")] = None,
    language: Annotated[
        str | None, typer.Option(help="Places with a narrative in this language (BCP 47).")
    ] = None,
    year_from: Annotated[
        str | None, typer.Option(help="Places whose period reaches this year.")
    ] = None,
    year_to: Annotated[
        str | None, typer.Option(help="Places whose period starts by this year.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Created at or after (ISO 8601 date or time).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Created before (ISO 8601).")] = None,
    bbox: Annotated[
        str | None, typer.Option(help="min lon,min lat,max lon,max lat (WGS84).")
    ] = None,
    workshop: Annotated[str | None, typer.Option(help="Workshop join code.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Export the open-data places (published, with consent, no personal data) as GeoJSON,
    GeoPackage, CSV (with a licence sidecar), GeoParquet or FlatGeobuf, filtered like the
    download API."""
    import os
    import threading

    from geodata.io import csv_export, geojson
    from geodata.io.export import DatasetInfo, count_public
    from geodata.io.export_filter import ExportQuery, build_filter, describe
    from geodata.vocabulary import Vocabulary

    kind = (format or path.suffix.lstrip(".") or "geojson").lower()
    kind = EXPORT_FORMAT_ALIASES.get(kind, kind)
    if kind not in EXPORT_FORMATS:
        raise HeritageError(
            f"--format must be {', '.join(EXPORT_FORMATS[:-1])} or {EXPORT_FORMATS[-1]}, "
            f"not {kind!r}"
        )
    settings, store = settings_and_store(database_url)
    query = ExportQuery(
        neighbourhood=neighbourhood, category=category, language=language,
        year_from=year_from, year_to=year_to, since=since, until=until, bbox=bbox,
        workshop=workshop,
    )  # fmt: skip
    flt = build_filter(query, store.neighbourhoods(), Vocabulary())
    info = DatasetInfo(
        title=settings.open_data_title,
        licence=settings.open_data_licence,
        attribution=settings.open_data_attribution,
    )
    grid_m = settings.privacy_grid_m
    # Written beside PATH, then moved into place: an interrupted export leaves no half file.
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    with progress_bar() as bar:
        task = bar.add_task(f"writing {path.name}", total=None)
        # Counting reads every matching place too: on a thread of its own while the export
        # runs, and only when the export cannot tell how far it has got.
        counting = threading.Thread(
            target=lambda: bar.update(task, total=count_public(store, flt, grid_m)), daemon=True
        )

        def step(k: int, scanned: float | None = None) -> None:
            if scanned:  # places so far over the share of the store read: the total
                bar.update(task, completed=k, total=max(k, round(k / scanned)))
                return
            if counting.ident is None:  # not started yet
                counting.start()
            bar.update(task, completed=k)

        if kind != "geojson":
            counting.start()
        try:
            if kind == "gpkg":
                from geodata.io import gpkg  # geopandas: imported only when needed

                n = gpkg.write_places_gpkg(
                    store, flt, partial, info=info, filters=describe(query), grid_m=grid_m,
                    progress=step,
                )  # fmt: skip
            elif kind == "fgb":
                from geodata.io import flatgeobuf

                n = flatgeobuf.write_places_fgb(
                    store, flt, partial, info=info, grid_m=grid_m, progress=step
                )
            elif kind == "parquet":
                from geodata.io import geoparquet

                with open(partial, "wb") as fh:
                    n = geoparquet.write_places_parquet(
                        store, flt, fh, info=info, filters=describe(query), grid_m=grid_m,
                        progress=step,
                    )  # fmt: skip
            else:
                with open(partial, "wb") as fh:
                    if kind == "geojson":
                        n = geojson.write_places_geojson(
                            store, flt, fh, info=info, grid_m=grid_m, progress=step
                        )
                    else:
                        licences = csv_export.write_places_csv(
                            store, flt, fh, grid_m=grid_m, progress=step
                        )
                        n = sum(licences.values())
            if counting.ident is not None:
                counting.join()
            bar.update(task, total=n, completed=n)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    console.print(f"exported {n:,} places to {path}")
    if kind == "csv":
        sidecar = path.with_suffix(".licence.txt")
        sidecar.write_text(
            csv_export.licence_text(info, licences, describe(query)), encoding="utf-8"
        )
        console.print(f"licence and attribution: {sidecar}")
    store.close()


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


# The staff, maintenance and standalone-map commands live in their own module.
from web import cli_admin  # noqa: E402, F401
