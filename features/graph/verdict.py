"""Which candidates are rings: a ring scorer learned from labelled members, with an
unsupervised fallback and the old hand-written rules kept for comparison.

Learned (LinkedIn's cluster classifier, AISec 2015): each candidate is one row of ring-level
features (`features.graph.ring_features`). A candidate touched by labels gets a target from its
labelled members: they are taken in account-id order and alternately put in the *target*
half (the first, third, ...) and the *evidence* half; the target is 1 when most target-half
labels are bad, and the label-share features of that row see only the evidence half, so no
label is both a feature and the target of the same row (at scoring time a reviewer has closed
some members and asks about the rest, which is the same question). Good labels are rare
(moderators clear few accounts) while most candidate groups of a base are benign (households,
offices, friends), so candidates without any label enter training as negatives with the small
weight `ring_unlabelled_weight` (positive-unlabelled learning with a low prior); a ring of an
unlabelled kind still scores high when its signals point the way labelled rings' do. The
scorer is a logistic regression over standardised features (few rows, one per ring: a linear
model is stable there and, unlike trees, still ranks unseen shapes by the direction of each
signal), so its output is a probability (Platt-style calibration is the model itself). Every
score is out of fold: folds are whole candidate components (seeded), so a ring's score never
comes from a model that saw its own labels or those of rings sharing its component;
unlabelled rows are scored out of fold too (they enter training as weak negatives, and must
not score themselves).

Unsupervised (fewer than two candidates hold a bad label, or fewer than two others): ring
score = g / (g + h) x mean member score, with g the FRAUDAR density, h = `ring_density_half`,
and the member score from the account model when given (1 without one: density alone ranks).

Rules (comparison only): `features.graph.evidence.accept`, score = density.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from features.config import GraphConfig
from features.graph.ring_features import member_features

VERDICTS = ("learned", "rules")
#: Fewest candidates of each class (bad: labelled; other: labelled good or unlabelled) the
#: learned scorer needs.
MIN_PER_CLASS = 2


def split_labels(members: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    """(candidate, account_id, label, half) of every labelled member: half 0 = target,
    1 = evidence, alternating in account-id order within the candidate."""
    labelled = members.join(labels.select("account_id", "label"), on="account_id", how="inner")
    labelled = labelled.sort("candidate", "position")
    rank = pl.int_range(pl.len(), dtype=pl.Int64).over("candidate")
    return labelled.with_columns(half=(rank % 2))


def targets(split: pl.DataFrame, count: int) -> np.ndarray:
    """Per candidate: 1 / 0 from the target half's majority (bad on ties), -1 when unlabelled."""
    per = (
        split.filter(pl.col("half") == 0)
        .group_by("candidate")
        .agg(bad=(pl.col("label") == 1).mean())
        .sort("candidate")
    )
    out = np.full(count, -1, dtype=np.int64)
    out[per["candidate"].to_numpy()] = (per["bad"].to_numpy() >= 0.5).astype(np.int64)
    return out


def component_folds(components: np.ndarray, folds: int, seed: int = 7) -> np.ndarray:
    """A fold per candidate such that every component is in exactly one fold (seeded)."""
    unique = np.unique(components)
    order = np.random.default_rng(seed).permutation(unique.size)
    fold_of = dict(zip(unique.tolist(), (order % folds).tolist(), strict=True))
    return np.array([fold_of[c] for c in components.tolist()], dtype=np.int64)


def scorer(c: float):
    """The ring scorer: median imputation (with missing flags), standardisation, logistic
    regression with L2 strength 1 / `c` (deterministic lbfgs)."""
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=c, max_iter=2000),
    )


def matrix(frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
    """The feature columns as a float matrix (null -> NaN)."""
    return frame.select(pl.col(c).cast(pl.Float64).fill_null(np.nan) for c in columns).to_numpy()


def learned_scores(
    structure: pl.DataFrame,
    members: pl.DataFrame,
    labels: pl.DataFrame,
    scores: pl.DataFrame | None,
    components: np.ndarray,
    config: GraphConfig,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(out-of-fold ring score, fold) per candidate, or None when too few
    labelled candidates of either class (see the module doc)."""
    count = structure.height
    split = split_labels(members, labels)
    target = targets(split, count)
    if (target == 1).sum() < MIN_PER_CLASS or (target < 1).sum() < MIN_PER_CLASS:
        return None
    evidence = split.filter(pl.col("half") == 1).select("account_id", "label")
    train_rows = structure.join(member_features(members, evidence, scores), on="candidate")
    score_rows = structure.join(member_features(members, labels, scores), on="candidate")
    columns = [c for c in train_rows.columns if c != "candidate"]
    x_train, x_score = matrix(train_rows, columns), matrix(score_rows, columns)
    labelled = target >= 0
    weight = np.where(labelled, 1.0, config.ring_unlabelled_weight)
    y = np.maximum(target, 0)
    fold = component_folds(components, config.ring_folds)
    out = np.zeros(count)
    for k in range(config.ring_folds):
        held = fold == k
        if held.any():
            rest = ~held
            x_held = np.where(labelled[held, None], x_train[held], x_score[held])
            model = fit(x_train[rest], y[rest], weight[rest], config.ring_scorer_c)
            out[held] = model.predict_proba(x_held)[:, 1]
    return out, fold


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, c: float):
    """The ring scorer fitted on weighted rows (a constant model when one class is missing)."""
    if np.unique(y[weight > 0]).size < 2:
        return ConstantScorer(float(np.average(y, weights=weight)) if weight.sum() else 0.5)
    return scorer(c).fit(x, y, logisticregression__sample_weight=weight)


class ConstantScorer:
    """A scorer that gives every row the same probability (a fold with one class only)."""

    def __init__(self, p: float):
        self.p = p

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.full(len(x), 1 - self.p), np.full(len(x), self.p)])


def unsupervised_scores(
    structure: pl.DataFrame, members: pl.DataFrame, scores: pl.DataFrame | None, half: float
) -> np.ndarray:
    """g / (g + half) x mean member account score (1 when no scores are given)."""
    density = structure["density"].to_numpy().astype(np.float64)
    member = member_features(members, None, scores)["member_score_mean"].to_numpy()
    member = np.where(np.isfinite(member.astype(np.float64)), member, 1.0)
    return density / (density + half) * member


__all__ = [
    "VERDICTS",
    "component_folds",
    "learned_scores",
    "split_labels",
    "targets",
    "unsupervised_scores",
]
