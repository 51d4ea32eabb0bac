"""The base's feature distribution, saved with each list so a reviewer can read an account's
value against everyone else's ("higher than 97 % of accounts")."""

from __future__ import annotations

import numpy as np
import polars as pl

FILE = "feature_quantiles.parquet"
SAMPLE = 200_000  # accounts the quantiles are computed from (every k-th row of the base)
LEVELS = np.linspace(0.0, 1.0, 101)


def feature_quantiles(features: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """feature, q (0..100), value: the percentiles of every numeric feature over the base."""
    step = max(1, features.height // SAMPLE)
    sample = features.gather_every(step).select(
        [pl.col(n).cast(pl.Float64, strict=False) for n in names]
    )
    matrix = sample.to_numpy().astype(np.float64) if sample.height else np.empty((0, len(names)))
    rows = []
    for j, name in enumerate(names):
        column = matrix[:, j]
        column = column[np.isfinite(column)]
        if column.size:
            values = np.quantile(column, LEVELS)
            rows += [(name, int(q), float(v)) for q, v in zip(range(101), values, strict=True)]
    schema = {"feature": pl.String, "q": pl.Int64, "value": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def percentile(quantiles: np.ndarray, value: float | None) -> float | None:
    """The share of the base (0-100) at or below `value`, from its 101 percentiles."""
    if value is None or not np.isfinite(value) or quantiles.size != LEVELS.size:
        return None
    low = np.searchsorted(quantiles, value, side="left")
    high = np.searchsorted(quantiles, value, side="right")
    return float(min(100.0, (low + high) / 2))
