"""``heritage-atlas sync push | pull | status``: a venue laptop's contributions to the
central atlas, exactly once, and the atlas's erasures back to the laptop.

The kit file names its working folder (where ``kit open`` unpacked it); the central atlas
is reached with a facilitator's API token (``--token`` or ``HERITAGE_SYNC_TOKEN``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from web.cli_common import app, console, err_console, one_line_errors, progress_bar

sync_app = typer.Typer(
    no_args_is_help=True,
    help="Send a venue's contributions to the central atlas; bring its erasures back.",
)
app.add_typer(sync_app, name="sync")

KitArgument = Annotated[Path, typer.Argument(help="The .atlaskit file the venue opened.")]
TokenOption = Annotated[
    str,
    typer.Option(
        envvar="HERITAGE_SYNC_TOKEN",
        help="A facilitator's API token on the central atlas (or HERITAGE_SYNC_TOKEN).",
        show_default=False,
    ),
]


@sync_app.command("push")
@one_line_errors
def sync_push(
    kit: KitArgument,
    to: Annotated[
        str, typer.Option("--to", help="The central atlas, e.g. https://atlas.example.org")
    ],
    token: TokenOption,
    batch_size: Annotated[int, typer.Option(min=1, max=100, help="Changes per request.")] = 25,
) -> None:
    """Send what was collected at the venue; a second push (or one after a crash) stores
    nothing twice."""
    from geodata.kit_folder import existing_folder
    from web.sync_client import Atlas, push

    folder = existing_folder(kit)
    atlas = Atlas(to, token)
    try:
        with progress_bar() as bar:
            task = bar.add_task("pushing", total=None)
            report = push(
                folder,
                atlas,
                batch=batch_size,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    finally:
        atlas.close()
    console.print(
        f"pushed to {to}: {report.stored} stored, {report.already} stored before, "
        f"{len(report.conflicts)} kept there as conflicts for a moderator",
        highlight=False,
    )
    for c in report.conflicts:
        err_console.print(
            f"[yellow]conflict[/yellow] {c['id']} ({c['reason']}): {escape(c['change'])}: "
            f"{escape(c['detail'] or '')}",
            highlight=False,
        )


@sync_app.command("pull")
@one_line_errors
def sync_pull(
    kit: KitArgument,
    from_: Annotated[str, typer.Option("--from", help="The central atlas.")],
    token: TokenOption,
) -> None:
    """Bring the central atlas's erasures and withdrawals of consent to this laptop."""
    from geodata.kit_folder import existing_folder
    from web.sync_client import Atlas, pull

    folder = existing_folder(kit)
    atlas = Atlas(from_, token)
    try:
        report = pull(folder, atlas)
    finally:
        atlas.close()
    console.print(
        f"pulled from {from_}: {report.erased} erased, {report.withdrawn} withdrawn by their "
        f"contributors, {report.unpublished} no longer public, {report.rescoped} recordings "
        "with a new consent scope",
        highlight=False,
    )


@sync_app.command("status")
@one_line_errors
def sync_status(kit: KitArgument) -> None:
    """List what waits to be pushed, and the conflicts earlier pushes left on the atlas."""
    from geodata.kit_folder import existing_folder
    from geodata.store import open_store
    from geodata.sync_outbox import outbox

    folder = existing_folder(kit)
    store = open_store(folder.database_url)
    try:
        box = outbox(store, folder.kit_id, folder.media)
        conflicts = [e for e in store.sync_ledger().values() if e.outcome == "conflict"]
    finally:
        store.close()
    kinds = ("place", "narrative", "photo", "recording", "deletion")
    counts = ", ".join(f"{box.count(k)} {k}" for k in kinds)
    console.print(f"{len(box.changes)} changes wait to be pushed ({counts})", highlight=False)
    for c in box.changes:
        what = "new" if c.base is None and c.kind != "deletion" else "changed"
        if c.kind == "deletion":
            what = "removed"
        console.print(
            f"  {c.kind:<10} {c.record:<16} {what:<8} {escape(c.summary)}", highlight=False
        )
    if conflicts:
        console.print(f"{len(conflicts)} kept as conflicts on the central atlas:")
        for e in conflicts:
            console.print(
                f"  {e.kind:<10} {e.record_id:<16} {escape(e.detail or '')}", highlight=False
            )
