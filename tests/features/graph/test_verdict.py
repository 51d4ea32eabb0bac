"""The learned ring verdict: order invariance, ring-aware out-of-fold scores, targets, the
monotone structural scorer, the Bayes update by labelled members, and the rules verdict kept
selectable."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from features.config import GraphConfig
from features.graph import build_graphs, find_rings
from features.graph.ring_scorer import direction, fit
from features.graph.verdict import (
    component_folds,
    label_counts,
    member_update,
    structural_scores,
    targets,
)
from tests.features.graph.ring_worlds import crews_and_families

CONFIG = GraphConfig()


@pytest.fixture(scope="module")
def world():
    ds = crews_and_families()
    return ds, build_graphs(ds, CONFIG)


def shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The rows in a random order."""
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def test_ring_verdicts_do_not_change_with_the_order_of_input_rows(world):
    ds, graphs = world
    rings = find_rings(ds, graphs, CONFIG, labels=ds.labels)
    events = ds.events.collect()
    mixed = replace(
        ds,
        accounts=shuffled(ds.accounts, 1),
        events=shuffled(events, 2).lazy(),
        labels=shuffled(ds.labels, 3),
    )
    again = find_rings(mixed, build_graphs(mixed, CONFIG), CONFIG, labels=mixed.labels)
    assert_frame_equal(rings.rings, again.rings)
    assert_frame_equal(rings.membership, again.membership)
    assert_frame_equal(rings.candidates, again.candidates)


def test_the_ring_scorer_never_sees_a_test_part_label(world):
    """Labels of the test part (here: every label of crew c3x and family f3x) are not handed
    over; whatever they say, nothing changes."""
    ds, graphs = world
    test_part = pl.col("account_id").str.starts_with("c3x") | pl.col("account_id").str.starts_with(
        "f3x"
    )
    known = ds.labels.filter(~test_part)
    rings = find_rings(ds, graphs, CONFIG, labels=known)
    flipped = ds.labels.with_columns(
        pl.when(test_part).then(1 - pl.col("label")).otherwise("label").alias("label")
    )
    again = find_rings(replace(ds, labels=flipped), graphs, CONFIG, labels=known)
    assert_frame_equal(rings.candidates, again.candidates)


def test_scores_are_out_of_fold_by_component(world):
    """A candidate's score comes from a model that never saw the targets of its own fold:
    flipping the label of one labelled crew leaves every other score of its fold unchanged."""
    ds, graphs = world
    rings = find_rings(ds, graphs, CONFIG, labels=ds.labels)
    cands = rings.candidates
    assert (cands.group_by("component_id").agg(pl.col("fold").n_unique())["fold"] == 1).all()
    row = cands.filter(pl.col("members").list.first() == "c0x0").row(0, named=True)
    flipped = ds.labels.with_columns(
        pl.when(pl.col("account_id") == "c0x0").then(0).otherwise("label").alias("label")
    )
    again = find_rings(ds, graphs, CONFIG, labels=flipped).candidates
    same_fold = (pl.col("fold") == row["fold"]) & (pl.col("candidate") != row["candidate"])
    assert_frame_equal(cands.filter(same_fold), again.filter(same_fold))
    assert not cands["score"].equals(again["score"])  # other folds did learn from it


def test_targets_and_label_counts_come_from_the_labelled_members():
    members = pl.DataFrame(
        {"candidate": [0, 0, 0, 1], "account_id": ["a", "b", "c", "d"], "position": [0, 1, 2, 0]}
    )
    labels = pl.DataFrame({"account_id": ["a", "b", "d"], "label": [1, 0, 0]})
    # candidate 0: a bad, b good (a tie counts as bad); 1: d good; 2: no label
    np.testing.assert_array_equal(targets(members, labels, 3), [1, 0, -1])
    np.testing.assert_array_equal(label_counts(members, labels, 3), [[1, 1], [0, 1], [0, 0]])


def test_labelled_members_update_the_structural_score_both_ways():
    prior = np.array([0.5, 0.5, 0.5, 0.9])
    counts = np.array([[0, 0], [3, 0], [0, 3], [0, 4]], dtype=float)
    post = member_update(prior, counts, CONFIG)
    assert post[0] == pytest.approx(0.5)  # no label: the structure alone
    assert post[1] > 0.95 and post[2] < 0.2 and post[3] < 0.5


def test_unlabelled_groups_cannot_teach_that_a_signal_points_the_wrong_way():
    """Monotone constraints: unlabelled groups sharing many devices, entering as weak
    negatives, cannot teach that sharing more devices makes a group less suspicious."""
    rng = np.random.default_rng(0)
    n = 200
    columns = ["strength_device", "log_size"]
    x = np.column_stack([rng.random(n), rng.random(n)])
    y = (x[:, 1] > 0.5).astype(np.int64)
    unlabelled = x[:, 0] > 0.6  # every group sharing many devices is unlabelled
    y[unlabelled] = 0
    model = fit(x, y, np.where(unlabelled, 1.0, 1.0), columns)
    grid = np.column_stack([np.linspace(0, 1, 21), np.full(21, 0.8)])
    along = model.predict_proba(grid)[:, 1]
    assert direction("strength_device") == 1 and direction("log_size") == 0
    assert np.all(np.diff(along) >= -1e-12)


def test_structural_scores_are_out_of_fold_by_component():
    rng = np.random.default_rng(1)
    x = rng.random((60, 2))
    target = (x[:, 0] > 0.5).astype(np.int64)
    comps = np.arange(60) // 3
    score, fold = structural_scores(x, target, comps, ["density", "log_size"], CONFIG)
    assert score.shape == (60,) and ((score >= 0) & (score <= 1)).all()
    for c in np.unique(comps):
        assert np.unique(fold[comps == c]).size == 1


def test_component_folds_keep_components_whole():
    comps = np.array([5, 5, 7, 9, 9, 9, 11])
    folds = component_folds(comps, 3)
    for c in np.unique(comps):
        assert np.unique(folds[comps == c]).size == 1


def test_the_rules_verdict_stays_selectable(world):
    ds, graphs = world
    rules = find_rings(ds, graphs, CONFIG, labels=ds.labels, verdict="rules")
    assert set(rules.rings["verdict"]) <= {"rules"}
    with pytest.raises(ValueError, match="unknown ring verdict"):
        find_rings(ds, graphs, CONFIG, verdict="archetypes")
