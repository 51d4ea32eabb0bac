"""Out-of-fold label-derived features: no account's own label, and no held-out label, leaks."""

import numpy as np
import polars as pl
import pytest

from training.config import SplitConfig
from training.oof import oof_label_features, scoring_label_features
from training.splits import split_labelled

from .synthetic import make_world, share_fn


@pytest.fixture(scope="module")
def world():
    w = make_world(n=300, seed=3)
    split = split_labelled(w.labels, w.groups, SplitConfig())
    return w, split


def features_of(w, split, labels=None):
    return oof_label_features(
        w.graph,
        w.features["account_id"],
        labels if labels is not None else w.labels,
        split,
        folds=4,
        seed=1,
        share_fn=share_fn,
    )


def flip(labels, ids):
    return labels.with_columns(
        pl.when(pl.col("account_id").is_in(list(ids)))
        .then(1 - pl.col("label"))
        .otherwise(pl.col("label"))
        .cast(pl.Int8)
        .alias("label")
    )


def test_one_row_per_account(world):
    w, split = world
    out = features_of(w, split)
    assert out["account_id"].to_list() == sorted(w.features["account_id"])
    assert set(out.columns) == {"account_id", "bad_neighbour_share", "known_neighbours"}


def test_held_out_labels_never_reach_any_feature(world):
    w, split = world
    base = features_of(w, split)
    held = split.assignments.filter(pl.col("part") != "train")["account_id"]
    flipped = features_of(w, split, flip(w.labels, held))
    assert flipped.equals(base)


def test_own_label_never_reaches_own_feature(world):
    """Flipping one training account's label leaves its own (and its ring mates') row unchanged."""
    w, split = world
    base = features_of(w, split)
    train = split.assignments.filter(pl.col("part") == "train")
    for account in train["account_id"].head(15):
        group = train.filter(pl.col("account_id") == account)["group"][0]
        mates = train.filter(pl.col("group") == group)["account_id"]
        changed = features_of(w, split, flip(w.labels, [account]))
        rows = pl.col("account_id").is_in(mates.implode())
        assert changed.filter(rows).equals(base.filter(rows))


def test_recorded_masks_exclude_the_rows_they_feed(world):
    """Every call's known mask excludes the held-out parts and the fold it is used for."""
    w, split = world
    calls = []

    def recording(graph, known_bad, known):
        calls.append((known_bad.copy(), known.copy()))
        return share_fn(graph, known_bad, known)

    oof_label_features(w.graph, w.features["account_id"], w.labels, split, 4, 1, recording)
    ids = w.features["account_id"].sort()
    held = ids.is_in(split.assignments.filter(pl.col("part") != "train")["account_id"].implode())
    assert len(calls) == 5  # all training labels (for held-out rows) + one per fold
    for known_bad, known in calls:
        assert not (known & held.to_numpy()).any()
        assert not (known_bad & ~known).any()


def test_scoring_uses_every_label(world):
    w, _ = world
    out = scoring_label_features(w.graph, w.features["account_id"], w.labels, share_fn)
    expected = share_fn(
        w.graph,
        w.features["account_id"]
        .is_in(w.labels.filter(pl.col("label") == 1)["account_id"].implode())
        .to_numpy(),
        w.features["account_id"].is_in(w.labels["account_id"].implode()).to_numpy(),
    )
    assert np.allclose(out["known_neighbours"].to_numpy(), expected["known_neighbours"].to_numpy())
