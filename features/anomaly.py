"""An unsupervised anomaly score over the feature table: how easily an account is isolated.

Labels only teach the model the abuse moderators have already seen. An isolation forest
(Liu, Ting & Zhou, ICDM 2008; scikit-learn's `IsolationForest`) needs none: fit on the whole
base, it scores how few random splits set an account apart from everyone else, so a new kind
of abuse that makes accounts unlike the rest scores high before anyone labels it. The model
uses the scores as features and reviewers see them as reasons.

Over some 250 columns an account that is odd in one respect only (its recent change, say) is
hard to isolate: most random splits fall on columns where it is ordinary. So besides the forest
over every column, each feature family of the registry (activity, timing, identity, social,
money, reports, content, novelty, graph, attribute) gets a forest of its own — feature
bagging by meaning (Lazarevic & Kumar, KDD 2005, with families instead of random subsets) —
and `anomaly_<family>` tells in which respect an account is unusual.

Inputs are every numeric column of the table (attributes, behaviour, graph), each put on a
log scale (sign(x) · log(1 + |x|), so a few huge counts do not own every split) with nulls
filled by the column's median. The forests are fit on a seeded sample of the base with a fixed
seed, so the same base gives the same scores; `max_samples` fixes the path-length norm, so
scores compare across bases of any size (0.5 ordinary, towards 1 easily isolated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.ensemble import IsolationForest

from features.behaviour.specs import families
from features.config import AnomalyConfig, BehaviourConfig, FeatureConfig
from features.registry import describe
from features.spec import FeatureSpec

COLUMN = "anomaly_score"
#: Feature families that get a forest of their own (feature bagging by meaning).
FAMILIES = (*(name for name, _ in families(BehaviourConfig().windows_days)), "graph", "attribute")
SPECS = (
    FeatureSpec(
        COLUMN,
        "how easily an isolation forest over all its other features sets it apart from the "
        "base (0.5 ordinary, towards 1 unlike any other account; unsupervised, no labels)",
        "score",
        "anomaly",
    ),
    *(
        FeatureSpec(
            f"anomaly_{family}",
            f"how easily an isolation forest over its {family} features alone sets it apart "
            "from the base (0.5 ordinary, towards 1 unusual; unsupervised, no labels)",
            "score",
            "anomaly",
        )
        for family in FAMILIES
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
    """The numeric feature columns (booleans as 0/1), in table order, without anomaly scores."""
    return [
        name
        for name, dtype in frame.schema.items()
        if (dtype.is_numeric() or dtype == pl.Boolean) and describe(name).stage != "anomaly"
    ]


def column_sets(
    columns: list[str], features: FeatureConfig | None = None
) -> dict[str, tuple[str, ...]]:
    """Output column -> the inputs of its forest: every column, then each family present
    (families from the registry of the feature settings in use)."""
    grouped: dict[str, list[str]] = {}
    for name in columns:
        grouped.setdefault(describe(name, features).group, []).append(name)
    sets = {COLUMN: tuple(columns)}
    sets |= {f"anomaly_{f}": tuple(grouped[f]) for f in FAMILIES if f in grouped}
    return sets


def fit_sample(frame: pl.DataFrame, config: AnomalyConfig) -> pl.DataFrame:
    """The accounts the forests are fit on: all, or a seeded sample of `fit_rows`."""
    if frame.height <= config.fit_rows:
        return frame
    rng = np.random.default_rng(config.seed)
    return frame[np.sort(rng.choice(frame.height, config.fit_rows, replace=False))]


def log_scaled(frame: pl.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """The columns as a float32 matrix on a signed log scale, nulls and NaN as NaN (one new
    matrix, worked on in place: each whole-base temporary costs a fresh allocation)."""
    x = frame.select(pl.col(name).cast(pl.Float32) for name in columns).to_numpy()
    scaled = np.abs(x)
    np.log1p(scaled, out=scaled)
    return np.copysign(scaled, x, out=scaled)


def filled(x: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """`x` with each column's NaN replaced by that column's fill value (in place)."""
    np.copyto(x, np.broadcast_to(fill, x.shape), where=np.isnan(x))
    return x


def fit_anomaly(
    sample: pl.DataFrame, columns: tuple[str, ...], config: AnomalyConfig = AnomalyConfig()
) -> AnomalyModel:
    """Fit an isolation forest on `columns` of the sampled base (no labels)."""
    scaled = log_scaled(sample, columns)
    present = ~np.isnan(scaled).all(axis=0)  # an all-null column is filled with 0
    fill = np.zeros(len(columns), np.float32)
    fill[present] = np.nanmedian(scaled[:, present], axis=0)
    forest = IsolationForest(
        n_estimators=config.n_estimators,
        max_samples=min(config.max_samples, max(sample.height, 1)),
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
    frame: pl.DataFrame,
    config: AnomalyConfig = AnomalyConfig(),
    features: FeatureConfig | None = None,
) -> pl.DataFrame:
    """The feature table with `anomaly_score` and one `anomaly_<family>` column per feature
    family present (every forest fit and scored on the same base)."""
    if frame.height == 0 or not config.enabled:
        return frame
    sample = fit_sample(frame, config)
    scores = [
        anomaly_scores(frame, fit_anomaly(sample, columns, config)).alias(name)
        for name, columns in column_sets(input_columns(frame), features).items()
    ]
    return frame.with_columns(scores)
