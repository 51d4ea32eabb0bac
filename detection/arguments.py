"""The CLI's shared pieces: the Typer apps, the decorator that turns user errors into one
line and an exit code, the option types several commands take, and the settings they load."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer._click.core import Context  # typer 0.29 vendors click: its own exception classes
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from common.errors import ExitCode, UserError, environment_problem, full_disk
from detection.settings import CHAMPION_URI, WORKSPACE

JSON_FLAG = "--json"


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for JSON output (options end at `--`)."""
    return JSON_FLAG in (args[: args.index("--")] if "--" in args else args)


class JsonUsageErrors(TyperGroup):
    """The root group: a usage error (unknown option, missing argument, bad value) under
    --json also gives the JSON error line on stdout, like every other failure (exit 2)."""

    def make_context(self, info_name: str | None, args: list[str], *a: Any, **kw: Any):
        wants = _wants_json(list(args))
        try:
            ctx = super().make_context(info_name, args, *a, **kw)
        except ClickException as error:
            json_line(error.format_message(), error.exit_code, wants)
            raise
        ctx.meta[JSON_FLAG] = wants
        return ctx

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClickException as error:  # a subcommand's arguments did not parse
            json_line(error.format_message(), error.exit_code, ctx.meta.get(JSON_FLAG, False))
            raise


app = typer.Typer(
    cls=JsonUsageErrors,
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
    help="Benchmarks: quality on public datasets, speed of every stage, scale-out.",
    no_args_is_help=True,
)


INTERRUPTED = int(ExitCode.INTERRUPTED)  # 128 + SIGINT, as shells report it


def json_line(message: str, code: int, as_json: bool) -> None:
    """With --json, the failure as one JSON line on stdout (a scheduler parses stdout)."""
    if as_json:
        print(json.dumps({"status": "error", "exit_code": code, "error": message}), flush=True)


def fail(message: str, code: int, as_json: bool) -> NoReturn:
    """Report a failure as one `error:` line on stderr (and a JSON line) and exit with `code`."""
    json_line(message, code, as_json)
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code) from None


def command(*args: Any, group: typer.Typer = app, **kwargs: Any) -> Callable:
    """Register a command whose failures print one `error:` line (and a JSON line with --json)
    and exit with a scheduler-readable code: user and environment errors 2, Ctrl-C 130; a bug
    keeps its traceback (exit 1)."""

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            as_json = bool(kw.get("as_json", False))
            try:
                return func(*a, **kw)
            except UserError as error:
                fail(str(error), int(error.exit_code), as_json)
            except KeyboardInterrupt:
                fail("interrupted: nothing was published or registered", INTERRUPTED, as_json)
            except Exception as error:
                problem = environment_problem(error) or full_disk(kw.values())
                if problem is None:  # a bug: say so in JSON too, keep the traceback
                    json_line(str(error) or type(error).__name__, 1, as_json)
                    raise
                fail(problem, 2, as_json)

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
Cluster = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        envvar="RINGWATCH_CLUSTER",
        show_envvar=True,
        help="Engine: absent = this process; local or local:N = a Dask LocalCluster of N "
        "worker processes on loopback; tcp://host:port = an existing Dask scheduler.",
    ),
]
WorkerMemory = Annotated[
    str | None,
    typer.Option(help="Memory limit of each LocalCluster worker, e.g. 3GiB (default: RAM / N)."),
]
DEMO = WORKSPACE
__all__ = [
    "CHAMPION_URI",
    "DEMO",
    "AsOf",
    "Cluster",
    "Data",
    "JsonOutput",
    "SettingsFile",
    "WorkerMemory",
    "Workspace",
    "app",
    "bench_app",
    "command",
    "on_engine",
    "runs_app",
    "settings_from",
]

DemoOverwrite = Annotated[
    bool, typer.Option("--overwrite", help="Simulate afresh over existing WORKSPACE/data.")
]
CsvFeatures = Annotated[
    bool, typer.Option("--csv-features", help="Also write every feature value (JSON) to the CSV.")
]


def settings_from(path: Path | None, train_params: Path | None = None):  # -> Settings
    """Defaults, then the --settings file, then a --params file of training settings."""
    from detection.settings import load_settings
    from training.config import load_train_config

    settings = load_settings(path)
    return settings if train_params is None else settings.but(train=load_train_config(train_params))


def on_engine(call, request, cluster: str | None, worker_memory: str | None, say):  # -> Any
    """call(request with the engine --cluster selects, say); a cluster lives as long as the
    call, its scratch folder under the request's workspace."""
    from dataclasses import replace

    from features.cluster import open_engine

    workspace = getattr(request, "workspace", None) or DEMO
    with open_engine(cluster, workspace, worker_memory, say) as engine:
        return call(replace(request, engine=engine), say)
