"""``heritage-atlas basemap``: the background every map draws, kept on this machine.

``import`` installs an MBTiles or PMTiles archive (raster or vector) in the basemap
folder, ``fetch`` prepares one while online by downloading a venue's raster tiles,
``info`` says what is installed and ``remove`` goes back to HERITAGE_TILES.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from web.cli_common import (
    DatabaseOption,
    app,
    console,
    err_console,
    one_line_errors,
    settings_for,
)

if TYPE_CHECKING:
    from geodata.basemap.archive import ArchiveInfo

basemap_app = typer.Typer(
    no_args_is_help=True,
    help="The basemap: tiles kept on this machine, drawn under every map (works offline).",
)
app.add_typer(basemap_app, name="basemap")


def describe(info: ArchiveInfo) -> str:
    """One line: the kind of tiles, zooms, count, area and credit."""
    kind = "vector tiles" if info.vector else f"{info.format.upper()} images"
    w, s, e, n = info.bounds
    return (
        f"{kind} ({info.container}), zooms {info.minzoom}-{info.maxzoom}, {info.tiles:,} tiles, "
        f"area {w:.4f},{s:.4f},{e:.4f},{n:.4f}, credit: {info.attribution}"
    )


@basemap_app.command("import")
@one_line_errors
def import_basemap(
    file: Annotated[Path, typer.Argument(help="An MBTiles or PMTiles file, raster or vector.")],
    attribution: Annotated[
        str | None,
        typer.Option(
            help="The tiles' credit, shown on every map (replaces the archive's own; needed "
            "when it has none).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Check an archive through and make it the basemap of every map (replacing any)."""
    from geodata.basemap.installed import install_basemap

    settings = settings_for(database_url)
    installed = install_basemap(file, settings.basemap_path, attribution=attribution)
    console.print(
        f"installed {escape(file.name)} as the basemap: {escape(describe(installed.info))}",
        highlight=False,
    )
    if installed.info.vector:
        console.print(
            "vector tiles are drawn with the atlas's own plain style (land, water, parks, "
            "buildings, roads, railways, boundaries, place names)",
            highlight=False,
        )
    console.print(f"kept in {escape(str(installed.path))}; every map draws it from now on")


@basemap_app.command("info")
@one_line_errors
def basemap_info(database_url: DatabaseOption = None) -> None:
    """Say which basemap the maps draw, if any."""
    from geodata.basemap.installed import installed_basemap

    settings = settings_for(database_url)
    found = installed_basemap(settings.basemap_path)
    if found is None:
        fallback = settings.tiles if settings.tiles_enabled else "none (HERITAGE_TILES=none)"
        console.print(
            f"no basemap in {escape(str(settings.basemap_path))}; the maps draw the tiles of "
            f"{escape(fallback)} over the neighbourhoods' outlines and names",
            highlight=False,
        )
        return
    console.print(
        f"{escape(found.source)}, imported {found.imported}: {escape(describe(found.info))}",
        highlight=False,
    )


@basemap_app.command("remove")
@one_line_errors
def basemap_remove(database_url: DatabaseOption = None) -> None:
    """Stop drawing the basemap and delete its file (maps go back to HERITAGE_TILES)."""
    from geodata.basemap.installed import remove_basemap

    settings = settings_for(database_url)
    removed = remove_basemap(settings.basemap_path)
    if removed is None:
        console.print("there was no basemap to remove")
    else:
        console.print(f"removed the basemap {escape(removed.source)}", highlight=False)


@basemap_app.command("fetch")
@one_line_errors
def basemap_fetch(
    bbox: Annotated[
        str, typer.Option(help="The area: west,south,east,north in degrees.", show_default=False)
    ],
    url: Annotated[
        str,
        typer.Option(
            help="The tile server's XYZ template, such as "
            "https://tiles.example.org/{z}/{x}/{y}.png ({s} for its subdomains).",
            show_default=False,
        ),
    ],
    attribution: Annotated[
        str,
        typer.Option(
            help="The tile server's credit, as its terms ask; kept in the file and shown on "
            "every map.",
            show_default=False,
        ),
    ],
    zooms: Annotated[str, typer.Option(help="The zooms, such as 10-16.")] = "10-16",
    out: Annotated[
        Path, typer.Option("--output", "-o", help="The MBTiles file to write (or to go on with).")
    ] = Path("basemap.mbtiles"),
    rate: Annotated[
        float, typer.Option(min=0.1, max=50.0, help="Tiles asked for per second, at most.")
    ] = 2.0,
    max_tiles: Annotated[
        int | None,
        typer.Option(min=1, help="Refuse above this many tiles (HERITAGE_BASEMAP_MAX_TILES)."),
    ] = None,
    subdomains: Annotated[str, typer.Option(help="What {s} stands for, in turn.")] = "abc",
    contact: Annotated[
        str | None,
        typer.Option(
            help="How the tile server's operator can reach you (an e-mail address or a web "
            "page), sent in the User-Agent; HERITAGE_PUBLIC_URL by default.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Download an area's raster tiles into an MBTiles file, politely; run it again to go on
    after an interruption. Then: heritage-atlas basemap import FILE."""
    import httpx

    from geodata.basemap.coverage import parse_bbox, parse_zooms
    from web.basemap_fetch import FetchPlan, RateLimit, check_template, fetch_tiles, user_agent
    from web.cli_common import progress_bar

    settings = settings_for()
    plan = FetchPlan(
        bounds=parse_bbox(bbox),
        zooms=parse_zooms(zooms),
        template=check_template(url),
        attribution=attribution,
        max_tiles=max_tiles or settings.basemap_max_tiles,
        subdomains=subdomains or "a",
    )
    headers = {"User-Agent": user_agent(contact or settings.public_url)}
    report = None
    try:
        with (
            httpx.Client(headers=headers, timeout=30.0, follow_redirects=True) as client,
            progress_bar() as bar,
        ):
            task = bar.add_task("tiles", total=None)
            report = fetch_tiles(plan, out, client, RateLimit(rate), lambda n: bar.advance(task, n))
    except KeyboardInterrupt:
        err_console.print(
            f"interrupted: the tiles fetched so far are kept in {escape(str(out))}; run the "
            "same command again to go on",
            highlight=False,
        )
        raise typer.Exit(130) from None
    except Exception:
        if out.exists():
            err_console.print(
                f"the tiles fetched so far are kept in {escape(str(out))}; run the same "
                "command again to go on",
                highlight=False,
            )
        raise
    console.print(
        f"{report.fetched:,} tiles fetched, {report.already:,} already in the file, "
        f"{report.absent:,} not on the server, of {report.total:,}: {escape(str(out))}",
        highlight=False,
    )
    console.print(f"next: heritage-atlas basemap import {escape(str(out))}", highlight=False)
