"""Training runs at a glance: list, show and compare MLflow runs without opening the UI."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from common.errors import UserError
from training.registry import MODEL_NAME, aliases, versions
from training.tracking import current_client

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

# Metrics shown in `runs list` when a run has them (held-out test part, truth check): headers.
HEADLINE = {
    "test_average_precision": "AP",
    "test_roc_auc": "AUC",
    "truth_unlabelled_recall_at_k": "found",  # share of unlabelled bad accounts in the top-k
}
BASE_COLUMNS = (
    "run_id",
    "run_name",
    "experiment",
    "status",
    "start_time",
    "duration_s",
    "split",
    "stages",
    "model",
)
MAX_ARTIFACTS = 200


def _time(ms: int | None) -> datetime | None:
    """An MLflow millisecond timestamp as a UTC datetime."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def _duration(run: Run) -> float | None:
    """Seconds from start to end of a finished run."""
    if run.info.start_time is None or run.info.end_time is None:
        return None
    return (run.info.end_time - run.info.start_time) / 1000


def registered(client: MlflowClient) -> list[dict[str, Any]]:
    """Every `ringwatch` version: version, run_id, aliases (search results omit aliases)."""
    by_version: dict[int, list[str]] = {}
    for alias, version in aliases(client).items():
        by_version.setdefault(version, []).append(alias)
    return [
        {
            "version": int(v.version),
            "run_id": v.run_id,
            "aliases": sorted(by_version.get(int(v.version), [])),
        }
        for v in versions(client)
    ]


def model_labels(client: MlflowClient) -> dict[str, str]:
    """run_id -> 'v3 @champion' for runs that produced a registered `ringwatch` version."""
    labels: dict[str, list[str]] = {}
    for entry in registered(client):
        tags = "".join(f" @{a}" for a in entry["aliases"])
        labels.setdefault(entry["run_id"], []).append(f"v{entry['version']}{tags}")
    return {run_id: ", ".join(parts) for run_id, parts in labels.items()}


def _experiments(client: MlflowClient, experiment: str | None) -> dict[str, str]:
    """experiment_id -> name of the experiment asked for (all active ones when None)."""
    if experiment is None:
        return {e.experiment_id: e.name for e in client.search_experiments()}
    found = client.get_experiment_by_name(experiment)
    if found is None:
        known = ", ".join(sorted(e.name for e in client.search_experiments())) or "none"
        raise UserError(f"no MLflow experiment named {experiment!r} (experiments: {known})")
    return {found.experiment_id: found.name}


def list_runs(
    experiment: str | None = None, limit: int = 20, client: MlflowClient | None = None
) -> pl.DataFrame:
    """The latest runs (newest first): id, name, experiment, status, times, model, metrics.

    One row per run; BASE_COLUMNS first, then one Float64 column per metric any run logged.
    """
    client = current_client(client)
    names = _experiments(client, experiment)
    runs = client.search_runs(
        list(names), max_results=max(int(limit), 1), order_by=["attributes.start_time DESC"]
    )
    models = model_labels(client) if runs else {}
    metric_names = sorted({m for run in runs for m in run.data.metrics})
    rows = [
        {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "experiment": names.get(run.info.experiment_id, run.info.experiment_id),
            "status": run.info.status,
            "start_time": _time(run.info.start_time),
            "duration_s": _duration(run),
            "split": run.data.tags.get("ringwatch.split", ""),
            "stages": run.data.tags.get("ringwatch.stages", ""),
            "model": models.get(run.info.run_id, ""),
            **{m: run.data.metrics.get(m) for m in metric_names},
        }
        for run in runs
    ]
    schema = {
        "run_id": pl.String,
        "run_name": pl.String,
        "experiment": pl.String,
        "status": pl.String,
        "start_time": pl.Datetime("us", "UTC"),
        "duration_s": pl.Float64,
        "split": pl.String,
        "stages": pl.String,
        "model": pl.String,
        **dict.fromkeys(metric_names, pl.Float64),
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def find_run(ref: str, client: MlflowClient | None = None) -> Run:
    """A run by full id, unique id prefix (>= 4 characters) or exact run name."""
    from mlflow.exceptions import MlflowException

    client = current_client(client)
    ref = ref.strip()
    try:
        return client.get_run(ref)
    except MlflowException:
        pass
    ids = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(ids, max_results=5000) if ids else []
    matches = [r for r in runs if len(ref) >= 4 and r.info.run_id.startswith(ref)]
    matches = matches or [r for r in runs if r.info.run_name == ref]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserError(f"no run {ref!r} (see `ringwatch runs list`)")
    listed = ", ".join(f"{r.info.run_id[:8]} ({r.info.run_name})" for r in matches[:5])
    raise UserError(f"run {ref!r} is ambiguous: {listed}; give more of the run id")


def _artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> list[str]:
    """Every artifact file path of a run (depth first, at most MAX_ARTIFACTS)."""
    out: list[str] = []
    for item in client.list_artifacts(run_id, path):
        if len(out) >= MAX_ARTIFACTS:
            break
        if item.is_dir:
            out.extend(_artifacts(client, run_id, item.path)[: MAX_ARTIFACTS - len(out)])
        else:
            out.append(item.path)
    return out


def show_run(run_id: str, client: MlflowClient | None = None) -> dict[str, Any]:
    """Everything about one run: info, params, metrics, tags, artifact files, model versions."""
    client = current_client(client)
    run = find_run(run_id, client)
    info = run.info
    experiment = client.get_experiment(info.experiment_id)
    models = [
        {"name": MODEL_NAME, "version": entry["version"], "aliases": entry["aliases"]}
        for entry in registered(client)
        if entry["run_id"] == info.run_id
    ]
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment": experiment.name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": _time(info.start_time),
        "end_time": _time(info.end_time),
        "duration_s": _duration(run),
        "artifact_uri": info.artifact_uri,
        "params": dict(sorted(run.data.params.items())),
        "metrics": dict(sorted(run.data.metrics.items())),
        "tags": {k: v for k, v in sorted(run.data.tags.items()) if not k.startswith("mlflow.")},
        "artifacts": _artifacts(client, info.run_id),
        "models": models,
    }


def compare_runs(run_ids: Sequence[str], client: MlflowClient | None = None) -> pl.DataFrame:
    """Metrics side by side: one row per metric, one Float64 column per run (short id)."""
    client = current_client(client)
    if not run_ids:
        raise UserError("give at least one run id to compare")
    runs = [find_run(ref, client) for ref in run_ids]
    columns = [run.info.run_id[:8] for run in runs]
    if len(set(columns)) < len(columns):
        raise UserError("the same run was given twice")
    metrics = sorted({m for run in runs for m in run.data.metrics})
    data: dict[str, Any] = {"metric": metrics}
    for column, run in zip(columns, runs, strict=True):
        data[column] = [run.data.metrics.get(m) for m in metrics]
    schema = {"metric": pl.String, **dict.fromkeys(columns, pl.Float64)}
    return pl.DataFrame(data, schema=schema)


def jsonable(value: Any) -> Any:
    """Plain JSON values: datetimes as ISO 8601, NaN/inf as null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(value: Any) -> str:
    """`value` (a frame, dict or list) as indented JSON text for `--json`."""
    if isinstance(value, pl.DataFrame):
        value = value.to_dicts()
    return json.dumps(jsonable(value), indent=2)


def fmt(value: Any) -> str:
    """A cell: counts as integers, other numbers to 4 decimals, times to the second, None '-'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 2:
            return f"{value:.0f}"
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.0f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)
