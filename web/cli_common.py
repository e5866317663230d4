"""The Typer app of ``heritage-atlas`` and what all its commands share.

:mod:`web.cli` and the command modules it registers (import, admin, export) all build
on this: one app, one console, one-line error handling, one way to open the store.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

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

if TYPE_CHECKING:  # imported by the commands that use them: each command starts faster
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


def settings_for(database_url: str | None = None) -> Settings:
    """The settings from the environment, with ``--database-url`` when given."""
    from web.settings import Settings

    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def settings_and_store(database_url: str | None = None) -> tuple[Settings, PlaceStore]:
    from geodata.store import open_store

    settings = settings_for(database_url)
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
