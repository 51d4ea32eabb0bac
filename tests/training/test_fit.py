"""The pure training function: bad input, determinism, search, stages, leak visibility."""

from dataclasses import replace
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

import features.registry
from common.errors import UserError
from features.io.load import known_at
from features.registry import describe
from training.boost import class_weights, dataset, lgb_params, train_booster
from training.config import ModelConfig, SearchConfig, SplitConfig, TrainConfig, with_overrides
from training.fit import add_label_features, fit_model
from training.splits import split_labelled

from .synthetic import T0, make_world, share_fn, specs


@pytest.fixture(scope="module")
def world():
    return make_world(n=1200, seed=2)


@pytest.fixture(scope="module")
def strict(world):
    return fit_model(
        world.features, world.labels, world.groups, TrainConfig(), world.graph, share_fn
    )


def test_bad_labels_are_one_line_user_errors(world):
    f, labels, g = world.features, world.labels, world.groups
    cases = [
        (labels.clear(), "no labels"),
        (labels.filter(pl.col("label") == 1), "only label=1"),
        (labels.filter(pl.col("label") == 0), "only label=0"),
        (labels.head(30), "only 30 labelled accounts; training needs at least 50"),
        (
            pl.concat(
                [labels.filter(pl.col("label") == 1).head(5), labels.filter(pl.col("label") == 0)]
            ),
            "only 5 bad",
        ),
        (
            labels.with_columns((pl.lit("zz") + pl.col("account_id")).alias("account_id")),
            "no labelled account",
        ),
    ]
    for frame, needle in cases:
        with pytest.raises(UserError, match=needle) as caught:
            fit_model(f, frame, g, TrainConfig())
        assert "\n" not in str(caught.value)


def test_part_without_bad_accounts_is_a_user_error(world):
    """All bad labels in one ring: a ring-aware split cannot put bad accounts in every part."""
    bad = world.labels.filter(pl.col("label") == 1)["account_id"]
    one_ring = world.groups.with_columns(
        pl.when(pl.col("account_id").is_in(bad.implode()))
        .then(pl.lit("the-ring"))
        .otherwise(pl.col("component_id"))
        .alias("component_id")
    )
    with pytest.raises(UserError, match="part of the strict split has 0 bad"):
        fit_model(world.features, world.labels, one_ring, TrainConfig())


def test_the_feature_settings_are_saved_with_the_model(strict):
    from common.settings import plain
    from features.config import FeatureConfig

    assert strict.model.info["features"] == plain(FeatureConfig())


def test_only_labelled_accounts_are_rows_and_every_account_is_scored(world, strict):
    assert strict.split.assignments.height == world.labels.height
    assert strict.scored.height == world.features.height
    unlabelled = strict.scored.filter(pl.col("part") == "unlabelled").height
    assert unlabelled == world.features.height - world.labels.height
    assert strict.heldout.height == strict.split.counts()["test"]
    assert (
        strict.metrics["test_average_precision"]
        > 2 * strict.metrics["test_n_bad"] / strict.metrics["test_n"]
    )


def test_deterministic(world, strict):
    again = fit_model(
        world.features, world.labels, world.groups, TrainConfig(), world.graph, share_fn
    )
    assert np.array_equal(again.model.predict(strict.table), strict.model.predict(strict.table))
    assert again.metrics == strict.metrics


def test_random_split_shows_the_leak(world, strict):
    leaky = fit_model(
        world.features,
        world.labels,
        world.groups,
        with_overrides(TrainConfig(), split="random"),
        world.graph,
        share_fn,
    )
    assert leaky.split.kind == "random"
    assert leaky.metrics["test_average_precision"] > strict.metrics["test_average_precision"]


def test_search_over_a_tiny_grid(world):
    grid = SearchConfig(
        enabled=True, num_leaves=(7, 15), learning_rate=(0.1,), min_child_samples=(20,), nfold=2
    )
    config = replace(TrainConfig(), search=grid)
    fit = fit_model(world.features, world.labels, world.groups, config)
    assert [t["num_leaves"] for t in fit.search_trials] == [7, 15]
    best = min(fit.search_trials, key=lambda t: t["cv_logloss"])
    assert fit.params["num_leaves"] == best["num_leaves"]


def test_stages_select_feature_families(world, monkeypatch):
    monkeypatch.setattr(features.registry, "all_specs", lambda config=None: specs())
    config = TrainConfig()
    behaviour = fit_model(
        world.features,
        world.labels,
        world.groups,
        config,
        world.graph,
        share_fn,
        stages={"behaviour", "attribute"},
    )
    assert behaviour.model.feature_names == ["posts_7d", "noise", "verified", "category"]
    graph = fit_model(
        world.features,
        world.labels,
        world.groups,
        config,
        world.graph,
        share_fn,
        stages={"graph", "label-derived"},
    )
    assert graph.model.feature_names == ["ring_signal", "bad_neighbour_share", "known_neighbours"]
    with pytest.raises(UserError, match="no feature columns"):
        fit_model(world.features, world.labels, world.groups, config, stages={"nothing"})


def test_label_features_only_see_labels_known_at_the_snapshot(world):
    """A label decided after `as_of` is a training target but never a neighbour's feature."""
    as_of = T0 + timedelta(days=30)
    later = world.labels.filter(pl.col("labelled_at") > as_of)["account_id"]
    flipped = world.labels.with_columns(
        pl.when(pl.col("account_id").is_in(later.implode()))
        .then(1 - pl.col("label"))
        .otherwise(pl.col("label"))
        .cast(pl.Int8)
        .alias("label")
    )
    split = split_labelled(world.labels, world.groups, SplitConfig())
    config = TrainConfig()

    def table(labels, snapshot):
        known = known_at(labels, snapshot) if snapshot else None
        args = (world.features, labels, split, config, world.graph, share_fn, known)
        return add_label_features(*args)[0]

    assert table(world.labels, as_of).equals(table(flipped, as_of))
    assert not table(world.labels, None).equals(table(flipped, None))


def test_id_like_text_columns_are_left_out_with_a_note(world):
    table = world.features.with_columns(("id-" + pl.col("account_id")).alias("device_id"))
    fit = fit_model(table, world.labels, world.groups, TrainConfig())
    assert "device_id" not in fit.model.feature_names
    assert "category" in fit.model.codes
    assert any("device_id" in note for note in fit.notes)


REFIT = TrainConfig(split=SplitConfig(test_share=0.0), refit=True)


def test_refit_trains_on_every_given_label(world, strict):
    """No inner test part; rounds chosen on validation, then one booster on all labels."""
    fit = fit_model(world.features, world.labels, world.groups, REFIT, world.graph, share_fn)
    counts = fit.split.counts()
    assert counts["test"] == 0 and counts["train"] + counts["valid"] == world.labels.height
    assert fit.heldout.height == 0 and "test_roc_auc" not in fit.metrics
    assert (
        fit.model.info["refit"]
        and fit.model.booster.num_trees() == fit.model.info["best_iteration"]
    )
    assert fit.scored.height == world.features.height
    assert fit.metrics["valid_average_precision"] > 0.5  # the early-stopped model's figures
    # the refit model ranks the unlabelled accounts about as well as the strict one
    truth = world.truth.join(fit.scored.filter(pl.col("part") == "unlabelled"), on="account_id")
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(truth["is_bad"], truth["score"]) > 0.8


def test_refit_label_features_stay_out_of_fold(world):
    """Under refit, validation accounts are folded too: no account's own label (nor its ring
    mates') reaches its label-derived features, in either part."""
    base = fit_model(world.features, world.labels, world.groups, REFIT, world.graph, share_fn)
    account = base.split.ids("valid")[0]
    flipped = world.labels.with_columns(
        pl.when(pl.col("account_id") == account)
        .then(1 - pl.col("label"))
        .otherwise(pl.col("label"))
        .cast(pl.Int8)
        .alias("label")
    )
    config = replace(REFIT, split=replace(REFIT.split, stratify=False))  # same parts either way
    a = fit_model(world.features, world.labels, world.groups, config, world.graph, share_fn)
    b = fit_model(world.features, flipped, world.groups, config, world.graph, share_fn)
    row = pl.col("account_id") == account
    label_cols = a.model.label_features
    assert label_cols and a.table.filter(row).select(label_cols).equals(
        b.table.filter(row).select(label_cols)
    )
    assert not a.table.select(label_cols).equals(b.table.select(label_cols))  # others see it


def test_validation_is_weighted_like_training():
    """With bad rows weighted k times in training, validation log loss must weigh them k
    times too, or it is worst after the first tree and early stopping keeps one tree."""
    y = np.array([1, 0, 0, 0, 0, 1, 0, 0])
    params = lgb_params(ModelConfig(imbalance="scale_pos_weight"), y)
    assert params["scale_pos_weight"] == 3.0
    assert class_weights(params, y).tolist() == [3.0, 1, 1, 1, 1, 3.0, 1, 1]
    assert class_weights(lgb_params(ModelConfig(imbalance="none"), y), y) is None
    unbalanced = lgb_params(ModelConfig(imbalance="is_unbalance"), y)
    assert class_weights(unbalanced, y).tolist()[0] == 3.0
    # a weak signal, 3 % bad, weighted 32 times: unweighted validation stops after one tree
    rng = np.random.default_rng(3)
    y_all = (rng.random(6000) < 0.03).astype(np.int64)
    x_all = np.c_[0.3 * y_all + rng.normal(size=6000), rng.normal(size=(6000, 5))]
    names = [f"x{j}" for j in range(6)]
    params = lgb_params(ModelConfig(imbalance="scale_pos_weight"), y_all[:4000])
    train = dataset(x_all[:4000], y_all[:4000], names, [])

    def rounds(weight):
        valid = dataset(x_all[4000:], y_all[4000:], names, [], weight)
        return train_booster(params, train, valid, 300, 50).best_iteration

    assert rounds(None) == 1
    assert rounds(class_weights(params, y_all[4000:])) > 20


def test_aggregates_of_attributes_count_as_graph_features():
    assert describe("g_rel_n1_mean_some_attribute").stage == "graph"
    assert describe("some_attribute").stage == "attribute"
