"""fit_model's named steps, one at a time (prepare, design, boost, assemble, held-out, score)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import features.registry
from common.errors import UserError
from common.settings import plain
from features.config import FeatureConfig
from training import fit as steps
from training.config import HeadsConfig, TrainConfig

from .synthetic import make_world, share_fn, specs

CONFIG = replace(TrainConfig(), heads=HeadsConfig(min_positives=10))


@pytest.fixture(scope="module")
def world():
    return make_world(n=800, seed=5)


@pytest.fixture(autouse=True)
def synthetic_registry(monkeypatch):
    monkeypatch.setattr(features.registry, "all_specs", lambda config=None: specs())


@pytest.fixture(scope="module")
def prepared(world):
    return steps.prepare(world.features.reverse(), world.labels, world.groups, CONFIG)


def test_prepare_sorts_checks_and_splits(world, prepared):
    table, labelled, split = prepared
    assert table["account_id"].is_sorted()
    assert labelled.height == split.assignments.height == world.labels.height
    assert set(split.assignments["part"]) == {"train", "valid", "test"}
    with pytest.raises(UserError, match="no labels"):
        steps.prepare(world.features, world.labels.clear(), world.groups, CONFIG)


def test_label_inputs_only_when_wanted(world):
    assert steps.label_inputs_for(world.graph, share_fn, None, CONFIG, None) is not None
    assert steps.label_inputs_for(None, share_fn, None, CONFIG, None) is None
    assert steps.label_inputs_for(world.graph, share_fn, None, CONFIG, {"behaviour"}) is None


def test_design_then_boost_then_assemble(world, prepared):
    table, labelled, split = prepared
    inputs = steps.label_inputs_for(world.graph, share_fn, None, CONFIG, None)
    d = steps.design(table, labelled, split, CONFIG, inputs, None, FeatureConfig())
    assert d.label_cols and set(d.label_cols) <= set(d.names)
    assert d.categorical == ["category"] and "account_id" not in d.names
    for part, rows in d.rows.items():
        assert d.x[part].shape == (rows.height, len(d.names)) and len(d.y[part]) == rows.height
    booster, params, trials, config = steps.boost(d, CONFIG)
    assert booster.best_iteration >= 1 and not trials and config == CONFIG
    model, _ = steps.assemble(d, booster, params, CONFIG, split, FeatureConfig())
    assert model.info["features"] == plain(FeatureConfig())
    p = model.predict(d.rows["valid"])
    assert np.all((p >= 0) & (p <= 1))
    held = steps.heldout_of(d, {"test": model.predict(d.rows["test"])})
    assert held.height == d.rows["test"].height and "score" in held.columns
    scored = steps.score_all(model, d.table, split)
    assert scored.height == world.features.height
    assert set(scored["part"]) == {"train", "valid", "test", "unlabelled"}
