"""Metrics: precision@k / recall@k / recall at precision against brute-force definitions."""

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from training.metrics import (
    evaluate,
    expected_calibration_error,
    precision_at_k,
    recall_at_k,
    recall_at_precision,
    truth_metrics,
)

scores = st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0]), min_size=1, max_size=40)


def brute_top(y, s, k):
    """Labels of the k best accounts: highest score first, ties in input order."""
    order = sorted(range(len(s)), key=lambda i: (-s[i], i))
    return [y[i] for i in order[: min(k, len(s))]]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), s=scores, k=st.integers(1, 60))
def test_precision_and_recall_at_k_match_brute_force(data, s, k):
    y = data.draw(st.lists(st.integers(0, 1), min_size=len(s), max_size=len(s)))
    top = brute_top(y, s, k)
    assert precision_at_k(np.array(y), np.array(s), k) == sum(top) / len(top)
    if sum(y):
        assert recall_at_k(np.array(y), np.array(s), k) == sum(top) / sum(y)
    else:
        assert np.isnan(recall_at_k(np.array(y), np.array(s), k))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), s=scores, target=st.sampled_from([0.5, 0.9, 0.99]))
def test_recall_at_precision_matches_brute_force(data, s, target):
    y = data.draw(st.lists(st.integers(0, 1), min_size=len(s), max_size=len(s)))
    if not sum(y):
        return
    best = 0.0
    for threshold in set(s):
        chosen = [yi for yi, si in zip(y, s, strict=True) if si >= threshold]
        if chosen and sum(chosen) / len(chosen) >= target:
            best = max(best, sum(chosen) / sum(y))
    assert recall_at_precision(np.array(y), np.array(s), target) == best


def test_ece_perfect_and_off():
    y = np.array([0, 0, 1, 1])
    assert expected_calibration_error(y, np.array([0.0, 0.0, 1.0, 1.0])) == 0
    assert abs(expected_calibration_error(y, np.full(4, 0.75)) - 0.25) < 1e-12


def test_evaluate_keys():
    y = np.array([0, 1, 0, 1, 0])
    out = evaluate(y, np.array([0.1, 0.9, 0.2, 0.6, 0.5]), ks=(2, 9), precision_targets=(0.9,))
    assert "precision_at_9" not in out  # k beyond the 5 rows: not reported
    assert out["precision_at_2"] == 1.0
    assert out["recall_at_2"] == 1.0
    assert out["recall_at_precision_0_9"] == 1.0
    assert 0.8 < out["roc_auc"] <= 1


def test_truth_metrics_rank_only_unlabelled():
    scored = pl.DataFrame({"account_id": list("abcdef"), "score": [0.99, 0.9, 0.8, 0.7, 0.2, 0.1]})
    labels = pl.DataFrame({"account_id": ["a"], "label": [1]})
    truth = pl.DataFrame({"account_id": list("abcdef"), "is_bad": [1, 1, 0, 1, 0, 0]}).with_columns(
        pl.col("is_bad").cast(pl.Boolean)
    )
    out = truth_metrics(scored, labels, truth)
    assert out["truth_unlabelled_n"] == 5
    assert out["truth_unlabelled_bad"] == 2  # b and d; a is labelled
    assert out["truth_unlabelled_recall_at_k"] == 0.5  # top-2 of b..f: b, c
