"""The structural ring scorer and how its hyper-parameters are chosen.

The scorer: small gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier:
shallow, L2-regularised, no early stopping, so deterministic) over label-free ring features,
monotone where the direction is known (`DIRECTION`).

Choosing (min_samples_leaf, trees, weight of unlabelled candidates as negatives) asks the
question the scorer must answer: how well does it score a *kind* of ring nobody labelled,
without flagging the many groups nobody labelled because they are benign? The labelled bad
candidates of the training part are clustered by structure (k-means on standardised
features) into shapes; each inner fold drops the labels of one shape (half of its rings stay
in training, unlabelled, as the other rings of a new kind would; the other half is scored as
rings) and scores a share of the other candidates: labelled ones by their label, unlabelled
ones as benign with the small weight `unlabelled_cost` (positive-unlabelled: most are
benign, some are rings of kinds nobody labelled). The entry with the lowest weighted log loss
wins. Only training-part labels are used.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

#: Known direction of a structural feature (by name prefix; first match): +1 never lowers the
#: ring score as it grows, -1 never raises it, 0 free. Features matching none are free.
DIRECTION = (
    ("creation_span", -1),  # a tight registration burst is fabrication
    ("verified_share", -1),  # verified members are organisations
    ("established_share", -1),  # members with an audience of their own outside every group
    ("audience_log_mean", -1),
    ("density", 1),
    ("core_share", 1),
    ("binding_kinds", 1),
    ("lockstep_windows", 1),
    ("cover_", 1),  # share of members a relation binds
    ("strength_", 1),  # a relation's weight per member
    ("pairs_", 1),  # a relation's weight per pair: do the members really meet pairwise?
)
#: Shapes (inner folds) the labelled bad candidates are clustered into.
SHAPES = 3


def direction(column: str) -> int:
    """The monotone constraint of one structural feature (see DIRECTION)."""
    return next((sign for prefix, sign in DIRECTION if column.startswith(prefix)), 0)


def scorer(columns: list[str], leaf: int, trees: int) -> HistGradientBoostingClassifier:
    """The structural ring scorer (see the module doc)."""
    return HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=trees,
        max_depth=3,
        max_leaf_nodes=8,
        min_samples_leaf=leaf,
        l2_regularization=1.0,
        monotonic_cst=[direction(c) for c in columns],
        early_stopping=False,
        random_state=0,
    )


class ConstantScorer:
    """A scorer that gives every row the same probability (a fold with one class only)."""

    def __init__(self, p: float):
        self.p = p

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.full(len(x), 1 - self.p), np.full(len(x), self.p)])


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, columns: list[str], leaf=2, trees=60):
    """The scorer fitted on weighted rows (a constant model when one class is missing)."""
    if np.unique(y[weight > 0]).size < 2:
        return ConstantScorer(float(np.average(y, weights=weight)) if weight.sum() else 0.5)
    return scorer(columns, leaf, trees).fit(x, y, sample_weight=weight)


def component_folds(components: np.ndarray, folds: int, seed: int = 7) -> np.ndarray:
    """A fold per candidate such that every component is in exactly one fold (seeded)."""
    unique = np.unique(components)
    order = np.random.default_rng(seed).permutation(unique.size)
    fold_of = dict(zip(unique.tolist(), (order % folds).tolist(), strict=True))
    return np.array([fold_of[c] for c in components.tolist()], dtype=np.int64)


def shape_folds(x: np.ndarray, target: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Inner fold per row: labelled bad rows by structural shape (k-means, seeded), others by
    component (seeded), `SHAPES` folds."""
    fold = component_folds(groups, SHAPES, seed=11)
    bad = target == 1
    if bad.sum() >= SHAPES:
        z = StandardScaler().fit_transform(
            SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(x[bad])
        )
        z = np.nan_to_num(z)
        shapes = min(SHAPES, np.unique(z, axis=0).shape[0])
        if shapes >= 2:
            fold[bad] = KMeans(shapes, n_init=4, random_state=0).fit_predict(z)
    return fold


def grid(rows: int, leaves: tuple[int, ...], trees: tuple[int, ...], weights: tuple[float, ...]):
    """(leaf, trees, unlabelled weight) entries; a leaf size only when the rows hold at least
    four leaves of it (the smallest always)."""
    fits = [leaf for leaf in leaves if leaf == min(leaves) or 4 * leaf <= rows]
    return [(leaf, n, w) for leaf in fits for n in trees for w in weights]


def inner_loss(x, target, groups, columns, folds, entry, unlabelled_cost: float) -> float:
    """Weighted log loss of one grid entry over the inner folds (see the module doc)."""
    leaf, trees, unlabelled = entry
    scored, truth, weights = [], [], []
    for k in np.unique(folds):
        held = folds == k
        hidden = held & (target == 1) & (groups % 2 == 0)  # unlabelled in training
        test = held & ~hidden
        train = ~test
        y = np.where(hidden, 0, np.maximum(target, 0))[train]
        w = np.where((target[train] >= 0) & ~hidden[train], 1.0, unlabelled)
        if test.any():
            model = fit(x[train], y, w, columns, leaf, trees)
            scored.append(model.predict_proba(x[test])[:, 1])
            truth.append(np.maximum(target[test], 0))
            weights.append(np.where(target[test] >= 0, 1.0, unlabelled_cost))
    if not scored:
        return float("nan")
    p, t, w = np.concatenate(scored), np.concatenate(truth), np.concatenate(weights)
    return float(log_loss(t, np.clip(p, 1e-6, 1 - 1e-6), sample_weight=w, labels=[0, 1]))


def tuned(x, target, groups, columns, entries, unlabelled_cost: float) -> tuple[int, int, float]:
    """The entry with the lowest inner log loss (the first on ties or without a verdict)."""
    folds = shape_folds(x, target, groups)
    losses = [inner_loss(x, target, groups, columns, folds, e, unlabelled_cost) for e in entries]
    finite = [i for i, loss in enumerate(losses) if np.isfinite(loss)]
    if not finite:
        return entries[0]
    return entries[min(finite, key=lambda i: (losses[i], i))]


__all__ = ["DIRECTION", "component_folds", "direction", "fit", "grid", "shape_folds", "tuned"]
