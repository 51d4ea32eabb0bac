"""The CLI's shared pieces: the Typer apps, the decorator that turns user errors into one
line and an exit code, the option types several commands take, and the settings they load."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from common.errors import UserError
from detection.settings import CHAMPION_URI, WORKSPACE

app = typer.Typer(
    name="ringwatch",
    help="Find fake accounts and fraud rings; write ranked, explained close-candidate lists.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
runs_app = typer.Typer(
    help="List, show and compare training runs recorded in MLflow.", no_args_is_help=True
)
bench_app = typer.Typer(
    help="Benchmarks: quality on public datasets, speed of every stage.", no_args_is_help=True
)


def command(*args: Any, group: typer.Typer = app, **kwargs: Any) -> Callable:
    """Register a command whose user mistakes print one line and exit 2, without a traceback."""

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            try:
                return func(*a, **kw)
            except UserError as error:
                print(f"error: {error}", file=sys.stderr)
                raise typer.Exit(error.exit_code) from None

        return group.command(*args, **kwargs)(wrapper)

    return decorate


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also show MLflow's own INFO log lines.")
    ] = False,
) -> None:
    """Find fake accounts and fraud rings; write ranked, explained close-candidate lists."""
    from detection.console import configure

    configure(verbose)


Data = Annotated[Path, typer.Argument(help="Folder holding the input tables.")]
AsOf = Annotated[
    datetime | None,
    typer.Option(help="Snapshot time (UTC); nothing after it is read. Default: the latest event."),
]
Workspace = Annotated[
    Path,
    typer.Option(
        "--workspace",
        help="Workspace: MLflow store (mlflow.db, mlartifacts/), feature cache, lists. "
        "MLFLOW_TRACKING_URI overrides its store.",
    ),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SettingsFile = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        help="TOML file of settings ([features.*], [train.*], [score]); unknown keys are errors.",
    ),
]
DEMO = WORKSPACE
__all__ = [
    "CHAMPION_URI",
    "DEMO",
    "AsOf",
    "Data",
    "JsonOutput",
    "SettingsFile",
    "Workspace",
    "app",
    "bench_app",
    "command",
    "runs_app",
    "settings_from",
]


def settings_from(path: Path | None, train_params: Path | None = None):  # -> Settings
    """Defaults, then the --settings file, then a --params file of training settings."""
    from detection.settings import load_settings
    from training.config import load_train_config

    settings = load_settings(path)
    return settings if train_params is None else settings.but(train=load_train_config(train_params))
