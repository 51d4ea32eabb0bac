"""Fixtures of the detection tests: one small world and one real model per session."""

from __future__ import annotations

import pytest

from tests.detection.world import World, make_world, train_model


@pytest.fixture(scope="session")
def world() -> World:
    """A 2,000-account base with rings (built once)."""
    return make_world()


@pytest.fixture(scope="session")
def model(world: World):  # -> training.model.RingwatchModel
    """A real calibrated LightGBM RingwatchModel trained on `world` (built once)."""
    return train_model(world)


@pytest.fixture(scope="session")
def scored(world: World, model, tmp_path_factory: pytest.TempPathFactory):
    """One finished scoring run of `world` (capacity 120), shared by read-only tests."""
    from detection.config import ScoreConfig
    from detection.pipeline import score_base
    from tests.detection.world import AS_OF

    out = tmp_path_factory.mktemp("scored")
    return score_base(
        world.features,
        model,
        AS_OF,
        out,
        ScoreConfig(capacity=120, max_ring_sections=4),
        membership=world.membership,
        rings=world.rings,
        events=world.events,
        edges=world.edges,
        inputs={"source": "tests", "fingerprint": "0" * 64},
    )
