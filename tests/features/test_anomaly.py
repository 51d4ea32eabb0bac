"""The isolation-forest anomaly score: outliers score high, same base gives the same scores,
nulls and booleans are read, text columns ignored, and it is registered."""

from __future__ import annotations

import numpy as np
import polars as pl
from polars.testing import assert_series_equal

from features.anomaly import COLUMN, column_sets, fit_anomaly, input_columns, with_anomaly_score
from features.config import AnomalyConfig
from features.registry import describe


def base(n: int = 400, seed: int = 0) -> pl.DataFrame:
    """A crowd of ordinary accounts and one that is unlike all of them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[0] = (9.0, -9.0, 9.0)
    return pl.DataFrame(
        {
            "account_id": [f"a{i:04d}" for i in range(n)],
            "category": ["brand"] * n,  # text: not an input
            "verified": rng.random(n) < 0.1,
            "x": x[:, 0],
            "y": pl.Series(x[:, 1]).scatter([5, 6, 7], None),  # nulls are filled
            "z": x[:, 2] * 1000,
        }
    )


def test_the_odd_account_scores_highest_and_the_crowd_ordinary() -> None:
    scores = with_anomaly_score(base())[COLUMN]
    assert scores.arg_max() == 0
    assert scores[0] > 0.6 and scores.median() < 0.5


def test_same_base_same_scores_and_sampling_is_seeded() -> None:
    frame = base()
    config = AnomalyConfig(fit_rows=300)  # fit on a sample of the base
    once = with_anomaly_score(frame, config)[COLUMN]
    assert_series_equal(once, with_anomaly_score(frame, config)[COLUMN])
    assert not once.equals(with_anomaly_score(frame, AnomalyConfig(seed=8))[COLUMN])


def test_inputs_are_numeric_columns_and_all_null_columns_are_harmless() -> None:
    frame = base().with_columns(empty=pl.lit(None, pl.Float64))
    columns = tuple(input_columns(frame))
    assert columns == ("verified", "x", "y", "z", "empty")
    assert np.isfinite(fit_anomaly(frame, columns).fill).all()
    scored = with_anomaly_score(frame)
    assert scored[COLUMN].is_finite().all() and scored["anomaly_attribute"].is_finite().all()


def test_each_feature_family_gets_its_own_forest() -> None:
    columns = ["n_post", "events_7d", "iet_cv", "new_device_share", "g_rel_degree", "followers"]
    sets = column_sets(columns)
    assert sets["anomaly_score"] == tuple(columns)
    assert sets["anomaly_activity"] == ("n_post", "events_7d")
    assert sets["anomaly_timing"] == ("iet_cv",)
    assert sets["anomaly_novelty"] == ("new_device_share",)
    assert sets["anomaly_graph"] == ("g_rel_degree",)
    assert sets["anomaly_attribute"] == ("followers",)
    assert "anomaly_content" not in sets  # no content column: no forest
    assert input_columns(pl.DataFrame({"x": [1.0], "anomaly_timing": [0.5]})) == ["x"]


def test_disabled_or_empty_tables_are_left_alone() -> None:
    frame = base()
    assert with_anomaly_score(frame, AnomalyConfig(enabled=False)).columns == frame.columns
    assert with_anomaly_score(frame.clear()).columns == frame.columns


def test_registered_as_its_own_stage() -> None:
    spec = describe(COLUMN)
    assert spec.stage == "anomaly" and "isolation forest" in spec.description
    assert describe("anomaly_novelty").stage == "anomaly"
