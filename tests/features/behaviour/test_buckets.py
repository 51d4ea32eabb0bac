"""Stable account-hash buckets."""

from __future__ import annotations

import polars as pl
import pytest

from features.behaviour.buckets import account_buckets, account_hashes, bucket_count
from features.config import BehaviourConfig


def test_hashes_are_fixed_fnv1a() -> None:
    # FNV-1a-64 reference values: a fixed function of the bytes, never polars' own hash
    assert account_hashes(pl.Series(["", "a"])).tolist() == [
        0xCBF29CE484222325,
        0xAF63DC4C8601EC8C,
    ]


def test_buckets_cover_the_range_and_do_not_depend_on_order() -> None:
    ids = pl.Series([f"acct-{i}" for i in range(1000)])
    buckets = account_buckets(ids, 7)
    assert set(buckets.tolist()) == set(range(7))
    reversed_ids = ids.reverse()
    assert account_buckets(reversed_ids, 7).tolist() == buckets[::-1].tolist()


def test_bucket_count() -> None:
    assert bucket_count(10, BehaviourConfig(n_buckets=3)) == 3
    assert bucket_count(0, BehaviourConfig()) == 1
    assert bucket_count(25, BehaviourConfig(bucket_events=10)) == 3
    with pytest.raises(ValueError):
        account_buckets(pl.Series(["a"]), 0)
