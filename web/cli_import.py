"""Import commands of ``heritage-atlas``: neighbourhoods and places from vector files.

They register on the Typer app of :mod:`web.cli_common` (:mod:`web.cli` imports this
module last), with the same one-line error handling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
)


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
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="The tool that made the file: ushahidi, umap, kml, gpx, kobo or odk "
            "(default: told from its content).",
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help='TOML file: [fields] title = "name"..., [categories] NAME = "key".'),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="FIELD=SOURCE_FIELD (title=name, narrative=description, tags=..., "
            "geopoint=...) or category.NAME=KEY; repeatable.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(help="Check everything and print what would be imported; store nothing."),
    ] = False,
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
    title_field: Annotated[
        str | None, typer.Option(help="Field holding each title (default: title, name...).")
    ] = None,
    narrative_field: Annotated[
        str | None,
        typer.Option(help="Field holding each story (default: narrative, description...)."),
    ] = None,
    narrative_language_field: Annotated[
        str | None,
        typer.Option(help="Field holding each story's BCP 47 language (default: language, lang)."),
    ] = None,
    narrative_source_field: Annotated[
        str | None, typer.Option(help="Field naming where each story was taken from.")
    ] = None,
    narrative_licence_field: Annotated[
        str | None,
        typer.Option(help="Field giving each story's licence and the credit it asks for."),
    ] = None,
    narrative_format: Annotated[
        str,
        typer.Option(help="text, or html: tags removed and entities decoded, nothing reworded."),
    ] = "text",
    licence_field: Annotated[
        str | None, typer.Option(help="Field giving each place's licence (else --licence).")
    ] = None,
    attribution_field: Annotated[
        str | None,
        typer.Option(help="Field giving whom to credit for each place (else --attribution)."),
    ] = None,
    group_field: Annotated[
        str | None,
        typer.Option(
            help="Features with the same value here are one place, with all their stories "
            "(e.g. one text per language)."
        ),
    ] = None,
    attach_within: Annotated[
        float | None,
        typer.Option(
            help="Metres: a feature naming a place stored this close (same title) adds its "
            "stories to that place instead of making another.",
            min=0,
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Import places; a file with bad features imports nothing unless --skip-invalid."""
    from geodata.importer import ImportOptions, import_places, write_rejects_report
    from geodata.io.sources.field_map import FieldMap
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
        title_field=title_field,
        narrative_field=narrative_field,
        narrative_language_field=narrative_language_field,
        narrative_source_field=narrative_source_field,
        narrative_licence_field=narrative_licence_field,
        narrative_format=narrative_format,
        licence_field=licence_field,
        attribution_field=attribution_field,
        group_field=group_field,
        attach_within_m=attach_within,
        dry_run=dry_run,
    )
    field_map = FieldMap.load(mapping) if mapping else FieldMap()
    for spec in map_ or ():
        field_map.add(spec)
    with progress_bar() as bar:
        task = bar.add_task(f"reading {path.name}", total=None)

        def step(label: str, n: int) -> None:
            bar.update(task, description=label, total=max(n, 1), completed=n)

        result = import_places(
            store, path, options, progress=step, source=source, field_map=field_map
        )
    report = rejects or Path.cwd() / (path.name + ".rejects.csv")
    if result.rejected:
        write_rejects_report(result, report)
    console.print(
        f"read {result.read:,}  {'would import' if dry_run else 'imported'} {result.imported:,}  "
        f"repaired {result.repaired:,}  rejected {len(result.rejected):,}"
    )
    if dry_run:
        _print_dry_run(result, skip_invalid)
    if group_field and result.merged:
        console.print(f"joined the place of an earlier feature ({group_field}): {result.merged:,}")
    if result.attached:
        console.print(
            f"stored already: {result.attached:,} (their stories added to "
            f"{result.updated:,} stored places)"
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


def _print_dry_run(result, skip_invalid: bool) -> None:
    """What a --dry-run would have stored: places per category and the first titles."""
    head = f"dry run ({result.source or 'plain file'}): nothing stored; "
    if result.rejected and not skip_invalid:
        console.print(head + "the file would be refused as it is", highlight=False)
        return
    console.print(head + f"would import {result.imported:,} places", highlight=False)
    for key, n in sorted(result.categories.items()):
        console.print(f"  {key}: {n:,}", highlight=False)
    for title in result.titles:
        console.print(f"  - {title}", highlight=False)
