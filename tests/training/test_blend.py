"""The anomaly blend: surprise against a slow reference, the non-negative stacking regression,
no blinded label in a blind booster's training rows, and the blend inside a saved model."""

from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from training.blend import (
    blind_reasons,
    blind_scores,
    family_columns,
    group_fold,
    level_of,
    neutral,
    nonnegative_logistic,
    reference,
)
from training.config import BlendConfig, TrainConfig
from training.fit import fit_model
from training.model import RingwatchModel

from .synthetic import make_world, share_fn


def slow_surprise(base: np.ndarray, value: float) -> float:
    """-log(1 - q) for the share q whose (linearly interpolated) base quantile is `value`,
    found by bisection; capped where the knots end (q = n / (n + 1))."""
    lo, hi = 0.0, len(base) / (len(base) + 1)
    if np.quantile(base, hi) <= value:
        return float(-np.log1p(-hi))
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.quantile(base, mid) < value else (lo, mid)
    return float(-np.log1p(-lo))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.3, 0.9), min_size=50, max_size=400, unique=True),
    st.floats(0.0, 1.0),
)
def test_surprise_matches_the_share_of_the_base_below(values, q):
    base = np.array(values)
    knots, levels = reference(base)
    value = float(np.quantile(base, q))
    got = float(level_of(np.array([value]), np.asarray(knots), levels)[0])
    assert abs(got - slow_surprise(base, value)) <= (levels[1] - levels[0]) + 1e-6
    assert got <= levels[-1] == pytest.approx(np.log(len(base) + 1))


def test_surprise_is_the_largest_over_families_and_nulls_are_ordinary():
    rng = np.random.default_rng(0)
    table = rng.uniform(0.4, 0.6, size=(500, 2))
    blend = neutral(("anomaly_a", "anomaly_b"), table)
    x = np.array([[0.5, 0.5], [0.5, 0.75], [np.nan, 0.5]])
    s = blend.surprise(x, ["anomaly_a", "anomaly_b"])
    assert s[1] == pytest.approx(np.log(501), rel=1e-6)  # beyond the base: the largest level
    assert 0.4 < s[0] < 1.2 and 0.4 < s[2] < 1.2  # about the median: ~log 2


def test_a_tied_mass_of_ordinary_accounts_takes_the_share_strictly_below_it():
    rng = np.random.default_rng(5)
    base = np.concatenate([np.zeros(800), rng.uniform(0.1, 1.0, 200)])  # 80 % without payments
    blend = neutral(("anomaly_money",), base[:, None])
    s = blend.surprise(np.array([[0.0], [0.1001], [1.0]]), ["anomaly_money"])
    assert s[0] == pytest.approx(0.0, abs=1e-9)
    assert s[1] == pytest.approx(-np.log(0.2), abs=0.1)
    assert s[2] == pytest.approx(np.log(1001), rel=1e-6)


def test_the_respects_are_the_anomaly_families_then_the_ring_density():
    names = ["posts", "anomaly_score", "anomaly_identity", "g_ring_score", "anomaly_novelty"]
    assert family_columns(names) == ("anomaly_identity", "anomaly_novelty", "g_ring_score")
    assert family_columns(["anomaly_score", "g_ring_score"]) == ("anomaly_score", "g_ring_score")
    assert family_columns(["g_ring_score", "posts"]) == ()  # no anomaly stage: no blend


def test_nonnegative_logistic_is_logistic_regression_when_weights_are_positive():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(800, 2)) * [1.0, 3.0] + [0.0, 5.0]
    y = (rng.random(800) < 1 / (1 + np.exp(-(0.8 * z[:, 0] + 0.5 * z[:, 1] - 2.5)))).astype(float)
    bias, w = nonnegative_logistic(z, y, l2=1.0)
    mu, sd = z.mean(0), z.std(0)
    ref = LogisticRegression(C=1.0).fit((z - mu) / sd, y)
    ref_w = ref.coef_[0] / sd
    assert np.allclose(w, ref_w, rtol=1e-3)
    assert bias == pytest.approx(ref.intercept_[0] - ref_w @ mu, rel=1e-3)


def test_nonnegative_logistic_keeps_a_negative_signal_at_zero():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(600, 2))
    y = (rng.random(600) < 1 / (1 + np.exp(-(1.5 * z[:, 0] - 1.5 * z[:, 1])))).astype(float)
    _, w = nonnegative_logistic(z, y, l2=1.0)
    assert w[0] > 0.5 and w[1] == 0.0


def test_blind_boosters_never_train_on_the_blinded_reason_or_the_scored_fold():
    rng = np.random.default_rng(3)
    n = 300
    y = (rng.random(n) < 0.3).astype(np.int64)
    reason = np.where(y == 1, rng.choice(["fake", "fraud", "porn"], n), "")
    fold = group_fold(rng.integers(0, 60, n).astype(str), 3, seed=7)
    trained: list[np.ndarray] = []

    class Echo:
        def predict(self, x, raw_score=True):
            return x[:, 0]

    def fit(rows):
        trained.append(rows)
        return Echo()

    reasons = blind_reasons(y, reason, 10)
    x = np.arange(n, dtype=np.float64)[:, None]
    index, raw, target = blind_scores(x, y, reason, fold, reasons, fit)
    assert reasons == ["fake", "fraud", "porn"] and len(trained) == 9
    call = 0
    for blinded in reasons:
        for k in range(3):
            rows = trained[call]
            assert not np.any((y[rows] == 1) & (reason[rows] == blinded))
            assert not np.any(fold[rows] == k)
            call += 1
    assert np.array_equal(raw, index) and np.array_equal(target, y[index])
    assert len(index) == 3 * n  # every row scored once per blinded reason


def test_one_reason_gives_no_blind_set():
    y = np.array([1] * 20 + [0] * 20)
    assert blind_reasons(y, np.array(["fake"] * 20 + [""] * 20), 10) == []


def world_with_anomaly(seed: int = 4):
    """The synthetic world plus two anomaly family columns: 'fraud' accounts are unusual in
    the first, nobody in the second."""
    w = make_world(n=900, seed=seed)
    rng = np.random.default_rng(seed)
    fraud = w.labels.filter(pl.col("reason") == "fraud").select("account_id")
    unusual = (
        w.features.select("account_id")
        .with_columns(pl.col("account_id").is_in(fraud["account_id"].implode()).alias("f"))["f"]
        .to_numpy()
    )
    features = w.features.with_columns(
        pl.Series("anomaly_identity", rng.normal(0.5, 0.03, 900) + 0.2 * unusual),
        pl.Series("anomaly_novelty", rng.normal(0.5, 0.03, 900)),
    )
    return replace(w, features=features)


@pytest.fixture(scope="module")
def blended():
    w = world_with_anomaly()
    config = TrainConfig(blend=BlendConfig(min_positives=10))
    return fit_model(w.features, w.labels, w.groups, config, w.graph, share_fn)


def test_the_model_learns_to_trust_the_surprise_and_keeps_it_when_saved(blended, tmp_path):
    model = blended.model
    assert model.blend is not None and model.blend.surprise_weight > 0
    assert model.blend.columns == ("anomaly_identity", "anomaly_novelty")
    loaded = RingwatchModel.load(model.save(tmp_path / "m"))
    assert loaded.blend == model.blend
    rows = blended.table.head(60)
    assert np.array_equal(loaded.predict(rows), model.predict(rows))
    raw, _ = model.raw_scores(model.matrix(rows))
    assert np.allclose(raw, model.raw_score(rows))


def test_contributions_add_up_and_name_the_unusual_family(blended):
    model = blended.model
    rows = blended.table.sort("anomaly_identity", descending=True).head(5)
    contrib = model.contributions(rows)
    assert np.allclose(contrib.sum(axis=1), model.raw_score(rows))
    j = model.feature_names.index("anomaly_identity")
    booster_only = model.booster.predict(model.matrix(rows), pred_contrib=True)
    assert (contrib[:, j] > booster_only[:, j] * model.blend.booster_weight).all()


def test_blend_off_or_no_reasons_leaves_the_booster_alone():
    w = world_with_anomaly()
    off = TrainConfig(blend=BlendConfig(enabled=False))
    assert fit_model(w.features, w.labels, w.groups, off, w.graph, share_fn).model.blend is None
    labels = w.labels.with_columns(pl.lit(None, pl.String).alias("reason"))
    fit = fit_model(w.features, labels, w.groups, TrainConfig(), w.graph, share_fn)
    assert fit.model.blend.surprise_weight == 0.0 and fit.model.blend.booster_weight == 1.0
    assert any("anomaly blend left out" in note for note in fit.notes)
