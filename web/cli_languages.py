"""``heritage-atlas languages``: how complete each interface catalog is, and ``languages
add`` to start one for a new language. The judging is :mod:`web.catalog_check`'s."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from web.cli_common import app, console, err_console

languages_app = typer.Typer(
    no_args_is_help=False,
    help="The interface languages: each catalog's completeness; add a new one.",
)
app.add_typer(languages_app, name="languages")


@languages_app.callback(invoke_without_command=True)
def languages(
    ctx: typer.Context,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Exit non-zero, listing what is left, when any catalog is incomplete."
        ),
    ] = False,
) -> None:
    """A table of every catalog: translated, fuzzy, untranslated, placeholder mismatches."""
    if ctx.invoked_subcommand is not None:
        return
    from web.catalog_check import check_catalogs

    reports = check_catalogs()
    table = Table(title="Interface languages (web/locale)")
    table.add_column("code", no_wrap=True, min_width=7)
    table.add_column("language", no_wrap=True, min_width=10)
    for column in ("translated", "fuzzy", "untranslated", "placeholder\nmismatches"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in reports:
        table.add_row(
            r.tag,
            r.name,
            f"{r.translated}/{r.total} {r.percent:5.1f}%",
            str(len(r.fuzzy)),
            str(len(r.untranslated) + len(r.missing)),
            str(len(r.placeholder_mismatches)),
            style=None if r.complete else "yellow",
        )
    console.print(table)
    if check:
        problems = [line for r in reports for line in r.problems()]
        for line in problems:
            err_console.print(escape(line), highlight=False)
        if problems:
            incomplete = sum(1 for r in reports if not r.complete)
            err_console.print(
                f"[red]error:[/red] {incomplete} of {len(reports)} catalogs are incomplete",
                highlight=False,
            )
            raise typer.Exit(1)


@languages_app.command("add")
def add(
    tag: Annotated[str, typer.Argument(help="The language's BCP 47 tag, such as ro or zh-Hant.")],
) -> None:
    """Start the catalog of a new language from messages.pot, ready to translate."""
    from web.catalog_check import CatalogError, start_catalog

    try:
        path = start_catalog(tag)
    except CatalogError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    console.print(
        f"Started {escape(str(path))}: translate each msgstr, then check it with "
        "`heritage-atlas languages --check`. The service offers it from its next start "
        "(messages not yet translated show in English).",
        highlight=False,
    )
