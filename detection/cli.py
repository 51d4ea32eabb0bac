"""The `ringwatch` command line: a thin layer over the library, one small function a command."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from features.errors import UserError

app = typer.Typer(
    name="ringwatch",
    help="Find fake accounts and fraud rings; write ranked, explained close-candidate lists.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def command(*args: Any, **kwargs: Any) -> Callable:
    """Register a command whose user mistakes print one line and exit 2, without a traceback."""

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            try:
                return func(*a, **kw)
            except UserError as error:
                print(f"error: {error}", file=sys.stderr)
                raise typer.Exit(error.exit_code) from None

        return app.command(*args, **kwargs)(wrapper)

    return decorate


@app.callback()
def main() -> None:
    """Find fake accounts and fraud rings; write ranked, explained close-candidate lists."""


AsOf = Annotated[
    datetime | None,
    typer.Option(help="Snapshot time (UTC); nothing after it is read. Default: the latest event."),
]


@command()
def validate(data: Annotated[Path, typer.Argument(help="Folder holding the input tables.")],
             as_of: AsOf = None) -> None:
    """Check a data folder against the input contract and print a summary."""
    from features.load import load_dataset
    from features.summary import print_summary

    print_summary(load_dataset(data, as_of))


# --- commands added above this line ---
