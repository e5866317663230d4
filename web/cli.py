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
def export(
    path: Annotated[Path, typer.Argument(help="Where to write the file.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="geojson, gpkg or csv (default: from PATH's extension)."
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
    GeoPackage or CSV (with a licence sidecar), filtered like the download API."""
    import os

    from geodata.io import csv_export, geojson
    from geodata.io.export import DatasetInfo, count_public
    from geodata.io.export_filter import ExportQuery, build_filter, describe
    from geodata.vocabulary import Vocabulary

    kind = (format or path.suffix.lstrip(".") or "geojson").lower()
    kind = {"json": "geojson", "gpkg": "gpkg", "geopackage": "gpkg"}.get(kind, kind)
    if kind not in ("geojson", "gpkg", "csv"):
        raise HeritageError(f"--format must be geojson, gpkg or csv, not {kind!r}")
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
        task = bar.add_task(f"writing {path.name}", total=count_public(store, flt, grid_m))

        def step(k: int) -> None:
            bar.update(task, completed=k)

        try:
            if kind == "gpkg":
                from geodata.io import gpkg  # geopandas: imported only when needed

                n = gpkg.write_places_gpkg(
                    store, flt, partial, info=info, filters=describe(query), grid_m=grid_m,
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
        typer.Option(help="Connections and requests at once per worker; more get a 503."),
    ] = 1000,
    timeout_keep_alive: Annotated[
        int, typer.Option(help="Seconds an idle connection stays open.")
    ] = 5,
    database_url: DatabaseOption = None,
) -> None:
    """Serve the maps, the contribution form and the API."""
    import os

    import uvicorn

    from geodata.demo import load_demo

    _, store = settings_and_store(database_url)
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
    console.print(f"Heritage Atlas on http://{host}:{port}/")
    uvicorn.run(
        "web.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # h11 (not httptools) because it caps the request line and headers: 64 KB is
        # generous for any browser, and a megabyte of headers is refused with a 400.
        http="h11",
        h11_max_incomplete_event_size=64 * 1024,
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=timeout_keep_alive,
        timeout_graceful_shutdown=30,
    )


@app.command("create-user")
@one_line_errors
def create_user(
    name: Annotated[str, typer.Argument(help="The account's name (used to sign in).")],
    role: Annotated[str, typer.Option(help="facilitator, planner or admin.")],
    with_password: Annotated[
        bool, typer.Option(help="Also ask for a password, to sign in on the web pages.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create a staff account and print its API token (shown this once only)."""
    from geodata.accounts import create_account, parse_role

    parse_role(role)  # a wrong role is refused before any password is asked for
    password = None
    if with_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _, store = settings_and_store(database_url)
    account, token = create_account(store, name, role, password=password)
    store.close()
    err_console.print(
        f"created {account.role} {account.name}; their API token (shown once, keep it safe):",
        highlight=False,
    )
    console.print(token, highlight=False)


@app.command("revoke-token")
@one_line_errors
def revoke_token_command(
    token_id: Annotated[str, typer.Argument(help="The token's id (or the whole token).")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke an API token or sign-in session at once."""
    from geodata.accounts import revoke_token

    _, store = settings_and_store(database_url)
    credential = revoke_token(store, token_id)
    store.close()
    console.print(f"revoked {credential.kind} {credential.id}")


@app.command()
@one_line_errors
def erase(
    contact: Annotated[
        str, typer.Option(help="The e-mail or phone the contributor gave (any case).")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Erase everything submitted with a contact: places, stories, photos and their history."""
    from geodata.audit import COMMAND_LINE
    from geodata.erasure import erase_contact

    settings, store = settings_and_store(database_url)
    found = len(store.place_ids_by_contact(contact))
    if found and not yes:
        typer.confirm(f"erase {found} place(s) for good?", abort=True, err=True)
    report = erase_contact(store, contact, settings.media_path, COMMAND_LINE)
    store.close()
    console.print(
        f"erased {report.places} place(s), {report.photos} photo(s) and "
        f"{report.audit_events} audit record(s); the database was compacted"
    )


@app.command("render-map")
@one_line_errors
def render_map(
    neighbourhood: Annotated[
        int, typer.Option("--neighbourhood", help="The neighbourhood's id (as in its map's URL).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML file.")],
    png: Annotated[
        Path | None,
        typer.Option("--png", help="Also write a picture of the map, through headless Chromium."),
    ] = None,
    tiles: Annotated[
        bool,
        typer.Option(
            help="Draw HERITAGE_TILES under the map (fetched when the file is opened); "
            "--no-tiles gives a plain background that works with no internet."
        ),
    ] = True,
    database_url: DatabaseOption = None,
) -> None:
    """Write a self-contained HTML map of one neighbourhood: no server needed to open it."""
    import dataclasses

    from geodata.vocabulary import Vocabulary
    from mapping.standalone import standalone_neighbourhood_html, write_atomically
    from web.routes.maps import map_options

    settings, store = settings_and_store(database_url)
    options = map_options(settings, settings.default_language)
    if not tiles:
        options = dataclasses.replace(options, tiles=None)
    html = standalone_neighbourhood_html(store, neighbourhood, Vocabulary(), options)
    store.close()
    write_atomically(out, html)
    console.print(f"wrote {out} ({len(html.encode()) / 1e6:.1f} MB)")
    if png is not None:
        from mapping.picture import render_png, tile_hosts

        render_png(out, png, tile_hosts=tile_hosts(options.tiles))
        console.print(f"wrote {png}")


def open_existing(url: str) -> PlaceStore:
    """Open a database that must already exist (a typo must not create an empty one)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise HeritageError(f"there is no SQLite database at {url.removeprefix('sqlite:///')}")
    return open_store(url)


@app.command("migrate-db")
@one_line_errors
def migrate_db(
    from_url: Annotated[
        str, typer.Option("--from", help="The database to copy: sqlite:///... or postgresql://...")
    ],
    to_url: Annotated[
        str, typer.Option("--to", help="The database to copy into (created and migrated).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace whatever the target database holds.")
    ] = False,
) -> None:
    """Copy everything (places, neighbourhoods, workshops, photo records, accounts, audit
    trail...) to another database, e.g. SQLite to PostGIS, and check the counts per table."""
    import logging

    from geodata.store.migrate import migrate_store

    # The pool logs every failed connection attempt; the one-line error says it once.
    logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
    if from_url.strip() == to_url.strip():
        raise HeritageError("--from and --to name the same database")
    source = open_existing(from_url)
    try:
        target = open_store(to_url)
        try:
            bar = progress_bar()  # shown once rows flow, so a refusal stays one line
            task = bar.add_task("copying", total=None)
            shown = []

            def step(table: str, done: int, total: int) -> None:
                if not shown:
                    bar.start()
                    shown.append(True)
                bar.update(task, description=table, total=max(total, 1), completed=done)

            try:
                report = migrate_store(source, target, force=force, progress=step)
            finally:
                if shown:
                    bar.stop()
        finally:
            target.close()
    finally:
        source.close()
    width = max(len(t.table) for t in report.tables)
    for t in report.tables:
        console.print(f"{t.table:<{width}}  {t.source:>10,} -> {t.target:>10,}  ok")
    console.print(f"copied {sum(t.target for t in report.tables):,} rows; every count matches")
    media = Settings(database_url=from_url).media_path.resolve()
    console.print(
        f"photos: {report.rows('media'):,} records copied; the files were not moved and stay "
        f"in {media}: set HERITAGE_MEDIA_DIR={media} (a folder every host shares) where the "
        "new database is served",
        highlight=False,
    )


@app.command()
@one_line_errors
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (a SQLite file).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Copy the SQLite database to PATH while the service keeps running (SQLite's online
    backup API); a PostGIS database is backed up with pg_dump instead."""
    from geodata.store.sqlite import SQLiteStore

    settings = Settings()
    url = database_url or settings.database_url
    if not url.startswith("sqlite:///"):
        raise HeritageError(
            "backup copies SQLite databases; back up PostGIS with pg_dump, e.g. "
            "pg_dump --format=custom --file=atlas.dump 'postgresql://user@host/dbname' "
            "(see docs/deployment.md)"
        )
    if path.exists() and not force:
        raise HeritageError(f"{path} already exists; pass --force to overwrite it")
    store = open_existing(url)
    try:
        if not isinstance(store, SQLiteStore):  # pragma: no cover - the URL said SQLite
            raise HeritageError(f"{url} is not a SQLite database")
        places = store.count()
        store.backup(path)
    finally:
        store.close()
    media = settings.model_copy(update={"database_url": url}).media_path
    console.print(f"backed up {places:,} places to {path} (integrity check ok)")
    console.print(f"photos are files: copy {media} as well", highlight=False)


def main() -> None:  # pragma: no cover - console script entry point
    app()
