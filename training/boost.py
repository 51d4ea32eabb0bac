"""LightGBM training: parameters from the config, early stopping, the optional tiny grid search."""

from __future__ import annotations

import itertools
from dataclasses import replace

import lightgbm as lgb
import numpy as np

from training.config import STOPPING_METRICS, ModelConfig, SearchConfig


def lgb_params(config: ModelConfig, y_train: np.ndarray) -> dict:
    """LightGBM parameters: binary, deterministic, class imbalance handled by weights."""
    params = {
        "objective": "binary",
        # early stopping watches the first metric, log loss by default: average precision on a
        # small validation part saturates after a few trees and stops far too early (measured
        # on a simulated world: 17 vs 261 trees)
        "metric": [config.early_stopping_metric]
        + [m for m in STOPPING_METRICS if m != config.early_stopping_metric],
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


def class_weights(params: dict, y: np.ndarray) -> np.ndarray | None:
    """Row weights that give bad rows the weight the training objective gives them
    (scale_pos_weight, or is_unbalance's bad-to-good ratio); None when classes are unweighted.

    A validation set must be weighted like this: a model trained with bad rows weighted k
    times predicts inflated probabilities, so its unweighted validation log loss is worst
    after the first tree and early stopping keeps one tree (measured: 1 round on Reddit)."""
    if "scale_pos_weight" in params:
        weight = float(params["scale_pos_weight"])
    elif params.get("is_unbalance"):
        positives = float(np.sum(y))
        weight = (len(y) - positives) / positives if positives else 1.0
    else:
        return None
    return np.where(np.asarray(y) == 1, weight, 1.0)


def dataset(
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    categorical: list[str],
    weight: np.ndarray | None = None,
) -> lgb.Dataset:
    """A LightGBM dataset over a float matrix; coded string columns are marked categorical."""
    return lgb.Dataset(
        x,
        label=y,
        weight=weight,
        feature_name=names,
        categorical_feature=categorical or "auto",
        free_raw_data=False,
    )


def unweighted(params: dict) -> dict:
    """`params` without class weighting (when the rows carry `class_weights` instead)."""
    return {k: v for k, v in params.items() if k not in ("scale_pos_weight", "is_unbalance")}


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
    """LightGBM cv (group-aware folds) over the tiny grid; the best config by cv log loss.
    Class weights ride on the rows, so the held-out folds' log loss is weighted like training."""
    folds = group_folds(groups, grid.nfold, config.seed)
    weight = class_weights(lgb_params(config, y_train), y_train)
    if weight is not None:
        train = lgb.Dataset(
            train.data,
            label=y_train,
            weight=weight,
            feature_name=train.feature_name,
            categorical_feature=train.categorical_feature,
            free_raw_data=False,
        )
    trials: list[dict] = []
    best, best_loss = config, float("inf")
    for leaves, rate, child in itertools.product(
        grid.num_leaves, grid.learning_rate, grid.min_child_samples
    ):
        candidate = replace(config, num_leaves=leaves, learning_rate=rate, min_child_samples=child)
        result = lgb.cv(
            unweighted(lgb_params(candidate, y_train)),
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
