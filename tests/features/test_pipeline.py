"""The feature table from the scanned events equals the one built from events held in memory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from experiments.simulate import WorldConfig, simulate_to
from features.config import BehaviourConfig, FeatureConfig
from features.io.load import load_dataset
from features.pipeline import build_feature_table, feature_table, side_by_side

CONFIG = WorldConfig(accounts=3_000, weeks=2, seed=5, chunk_accounts=1_000)  # 3 event parts


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("world") / "data"
    simulate_to(CONFIG, folder)
    return folder


def assert_same(left: pl.DataFrame, right: pl.DataFrame) -> None:
    """Integers exactly, floats up to last-bit rounding (sums over differently chunked rows)."""
    assert_frame_equal(left, right, rel_tol=1e-12, abs_tol=0.0)


def test_scanned_and_in_memory_events_give_the_same_table(data: Path) -> None:
    ds = load_dataset(data)
    assert isinstance(ds.events, pl.LazyFrame)
    in_memory = dataclasses.replace(ds, events=ds.events.collect())
    want = build_feature_table(in_memory)
    # the scan spills to bucket files in small batches; the in-memory build is one bucket
    spilled = FeatureConfig(behaviour=BehaviourConfig(n_buckets=3, spill_chunk_events=20_000))
    got = build_feature_table(ds, spilled)
    assert got.frame.height == ds.accounts.height
    assert_same(got.frame, want.frame)
    for name in ("rings", "membership", "components"):
        assert getattr(got.rings, name).equals(getattr(want.rings, name)), name


def test_cached_table_is_reused_across_loads(data: Path, tmp_path: Path) -> None:
    said: list[str] = []
    first = feature_table(load_dataset(data), tmp_path / "cache")
    again = feature_table(load_dataset(data), tmp_path / "cache", say=said.append)
    assert any("reusing" in line for line in said)
    assert again.inputs_sha256 == first.inputs_sha256 != ""
    assert_same(again.frame, first.frame)


def test_side_by_side_equals_the_left_join() -> None:
    base = pl.DataFrame({"account_id": ["a", "b", "c"], "x": [1, 2, 3]})
    aligned = pl.DataFrame({"account_id": ["a", "b", "c"], "y": [0.5, None, 1.5]})
    shuffled = pl.DataFrame({"account_id": ["c", "a"], "z": [30, 10]})
    unsorted = base.reverse()
    for frames in ([base, aligned], [base, aligned, shuffled], [unsorted, aligned]):
        joined = frames[0]
        for frame in frames[1:]:
            joined = joined.join(frame, on="account_id", how="left")
        assert side_by_side(frames).equals(joined.sort("account_id"))
