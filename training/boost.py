"""LightGBM training: parameters from the config, early stopping, the optional tiny grid search."""

from __future__ import annotations

import itertools
from dataclasses import replace

import lightgbm as lgb
import numpy as np

from training.config import ModelConfig, SearchConfig


def lgb_params(config: ModelConfig, y_train: np.ndarray) -> dict:
    """LightGBM parameters: binary, deterministic, class imbalance handled by weights."""
    params = {
        "objective": "binary",
        # early stopping watches log loss: average precision on a small validation part
        # saturates after a few trees and stops far too early (measured: 17 vs 261 trees)
        "metric": ["binary_logloss", "average_precision", "auc"],
        "first_metric_only": True,
        "num_leaves": config.num_leaves,
        "learning_rate": config.learning_rate,
        "min_child_samples": config.min_child_samples,
        "feature_fraction": config.feature_fraction,
        "bagging_fraction": config.bagging_fraction,
        "bagging_freq": config.bagging_freq,
        "lambda_l2": config.lambda_l2,
        "max_bin": config.max_bin,
        "seed": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": config.num_threads,
        "verbosity": -1,
        "feature_pre_filter": False,
    }
    positives = float(np.sum(y_train))
    if config.imbalance == "scale_pos_weight" and positives > 0:
        params["scale_pos_weight"] = (len(y_train) - positives) / positives
    elif config.imbalance == "is_unbalance":
        params["is_unbalance"] = True
    return params


def dataset(x: np.ndarray, y: np.ndarray, names: list[str], categorical: list[str]) -> lgb.Dataset:
    """A LightGBM dataset over a float matrix; coded string columns are marked categorical."""
    return lgb.Dataset(
        x,
        label=y,
        feature_name=names,
        categorical_feature=categorical or "auto",
        free_raw_data=False,
    )


def train_booster(
    params: dict,
    train: lgb.Dataset,
    valid: lgb.Dataset,
    rounds: int,
    stopping: int,
) -> lgb.Booster:
    """Boost with early stopping on the validation set (best iteration kept)."""
    return lgb.train(
        params,
        train,
        num_boost_round=rounds,
        valid_sets=[valid],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(stopping, first_metric_only=True, verbose=False)],
    )


def group_folds(groups: np.ndarray, nfold: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """CV folds (train index, test index) that never split a group."""
    unique = np.unique(groups)
    fold_of = dict(
        zip(unique, np.random.default_rng(seed).permutation(len(unique)) % nfold, strict=True)
    )
    which = np.array([fold_of[g] for g in groups])
    rows = np.arange(len(groups))
    return [(rows[which != f], rows[which == f]) for f in range(nfold) if (which == f).any()]


def search(
    config: ModelConfig,
    grid: SearchConfig,
    train: lgb.Dataset,
    y_train: np.ndarray,
    groups: np.ndarray,
) -> tuple[ModelConfig, list[dict]]:
    """LightGBM cv (group-aware folds) over the tiny grid; the best config by cv log loss."""
    folds = group_folds(groups, grid.nfold, config.seed)
    trials: list[dict] = []
    best, best_loss = config, float("inf")
    for leaves, rate, child in itertools.product(
        grid.num_leaves, grid.learning_rate, grid.min_child_samples
    ):
        candidate = replace(config, num_leaves=leaves, learning_rate=rate, min_child_samples=child)
        result = lgb.cv(
            lgb_params(candidate, y_train),
            train,
            num_boost_round=config.num_boost_round,
            folds=folds,
            callbacks=[
                lgb.early_stopping(
                    config.early_stopping_rounds, first_metric_only=True, verbose=False
                )
            ],
        )
        loss = float(result["valid binary_logloss-mean"][-1])  # at the best iteration
        ap = float(result["valid average_precision-mean"][-1])
        trials.append(
            {
                "num_leaves": leaves,
                "learning_rate": rate,
                "min_child_samples": child,
                "cv_logloss": loss,
                "cv_ap": ap,
                "rounds": len(result["valid binary_logloss-mean"]),
            }
        )
        if loss < best_loss:
            best, best_loss = candidate, loss
    return best, trials
