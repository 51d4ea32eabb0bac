"""The MLflow-logged training run: fit, evaluate, log everything, register as @challenger.

`train_command` is what `ringwatch train` calls; `train_run` is one run; `run_ablation` logs
three runs (behaviour only, graph only, both) so the value of each feature family is visible.
Each takes one `RunRequest` (the `TrainData` to learn from, the settings, where to log).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from common.progress import Say, silent
from features.config import FeatureConfig
from features.io.contract import Dataset
from features.io.load import labels_known_at
from training.config import TrainConfig
from training.fit import LABEL_STAGE, FitResult, fit_model
from training.logged import logged_run
from training.metrics import truth_metrics

ABLATION: dict[str, set[str] | None] = {
    "behaviour": {"behaviour", "attribute"},
    "graph": {"graph", LABEL_STAGE},
    "both": None,
}
HEADLINE = ("average_precision", "roc_auc", "recall_at_precision_0_9", "ece")


@dataclass
class TrainResult:
    """One logged training run: where it is, what it measured, and the model it registered."""

    run_id: str
    experiment_id: str
    metrics: dict[str, float]
    fit: FitResult
    version: int | None  # registered version of model `ringwatch` (None when not registered)
    stages: str = "all"


def data_fingerprint(dataset: Dataset, given: dict[str, str] | None = None) -> dict[str, str]:
    """What the model was trained from: row counts, snapshot time, source and a hash of inputs.

    `given` (from the caller, e.g. the feature cache's `data.inputs_sha256`) wins over what is
    computed here; the input files are hashed only when the caller did not give the hash.
    """
    given = given or {}
    inputs_sha256 = given.get("data.inputs_sha256")
    labels = dataset.labels
    fingerprint = {
        "data.source": str(dataset.source),
        "data.as_of": dataset.as_of.isoformat(),
        "data.accounts": str(dataset.accounts.height),
        "data.events": str(dataset.n_events),
        "data.edges": str(dataset.edges.height),
        "data.labels": str(labels.height),
        "data.labels_bad": str(int((labels["label"] == 1).sum())),
    }
    if inputs_sha256 is None and Path(dataset.source).is_dir():
        from features.io.fingerprint import fingerprint_inputs

        inputs_sha256 = fingerprint_inputs(Path(dataset.source))
    fingerprint["data.inputs_sha256"] = inputs_sha256 or "unknown"
    return {**fingerprint, **given}


def _load_truth(truth: Path | pl.DataFrame | None) -> pl.DataFrame | None:
    """truth.parquet of a simulated world (None on real data)."""
    if truth is None or isinstance(truth, pl.DataFrame):
        return truth
    path = Path(truth)
    return pl.read_parquet(path) if path.exists() else None


@dataclass(frozen=True, kw_only=True)
class TrainData:
    """What a run learns from: the dataset and its feature table, with the ring groups kept on
    one side of the split, the label graphs and (simulated worlds only) the truth."""

    dataset: Dataset
    table: pl.DataFrame  # the feature table (features.pipeline.FeatureTable.frame)
    groups: pl.DataFrame | None = None  # ring components (account_id, group)
    graphs: Any = None  # features.graph.LabelGraphs: label-derived features
    truth: Path | pl.DataFrame | None = None  # truth.parquet of a simulated world
    fingerprint: dict[str, str] | None = None  # e.g. the feature cache's data.inputs_sha256


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """One logged training run (or, with `ablation`, three): data, settings, where to log."""

    data: TrainData
    workspace: Path  # its MLflow store (MLFLOW_TRACKING_URI overrides)
    config: TrainConfig = field(default_factory=TrainConfig)
    experiment: str = "ringwatch"
    features: FeatureConfig | None = None  # the table's feature settings (saved with the model)
    engine: Any = None  # a cluster boosts the overall model when its rows outgrow one worker
    stages: frozenset[str] | None = None  # feature stages used (None: all)
    register: bool = True  # register the model as `ringwatch` @challenger
    run_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    ablation: bool = False  # train_command: three unregistered runs instead of one


def _fit(request: RunRequest, config: TrainConfig, known: pl.DataFrame, engine: Any) -> FitResult:
    """fit_model on the request's data with `config`."""
    data = request.data
    return fit_model(
        data.table, data.dataset.labels, data.groups, config, data.graphs,
        stages=request.stages, known=known, feature_settings=request.features, engine=engine,
    )  # fmt: skip


def _random_split_metrics(request: RunRequest, known: pl.DataFrame) -> dict[str, float]:
    """The held-out figures of the same fit on a (leaky) random split, `random_`-prefixed."""
    config = request.config
    random_config = replace(
        config,
        split=replace(config.split, kind="random"),
        heads=replace(config.heads, enabled=False),
    )
    leaky = _fit(request, random_config, known, None)
    return {f"random_{k}": v for k, v in leaky.metrics.items() if k.startswith("test_")}


def train_run(request: RunRequest, say: Say = silent) -> TrainResult:
    """Fit, evaluate and log one MLflow run; register it as `ringwatch` @challenger if asked."""
    from training.tracking import get_or_create_experiment, use_workspace

    use_workspace(request.workspace)  # fails fast, one line, when the store is unreachable
    experiment_id = get_or_create_experiment(request.experiment)
    config, data, stages = request.config, request.data, request.stages
    say(f"training ({config.split.kind} split, stages: {sorted(stages) if stages else 'all'})")
    known = labels_known_at(data.dataset)
    fit = _fit(request, config, known, request.engine)
    metrics = dict(fit.metrics)
    if config.eval.compare_random and config.split.kind != "random":
        say("training again on a random split, for comparison")
        metrics.update(_random_split_metrics(request, known))
    truth_frame = _load_truth(data.truth)
    if truth_frame is not None:
        metrics.update(truth_metrics(fit.scored, data.dataset.labels, truth_frame))
    fingerprint = data_fingerprint(data.dataset, data.fingerprint)
    stage_tag = ",".join(sorted(stages)) if stages else "all"
    say("logging the run to MLflow")
    tags = {"ringwatch.stages": stage_tag, **request.tags}
    run_id, version = logged_run(
        fit, config, metrics, fingerprint, tags, experiment_id, request.run_name, request.register
    )
    if version is not None:
        fit.model.name, fit.model.version = "ringwatch", str(version)
    return TrainResult(run_id, experiment_id, metrics, fit, version, stage_tag)


def run_ablation(request: RunRequest, say: Say = silent) -> list[TrainResult]:
    """Three logged runs on the same split: behaviour only, graph only, both (none registered)."""
    fingerprint = data_fingerprint(request.data.dataset, request.data.fingerprint)
    data = replace(request.data, fingerprint=fingerprint)  # the inputs are hashed once
    results = []
    for name, stages in ABLATION.items():
        tags = {**request.tags, "ringwatch.ablation": name}
        chosen = None if stages is None else frozenset(stages)
        run = replace(request, data=data, stages=chosen, register=False, engine=None)
        results.append(train_run(replace(run, run_name=f"ablation-{name}", tags=tags), say))
    return results


def train_command(request: RunRequest, say: Say = silent) -> list[TrainResult]:
    """What `ringwatch train` does: one registered run, or the three ablation runs; the
    results (detection.console prints them with `report_lines`)."""
    if request.ablation:
        return run_ablation(request, say)
    return [train_run(request, say)]


def report_lines(results: list[TrainResult]) -> list[str]:
    """Held-out figures of each run as plain lines (strict and random side by side if both)."""
    lines = []
    for r in results:
        m, c = r.metrics, r.fit.split.counts()
        head = (
            f"run {r.run_id[:12]} ({r.stages}; {r.fit.split.kind} split: train {c['train']}, "
            f"valid {c['valid']}, test {c['test']})"
        )
        if r.version is not None:
            head += f" registered as ringwatch version {r.version} @challenger"
        lines.append(head)
        for key in HEADLINE:
            text = f"  {key:<26} {m.get('test_' + key, float('nan')):.4f}"
            if f"random_test_{key}" in m:
                text += f"   (random split, leaky: {m['random_test_' + key]:.4f})"
            lines.append(text)
        ks = sorted(int(k.split("_")[-1]) for k in m if k.startswith("test_precision_at_"))
        for k in ks:
            p, rec = m[f"test_precision_at_{k}"], m[f"test_recall_at_{k}"]
            lines.append(f"  precision@{k:<5} {p:.4f}   recall@{k:<5} {rec:.4f}")
        if "truth_unlabelled_recall_at_k" in m:
            bad, n = int(m["truth_unlabelled_bad"]), int(m["truth_unlabelled_n"])
            share = m["truth_unlabelled_recall_at_k"]
            lines.append(f"  unlabelled bad surfaced in top-{bad} of {n} unlabelled: {share:.1%}")
        lines += [f"  note: {note}" for note in r.fit.notes]
    return lines
