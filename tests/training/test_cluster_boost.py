"""The overall booster on a Dask cluster (lightgbm.dask) when the rows do not fit one worker,
and the replayed early stopping against LightGBM's own."""

from __future__ import annotations

from dataclasses import replace

import lightgbm as lgb
import numpy as np
import pytest

from training import cluster_boost
from training.cluster_boost import best_round
from training.config import TrainConfig
from training.fit import fit_model
from training.metrics import evaluate

from .synthetic import make_world, share_fn

#: few rounds, no heads: quick on a busy machine (lightgbm.dask syncs the workers every round)
QUICK = TrainConfig()
QUICK = replace(
    QUICK,
    model=replace(QUICK.model, num_boost_round=60, learning_rate=0.2),
    heads=replace(QUICK.heads, enabled=False),
)


def test_replayed_early_stopping_keeps_lightgbms_round() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 6))
    y = (x[:, 0] + 0.8 * rng.normal(size=3000) > 1).astype(int)
    xt, yt, xv, yv = x[:2000], y[:2000], x[2000:], y[2000:]
    params = {
        "objective": "binary",
        "metric": "binary_logloss",
        "verbose": -1,
        "seed": 1,
        "deterministic": True,
        "num_threads": 1,
        "learning_rate": 0.3,
    }
    stopped = lgb.train(
        params,
        lgb.Dataset(xt, yt),
        300,
        valid_sets=[lgb.Dataset(xv, yv)],
        callbacks=[lgb.early_stopping(10, verbose=False)],
    )
    full = lgb.train(params, lgb.Dataset(xt, yt), 300)
    assert stopped.best_iteration < 300  # it did stop early
    assert best_round(full, (xv, yv, None), "binary_logloss", 10) == stopped.best_iteration


def test_rows_too_large_for_a_worker_train_on_the_cluster(cluster_engine, monkeypatch) -> None:
    world = make_world(n=1200, seed=2)
    monkeypatch.setattr(cluster_boost, "BUDGET_SHARE", 0.0)  # as if no worker could hold them
    fit = fit_model(
        world.features,
        world.labels,
        world.groups,
        QUICK,
        world.graph,
        share_fn,
        engine=cluster_engine,
    )
    assert fit.model.info["booster"] == "lightgbm.dask on 2 workers"
    y = fit.heldout["label"].to_numpy()
    assert evaluate(y, fit.heldout["score"].to_numpy(), (10,), (0.5,), 5)["roc_auc"] > 0.8


def test_rows_that_fit_a_worker_train_in_this_process(cluster_engine) -> None:
    world = make_world(n=1200, seed=2)
    fit = fit_model(
        world.features,
        world.labels,
        world.groups,
        QUICK,
        world.graph,
        share_fn,
        engine=cluster_engine,
    )
    alone = fit_model(world.features, world.labels, world.groups, QUICK, world.graph, share_fn)
    assert fit.model.info["booster"] == "single machine"
    assert fit.model.booster.model_to_string() == alone.model.booster.model_to_string()


@pytest.mark.parametrize("metric", ["binary_logloss", "auc", "average_precision"])
def test_every_stopping_metric_is_oriented(metric) -> None:
    y = np.array([0, 0, 1, 1])
    good, bad = np.array([-2.0, -1.0, 1.0, 2.0]), np.array([2.0, 1.0, -1.0, -2.0])
    value = cluster_boost.metric_value
    assert value(metric, y, good, None) < value(metric, y, bad, None)
