"""The structural ring scorer's hyper-parameter choice: leave-one-shape-out folds and grid."""

from __future__ import annotations

import numpy as np

from features.graph.ring_scorer import grid, shape_folds, tuned


def two_shapes(seed: int = 0):
    """Labelled bad rings of two clearly different shapes, benign groups, unlabelled ones."""
    rng = np.random.default_rng(seed)
    a = np.column_stack([rng.normal(5, 0.1, 10), rng.normal(0, 0.1, 10)])
    b = np.column_stack([rng.normal(0, 0.1, 10), rng.normal(5, 0.1, 10)])
    good = rng.normal(0, 0.1, (10, 2))
    unlabelled = rng.normal(2, 2, (10, 2))
    x = np.vstack([a, b, good, unlabelled])
    target = np.r_[np.ones(20), np.zeros(10), -np.ones(10)].astype(np.int64)
    return x, target, np.arange(40)


def test_labelled_rings_of_different_shapes_never_share_an_inner_fold():
    x, target, groups = two_shapes()
    folds = shape_folds(x, target, groups)
    assert not set(folds[:10].tolist()) & set(folds[10:20].tolist())


def test_leaf_sizes_need_four_leaves_of_rows_and_the_smallest_always_stays():
    assert grid(10, (2, 8), (60,), (0.0, 0.2)) == [(2, 60, 0.0), (2, 60, 0.2)]
    assert len(grid(40, (2, 8), (60, 120), (0.0,))) == 4


def test_the_choice_is_a_grid_entry_and_deterministic():
    x, target, groups = two_shapes()
    entries = grid(40, (2, 8), (30,), (0.0, 0.2))
    columns = ["density", "cover_device"]
    choice = tuned(x, target, groups, columns, entries, 0.2)
    assert choice in entries
    assert tuned(x, target, groups, columns, entries, 0.2) == choice
