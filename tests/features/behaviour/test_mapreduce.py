"""The map-reduce build over buckets (the Dask path, run here with an in-process engine)
against the one-process builder: same rows and columns, floats up to last-bit rounding."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from features.behaviour import build_behaviour_features
from features.behaviour.mapreduce import build_behaviour_on
from features.config import BehaviourConfig
from features.execution import Engine
from tests.features.behaviour.test_build import AS_OF, assert_same, worlds


@settings(max_examples=10, deadline=None)
@given(worlds(), st.integers(1, 3), st.integers(1, 12))
def test_map_reduce_build_equals_the_one_process_build(world, workers, chunk) -> None:
    accounts, events = world
    want = build_behaviour_features(accounts, events, AS_OF)
    config = BehaviourConfig(spill_chunk_events=chunk)
    with tempfile.TemporaryDirectory() as scratch:
        engine = Engine(scratch=Path(scratch), workers=workers)
        got = build_behaviour_on(engine, accounts, events.lazy(), AS_OF, Path(scratch), config)
    assert_same(got, want)
