"""Calibration: fitted on validation, it keeps or improves the Brier score on held-out data."""

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from training.boost import dataset, lgb_params, train_booster
from training.calibrate import Calibrator, fit_calibrator, sigmoid
from training.config import ModelConfig


def iid_parts(seed: int = 0, n: int = 6000):
    """Train / valid / test from one logistic world with ~10 % positives."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    p = sigmoid(1.5 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] * x[:, 0] - 2.8)
    y = (rng.random(n) < p).astype(np.int64)
    cut = np.split(np.arange(n), [n // 2, 3 * n // 4])
    return [(x[i], y[i]) for i in cut]


@pytest.fixture(scope="module")
def weighted_booster():
    """A booster trained with scale_pos_weight: its raw probabilities are inflated."""
    (xt, yt), (xv, yv), (xs, ys) = iid_parts()
    names = [f"f{i}" for i in range(4)]
    config = ModelConfig(
        num_boost_round=200, early_stopping_rounds=20, imbalance="scale_pos_weight"
    )
    booster = train_booster(
        lgb_params(config, yt), dataset(xt, yt, names, []), dataset(xv, yv, names, []), 200, 20
    )
    return booster, (xv, yv), (xs, ys)


@pytest.mark.parametrize("method", ["smooth_isotonic", "isotonic", "platt"])
def test_calibration_improves_brier_on_held_out(weighted_booster, method):
    booster, (xv, yv), (xs, ys) = weighted_booster
    calibrator = fit_calibrator(booster.predict(xv, raw_score=True), yv, method)
    raw_test = booster.predict(xs, raw_score=True)
    before = brier_score_loss(ys, sigmoid(raw_test))
    after = brier_score_loss(ys, calibrator.apply(raw_test))
    assert after <= before
    assert abs(calibrator.apply(raw_test).mean() - ys.mean()) < 0.02


def test_isotonic_keeps_the_ranking(weighted_booster):
    booster, (xv, yv), (xs, _) = weighted_booster
    calibrator = fit_calibrator(booster.predict(xv, raw_score=True), yv, "isotonic")
    raw = booster.predict(xs, raw_score=True)
    order = np.argsort(raw, kind="stable")
    assert (np.diff(calibrator.apply(raw)[order]) >= 0).all()


def test_json_round_trip_and_one_class():
    raw = np.linspace(-3, 3, 50)
    y = (raw + np.random.default_rng(0).normal(size=50) > 0).astype(int)
    for method in ("smooth_isotonic", "isotonic", "platt"):
        c = fit_calibrator(raw, y, method)
        assert np.array_equal(Calibrator.from_dict(c.to_dict()).apply(raw), c.apply(raw))
    assert fit_calibrator(raw, np.zeros(50), "isotonic").method == "identity"


def test_smooth_isotonic_is_strictly_increasing_and_bounded_by_the_evidence(weighted_booster):
    booster, (xv, yv), (xs, _) = weighted_booster
    calibrator = fit_calibrator(booster.predict(xv, raw_score=True), yv)
    assert calibrator.method == "smooth_isotonic"
    raw = np.sort(np.r_[booster.predict(xs, raw_score=True), np.linspace(-12, 12, 241)])
    p = calibrator.apply(np.unique(raw))
    assert (np.diff(p) > 0).all()  # no two distinct raw scores share a probability
    assert p.min() > 0 and p.max() < calibrator.hi < 1
    assert np.isclose(calibrator.apply(np.array([1e6]))[0], calibrator.hi)


def test_a_perfectly_separated_top_is_not_called_certain():
    raw = np.r_[np.linspace(-5, 0, 900), np.linspace(2, 9, 100)]
    y = np.r_[np.zeros(900), np.ones(100)]
    calibrator = fit_calibrator(raw, y)
    top = calibrator.apply(np.linspace(2, 30, 500))
    assert top.max() < 1 - 0.5 / 102 + 1e-12 and round(float(top.max()), 3) < 1.0
    assert len(np.unique(top)) == top.size
