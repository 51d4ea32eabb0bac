"""The `ringwatch` command line: it parses arguments into requests for the composition layer
(detection.commands) and prints the results (detection.console), nothing else.

Commands are listed in pipeline order. Each body imports what it needs inside the function, so
`ringwatch --help` answers without loading polars' heavier friends (lightgbm, mlflow, numba).
Shared pieces (the apps, the error decorator, option types) are in detection.arguments.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from detection.arguments import (
    CHAMPION_URI,
    DEMO,
    AsOf,
    Cluster,
    CsvFeatures,
    Data,
    DemoOverwrite,
    JsonOutput,
    SettingsFile,
    WorkerMemory,
    Workspace,
    app,
    bench_app,
    command,
    on_engine,
    runs_app,
    settings_from,
)
from detection.review_commands import feedback, review
from experiments.bench_rings_command import bench_rings_command

__all__ = ["app"]
BENCH, SHARED = Path("bench-out"), Path("../shared/data")


@command()
def demo(
    workspace: Annotated[Path, typer.Option(help="Folder for everything the demo writes.")] = DEMO,
    accounts: Annotated[int, typer.Option(help="Accounts in the simulated world.")] = 20_000,
    weeks: Annotated[int, typer.Option(help="Weeks of simulated events.")] = 4,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 7,
    camouflage: Annotated[str, typer.Option(help="none, light or heavy.")] = "light",
    settings: SettingsFile = None,
    overwrite: DemoOverwrite = False,
    cluster: Cluster = None,
    worker_memory: WorkerMemory = None,
) -> None:
    """Run the whole pipeline end to end on a simulated platform (reused when it exists)."""
    from detection import commands
    from detection.console import print_demo, progress
    from experiments.simulate import WorldConfig, simulate_to

    world = WorldConfig(accounts=accounts, weeks=weeks, seed=seed, camouflage=camouflage).check()
    request = commands.DemoRequest(
        workspace=workspace, world=lambda data: simulate_to(world, data, overwrite=True),
        describe=f"{accounts:,} accounts over {weeks} weeks (seed {seed})",
        settings=settings_from(settings), world_config=world, overwrite=overwrite,
    )  # fmt: skip
    print_demo(on_engine(commands.demo, request, cluster, worker_memory, progress()))


@command()
def simulate(
    out: Annotated[Path, typer.Argument(help="Folder to write the simulated platform to.")],
    accounts: Annotated[int, typer.Option(help="Number of accounts.")] = 20_000,
    weeks: Annotated[int, typer.Option(help="Weeks of events.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 7,
    bad_share: Annotated[float, typer.Option(help="Share of bad accounts.")] = 0.05,
    camouflage: Annotated[str, typer.Option(help="none, light or heavy.")] = "light",
    labelled_share: Annotated[float, typer.Option(help="Share of bad accounts labelled.")] = 0.5,
    label_noise: Annotated[float, typer.Option(help="Share of wrong labels.")] = 0.015,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT.")] = False,
) -> None:
    """Write a synthetic platform (tables + truth.parquet for evaluation) to OUT."""
    import time

    from detection.console import bar, print_simulated
    from experiments.simulate import WorldConfig, simulate_to

    knobs = dict(accounts=accounts, weeks=weeks, seed=seed, bad_share=bad_share)
    knobs |= dict(camouflage=camouflage, labelled_share=labelled_share, label_noise=label_noise)
    world, started = WorldConfig(**knobs).check(), time.perf_counter()
    with bar("simulating", None) as chunks:
        track = lambda done, total: chunks.update(completed=done, total=total)  # noqa: E731
        written = simulate_to(world, out, overwrite=overwrite, progress=track)
    print_simulated(written, time.perf_counter() - started)


@command()
def validate(data: Data, as_of: AsOf = None, settings: SettingsFile = None) -> None:
    """Check a data folder against the input contract and print a summary."""
    from detection import commands
    from detection.console import print_summary

    request = commands.Request(data=data, as_of=as_of, settings=settings_from(settings))
    print_summary(commands.validate(request))


@command()
def features(
    data: Data,
    out: Annotated[Path, typer.Option(help="Parquet file to write the feature table to.")],
    as_of: AsOf = None,
    workspace: Workspace = DEMO,
    settings: SettingsFile = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT.")] = False,
    cluster: Cluster = None,
    worker_memory: WorkerMemory = None,
) -> None:
    """Build the feature table (behaviour, graph, rings) of every account at the snapshot."""
    from common.atomic import check_output_file
    from detection import commands
    from detection.console import print_features, progress

    check_output_file(out, overwrite)  # before the work
    request = commands.FeaturesRequest(
        data=data, as_of=as_of, workspace=workspace, settings=settings_from(settings), out=out
    )
    table = on_engine(commands.features, request, cluster, worker_memory, progress())
    print_features(out, table.frame)


@command()
def rings(
    data: Data,
    out: Annotated[Path, typer.Option(help="Parquet file to write the ring table to.")],
    truth: Annotated[
        Path | None, typer.Option(help="truth.parquet of a simulated world: score the rings.")
    ] = None,
    as_of: AsOf = None,
    settings: SettingsFile = None,
    verdict: Annotated[
        str | None,
        typer.Option(
            help="learned (ring scorer trained from labelled members; the default) or rules "
            "(the old hand-written verdict, for comparison)."
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT.")] = False,
    workspace: Workspace = DEMO,
    cluster: Cluster = None,
    worker_memory: WorkerMemory = None,
) -> None:
    """Find fraud rings (dense, fabricated groups) and write them, with their evidence, to OUT."""
    from common.atomic import check_output_file
    from common.errors import UserError
    from detection import commands
    from detection.console import print_lines, print_rings, progress
    from experiments.ring_eval import evaluate_rings, format_report, read_truth
    from features.graph.verdict import VERDICTS

    if verdict is not None and verdict not in VERDICTS:
        raise UserError(f"--verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    check_output_file(out, overwrite)
    checked = read_truth(truth) if truth is not None else None  # fail fast, before the work
    request = commands.RingsRequest(
        data=data, as_of=as_of, workspace=workspace, settings=settings_from(settings), out=out,
        verdict=verdict,
    )  # fmt: skip
    found = on_engine(commands.rings, request, cluster, worker_memory, progress())
    print_rings(found.rings, out, found.accounts, found.as_of, found.seconds)
    if checked is not None:
        print_lines(format_report(evaluate_rings(found.rings.membership, checked)))


@command()
def train(
    data: Annotated[Path, typer.Argument(help="Folder holding the input tables (with labels).")],
    as_of: AsOf = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name.")] = "ringwatch",
    params: Annotated[Path | None, typer.Option(help="TOML file of training settings.")] = None,
    split: Annotated[
        str | None, typer.Option(help="strict (time- and ring-aware, default) or random (leaky).")
    ] = None,
    ablation: Annotated[
        bool, typer.Option("--ablation", help="Three runs: behaviour only, graph only, both.")
    ] = False,
    search: Annotated[bool, typer.Option("--search", help="Small hyper-parameter search.")] = False,
    compare_random: Annotated[
        bool, typer.Option("--compare-random", help="Also report the leaky random split.")
    ] = False,
    workspace: Workspace = DEMO,
    settings: SettingsFile = None,
    cluster: Cluster = None,
    worker_memory: WorkerMemory = None,
) -> None:
    """Train, evaluate and log a LightGBM model; register it as ringwatch @challenger."""
    from detection import commands
    from detection.console import print_train, progress
    from training.config import with_overrides

    chosen = settings_from(settings, params)
    flags = dict(split=split, search=search or None, compare_random=compare_random or None)
    chosen = chosen.but(train=with_overrides(chosen.train, **flags))
    request = commands.TrainRequest(
        data=data, as_of=as_of, workspace=workspace, settings=chosen,
        experiment=experiment, ablation=ablation,
    )  # fmt: skip
    print_train(on_engine(commands.train, request, cluster, worker_memory, progress()))


app.add_typer(runs_app, name="runs")
import detection.cli_runs  # noqa: E402, F401  (registers the runs commands)


@command()
def promote(
    version: Annotated[int, typer.Argument(help="Version of the `ringwatch` model to promote.")],
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if worse on average precision.")
    ] = False,
    workspace: Workspace = DEMO,
    as_json: JsonOutput = False,
) -> None:
    """Make a model version @champion after comparing it with the champion on held-out data."""
    from detection import commands
    from detection.console import print_promotion
    from training.registry import PromotionRefused
    from training.runs import to_json

    def show(comparison) -> None:  # training.registry.Comparison
        print(to_json(comparison.to_dict())) if as_json else print_promotion(comparison)

    try:
        comparison = commands.promote(version, force, workspace)
    except PromotionRefused as refused:
        show(refused.comparison)
        raise
    show(comparison)


@command()
def score(
    data: Data,
    out: Annotated[Path, typer.Option(help="Output root; the list goes to OUT/<as-of date>/.")],
    as_of: AsOf = None,
    model: Annotated[
        str, typer.Option(help="models:/ringwatch@ALIAS, models:/ringwatch/N or a model folder.")
    ] = CHAMPION_URI,
    capacity: Annotated[
        int | None, typer.Option(help="List the top K accounts, rings kept whole (default 500).")
    ] = None,
    min_precision: Annotated[
        float | None, typer.Option(help="Instead: the longest list with this expected precision.")
    ] = None,
    close_at: Annotated[
        float | None, typer.Option(help="Calibrated P(bad) from which to suggest closing (0.9).")
    ] = None,
    review_at: Annotated[
        float | None, typer.Option(help="... from which to suggest a manual review (0.7).")
    ] = None,
    watch_at: Annotated[
        float | None,
        typer.Option(help="... below which an account is listed only with its ring (0.5)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace its list.")] = False,
    csv_features: CsvFeatures = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary line.")] = False,
    workspace: Workspace = DEMO,
    settings: SettingsFile = None,
    cluster: Cluster = None,
    worker_memory: WorkerMemory = None,
) -> None:
    """Score every account; write the ranked, explained, ring-grouped close-candidate list.

    Exit codes: 0 written, 1 failure, 2 user error, 3 locked by another run, 4 list exists,
    5 stale data (its latest time is old and already listed), 130 interrupted.
    """
    import json

    from detection import commands
    from detection.console import print_score, progress

    chosen = settings_from(settings)
    given = dict(close_threshold=close_at, review_threshold=review_at, watch_threshold=watch_at)
    config = replace(chosen.score, **{k: v for k, v in given.items() if v is not None})
    config = replace(config, csv_feature_values=True) if csv_features else config
    chosen = chosen.but(score=config.with_cut(capacity, min_precision))
    request = commands.ScoreRequest(
        data=data, as_of=as_of, workspace=workspace, settings=chosen,
        out=out, model=model, overwrite=overwrite,
    )  # fmt: skip
    summary = on_engine(commands.score, request, cluster, worker_memory, progress())
    print(json.dumps(summary)) if as_json else print_score(summary)


command()(feedback)  # the reviewers' commands, beside their option types
command()(review)


@command("import")
def import_(
    name: Annotated[str, typer.Argument(help="amazon, bitcoin-alpha, reddit or instafake.")],
    source_dir: Annotated[
        Path, typer.Argument(help="The dataset's folder, e.g. ../shared/data/reddit.")
    ],
    out: Annotated[Path, typer.Argument(help="Folder to write the contract tables to.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT.")] = False,
) -> None:
    """Convert a public evaluation dataset into input-contract tables in OUT."""
    from detection.console import print_import
    from experiments.importers import import_dataset

    print_import(import_dataset(name, source_dir, out, overwrite))


app.add_typer(bench_app, name="bench")


@command("quality", group=bench_app)
def bench_quality(
    datasets: Annotated[
        list[str] | None,
        typer.Option("--datasets", help="Datasets (repeat or comma-separate); default all."),
    ] = None,
    seeds: Annotated[
        int, typer.Option(help="Seeds (random splits / time cut-offs) per protocol.")
    ] = 10,
    data_root: Annotated[Path, typer.Option(help="Folder holding the datasets' folders.")] = SHARED,
    out: Annotated[Path, typer.Option(help="Folder for the results.")] = BENCH / "quality",
    methods: Annotated[
        list[str] | None,
        typer.Option("--methods", help="features-only, graph-tree, ringwatch; default all."),
    ] = None,
    workspace: Workspace = Path("bench-out/workspace"),
    no_mlflow: Annotated[
        bool, typer.Option("--no-mlflow", help="Do not log runs to MLflow.")
    ] = False,
) -> None:
    """Our detector beside in-repo baselines under the published and strict protocols."""
    from detection.console import bar, progress
    from detection.console_bench import print_quality
    from experiments.bench_quality import quality_steps, run_quality, split_names

    store = None if no_mlflow else workspace
    names, chosen = split_names(datasets), split_names(methods)
    with bar("benchmark", quality_steps(names, chosen, seeds)) as steps:
        result = run_quality(names, seeds, data_root, out, store, chosen, progress(), steps.advance)
    print_quality(result)


command("rings", group=bench_app)(bench_rings_command)  # defined beside the benchmark


@command("speed", group=bench_app)
def bench_speed(
    accounts: Annotated[
        list[int] | None, typer.Option(help="World sizes (repeat); default 300000 and 1000000.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for speed.md and speed.json.")] = BENCH
    / "speed",
) -> None:
    """features, train, score and end to end on simulated worlds, each command in a fresh
    process (wall, CPU, peak RSS), beside a plain polars + LightGBM peer."""
    from detection.console import print_lines, progress
    from experiments.bench_speed import main as run_speed
    from experiments.bench_speed import to_markdown

    print_lines(to_markdown(run_speed(accounts or [300_000, 1_000_000], out, progress())))


@command("scale", group=bench_app)
def bench_scale(
    accounts: Annotated[int, typer.Option(help="Accounts of the simulated world.")] = 100_000,
    data: Annotated[Path | None, typer.Option(help="Use this data folder instead.")] = None,
    cluster: Annotated[str, typer.Option(help="Cluster to compare with one process.")] = "local:2",
    worker_memory: Annotated[str, typer.Option(help="Memory limit per worker.")] = "3GiB",
    out: Annotated[Path, typer.Option(help="Folder for scale.md, scale.json.")] = BENCH / "scale",
) -> None:
    """One world through one process and through a Dask cluster: time, memory, capacity."""
    from detection.console import print_lines, progress
    from experiments.bench_scale import main as run_scale

    print_lines(run_scale(accounts, data, cluster, worker_memory, out, progress()))
