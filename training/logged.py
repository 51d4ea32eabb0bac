"""Logging one fit to MLflow, all or nothing: params, metrics, plots, the held-out part, the
model folder, then the registered version; a failure or an interrupt (Ctrl-C, SIGTERM) ends the
run FAILED or KILLED and leaves no registered version.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from common.errors import UserError, environment_problem
from training.config import TrainConfig, config_params
from training.fit import LABEL_STAGE, FitResult


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
            if version is not None:
                interrupts.commit()
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
