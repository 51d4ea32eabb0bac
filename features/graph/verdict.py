"""Which candidates are rings: a structural ring score learned from labelled rings, updated by
the ring's own labelled members, with an unsupervised fallback and the old hand-written rules
kept for comparison.

Learned (LinkedIn's cluster classifier, AISec 2015), in two parts:

1. Structure. Each candidate is one row of *label-free* ring features
   (`features.graph.ring_features.structural_features`: size, density and pair density per
   relation, binding kinds, lockstep repeats, creation spread, verified share, outside
   audience, ...). A candidate touched by labels gets a target from its labelled members (bad
   when at least half are bad). Small gradient-boosted trees (scikit-learn's
   HistGradientBoostingClassifier, shallow, strongly regularised) learn P(ring | structure)
   with monotone constraints where the direction is known (`features.graph.ring_scorer.
   DIRECTION`: more shared kit, more lockstep, denser pairs, a tighter registration burst
   never make a group *less* suspicious; verified members and an outside audience never make
   it *more*), so a ring of a kind nobody labelled still scores by the direction of its
   signals, and unlabelled candidates, which may enter as weak negatives (positive-unlabelled
   learning: most candidate groups are households, offices and friends), cannot teach that a
   signal points the wrong way. Leaf size, number of trees and the weight of unlabelled
   candidates are chosen per fold by a leave-one-shape-out cross-validation on the training
   part's labels (`features.graph.ring_scorer.tuned`). Every score is out of fold: folds are
   whole candidate components (seeded), so a ring's structural score never comes from a
   model that saw its labels or those of rings sharing its component.
2. Evidence. The ring's labelled members then update that prior (Bayes, Beta-binomial): the
   members of a ring are bad with a rate drawn from Beta(`ring_bad_members`), those of a
   benign group from Beta(`ring_benign_members`); posterior odds = prior odds x the ratio of
   the two Beta-binomial likelihoods of its (bad, good) label counts. A ring without labels
   keeps its structural score; one with labels is scored by both.

Unsupervised (fewer than two candidates hold a bad label, or fewer than two others): ring
score = g / (g + h) x mean member score, with g the FRAUDAR density, h = `ring_density_half`,
and the member score from the account model when given (1 without one: density alone ranks).

Rules (comparison only): `features.graph.evidence.accept`, score = density.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.special import betaln, expit, logit

from features.config import GraphConfig
from features.graph.ring_features import member_features
from features.graph.ring_scorer import component_folds, fit, grid, tuned

VERDICTS = ("learned", "rules")
#: Fewest candidates of each class (bad: labelled; other: labelled good or unlabelled) the
#: learned scorer needs.
MIN_PER_CLASS = 2


def targets(members: pl.DataFrame, labels: pl.DataFrame, count: int) -> np.ndarray:
    """Per candidate: 1 when at least half its labelled members are bad, 0 when fewer, -1
    when none is labelled."""
    per = (
        members.join(labels.select("account_id", "label"), on="account_id", how="inner")
        .group_by("candidate")
        .agg(bad=(pl.col("label") == 1).mean())
        .sort("candidate")
    )
    out = np.full(count, -1, dtype=np.int64)
    out[per["candidate"].to_numpy()] = (per["bad"].to_numpy() >= 0.5).astype(np.int64)
    return out


def label_counts(members: pl.DataFrame, labels: pl.DataFrame, count: int) -> np.ndarray:
    """Per candidate: (members labelled bad, members labelled good)."""
    per = (
        members.join(labels.select("account_id", "label"), on="account_id", how="inner")
        .group_by("candidate")
        .agg(bad=(pl.col("label") == 1).sum(), good=(pl.col("label") != 1).sum())
    )
    out = np.zeros((count, 2), dtype=np.float64)
    out[per["candidate"].to_numpy()] = per.select("bad", "good").to_numpy()
    return out


def matrix(frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
    """The feature columns as a float matrix (null -> NaN)."""
    return frame.select(pl.col(c).cast(pl.Float64).fill_null(np.nan) for c in columns).to_numpy()


def structural_scores(
    x: np.ndarray,
    target: np.ndarray,
    components: np.ndarray,
    columns: list[str],
    config: GraphConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold structural ring score, fold) per candidate (see the module doc)."""
    fold = component_folds(components, config.ring_folds)
    out = np.zeros(target.size)
    for k in range(config.ring_folds):
        held = fold == k
        if held.any():
            rest = ~held
            entries = grid(
                int(rest.sum()),
                config.ring_scorer_leaves,
                config.ring_scorer_trees,
                config.ring_unlabelled_weights,
            )
            choice = tuned(
                x[rest],
                target[rest],
                components[rest],
                columns,
                entries,
                config.ring_unlabelled_cost,
            )
            leaf, trees, unlabelled = choice
            weight = np.where(target[rest] >= 0, 1.0, unlabelled)
            model = fit(x[rest], np.maximum(target[rest], 0), weight, columns, leaf, trees)
            out[held] = model.predict_proba(x[held])[:, 1]
    return out, fold


def member_update(prior: np.ndarray, counts: np.ndarray, config: GraphConfig) -> np.ndarray:
    """Posterior ring score: the prior updated by each ring's (bad, good) labelled members,
    Beta-binomial under a ring (Beta(`ring_bad_members`)) against a benign group
    (Beta(`ring_benign_members`))."""
    bad, good = counts[:, 0], counts[:, 1]

    def log_likelihood(a: float, b: float) -> np.ndarray:
        return betaln(a + bad, b + good) - betaln(a, b)

    ratio = log_likelihood(*config.ring_bad_members) - log_likelihood(*config.ring_benign_members)
    return expit(logit(np.clip(prior, 1e-6, 1 - 1e-6)) + ratio)


def learned_scores(
    structure: pl.DataFrame,
    members: pl.DataFrame,
    labels: pl.DataFrame,
    components: np.ndarray,
    config: GraphConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(ring score, structural score, fold) per candidate, or None when too few labelled
    candidates of either class (see the module doc)."""
    count = structure.height
    target = targets(members, labels, count)
    if (target == 1).sum() < MIN_PER_CLASS or (target < 1).sum() < MIN_PER_CLASS:
        return None
    columns = [c for c in structure.columns if c != "candidate"]
    x = matrix(structure.sort("candidate"), columns)
    prior, fold = structural_scores(x, target, components, columns, config)
    return member_update(prior, label_counts(members, labels, count), config), prior, fold


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
    "label_counts",
    "learned_scores",
    "member_update",
    "targets",
    "unsupervised_scores",
]
