"""The MLflow-logged training run: fit, evaluate, log everything, register as @challenger.

`train_command` is what `ringwatch train` calls; `train_run` is one run; `run_ablation` logs
three runs (behaviour only, graph only, both) so the value of each feature family is visible.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from common.errors import UserError, environment_problem
from common.progress import Say, silent
from features.config import FeatureConfig
from features.io.contract import Dataset
from training.config import TrainConfig, config_params
from training.fit import LABEL_STAGE, FitResult, fit_model
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


def feature_docs(fit: FitResult) -> list[dict[str, str]]:
    """The model's features with the registry's description, unit and stage (the registry of
    the feature settings saved with the model)."""
    from features.config import feature_config_of
    from features.registry import describe

    settings = feature_config_of(fit.model.info.get("features"))
    docs = []
    for name in fit.model.feature_names:
        spec = describe(name, settings)
        stage = LABEL_STAGE if name in fit.model.label_features else spec.stage
        docs.append(
            {"name": name, "stage": stage, "unit": spec.unit, "description": spec.description}
        )
    return docs


def write_plots(fit: FitResult, folder: Path, sample: int, seed: int) -> None:
    """Every evaluation picture of the held-out (test) part into `folder`."""
    from training import plots

    held = fit.heldout
    y = held["label"].cast(pl.Int64).to_numpy()
    p = held["score"].to_numpy()
    plots.pr_curve(y, p, folder / "pr_curve.png")
    plots.roc(y, p, folder / "roc_curve.png")
    plots.calibration(y, p, folder / "calibration.png")
    plots.score_histogram(y, p, folder / "score_histogram.png")
    plots.importance(fit.model.importance(), folder / "importance_gain.png")
    rows = held.sample(min(sample, held.height), seed=seed) if held.height else held
    contrib = fit.model.contributions(rows)
    values = fit.model.matrix(rows)
    plots.contribution_summary(
        contrib, values, fit.model.feature_names, folder / "contributions.png"
    )


def log_booster(fit: FitResult) -> None:
    """Log the booster with mlflow.lightgbm: numeric signature and a small input example."""
    import lightgbm
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    names = fit.model.feature_names
    example = fit.model.matrix(fit.heldout.head(5))
    frame = pl.DataFrame(example, schema=names, orient="row").to_pandas()
    signature = infer_signature(frame, fit.model.booster.predict(example))
    mlflow.lightgbm.log_model(
        fit.model.booster,
        name="booster",
        signature=signature,
        input_example=frame,
        pip_requirements=[f"lightgbm=={lightgbm.__version__}"],  # no slow inference subprocess
    )


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    """Metrics MLflow can store (NaN ones, e.g. precision@k of an empty part, are left out)."""
    return {k: float(v) for k, v in metrics.items() if np.isfinite(v)}


def log_run(
    fit: FitResult,
    config: TrainConfig,
    metrics: dict[str, float],
    fingerprint: dict[str, str],
    tags: dict[str, str],
) -> None:
    """Everything about one fit into the active MLflow run (the registered model folder last)."""
    import mlflow

    from training.registry import HELDOUT_ARTIFACT, MODEL_ARTIFACT

    mlflow.set_tags({**tags, "ringwatch.split": fit.split.kind})
    mlflow.log_params({**config_params(config), **fingerprint})
    mlflow.log_params({f"lgb.{k}": str(v) for k, v in fit.params.items() if k not in ("metric",)})
    mlflow.log_metrics(_finite(metrics))
    mlflow.log_dict({"features": feature_docs(fit)}, "features.json")
    split = {
        "kind": fit.split.kind,
        "counts": fit.split.counts(),
        "cuts": {k: str(v) for k, v in fit.split.cuts.items()},
        "notes": fit.notes,
    }
    mlflow.log_dict(split, "split.json")
    if fit.search_trials:
        mlflow.log_dict({"trials": fit.search_trials}, "search.json")
    with tempfile.TemporaryDirectory(prefix="ringwatch-run-") as tmp:
        folder = Path(tmp)
        (folder / "plots").mkdir()
        write_plots(fit, folder / "plots", config.eval.contrib_sample, config.split.seed)
        mlflow.log_artifacts(str(folder / "plots"), "plots")
        held = folder / Path(HELDOUT_ARTIFACT).name
        fit.heldout.write_parquet(held)
        mlflow.log_artifact(str(held), str(Path(HELDOUT_ARTIFACT).parent))
        log_booster(fit)
        fit.model.save(folder / MODEL_ARTIFACT)
        mlflow.log_artifacts(str(folder / MODEL_ARTIFACT), MODEL_ARTIFACT)


def unregister(version: int) -> None:
    """Delete a just-registered version again (its aliases go with it), best effort."""
    import contextlib

    import mlflow

    from training.registry import MODEL_NAME
    from training.tracking import client_for

    with contextlib.suppress(Exception):
        client_for(mlflow.get_tracking_uri()).delete_model_version(MODEL_NAME, str(version))


def abandon(run_id: str, version: int | None, status: str) -> None:
    """Take back a run that did not finish: unregister its version, end it as `status`."""
    import contextlib

    import mlflow

    from training.tracking import client_for

    if version is not None:
        unregister(version)
    with contextlib.suppress(Exception):  # best effort: the store itself may be what failed
        active = mlflow.active_run()
        if active is not None and active.info.run_id == run_id:
            mlflow.end_run(status)
        else:
            client_for(mlflow.get_tracking_uri()).set_terminated(run_id, status)


def logged_run(
    fit: FitResult,
    config: TrainConfig,
    metrics: dict[str, float],
    fingerprint: dict[str, str],
    tags: dict[str, str],
    experiment_id: str,
    run_name: str | None,
    register: bool,
) -> tuple[str, int | None]:
    """Log one fit as an MLflow run and register it: all or nothing. A failure or an
    interrupt (Ctrl-C, SIGTERM; even one a library swallowed) ends the run FAILED or KILLED
    and leaves no registered version."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from training.interrupts import watch_interrupts
    from training.registry import register as register_version

    with watch_interrupts() as interrupts:
        with interrupts.deferred():
            run_id = mlflow.start_run(experiment_id=experiment_id, run_name=run_name).info.run_id
        version = None
        try:
            log_run(fit, config, metrics, fingerprint, tags)
            interrupts.check()
            with interrupts.deferred():
                if register:  # last: a run that failed to log anything is never registered
                    version = register_version(run_id)
                    mlflow.set_tag("ringwatch.registered_version", str(version))
                mlflow.end_run("FINISHED")
            interrupts.check()
        except BaseException as error:
            with interrupts.deferred():
                stopped = isinstance(error, KeyboardInterrupt)
                abandon(run_id, version, "KILLED" if stopped else "FAILED")
            if isinstance(error, MlflowException):
                first = (str(error).strip().splitlines() or [type(error).__name__])[0]
                problem = environment_problem(error) or first[:300]
                raise UserError(f"MLflow run failed, nothing registered: {problem}") from None
            raise
    return run_id, version


def _load_truth(truth: Path | pl.DataFrame | None) -> pl.DataFrame | None:
    """truth.parquet of a simulated world (None on real data)."""
    if truth is None or isinstance(truth, pl.DataFrame):
        return truth
    path = Path(truth)
    return pl.read_parquet(path) if path.exists() else None


def train_run(
    dataset: Dataset,
    feature_table: pl.DataFrame,
    groups: pl.DataFrame | None,
    config: TrainConfig,
    workspace: Path,
    experiment: str,
    graphs: Any = None,
    truth: Path | pl.DataFrame | None = None,
    fingerprint: dict[str, str] | None = None,
    stages: set[str] | None = None,
    register: bool = True,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
    say: Say = silent,
    features: FeatureConfig | None = None,
) -> TrainResult:
    """Fit, evaluate and log one MLflow run; register it as `ringwatch` @challenger if asked."""
    from training.tracking import get_or_create_experiment, use_workspace

    use_workspace(workspace)  # fails fast, one line, when the store is unreachable
    experiment_id = get_or_create_experiment(experiment)
    say(f"training ({config.split.kind} split, stages: {sorted(stages) if stages else 'all'})")
    labels, as_of = dataset.labels, dataset.as_of
    fit = fit_model(
        feature_table,
        labels,
        groups,
        config,
        graphs,
        stages=stages,
        as_of=as_of,
        feature_settings=features,
    )
    metrics = dict(fit.metrics)
    if config.eval.compare_random and config.split.kind != "random":
        say("training again on a random split, for comparison")
        random_config = replace(
            config,
            split=replace(config.split, kind="random"),
            heads=replace(config.heads, enabled=False),
        )
        leaky = fit_model(
            feature_table, labels, groups, random_config, graphs, stages=stages, as_of=as_of,
            feature_settings=features,
        )  # fmt: skip
        metrics.update(
            {f"random_{k}": v for k, v in leaky.metrics.items() if k.startswith("test_")}
        )
    truth_frame = _load_truth(truth)
    if truth_frame is not None:
        metrics.update(truth_metrics(fit.scored, dataset.labels, truth_frame))
    fingerprint = data_fingerprint(dataset, fingerprint)
    stage_tag = ",".join(sorted(stages)) if stages else "all"
    say("logging the run to MLflow")
    tags = {"ringwatch.stages": stage_tag, **(tags or {})}
    run_id, version = logged_run(
        fit, config, metrics, fingerprint, tags, experiment_id, run_name, register
    )
    if version is not None:
        fit.model.name, fit.model.version = "ringwatch", str(version)
    return TrainResult(run_id, experiment_id, metrics, fit, version, stage_tag)


def run_ablation(
    dataset: Dataset,
    feature_table: pl.DataFrame,
    groups: pl.DataFrame | None,
    config: TrainConfig,
    workspace: Path,
    experiment: str,
    graphs: Any = None,
    truth: Path | pl.DataFrame | None = None,
    fingerprint: dict[str, str] | None = None,
    say: Say = silent,
    features: FeatureConfig | None = None,
) -> list[TrainResult]:
    """Three logged runs on the same split: behaviour only, graph only, both (none registered)."""
    fingerprint = data_fingerprint(dataset, fingerprint)
    results = []
    for name, stages in ABLATION.items():
        results.append(
            train_run(
                dataset,
                feature_table,
                groups,
                config,
                workspace,
                experiment,
                graphs,
                truth,
                fingerprint,
                stages=stages,
                register=False,
                run_name=f"ablation-{name}",
                tags={"ringwatch.ablation": name},
                say=say,
                features=features,
            )
        )
    return results


def train_command(
    dataset: Dataset,
    feature_table: pl.DataFrame,
    groups: pl.DataFrame | None,
    graphs: Any,
    config: TrainConfig,
    workspace: Path,
    experiment: str,
    truth: Path | pl.DataFrame | None = None,
    ablation: bool = False,
    fingerprint: dict[str, str] | None = None,
    say: Say = print,
    features: FeatureConfig | None = None,
) -> list[TrainResult]:
    """What `ringwatch train` does: one registered run (or the three ablation runs), printed.

    `graphs` may be None (a feature table read back from the cache): they are rebuilt with
    the feature settings (`features`, default: the defaults), so a cached table trains the
    same model as a fresh one.
    """
    features = features or FeatureConfig()
    if graphs is None and config.label_features:
        from features.graph import build_graphs

        say("rebuilding the account graphs for the label-derived features")
        graphs = build_graphs(dataset, features.graph)
    inputs = (dataset, feature_table, groups, config, workspace, experiment, graphs, truth)
    if ablation:
        results = run_ablation(*inputs, fingerprint, say, features)
    else:
        results = [train_run(*inputs, fingerprint, say=say, features=features)]
    for line in report_lines(results):
        say(line)
    return results


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
