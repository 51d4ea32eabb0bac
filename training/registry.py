"""The `ringwatch` registered model: versions, @challenger/@champion aliases, promote, load.

A training run logs the saved RingwatchModel folder as the run artifact `MODEL_ARTIFACT` and
its held-out part (account_id, label and the feature columns) as `HELDOUT_ARTIFACT`. A model
version points at that run; loading a version downloads the folder. Promotion compares the
candidate with the current champion on the candidate run's held-out data: both models score
the same accounts, so the comparison is like for like. (A champion that needs a column the
candidate's held-out file lacks cannot be compared: promoting then needs --force.)
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from common.errors import UserError
from training.tracking import connect, current_client

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from training.model import RingwatchModel

MODEL_NAME = "ringwatch"
CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_ARTIFACT = "ringwatch_model"  # run artifact folder: RingwatchModel.save output
HELDOUT_ARTIFACT = "eval/heldout.parquet"  # run artifact: account_id, label, feature columns
LABEL = "label"
COMPARED = ("average_precision", "roc_auc", "precision_at_k")


@dataclass(frozen=True)
class Comparison:
    """Challenger vs champion, scored on the same held-out accounts (the challenger run's)."""

    challenger: int
    champion: int | None  # None: there is no champion yet
    heldout_run: str  # run whose held-out data both models were scored on
    n: int  # held-out accounts
    n_bad: int
    k: int  # review capacity for precision@k (default: the number of bad accounts)
    challenger_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    promoted: bool = False
    forced: bool = False  # promoted although worse (or not comparable) on average precision
    note: str = ""  # why the champion was not compared, when forced without a comparison

    @property
    def better(self) -> bool:
        """Whether the challenger is at least as good as the champion on average precision."""
        if self.champion_metrics is None:
            return True
        return bool(
            self.challenger_metrics["average_precision"]
            >= self.champion_metrics["average_precision"]
        )

    def to_dict(self) -> dict:
        """A JSON-ready dict (for `--json` and version tags)."""
        return {**asdict(self), "better": self.better}


class PromotionRefused(UserError):
    """The candidate is worse than the champion on average precision and --force was not given."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        a = comparison.challenger_metrics["average_precision"]
        b = (comparison.champion_metrics or {}).get("average_precision", float("nan"))
        super().__init__(
            f"version {comparison.challenger} is worse than champion version "
            f"{comparison.champion} on average precision ({a:.4f} < {b:.4f} on the "
            f"{comparison.n} held-out accounts of run {comparison.heldout_run}): not promoted; "
            "use --force to promote it anyway"
        )


def _is_missing(error: Exception) -> bool:
    """Whether an MlflowException says the thing asked for does not exist."""
    return getattr(error, "error_code", "") in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")


def aliases(client: MlflowClient | None = None) -> dict[str, int]:
    """Alias -> version of the `ringwatch` model ({} when nothing is registered yet)."""
    from mlflow.exceptions import MlflowException

    try:
        model = current_client(client).get_registered_model(MODEL_NAME)
    except MlflowException as error:
        if _is_missing(error):
            return {}
        raise
    return {alias: int(version) for alias, version in model.aliases.items()}


def versions(client: MlflowClient | None = None) -> list[ModelVersion]:
    """Every version of the `ringwatch` model, oldest first."""
    found = current_client(client).search_model_versions(f"name = '{MODEL_NAME}'")
    return sorted(found, key=lambda v: int(v.version))


def get_version(version: int, client: MlflowClient | None = None) -> ModelVersion:
    """One version of the `ringwatch` model, or a UserError listing the ones that exist."""
    from mlflow.exceptions import MlflowException

    client = current_client(client)
    try:
        return client.get_model_version(MODEL_NAME, str(int(version)))
    except MlflowException as error:
        if not _is_missing(error):
            raise
    known = ", ".join(str(v.version) for v in versions(client)) or "none yet"
    raise UserError(f"model {MODEL_NAME} has no version {version} (versions: {known})")


def _model_source(client: MlflowClient, model_uri: str) -> tuple[str, str | None]:
    """Storage location and LoggedModel id of a `models:/m-…`, `runs:/…` or plain model URI."""
    if model_uri.startswith("models:/m-"):
        model_id = model_uri.removeprefix("models:/").strip("/")
        return client.get_logged_model(model_id).artifact_location, model_id
    if model_uri.startswith("runs:/"):
        run_id, _, path = model_uri.removeprefix("runs:/").partition("/")
        return client.get_run(run_id).info.artifact_uri.rstrip("/") + "/" + path, None
    return model_uri, None


def register(run_id: str, model_uri: str | None = None, client: MlflowClient | None = None) -> int:
    """Register the run's model as a new version and make it @challenger (all or nothing).

    `model_uri` is what the run logged (a `models:/m-…` LoggedModel of the booster, or
    `runs:/RUN/PATH`); default: the run's `MODEL_ARTIFACT` folder. If the alias cannot be set
    the new version is deleted again, so no half-registered model remains.
    """
    from mlflow.exceptions import MlflowException

    client = current_client(client)
    try:
        client.create_registered_model(
            MODEL_NAME, description="ringwatch: probability that an account is bad"
        )
    except MlflowException as error:
        if "ALREADY_EXISTS" not in str(getattr(error, "error_code", "")):
            raise
    source, model_id = _model_source(client, model_uri or f"runs:/{run_id}/{MODEL_ARTIFACT}")
    created = client.create_model_version(
        MODEL_NAME,
        source,
        run_id=run_id,
        model_id=model_id,
        tags={"registered_at": _now()},
    )
    version = int(created.version)
    try:
        client.set_registered_model_alias(MODEL_NAME, CHALLENGER, str(version))
    except BaseException:
        with contextlib.suppress(Exception):
            client.delete_model_version(MODEL_NAME, str(version))
        raise
    return version


def _now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_model_uri(uri: str) -> tuple[str | None, int | None]:
    """(alias, version) of `models:/ringwatch@ALIAS` or `models:/ringwatch/VERSION`."""
    prefix = f"models:/{MODEL_NAME}"
    rest = uri.strip().removeprefix(prefix) if uri.strip().startswith(prefix) else None
    if rest and rest.startswith("@") and len(rest) > 1:
        return rest[1:], None
    if rest and rest.startswith("/") and rest[1:].isdigit():
        return None, int(rest[1:])
    raise UserError(
        f"model {uri!r}: expected models:/{MODEL_NAME}@champion, models:/{MODEL_NAME}@challenger, "
        f"models:/{MODEL_NAME}/VERSION or a model folder"
    )


def resolve(uri: str, client: MlflowClient | None = None) -> ModelVersion:
    """The model version a `models:/ringwatch…` URI names, or a UserError saying what is missing."""
    client = current_client(client)
    alias, version = parse_model_uri(uri)
    if alias is not None:
        version = aliases(client).get(alias)
        if version is None and alias == CHAMPION:
            raise UserError(
                f"no model has alias @{CHAMPION}: train one and run `ringwatch promote VERSION`"
            )
        if version is None:
            raise UserError(f"no model has alias @{alias}: train one with `ringwatch train`")
    return get_version(version, client)


def _download(client: MlflowClient, run_id: str, path: str, into: Path, what: str) -> Path:
    """Download one artifact of a run into `into`, or a UserError naming what is missing."""
    from mlflow.exceptions import MlflowException

    try:
        local = Path(client.download_artifacts(run_id, path, str(into)))
    except (MlflowException, OSError) as error:
        raise UserError(f"run {run_id} has no {what} ({path}): {error}") from None
    if not local.exists() or (local.is_dir() and not any(local.iterdir())):
        raise UserError(f"run {run_id} has no {what} (artifact {path} is missing)")
    return local


def load_version(version: ModelVersion, client: MlflowClient | None = None) -> RingwatchModel:
    """Download a version's model folder from its source run and load it."""
    from training.model import RingwatchModel

    client = current_client(client)
    if not version.run_id:
        raise UserError(f"model {MODEL_NAME} version {version.version} has no source run")
    with tempfile.TemporaryDirectory(prefix="ringwatch-model-") as tmp:
        folder = _download(client, version.run_id, MODEL_ARTIFACT, Path(tmp), "model folder")
        model = RingwatchModel.load(folder)
    model.name, model.version = MODEL_NAME, str(version.version)
    model.info = {**model.info, "run_id": version.run_id, "aliases": list(version.aliases)}
    return model


def load_model(uri: str, workspace: Path) -> RingwatchModel:
    """A RingwatchModel from `models:/ringwatch@ALIAS`, `models:/ringwatch/N` or a model folder."""
    from training.model import RingwatchModel

    folder = Path(uri).expanduser()
    if not uri.startswith("models:/") and folder.is_dir():
        model = RingwatchModel.load(folder)
        model.name, model.version = str(folder.resolve()), "local"
        return model
    parse_model_uri(uri)  # a clear error for a typo before touching the store
    client = connect(workspace)
    return load_version(resolve(uri, client), client)


def heldout(version: ModelVersion, client: MlflowClient | None = None) -> pl.DataFrame:
    """The held-out part logged by a version's source run."""
    client = current_client(client)
    with tempfile.TemporaryDirectory(prefix="ringwatch-heldout-") as tmp:
        file = _download(client, version.run_id, HELDOUT_ARTIFACT, Path(tmp), "held-out data")
        frame = pl.read_parquet(file)
    if LABEL not in frame.columns:
        raise UserError(f"{HELDOUT_ARTIFACT} of run {version.run_id} has no '{LABEL}' column")
    return frame


def score(model: RingwatchModel, frame: pl.DataFrame, k: int) -> dict[str, float]:
    """Average precision, ROC-AUC and precision@k of a model on labelled held-out rows."""
    from training.metrics import evaluate

    missing = [c for c in model.feature_names if c not in frame.columns]
    if missing:
        raise UserError(
            f"{model.name} version {model.version} needs feature column(s) the held-out data "
            f"lacks: {', '.join(missing[:10])}"
        )
    y = frame[LABEL].cast(pl.Int64).to_numpy()
    measured = evaluate(y, np.asarray(model.predict(frame), dtype=np.float64), ks=(k,))
    return {
        "average_precision": measured["average_precision"],
        "roc_auc": measured["roc_auc"],
        "precision_at_k": measured[f"precision_at_{k}"],
    }


def compare(
    challenger_version: int,
    champion_version: int | None,
    client: MlflowClient | None = None,
    k: int | None = None,
) -> Comparison:
    """Score challenger and champion on the challenger run's held-out accounts."""
    client = current_client(client)
    challenger = get_version(challenger_version, client)
    frame = heldout(challenger, client)
    n_bad = int(frame[LABEL].cast(pl.Int64).sum())
    k = int(k or max(n_bad, 1))
    champion_metrics = None
    if champion_version is not None:
        champion = load_version(get_version(champion_version, client), client)
        try:
            champion_metrics = score(champion, frame, k)
        except UserError as error:
            raise UserError(
                f"cannot compare with champion version {champion_version} on the held-out data "
                f"of version {challenger_version}: {error} (--force promotes without comparing)"
            ) from None
    return Comparison(
        challenger=int(challenger.version),
        champion=None if champion_version is None else int(champion_version),
        heldout_run=challenger.run_id,
        n=frame.height,
        n_bad=n_bad,
        k=k,
        challenger_metrics=score(load_version(challenger, client), frame, k),
        champion_metrics=champion_metrics,
    )


def promote(
    version: int, force: bool = False, client: MlflowClient | None = None, k: int | None = None
) -> Comparison:
    """Move @champion to `version` unless it is worse on average precision (then needs force)."""
    client = current_client(client)
    version = int(get_version(version, client).version)
    current = aliases(client)
    champion = current.get(CHAMPION)
    if champion == version:
        raise UserError(f"version {version} is already @{CHAMPION}")
    try:
        comparison = compare(version, champion, client, k)
    except UserError as error:
        if not force or champion is None:
            raise
        alone = compare(version, None, client, k)
        comparison = replace(alone, champion=champion, note=str(error))
    if not comparison.better and not force:
        raise PromotionRefused(comparison)
    forced = not comparison.better or bool(comparison.note)
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, str(version))
    now = _now()
    tags = {
        "promoted_at": now,
        "previous_champion": "none" if champion is None else str(champion),
        "promoted_with_force": str(forced).lower(),
        "promotion_heldout_run": comparison.heldout_run,
        "promotion_average_precision": f"{comparison.challenger_metrics['average_precision']:.6f}",
    }
    if comparison.champion_metrics is not None:
        champion_ap = comparison.champion_metrics["average_precision"]
        tags["previous_champion_average_precision"] = f"{champion_ap:.6f}"
    for key, value in tags.items():
        client.set_model_version_tag(MODEL_NAME, str(version), key, value)
    if champion is not None:
        client.set_model_version_tag(MODEL_NAME, str(champion), "superseded_at", now)
        client.set_model_version_tag(MODEL_NAME, str(champion), "superseded_by", str(version))
    if current.get(CHALLENGER) == version:
        client.delete_registered_model_alias(MODEL_NAME, CHALLENGER)
    return replace(comparison, promoted=True, forced=forced)
