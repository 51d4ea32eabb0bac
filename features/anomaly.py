"""An unsupervised anomaly score over the feature table: how easily an account is isolated.

Labels only teach the model the abuse moderators have already seen. An isolation forest
(Liu, Ting & Zhou, ICDM 2008; scikit-learn's `IsolationForest`) needs none: fit on the whole
base, it scores how few random splits set an account apart from everyone else, so a new kind
of abuse that makes accounts unlike the rest scores high before anyone labels it. The model
uses the score as a feature and reviewers see it as a reason.

Inputs are every numeric column of the table (attributes, behaviour, graph), each put on a
log scale (sign(x) · log(1 + |x|), so a few huge counts do not own every split) with nulls
filled by the column's median. The forest is fit on a seeded sample of the base with a fixed
seed, so the same base gives the same scores; `max_samples` fixes the path-length norm, so
scores compare across bases of any size (0.5 ordinary, towards 1 easily isolated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.ensemble import IsolationForest

from features.config import AnomalyConfig
from features.spec import FeatureSpec

COLUMN = "anomaly_score"
SPECS = (
    FeatureSpec(
        COLUMN,
        "how easily an isolation forest over all its other features sets it apart from the "
        "base (0.5 ordinary, towards 1 unlike any other account; unsupervised, no labels)",
        "score",
        "anomaly",
    ),
)
SCORE_ROWS = 500_000  # rows turned into a matrix at a time when scoring


@dataclass(frozen=True)
class AnomalyModel:
    """A fitted forest with the columns it reads and the medians that fill their nulls."""

    forest: IsolationForest
    columns: tuple[str, ...]
    fill: np.ndarray  # the median of each column on the log scale


def input_columns(frame: pl.DataFrame) -> list[str]:
    """The numeric feature columns (booleans as 0/1), in table order."""
    return [
        name
        for name, dtype in frame.schema.items()
        if name != COLUMN and (dtype.is_numeric() or dtype == pl.Boolean)
    ]


def log_scaled(frame: pl.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """The columns as a float32 matrix on a signed log scale, nulls and NaN as NaN."""
    x = frame.select(pl.col(name).cast(pl.Float32) for name in columns).to_numpy()
    return np.sign(x) * np.log1p(np.abs(x))


def filled(x: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """`x` with each column's NaN replaced by that column's fill value."""
    return np.where(np.isnan(x), fill, x)


def fit_anomaly(frame: pl.DataFrame, config: AnomalyConfig = AnomalyConfig()) -> AnomalyModel:
    """Fit the isolation forest on a seeded sample of the whole base (no labels)."""
    columns = tuple(input_columns(frame))
    rng = np.random.default_rng(config.seed)
    rows = frame.height
    sample = frame
    if rows > config.fit_rows:
        sample = frame[np.sort(rng.choice(rows, config.fit_rows, replace=False))]
    scaled = log_scaled(sample, columns)
    present = ~np.isnan(scaled).all(axis=0)  # an all-null column is filled with 0
    fill = np.zeros(len(columns), np.float32)
    fill[present] = np.nanmedian(scaled[:, present], axis=0)
    forest = IsolationForest(
        n_estimators=config.n_estimators,
        max_samples=min(config.max_samples, max(rows, 1)),
        random_state=config.seed,
        n_jobs=1,
    )
    forest.fit(filled(scaled, fill))
    return AnomalyModel(forest, columns, fill)


def anomaly_scores(frame: pl.DataFrame, model: AnomalyModel) -> pl.Series:
    """The anomaly score of every row of `frame` (higher = easier to isolate)."""
    parts = [
        -model.forest.score_samples(filled(log_scaled(part, model.columns), model.fill))
        for part in frame.iter_slices(SCORE_ROWS)
    ]
    values = np.concatenate(parts) if parts else np.zeros(0)
    return pl.Series(COLUMN, values, dtype=pl.Float64)


def with_anomaly_score(
    frame: pl.DataFrame, config: AnomalyConfig = AnomalyConfig()
) -> pl.DataFrame:
    """The feature table with its `anomaly_score` column (fit and scored on the same base)."""
    if frame.height == 0 or not config.enabled:
        return frame
    model = fit_anomaly(frame, config)
    return frame.with_columns(anomaly_scores(frame, model))
