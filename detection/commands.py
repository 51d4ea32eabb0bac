"""The composition layer: one function per command, taking a typed request and returning a
result; `detection/cli.py` only parses arguments into requests and prints results.

The product steps the commands are made of (`build_features`, `fit`, `label_features`) are
public too: benchmarks call them, so they measure what the product does. Every request carries
a `Settings` (detection.settings) and an `engine` (None: one process; the scale-out engine
plugs in there). Progress goes through `say` (common.progress.Say); nothing here prints.
Failures are raised; `detection.arguments.command` reports them (one `error:` line, a JSON
line with --json, the exit code of common.errors.ExitCode).
`simulate`, `import` and `bench` live in experiments/ and are wired by the CLI alone (only
the CLI imports experiments); the demo gets its world-maker from the CLI the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from common.atomic import write_parquet
from common.errors import UserError
from common.progress import Say, silent
from detection.settings import CHAMPION_URI, WORKSPACE, Settings, with_feature_settings
from features.execution import Engine
from features.io.contract import Dataset
from features.io.load import load_dataset
from features.pipeline import FeatureTable, feature_table

COMPILED_MODELS = "compiled-models"  # in the workspace: native predictors, one folder per model
FEATURE_CACHE = "feature-cache"
TRUTH_FILE = "truth.parquet"  # written by the simulator beside the tables; evaluation only
DEMO_EXPERIMENT = "ringwatch"  # the experiment `ringwatch train` logs to: one name for both


@dataclass(frozen=True, kw_only=True)
class Request:
    """What every command over a data folder takes."""

    data: Path
    as_of: datetime | None = None
    workspace: Path | None = WORKSPACE  # None: no feature cache
    settings: Settings = field(default_factory=Settings)
    engine: Any = None  # None: one process; else a features.execution.Engine (a cluster)


def load(request: Request) -> Dataset:
    """The request's data folder at its snapshot, checked with its settings' time window."""
    return load_dataset(request.data, request.as_of, request.settings.input.window())


def cache_root(workspace: Path | None) -> Path | None:
    """Where feature tables are kept for reuse (keyed by inputs, snapshot and settings)."""
    return None if workspace is None else Path(workspace) / FEATURE_CACHE


# --- product steps (commands and benchmarks share them) ----------------------------------------


def build_features(
    ds: Dataset,
    settings: Settings,
    cache: Path | None = None,
    say: Say = silent,
    engine: Any = None,
) -> FeatureTable:
    """The feature table of `ds` for these settings (reused from `cache` when it matches;
    the behaviour stage as tasks of `engine` when it is a cluster)."""
    from detection.console import note_kernels

    note_kernels(say)
    return feature_table(ds, cache, settings.features, say, engine)


def fit(
    table: FeatureTable,
    labels: pl.DataFrame,
    groups: pl.DataFrame | None,
    settings: Settings,
    known: pl.DataFrame | None = None,
) -> Any:  # -> training.fit.FitResult
    """Train, calibrate and measure one model on the table (no MLflow); label-derived
    features see the `known` labels (features.io.load.labels_known_at; None: all given)."""
    from training.fit import fit_model

    return fit_model(
        table.frame, labels, groups, settings.train, table.graphs, known=known,
        feature_settings=settings.features,
    )  # fmt: skip


def label_features(frame: pl.DataFrame, model: Any, graphs: Any, known: pl.DataFrame) -> Any:
    """The feature table with the model's label-derived columns from the `known` labels."""
    if not model.label_features:
        return frame
    from training.oof import with_label_features

    return with_label_features(frame, graphs, known)[0]


# --- validate, features, rings ---------------------------------------------------------------


def validate(request: Request) -> dict[str, Any]:
    """`ringwatch validate`: load the folder against the contract; its summary."""
    from features.io.summary import summarise

    return summarise(load(request))


@dataclass(frozen=True, kw_only=True)
class FeaturesRequest(Request):
    out: Path | None = None  # Parquet file to write the table to


def features(request: FeaturesRequest, say: Say = silent) -> FeatureTable:
    """`ringwatch features`: the feature table (written to `out` when given)."""
    ds = load(request)
    cache = cache_root(request.workspace)
    table = build_features(ds, request.settings, cache, say, request.engine)
    if request.out is not None:
        write_parquet(table.frame, request.out)
    return table


@dataclass(frozen=True, kw_only=True)
class RingsRequest(Request):
    out: Path
    verdict: str | None = None  # learned or rules; None: the settings' ring_verdict


@dataclass(frozen=True)
class RingsResult:
    rings: Any  # features.graph.rings.Rings
    accounts: int
    as_of: datetime
    seconds: float


def rings(request: RingsRequest, say: Say = silent) -> RingsResult:
    """`ringwatch rings`: load, build graphs, find the rings (the verdict sees the labels
    known at the snapshot), write the ring table."""
    from features.graph import build_graphs, find_rings
    from features.pipeline import graph_ops, links_from

    config = request.settings.features.graph
    started = time.perf_counter()
    say("loading the data")
    ds = load(request)
    say(f"building graphs of {ds.accounts.height:,} accounts")
    links = links_from(request.engine, request.settings.features, ds)
    graphs = build_graphs(ds, config, **links)
    say("peeling candidate components into rings, scoring them")
    ops = graph_ops(request.engine)
    found = find_rings(ds, graphs, config, labels=ds.labels, verdict=request.verdict, ops=ops)
    write_parquet(found.rings, request.out)
    return RingsResult(found, ds.accounts.height, ds.as_of, time.perf_counter() - started)


# --- train, runs, promote ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TrainRequest(Request):
    experiment: str = "ringwatch"
    ablation: bool = False  # three runs: behaviour only, graph only, both (none registered)


def train(request: TrainRequest, say: Say = silent) -> list:  # -> list[training.run.TrainResult]
    """`ringwatch train`: features, then one registered run (or three for the ablation).
    Ctrl-C and SIGTERM are watched from the first step (training.interrupts), so one that a
    library swallows still stops the run before anything is registered."""
    from training.interrupts import watch_interrupts
    from training.run import RunRequest, TrainData, train_command

    if request.workspace is None:
        raise UserError("training needs a workspace (its MLflow store)")
    settings = request.settings
    with watch_interrupts():
        ds = load(request)
        table = build_features(ds, settings, cache_root(request.workspace), say, request.engine)
        truth = Path(request.data) / TRUTH_FILE
        data = TrainData(
            dataset=ds, table=table.frame, groups=table.rings.components, graphs=table.graphs,
            truth=truth if truth.exists() else None,
            fingerprint={"data.inputs_sha256": table.inputs_sha256},
        )  # fmt: skip
        run = RunRequest(
            data=data, workspace=request.workspace, config=settings.train,
            experiment=request.experiment, features=settings.features, engine=request.engine,
            ablation=request.ablation,
        )  # fmt: skip
        return train_command(run, say)


def runs_list(experiment: str | None, limit: int, workspace: Path) -> pl.DataFrame:
    """`ringwatch runs list`: the latest runs with their headline metrics."""
    from training import runs
    from training.tracking import connect

    return runs.list_runs(experiment, limit, connect(workspace))


def runs_show(run: str, workspace: Path) -> dict[str, Any]:
    """`ringwatch runs show`: one run's params, metrics, tags, artifacts and models."""
    from training import runs
    from training.tracking import connect

    return runs.show_run(run, connect(workspace))


def runs_compare(run_ids: list[str], workspace: Path) -> pl.DataFrame:
    """`ringwatch runs compare`: metrics as rows, runs as columns."""
    from training import runs
    from training.tracking import connect

    return runs.compare_runs(run_ids, connect(workspace))


def promote(version: int, force: bool, workspace: Path) -> Any:  # -> registry.Comparison
    """`ringwatch promote`: @champion moves to `version` unless it is worse (or forced).
    Raises training.registry.PromotionRefused (a UserError holding the comparison)."""
    from training import registry
    from training.tracking import connect

    return registry.promote(version, force, connect(workspace))


# --- score, feedback ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ScoreRequest(Request):
    out: Path
    model: str = CHAMPION_URI
    overwrite: bool = False


def score(request: ScoreRequest, say: Say = silent) -> dict[str, Any]:
    """`ringwatch score`: load data and model, build features, score, write; the summary."""
    from detection import manifest, output
    from detection.console import bar
    from detection.pipeline import output_name, score_base
    from features.io.load import labels_known_at, normalise_as_of
    from training.compiled import compile_model
    from training.registry import load_model

    config = request.settings.score.check()
    if request.as_of is not None:  # fail before the expensive work
        output.check_free(
            request.out, output_name(normalise_as_of(request.as_of)), request.overwrite
        )
    spent: dict[str, float] = {}
    start = time.perf_counter()
    say(f"loading {request.data}")
    ds = load(request)
    stale = None if request.as_of is not None else request.settings.input.stale(ds.as_of)
    manifest.check_not_stale(request.out, output_name(ds.as_of), stale)
    output.check_free(request.out, output_name(ds.as_of), request.overwrite)
    spent["load"] = time.perf_counter() - start
    say(f"loading model {request.model}")
    model = load_model(request.model, request.workspace or WORKSPACE)
    if ds.accounts.height >= config.compile_min_accounts:
        root = Path(request.workspace or WORKSPACE) / COMPILED_MODELS
        model.compiled = compile_model(model, root, say)
    settings = with_feature_settings(request.settings, model.info)
    spent["model"] = time.perf_counter() - start - spent["load"]
    table = build_features(ds, settings, cache_root(request.workspace), say, request.engine)
    # a backdated run must not see labels decided after it
    frame = label_features(table.frame, model, table.graphs, labels_known_at(ds))
    spent["features"] = time.perf_counter() - start - spent["load"] - spent["model"]
    inputs = {
        "source": str(Path(request.data).resolve()),
        "fingerprint": table.inputs_sha256,
        "accounts": ds.accounts.height,
        "labels": ds.labels.height,
        "warnings": list(ds.warnings) + ([f"{request.data}: {stale}"] if stale else []),
        "as_of_source": ds.as_of_source,
    }
    with bar("scoring", frame.height) as progress:
        result = score_base(
            frame, model, ds.as_of, request.out, config, membership=table.rings.membership,
            rings=table.rings.rings, events=ds.events, edges=ds.edges, inputs=inputs,
            overwrite=request.overwrite, say=say, prior_timings=spent, advance=progress.advance,
            engine=request.engine or Engine(),
        )  # fmt: skip
    seconds = round(time.perf_counter() - start, 3)
    return {**result.summary, "as_of_source": ds.as_of_source, "seconds": seconds}


def feedback(
    decisions: Path | None, data: Path | None, from_review: Path | None = None
) -> dict[str, Any]:
    """`ringwatch feedback`: merge reviewers' decisions (a CSV, or what `ringwatch review`
    recorded beside a list) into the labels of `data`."""
    from detection.feedback import merge

    return merge(decisions, data, from_review).to_dict()


# --- demo --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DemoRequest:
    workspace: Path = WORKSPACE
    world: Callable[[Path], Any]  # writes a simulated platform into the folder it is given
    describe: str = "a simulated platform"
    settings: Settings = field(default_factory=Settings)
    engine: Any = None
    world_config: Any = None  # the world's settings (a dataclass): a reused data folder's match
    overwrite: bool = False  # simulate afresh over existing data


@dataclass(frozen=True)
class DemoResult:
    """Where the demo left what a person looks at."""

    workspace: Path
    data: Path
    lists: Path
    list_folder: Path
    report: Path
    summary: dict
    validation: dict
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step
    reused_data: bool = False


def promote_if_better(version: int, workspace: Path, say: Say) -> bool:
    """Make `version` @champion when there is none yet or it is at least as good."""
    from training import registry

    try:
        comparison = promote(version, False, workspace)
    except registry.PromotionRefused as refused:
        say(f"kept the current champion: {refused}")
        return False
    ap = comparison.challenger_metrics["average_precision"]
    say(f"version {version} is now @champion (held-out average precision {ap:.3f})")
    return True


def demo(request: DemoRequest, say: Say = silent) -> DemoResult:
    """`ringwatch demo`: the whole pipeline on a simulated world in the workspace (reused when
    the workspace holds one with the same settings), each step timed (detection.demo)."""
    from dataclasses import replace

    from detection.demo import prepare_data, world_settings, write_record
    from detection.manifest import Timings
    from training.run import report_lines

    workspace = Path(request.workspace)
    data, lists = workspace / "data", workspace / "lists"
    steps, world = Timings(), world_settings(request.world_config)
    with steps.step("simulate"):
        reused = prepare_data(
            workspace, world, request.world, request.overwrite, say, request.describe
        )
    with steps.step("validate"):
        say("validating the input tables")
        validation = validate(Request(data=data, settings=request.settings))
    settings = request.settings
    train_settings = replace(settings.train, eval=replace(settings.train.eval, compare_random=True))
    settings = settings.but(train=train_settings)
    as_of = datetime.fromisoformat(validation["as_of"])  # the demo's own world: never stale
    common = dict(data=data, as_of=as_of, workspace=workspace, engine=request.engine)
    with steps.step("features + train"):
        results = train(TrainRequest(**common, settings=settings, experiment=DEMO_EXPERIMENT), say)
    for line in report_lines(results):
        say(line)
    with steps.step("promote"):
        promote_if_better(results[0].version, workspace, say)
    with steps.step("score"):
        say("scoring the account base with the champion")
        summary = score(
            ScoreRequest(**common, settings=request.settings, out=lists, overwrite=True), say
        )
    folder = Path(summary["out"])
    seconds = {name: round(value, 2) for name, value in steps.seconds.items()}
    write_record(workspace, world, seconds, reused, folder)
    return DemoResult(
        workspace, data, lists, folder, folder / "report.html", summary, validation, seconds, reused
    )


def review(folder: Path, host: str, port: int, token: str | None, say: Say = silent) -> None:
    """`ringwatch review`: serve the review app over a list folder until interrupted."""
    from detection.review.serve import serve

    serve(folder, host, port, token, say)
