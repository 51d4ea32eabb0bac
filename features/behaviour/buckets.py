"""Stable account-hash buckets: split the account base so events are processed a slice at a time.

The bucket of an account is FNV-1a-64 of its account_id's UTF-8 bytes modulo the bucket count:
a fixed function (not polars' hash, which changes between versions), so the same account lands
in the same bucket on every machine and every release, and a later Dask map over buckets can
rely on it.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from features.behaviour.kernels import fnv1a64
from features.behaviour.seam import string_buffers
from features.config import BehaviourConfig


def account_hashes(account_ids: pl.Series) -> np.ndarray:
    """FNV-1a-64 of each account id (uint64)."""
    offsets, data = string_buffers(account_ids.cast(pl.String))
    return fnv1a64(offsets, data)


def account_buckets(account_ids: pl.Series, n_buckets: int) -> np.ndarray:
    """Bucket number (int64 in 0..n_buckets-1) of each account id."""
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be at least 1, got {n_buckets}")
    return (account_hashes(account_ids) % np.uint64(n_buckets)).astype(np.int64)


def bucket_count(n_events: int, config: BehaviourConfig) -> int:
    """The configured bucket count, or (0 = auto) enough buckets for `bucket_events` each."""
    if config.n_buckets > 0:
        return config.n_buckets
    return max(1, math.ceil(n_events / max(config.bucket_events, 1)))
