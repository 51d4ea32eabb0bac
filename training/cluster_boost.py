"""Boosting on a Dask cluster with lightgbm.dask, for training rows too many for one worker.

When is which booster used: with a cluster engine, the overall model is boosted by
`lightgbm.dask` when the float64 matrix of the training rows is larger than a quarter of the
smallest worker's memory limit (LightGBM's binned copy, its histograms and the raw part must
fit beside each other); otherwise, and always without a cluster, by the single-machine
`lgb.train` in this process (a few hundred thousand labelled rows fit easily). Reason heads
and the optional refit use the single-machine booster.

The rows reach the workers as Parquet parts in the scratch folder (each worker reads its
blocks; nothing large is pickled through the scheduler). lightgbm.dask has no tested early
stopping (each worker would judge its own slice of the validation rows), so the cluster
booster runs every round and the best round is chosen afterwards on the validation part with
the same rule as `lgb.early_stopping` (first metric, stop after `stopping` rounds without
improvement); the model keeps the trees up to that round.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from features.execution import Engine, write_part
from training.boost import class_weights, train_booster

BUDGET_SHARE = 0.25  # of a worker's memory limit, for its block of the training matrix
MIN_BLOCK_ROWS = 1_000


def worker_budget(engine: Engine) -> float:
    """Bytes of training matrix one worker may hold (inf without a cluster or a limit)."""
    if not engine.distributed:
        return float("inf")
    limits = [
        w.get("memory_limit") or 0 for w in engine.client.scheduler_info()["workers"].values()
    ]
    known = [limit for limit in limits if limit > 0]
    return BUDGET_SHARE * min(known) if known else float("inf")


def use_cluster(engine: Engine, x: np.ndarray, budget: float | None = None) -> bool:
    """True when the training matrix is too large for one worker (see the module doc)."""
    if not engine.distributed:
        return False
    return x.nbytes > (worker_budget(engine) if budget is None else budget)


def read_block(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Task: one block of training rows as (matrix, labels)."""
    frame = pl.read_parquet(path)
    return frame.drop("__label").to_numpy().astype(np.float64), frame["__label"].to_numpy()


def cluster_arrays(engine: Engine, x: np.ndarray, y: np.ndarray, names: list[str]):
    """The rows as dask arrays whose blocks the workers read from Parquet parts."""
    import dask
    import dask.array as da

    root = engine.folder(f"train-{uuid.uuid4().hex[:8]}")
    n_blocks = max(engine.workers, int(np.ceil(len(y) / max(MIN_BLOCK_ROWS, len(y) // 64))))
    xs, ys = [], []
    for i, rows in enumerate(np.array_split(np.arange(len(y)), n_blocks)):
        if rows.size == 0:
            continue
        block = pl.DataFrame(x[rows], schema=[f"f{j}" for j in range(len(names))], orient="row")
        path = write_part(block.with_columns(__label=y[rows]), Path(root) / f"{i:05d}.parquet")
        read = dask.delayed(read_block)(str(path))
        xs.append(da.from_delayed(read[0], shape=(rows.size, len(names)), dtype=np.float64))
        ys.append(da.from_delayed(read[1], shape=(rows.size,), dtype=y.dtype))
    return da.concatenate(xs), da.concatenate(ys)


def metric_value(name: str, y: np.ndarray, raw: np.ndarray, weight: np.ndarray | None) -> float:
    """The early-stopping metric of raw scores, oriented so that smaller is better."""
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    p = 1.0 / (1.0 + np.exp(-raw))
    if name == "auc":
        return -roc_auc_score(y, p, sample_weight=weight)
    if name == "average_precision":
        return -average_precision_score(y, p, sample_weight=weight)
    return log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), sample_weight=weight, labels=[0, 1])


def best_round(booster: lgb.Booster, valid: tuple, metric: str, stopping: int) -> int:
    """The round lgb.early_stopping would keep, replayed on the validation rows."""
    x, y, weight = valid
    raw = np.zeros(len(y))
    best, best_value = 1, np.inf
    for k in range(booster.num_trees()):
        raw += booster.predict(x, raw_score=True, start_iteration=k, num_iteration=1)
        value = metric_value(metric, y, raw, weight)
        if value < best_value:
            best, best_value = k + 1, value
        elif k + 1 - best >= stopping:
            break
    return best


def boost_on_cluster(
    engine: Engine,
    params: dict,
    train: tuple[np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    names: list[str],
    categorical: list[str],
    rounds: int,
    stopping: int,
) -> lgb.Booster:
    """The overall booster trained by lightgbm.dask, cut at its best validation round."""
    from lightgbm.dask import DaskLGBMClassifier

    x, y = cluster_arrays(engine, *train, names)
    settings = {k: v for k, v in params.items() if k not in ("num_threads", "verbosity")}
    model = DaskLGBMClassifier(
        client=engine.client, n_estimators=rounds, n_jobs=1, verbose=-1, **settings
    )
    model.fit(x, y, feature_name=names, categorical_feature=categorical or "auto")
    full = model.booster_
    metric = params["metric"][0] if isinstance(params["metric"], list) else params["metric"]
    best = best_round(full, valid, metric, stopping)
    booster = lgb.Booster(model_str=full.model_to_string(num_iteration=best))
    booster.best_iteration = best
    return booster


def overall_booster(
    engine: Engine, params: dict, train: lgb.Dataset, valid: lgb.Dataset, d: Any, model: Any
) -> lgb.Booster:
    """The early-stopped overall booster of a training design `d` (training.fit.Design) with
    `model` (ModelConfig) rounds: by lightgbm.dask when the rows do not fit one worker, else
    by lgb.train in this process; `origin` on the booster says which (saved in model info)."""
    rounds, stopping = model.num_boost_round, model.early_stopping_rounds
    if use_cluster(engine, d.x["train"]):
        weights = class_weights(params, d.y["valid"])
        booster = boost_on_cluster(
            engine, params, (d.x["train"], d.y["train"]), (d.x["valid"], d.y["valid"], weights),
            d.names, d.categorical, rounds, stopping,
        )  # fmt: skip
        booster.origin = f"lightgbm.dask on {engine.workers} workers"
        return booster
    booster = train_booster(params, train, valid, rounds, stopping)
    booster.origin = "single machine"
    return booster
