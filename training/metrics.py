"""Held-out evaluation: ranking quality at review capacity, recall at fixed precision, calibration.

precision@k and recall@k are defined once here: accounts are ranked by score, highest first,
ties kept in input order (a stable sort); the top min(k, n) are "reviewed".
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)


def ranking(scores: np.ndarray) -> np.ndarray:
    """Indices of `scores` from highest to lowest, ties in input order."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def precision_at_k(y: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of bad accounts among the top-k by score (k capped at n)."""
    top = min(int(k), len(y))
    if top == 0:
        return float("nan")
    return float(np.asarray(y)[ranking(scores)[:top]].sum() / top)


def recall_at_k(y: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of all bad accounts that are in the top-k by score."""
    positives = float(np.asarray(y).sum())
    if positives == 0:
        return float("nan")
    top = min(int(k), len(y))
    return float(np.asarray(y)[ranking(scores)[:top]].sum() / positives)


def recall_at_precision(y: np.ndarray, scores: np.ndarray, target: float) -> float:
    """The highest recall reachable by a score threshold whose precision is >= target."""
    precision, recall, _ = precision_recall_curve(y, scores)
    ok = precision >= target
    return float(recall[ok].max()) if ok.any() else 0.0


def expected_calibration_error(y: np.ndarray, probs: np.ndarray, bins: int = 10) -> float:
    """Mean |predicted - observed| rate over equal-width probability bins, weighted by count."""
    y, probs = np.asarray(y, dtype=np.float64), np.asarray(probs, dtype=np.float64)
    if len(y) == 0:
        return float("nan")
    which = np.minimum((probs * bins).astype(np.int64), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += abs(probs[mask].mean() - y[mask].mean()) * mask.sum()
    return float(error / len(y))


def evaluate(
    y: np.ndarray,
    probs: np.ndarray,
    ks: tuple[int, ...] = (100,),
    precision_targets: tuple[float, ...] = (0.9, 0.99),
    bins: int = 10,
) -> dict[str, float]:
    """Every held-out metric of calibrated probabilities `probs` against labels `y`.

    precision@k and recall@k are reported for each k no larger than the number of rows.
    """
    y = np.asarray(y, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    both = 0 < y.sum() < len(y)
    out = {
        "n": float(len(y)),
        "n_bad": float(y.sum()),
        "roc_auc": float(roc_auc_score(y, probs)) if both else float("nan"),
        "average_precision": float(average_precision_score(y, probs)) if both else float("nan"),
        "brier": float(brier_score_loss(y, probs)) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, probs, bins),
    }
    for k in (k for k in ks if k <= len(y)):  # a capacity beyond the part says nothing
        out[f"precision_at_{k}"] = precision_at_k(y, probs, k)
        out[f"recall_at_{k}"] = recall_at_k(y, probs, k)
    for target in precision_targets:
        key = f"recall_at_precision_{target:g}".replace(".", "_")
        out[key] = recall_at_precision(y, probs, target) if both else float("nan")
    return out


def truth_metrics(
    scored: pl.DataFrame, labels: pl.DataFrame, truth: pl.DataFrame
) -> dict[str, float]:
    """On simulated worlds: how well the model surfaces bad accounts nobody has labelled.

    `scored` is account_id, score for every account. Only accounts WITHOUT a label are ranked
    (labelled ones are already known to moderators); k = the number of unlabelled bad accounts,
    so the share surfaced in the top-k is also the precision there (R-precision).
    """
    unlabelled = (
        scored.join(labels.select("account_id"), on="account_id", how="anti")
        .join(truth.select("account_id", "is_bad"), on="account_id", how="inner")
        .sort("account_id")
    )
    y = unlabelled["is_bad"].cast(pl.Int64).to_numpy()
    scores = unlabelled["score"].to_numpy()
    k = int(y.sum())
    both = 0 < k < len(y)
    return {
        "truth_unlabelled_n": float(len(y)),
        "truth_unlabelled_bad": float(k),
        "truth_unlabelled_recall_at_k": recall_at_k(y, scores, k) if k else float("nan"),
        "truth_unlabelled_average_precision": (
            float(average_precision_score(y, scores)) if both else float("nan")
        ),
        "truth_unlabelled_roc_auc": float(roc_auc_score(y, scores)) if both else float("nan"),
    }
