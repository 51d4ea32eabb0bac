"""Per-reason heads: one extra calibrated booster per frequent `labels.reason`, so a listed
account can say which kind of abuse it most resembles."""

from __future__ import annotations

import numpy as np
import polars as pl

from training.boost import class_weights, dataset, lgb_params, train_booster
from training.calibrate import fit_calibrator
from training.config import TrainConfig
from training.model import Head


def fit_heads(
    x: dict[str, np.ndarray],
    rows: dict[str, pl.DataFrame],
    base: dict,
    config: TrainConfig,
    names: list[str],
    categorical: list[str],
) -> tuple[dict[str, Head], list[str]]:
    """A booster per frequent reason among the training bad accounts (calibrated on valid)."""
    notes: list[str] = []
    train = rows["train"]
    if not config.heads.enabled or train["reason"].null_count() == train.height:
        return {}, notes
    counts = (
        train.filter((pl.col("label") == 1) & pl.col("reason").is_not_null())
        .group_by("reason")
        .len()
        .sort(["len", "reason"], descending=[True, False])
    )
    heads: dict[str, Head] = {}
    for reason in counts.filter(pl.col("len") >= config.heads.min_positives)["reason"].head(
        config.heads.max_heads
    ):
        y = {
            p: ((rows[p]["label"] == 1) & (rows[p]["reason"] == reason))
            .fill_null(False)
            .cast(pl.Int8)
            .to_numpy()
            for p in ("train", "valid")
        }
        if y["valid"].sum() == 0:
            notes.append(f"no head for reason '{reason}': no such account in the validation part")
            continue
        params = {**base, **lgb_params(config.model, y["train"])}
        booster = train_booster(
            params,
            dataset(x["train"], y["train"], names, categorical),
            dataset(x["valid"], y["valid"], names, categorical, class_weights(params, y["valid"])),
            config.heads.num_boost_round,
            config.model.early_stopping_rounds,
        )
        raw = booster.predict(x["valid"], raw_score=True)
        heads[reason] = Head(booster, fit_calibrator(raw, y["valid"], config.calibration))
    return heads, notes
