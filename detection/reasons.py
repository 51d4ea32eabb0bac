"""Reason codes: the features that pushed each listed account's score up the most.

Contributions are TreeSHAP values (`pred_contrib`, raw-score units, last column = bias). Only
positive contributions are reasons (they push towards "bad"); an account can have fewer than
`k`. Each reason carries the feature's value as scored and its plain description from the
feature registry, so a reviewer reads "shared_device_accounts = 14 (+1.32): accounts sharing a
device with this one" rather than a column name.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import polars as pl

from features.config import FeatureConfig
from features.registry import FeatureSpec, describe

REASON = pl.Struct(
    {
        "feature": pl.String,
        "value": pl.Float64,  # numeric value as scored (null for text or missing values)
        "shown": pl.String,  # the value as a reviewer reads it
        "contribution": pl.Float64,  # TreeSHAP contribution, log-odds units
        "description": pl.String,
    }
)
REASONS = pl.List(REASON)


@cache
def spec_of(name: str, settings: FeatureConfig | None = None) -> FeatureSpec:
    """The registry entry of a feature under the model's feature settings; a plain fallback
    while a spec module is missing."""
    try:
        return describe(name, settings)
    except ImportError:  # a feature stage not installed yet: still show the column name
        return FeatureSpec(name, name.replace("_", " "), "", "unknown")


def description(name: str, settings: FeatureConfig | None = None) -> str:
    """The feature's plain description, with its unit when it has one."""
    spec = spec_of(name, settings)
    return f"{spec.description} ({spec.unit})" if spec.unit else spec.description


def show_value(value: object) -> str:
    """A value as a reviewer reads it: yes/no, whole numbers, three significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.3g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def numeric_value(value: object) -> float | None:
    """The value as a float for analysis (null for text and missing values)."""
    if isinstance(value, bool | int | float) and not (
        isinstance(value, float) and math.isnan(value)
    ):
        return float(value)
    return None


def top_reasons(
    contributions: np.ndarray,
    feature_names: list[str],
    values: pl.DataFrame,
    k: int = 5,
    settings: FeatureConfig | None = None,
) -> pl.Series:
    """One list of at most `k` reasons per row, largest positive contribution first.

    `contributions` has shape (n, len(feature_names) + 1) (last column = bias) and row i
    belongs to row i of `values`, which holds the feature columns as scored; `settings` are
    the feature settings the model was trained with (they name the features).
    """
    n_features = len(feature_names)
    if contributions.shape != (values.height, n_features + 1):
        raise ValueError(
            f"contributions shape {contributions.shape} does not match "
            f"{values.height} rows x {n_features} features + bias"
        )
    per_feature = np.asarray(contributions[:, :n_features], dtype=np.float64)
    order = np.argsort(-per_feature, axis=1, kind="stable")[:, :k]
    columns = {name: values[name].to_list() for name in feature_names}
    rows = []
    for i in range(values.height):
        reasons = []
        for j in order[i]:
            contribution = float(per_feature[i, j])
            if not contribution > 0:
                break
            name = feature_names[j]
            value = columns[name][i]
            reasons.append(
                {
                    "feature": name,
                    "value": numeric_value(value),
                    "shown": show_value(value),
                    "contribution": contribution,
                    "description": description(name, settings),
                }
            )
        rows.append(reasons)
    return pl.Series("reasons", rows, dtype=REASONS)


def flatten_reasons(frame: pl.DataFrame, k: int = 5) -> pl.DataFrame:
    """`frame` with its `reasons` list replaced by reason_<i>_feature/_value/_contribution/
    _description columns, i = 1..k (for CSV files people read)."""
    flat = []
    for i in range(k):
        item = pl.col("reasons").list.get(i, null_on_oob=True)
        flat += [
            item.struct.field("feature").alias(f"reason_{i + 1}_feature"),
            item.struct.field("shown").alias(f"reason_{i + 1}_value"),
            item.struct.field("contribution").round(4).alias(f"reason_{i + 1}_contribution"),
            item.struct.field("description").alias(f"reason_{i + 1}_description"),
        ]
    position = frame.columns.index("reasons")
    before, after = frame.columns[:position], frame.columns[position + 1 :]
    return frame.select(*before, *flat, *after)
