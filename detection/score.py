"""Scoring the whole account base in chunks: calibrated P(bad) and reason-head scores.

Only one chunk's numeric matrix exists at a time, so memory beyond the feature table and the
output columns (a few float64 per account) does not grow with the base size.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import polars as pl

from common.errors import UserError
from features.behaviour.buckets import account_buckets
from features.execution import Engine, read_parts, split_write, write_part


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


def predict(model: Model, part: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, dict]:
    """(calibrated score, raw log-odds, head scores) of one chunk: one matrix and one call for
    the overall booster and every head when the model has `scores` (RingwatchModel, compiled
    or not); raw is NaN for other models."""
    scores = getattr(model, "scores", None)
    if scores is not None:
        return scores(part)
    return model.predict(part), np.full(part.height, np.nan), model.predict_heads(part)


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
        score[start:end], raw[start:end], head_scores = predict(model, part)
        for reason, values in head_scores.items():
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


SCORE_BUCKETS_PER_WORKER = 4


def score_bucket(bucket: int, root: Path, chunk_size: int) -> int:
    """Task: score one bucket's part of the feature table with the model saved in `root`."""
    from training.model import RingwatchModel

    model = RingwatchModel.load(root / "model")
    scores = score_chunks(model, read_parts(root / "features", bucket), chunk_size)
    write_part(scores, root / "scores" / f"bucket={bucket:05d}" / "scores.parquet")
    return scores.height


def score_on(
    engine: Engine,
    model: Model,
    features: pl.DataFrame,
    chunk_size: int,
    progress: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """score_chunks as a map over account-hash buckets on a cluster: the model (as text) and
    the feature table's parts go through the scratch folder, the scores come back as parts.
    Row order differs from score_chunks; rank_scores orders them the same way."""
    if not engine.distributed:
        return score_chunks(model, features, chunk_size, progress)
    missing = [name for name in model.feature_names if name not in features.columns]
    if missing:
        raise UserError(f"feature table lacks column(s) the model needs: {', '.join(missing)}")
    root = engine.folder(f"score-{uuid.uuid4().hex[:8]}")
    model.save(root / "model")
    n = SCORE_BUCKETS_PER_WORKER * engine.workers
    buckets = account_buckets(features["account_id"], n)
    table = features.select("account_id", *model.feature_names)
    split_write(table, buckets, n, root / "features", "table")
    engine.map(score_bucket, range(n), root=root, chunk_size=chunk_size)
    if progress is not None:
        progress(features.height)
    return read_parts(root / "scores")
