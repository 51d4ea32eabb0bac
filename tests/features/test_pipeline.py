"""The feature table: scanned and in-memory events agree; the cache hits, misses and heals."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from experiments.simulate import WorldConfig, simulate_to
from features.config import BehaviourConfig, FeatureConfig
from features.graph.labels import CSR_PARTS, LABEL_GRAPHS, LabelGraphs
from features.io import fingerprint
from features.io.fingerprint import fingerprint_inputs
from features.io.load import load_dataset
from features.pipeline import FeatureTable, build_feature_table, feature_table, side_by_side

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


@pytest.fixture(scope="module")
def cached(data: Path, tmp_path_factory) -> tuple[Path, FeatureTable]:
    """A cache root holding the table of `data`, and that table as built."""
    root = tmp_path_factory.mktemp("cache")
    return root, feature_table(load_dataset(data), root)


def assert_same_graphs(left: LabelGraphs, right: LabelGraphs) -> None:
    assert left.account_ids.equals(right.account_ids)
    for name in LABEL_GRAPHS:
        for part in CSR_PARTS:
            assert np.array_equal(
                getattr(getattr(left, name), part), getattr(getattr(right, name), part)
            )


def test_cached_table_and_graphs_are_reused_across_loads(data: Path, cached) -> None:
    root, first = cached
    said: list[str] = []
    again = feature_table(load_dataset(data), root, say=said.append)
    assert said == [f"reusing the feature table in {next(root.glob('*/meta.json')).parent}"]
    assert again.inputs_sha256 == first.inputs_sha256 != ""
    assert_same(again.frame, first.frame)
    assert isinstance(again.graphs.rel.indices, np.memmap)  # read from disk, not rebuilt
    assert_same_graphs(again.graphs, first.graphs)


def test_input_hashes_are_kept_and_only_changed_files_rehashed(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    store = tmp_path / "hashes.json"
    first = fingerprint_inputs(copy, store)
    assert fingerprint_inputs(copy) == first  # the store changes nothing but the work
    hashed: list[str] = []
    real = fingerprint.file_sha256
    monkeypatch.setattr(fingerprint, "file_sha256", lambda p: hashed.append(p.name) or real(p))
    assert fingerprint_inputs(copy, store) == first and hashed == []
    labels = pl.read_parquet(copy / "labels.parquet")
    labels.with_columns(pl.col("label").reverse()).write_parquet(copy / "labels.parquet")
    assert fingerprint_inputs(copy, store) != first
    assert hashed == ["labels.parquet"]


def test_changed_input_misses_the_cache(data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    root = tmp_path / "cache"
    feature_table(load_dataset(copy), root)
    labels = pl.read_parquet(copy / "labels.parquet")
    labels.head(labels.height - 1).write_parquet(copy / "labels.parquet")
    said: list[str] = []
    feature_table(load_dataset(copy), root, say=said.append)
    assert not any("reusing" in line for line in said)
    assert len(list(root.glob("*/meta.json"))) == 2


@pytest.mark.parametrize("damaged", ["graphs/rel.indices.npy", "features.parquet"])
def test_damaged_cache_entry_is_rebuilt_with_a_warning(
    data: Path, cached, tmp_path: Path, damaged: str
) -> None:
    root, first = cached
    copy = tmp_path / "cache"
    shutil.copytree(root, copy)
    path = next(copy.glob(f"*/{damaged}"))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte: the size stays, the content does not
    path.write_bytes(bytes(raw))
    said: list[str] = []
    again = feature_table(load_dataset(data), copy, say=said.append)
    assert any(line.startswith("warning:") and "damaged" in line for line in said)
    assert not any("reusing" in line for line in said)
    assert_same(again.frame, first.frame)
    assert_same_graphs(again.graphs, first.graphs)
    said.clear()
    feature_table(load_dataset(data), copy, say=said.append)  # the rebuilt entry is good
    assert any("reusing" in line for line in said)


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
