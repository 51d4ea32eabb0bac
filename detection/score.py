"""Scoring the whole account base in chunks: calibrated P(bad) and reason-head scores.

Only one chunk's numeric matrix exists at a time, so memory beyond the feature table and the
output columns (a few float64 per account) does not grow with the base size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import polars as pl

from common.errors import UserError


class Model(Protocol):
    """What scoring needs of a model (training.model.RingwatchModel has it)."""

    feature_names: list[str]
    name: str | None
    version: str | None

    def predict(self, features: pl.DataFrame) -> np.ndarray: ...
    def predict_heads(self, features: pl.DataFrame) -> dict[str, np.ndarray]: ...
    def contributions(self, features: pl.DataFrame) -> np.ndarray: ...


HEAD_PREFIX = "score_"


def head_column(reason: str) -> str:
    """Column name of one reason head's score (e.g. score_card_fraud)."""
    return f"{HEAD_PREFIX}{reason}"


def predict(model: Model, part: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(calibrated score, raw log-odds) of one chunk, with one pass over the trees when the
    model exposes `raw_score` and `calibrator` (RingwatchModel does); raw is NaN otherwise."""
    raw_score, calibrator = getattr(model, "raw_score", None), getattr(model, "calibrator", None)
    if raw_score is None or calibrator is None:
        return model.predict(part), np.full(part.height, np.nan)
    raw = raw_score(part)
    return calibrator.apply(raw), raw


def score_chunks(
    model: Model,
    features: pl.DataFrame,
    chunk_size: int,
    progress: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """account_id, score, raw_score and one score_<reason> column per head, in the feature
    table's order."""
    missing = [name for name in model.feature_names if name not in features.columns]
    if missing:
        raise UserError(f"feature table lacks column(s) the model needs: {', '.join(missing)}")
    n = features.height
    columns = list(model.feature_names)
    score = np.empty(n, dtype=np.float64)
    raw = np.full(n, np.nan)
    heads: dict[str, np.ndarray] = {}
    for start in range(0, n, chunk_size):
        part = features.slice(start, chunk_size).select(columns)
        end = start + part.height
        score[start:end], raw[start:end] = predict(model, part)
        for reason, values in model.predict_heads(part).items():
            heads.setdefault(reason, np.empty(n, dtype=np.float64))[start:end] = values
        if progress is not None:
            progress(part.height)
    out = {"account_id": features["account_id"], "score": score, "raw_score": raw}
    out |= {head_column(r): heads[r] for r in sorted(heads)}
    return pl.DataFrame(out)


def rank_scores(scores: pl.DataFrame) -> pl.DataFrame:
    """Scores sorted best first with rank 1..n.

    Calibration (isotonic) is flat in steps, so many accounts can share a calibrated score;
    ties are broken by the raw log-odds (the booster's own ranking), then by account_id so
    that ranks are reproducible.
    """
    keys = ["score", "raw_score", "account_id"] if "raw_score" in scores.columns else ["score"]
    keys = keys if "account_id" in keys else [*keys, "account_id"]
    descending = [k != "account_id" for k in keys]
    ordered = scores.sort(keys, descending=descending, nulls_last=True)
    return ordered.with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
