"""The `ringwatch runs` commands (list, show, compare): MLflow runs as tables or JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from detection.arguments import DEMO, JsonOutput, Workspace, command, runs_app

__all__ = ["runs_compare", "runs_list", "runs_show"]


@command("list", group=runs_app)
def runs_list(
    experiment: Annotated[str | None, typer.Option(help="Only this experiment.")] = None,
    limit: Annotated[int, typer.Option(help="How many of the latest runs.")] = 20,
    workspace: Workspace = DEMO,
    as_json: JsonOutput = False,
) -> None:
    """List the latest training runs with held-out metrics and registered versions."""
    from detection import commands
    from detection.console import print_runs
    from training.runs import to_json

    frame = commands.runs_list(experiment, limit, workspace)
    print(to_json(frame)) if as_json else print_runs(frame)


@command("show", group=runs_app)
def runs_show(
    run: Annotated[str, typer.Argument(help="Run id, unique id prefix or run name.")],
    workspace: Workspace = DEMO,
    as_json: JsonOutput = False,
) -> None:
    """Show one run: params, metrics, tags, artifact files and model versions."""
    from detection import commands
    from detection.console import print_run
    from training.runs import to_json

    found = commands.runs_show(run, workspace)
    print(to_json(found)) if as_json else print_run(found)


@command("compare", group=runs_app)
def runs_compare(
    run_ids: Annotated[list[str], typer.Argument(help="Run ids (or unique prefixes / names).")],
    workspace: Workspace = DEMO,
    as_json: JsonOutput = False,
) -> None:
    """Compare runs' metrics side by side."""
    from detection import commands
    from detection.console import print_run_comparison
    from training.runs import to_json

    frame = commands.runs_compare(run_ids, workspace)
    print(to_json(frame)) if as_json else print_run_comparison(frame)
