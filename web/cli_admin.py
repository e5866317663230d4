"""Staff, maintenance and standalone-map commands of ``heritage-atlas``.

They register on the Typer app of :mod:`web.cli_common` (:mod:`web.cli` imports this
module last), with the same one-line error handling.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from geodata.errors import HeritageError
from web.cli_common import (
    DatabaseOption,
    app,
    console,
    err_console,
    one_line_errors,
    progress_bar,
    settings_and_store,
    settings_for,
)

if TYPE_CHECKING:
    from geodata.store.base import PlaceStore


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
    added = len(store.narrative_addition_ids_by_contact(contact))
    if (found or added) and not yes:
        typer.confirm(
            f"erase {found} place(s) and {added} added memory(ies) or translation(s) for good?",
            abort=True,
            err=True,
        )
    report = erase_contact(store, contact, settings.media_path, COMMAND_LINE)
    store.close()
    console.print(
        f"erased {report.places} place(s), {report.photos} photo(s), {report.walks} "
        f"walk(s), {report.narratives} added memory(ies) or translation(s) and "
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
    # Popups link to each place's page on the service, if its public address is known.
    from web.routes.place_pages import place_page_url

    page = settings.public_url.rstrip("/") + place_page_url("{id}") if settings.public_url else None
    # A file opened with no server: the service's basemap and orientation layer are
    # out of its reach (the neighbourhood's own outline still frames it).
    options = dataclasses.replace(options, place_page_url=page, basemap=None, orientation_url=None)
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
    from geodata.store import open_store

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

    from geodata.store import open_store
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
    media = settings_for(from_url).media_path.resolve()
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

    settings = settings_for(database_url)
    url = settings.database_url
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
    media = settings.media_path
    console.print(f"backed up {places:,} places to {path} (integrity check ok)")
    console.print(f"photos are files: copy {media} as well", highlight=False)
