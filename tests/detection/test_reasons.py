"""Reason codes: the largest positive contributions, with the right values and descriptions."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from detection.reasons import description, flatten_reasons, show_value, top_reasons
from tests.detection.world import FEATURES


def test_top_reasons_pick_the_largest_positive_contributions_with_their_values() -> None:
    names = ["a", "b", "c", "d"]
    values = pl.DataFrame({"a": [1.0, 5.0], "b": [2.5, None], "c": [True, False], "d": [7, 8]})
    contributions = np.array(
        [
            [0.1, 0.9, -0.4, 0.3, -2.0],  # b > d > a; c is negative: not a reason
            [-0.1, -0.2, -0.3, -0.4, 3.0],  # nothing pushes up
        ]
    )
    reasons = top_reasons(contributions, names, values, k=5).to_list()
    assert [r["feature"] for r in reasons[0]] == ["b", "d", "a"]
    assert [r["value"] for r in reasons[0]] == [2.5, 7.0, 1.0]
    assert [r["shown"] for r in reasons[0]] == ["2.5", "7", "1"]
    assert [r["contribution"] for r in reasons[0]] == pytest.approx([0.9, 0.3, 0.1])
    assert reasons[1] == []
    assert top_reasons(contributions, names, values, k=2).to_list()[0][1]["feature"] == "d"


def test_reasons_from_a_real_model_match_its_contributions(world, model) -> None:
    rows = world.features.head(50)
    contributions = model.contributions(rows.select(FEATURES))
    reasons = top_reasons(contributions, FEATURES, rows, k=2).to_list()
    for i, row_reasons in enumerate(reasons):
        positive = sorted(
            ((c, f) for f, c in zip(FEATURES, contributions[i, :-1], strict=True) if c > 0),
            reverse=True,
        )[:2]
        assert [r["feature"] for r in row_reasons] == [f for _, f in positive]
        for reason in row_reasons:
            expected = rows[reason["feature"]][i]
            assert reason["value"] == pytest.approx(float(expected))
    # contributions + bias add up to the raw score: they are the model's, not made up
    raw = model.raw_score(rows)
    assert contributions.sum(axis=1) == pytest.approx(raw, abs=1e-6)


def test_values_read_well() -> None:
    assert show_value(None) == "missing"
    assert show_value(float("nan")) == "missing"
    assert show_value(True) == "yes"
    assert show_value(12.0) == "12"
    assert show_value(1234567) == "1,234,567"
    assert show_value(0.123456) == "0.123"
    assert show_value("brand") == "brand"


def test_descriptions_come_from_the_registry() -> None:
    from features.registry import all_specs

    spec = all_specs()[0]
    assert description(spec.name).startswith(spec.description)
    assert "account attribute" in description("not_a_registered_feature")
    assert "neighbours" in description("g_rel_n1_mean_review_count")
    assert "isolation forest" in description("anomaly_score")  # unsupervised: still a reason
    assert "never used before" in description("new_device_share")


def test_flattened_reasons_are_readable_columns() -> None:
    names = ["a", "b"]
    values = pl.DataFrame({"a": [3.0], "b": [4.0]})
    frame = pl.DataFrame({"account_id": ["x"]}).with_columns(
        top_reasons(np.array([[0.5, 0.2, 0.0]]), names, values, k=2)
    )
    flat = flatten_reasons(frame, k=3)
    assert flat.columns[:5] == [
        "account_id",
        "reason_1_feature",
        "reason_1_value",
        "reason_1_contribution",
        "reason_1_description",
    ]
    assert flat.row(0, named=True)["reason_2_feature"] == "b"
    assert flat.row(0, named=True)["reason_3_feature"] is None
