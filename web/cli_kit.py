"""``heritage-atlas kit export`` and ``kit open``: a workshop kit, written from the central
atlas and run on a venue laptop without internet.

``kit open`` checks the kit, unpacks it beside itself (:mod:`geodata.kit_folder`) and
serves the atlas from that folder with the ``serve`` command, the workshop's join links
and QR codes naming the laptop's address on the local network.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from geodata.errors import InvalidInput
from web.cli_common import (
    DatabaseOption,
    app,
    console,
    err_console,
    one_line_errors,
    settings_and_store,
)

if TYPE_CHECKING:
    from geodata.kit_folder import VenueFolder

kit_app = typer.Typer(
    no_args_is_help=True,
    help="Workshop kits: one file to run a workshop on a laptop without internet.",
)
app.add_typer(kit_app, name="kit")
VENUE_ACCOUNT = "facilitator"


@kit_app.command("export")
@one_line_errors
def kit_export(
    workshop: Annotated[str, typer.Option("--workshop", help="The workshop's join code.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The kit file to write.")],
    basemap: Annotated[
        Path | None,
        typer.Option(
            help="An MBTiles or PMTiles file to carry whole as the background map (default: "
            "the installed basemap, cut to the workshop's area)."
        ),
    ] = None,
    basemap_attribution: Annotated[
        str | None, typer.Option(help="Whom that file's tiles credit (shown on the maps).")
    ] = None,
    no_basemap: Annotated[
        bool, typer.Option("--no-basemap", help="Carry no background map.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Write everything a laptop needs to run one workshop offline into one file."""
    from geodata.basemap.installed import installed_basemap
    from geodata.kit_basemap import kit_basemap
    from geodata.kit_export import VenueSettings, export_kit

    if no_basemap and (basemap is not None or basemap_attribution is not None):
        raise InvalidInput("--no-basemap carries no basemap: leave out --basemap and its credit")
    settings, store = settings_and_store(database_url)
    venue = VenueSettings(
        privacy_grid_m=settings.privacy_grid_m,
        privacy_k=settings.privacy_k,
        project_margin_m=settings.project_margin_m,
        default_language=settings.default_language,
        open_data_title=settings.open_data_title,
        open_data_licence=settings.open_data_licence,
        open_data_attribution=settings.open_data_attribution,
    )
    code = workshop.replace(" ", "").upper()
    scratch = output.with_name(f".{output.name}.basemap.mbtiles")
    try:
        with console.status("writing the kit") as status:
            background = None
            if not no_basemap:
                status.update("writing the kit: the basemap of the workshop's area")
                background = kit_basemap(
                    store,
                    store.get_workshop(code),
                    given=basemap,
                    attribution=basemap_attribution,
                    installed=installed_basemap(settings.basemap_path),
                    scratch=scratch,
                    max_tiles=settings.basemap_max_tiles,
                )
            summary = export_kit(
                store,
                code,
                output,
                settings.media_path,
                venue,
                basemap=background,
                source=settings.public_url,
                progress=lambda step: status.update(f"writing the kit: {step}"),
            )
    finally:
        store.close()
        scratch.unlink(missing_ok=True)
    size = output.stat().st_size / 2**20
    console.print(
        f"kit written: {output} ({size:.1f} MB): {summary.neighbourhoods} neighbourhoods, "
        f"{summary.places} public places, {summary.additions} memories and translations, "
        f"{summary.photos} photos, {summary.recordings} recordings, {summary.walks} walks"
        + (f", a basemap of {summary.basemap_tiles} tiles" if summary.basemap else ""),
        highlight=False,
    )
    if summary.left_out_hidden:
        console.print(
            f"left out: {summary.left_out_hidden} public places whose location is hidden",
            highlight=False,
        )


def _venue_environment(folder: VenueFolder, host: str, port: int) -> str:
    """Point every setting at the working folder (the ``serve`` workers read them from
    the environment) and return the address phones use."""
    from geodata.kit_export import VenueSettings
    from web.lan_address import link_host

    address = link_host(host)
    shown = f"[{address}]" if ":" in address else address
    public = f"http://{shown}:{port}"
    venue = VenueSettings.from_json(folder.manifest.get("settings") or {})
    os.environ.update(
        {
            "HERITAGE_DATABASE_URL": folder.database_url,
            "HERITAGE_MEDIA_DIR": str(folder.media),
            "HERITAGE_BASEMAP_DIR": str(folder.basemap_folder),
            "HERITAGE_PUBLIC_URL": public,
            "HERITAGE_ALLOWED_HOSTS": ",".join(["127.0.0.1", "localhost", "::1", address]),
            "HERITAGE_PRIVACY_GRID_M": str(venue.privacy_grid_m),
            "HERITAGE_PRIVACY_K": str(venue.privacy_k),
            "HERITAGE_PROJECT_MARGIN_M": str(venue.project_margin_m),
            "HERITAGE_DEFAULT_LANGUAGE": venue.default_language,
            "HERITAGE_OPEN_DATA_TITLE": venue.open_data_title,
            "HERITAGE_OPEN_DATA_LICENCE": venue.open_data_licence,
            "HERITAGE_OPEN_DATA_ATTRIBUTION": venue.open_data_attribution,
        }
    )
    # No tile server is reachable offline: a plain background unless told otherwise.
    os.environ.setdefault("HERITAGE_TILES", "none")
    return public


def _facilitator_password(folder: VenueFolder) -> str:
    """A fresh password for the venue's facilitator account (made on first opening): the
    kit carries no account, and only the person at the laptop sees it printed."""
    from geodata import accounts
    from geodata.store import open_store

    password = secrets.token_urlsafe(9)
    store = open_store(folder.database_url)
    try:
        account = store.account_by_name(VENUE_ACCOUNT)
        if account is None:
            accounts.create_account(store, VENUE_ACCOUNT, "facilitator", password=password)
        else:
            accounts.set_password(store, account, password)
    finally:
        store.close()
    return password


@kit_app.command("open")
@one_line_errors
def kit_open(
    kit: Annotated[Path, typer.Argument(help="The .atlaskit file.")],
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on; 0.0.0.0 serves every network this laptop is on, and "
            "links name its address on the local network."
        ),
    ] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    serve_it: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the atlas once it is unpacked.")
    ] = True,
) -> None:
    """Check a kit, unpack it into a folder beside it, and run the workshop from there."""
    from geodata.kit_folder import open_folder
    from geodata.workshops import spoken, state

    folder, contents = open_folder(kit)
    if contents is not None:
        console.print(
            f"unpacked into {folder.root}: {contents.neighbourhoods} neighbourhoods, "
            f"{contents.places} places, {contents.additions} memories and translations, "
            f"{contents.photos} photos, {contents.recordings} recordings, "
            f"{contents.walks} walks",
            highlight=False,
        )
    else:
        console.print(f"opening {folder.root} again (what was collected there stays)")
    public = _venue_environment(folder, host, port)
    password = _facilitator_password(folder)
    _, store = settings_and_store(folder.database_url)
    try:
        workshop = store.get_workshop(folder.workshop_code)
    finally:
        store.close()
    code = workshop.code
    console.print(
        f"workshop {escape(workshop.title)} (code {spoken(code)})\n"
        f"  join (phones on this network): {public}/contribute?workshop={code}\n"
        f"  projector: {public}/workshops/{code}/live\n"
        f"  facilitators: {public}/login as {VENUE_ACCOUNT}, password {password}",
        highlight=False,
    )
    if (when := state(workshop)) != "open":
        window = f"{workshop.starts_at:%Y-%m-%d %H:%M} to {workshop.ends_at:%Y-%m-%d %H:%M} UTC"
        err_console.print(
            f"[yellow]warning:[/yellow] the workshop is {when} ({window}): submissions with "
            "its code are refused outside that window",
            highlight=False,
        )
    if public.startswith("http://127.0.0.1") and host not in ("127.0.0.1", "localhost"):
        err_console.print(
            "[yellow]warning:[/yellow] no local network found: phones cannot reach this "
            "laptop; join its Wi-Fi (or start a hotspot) and open the kit again",
            highlight=False,
        )
    if folder.has_basemap:
        console.print(f"basemap: installed in {folder.basemap_folder}", highlight=False)
    else:
        console.print("no basemap in this kit: the maps draw the neighbourhoods' outlines")
    if serve_it:
        from web.cli_serve import serve

        serve(host=host, port=port, database_url=folder.database_url)
