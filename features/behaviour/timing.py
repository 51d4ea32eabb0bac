"""Timing: the rhythm of an account's events (numba kernels over sorted per-account sequences)."""

from __future__ import annotations

import numpy as np
import polars as pl

from features.behaviour.kernels import (
    SECOND,
    TIMING_COLUMNS,
    group_order,
    periodicity,
    timing_stats,
)
from features.behaviour.seam import CODE
from features.config import BehaviourConfig


def sorted_sequences(
    ev: pl.DataFrame, n_accounts: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(accounts, offsets, ts, is_post): the events of each account present, sorted by time,
    in CSR layout (dtypes normalised here so every kernel compiles once)."""
    aidx = np.ascontiguousarray(ev["aidx"].to_numpy(), dtype=np.int64)
    ts = np.ascontiguousarray(ev["ts"].to_numpy(), dtype=np.int64)
    is_post = np.ascontiguousarray((ev["code"] == CODE["post"]).to_numpy(), dtype=np.bool_)
    order, offsets = group_order(aidx, ts, n_accounts)
    sizes = np.diff(offsets)
    accounts = np.flatnonzero(sizes).astype(np.int64)
    compact = np.zeros(accounts.shape[0] + 1, dtype=np.int64)
    np.cumsum(sizes[accounts], out=compact[1:])
    return accounts, compact, ts[order], is_post[order]


def timing_features(ev: pl.DataFrame, n_accounts: int, config: BehaviourConfig) -> pl.DataFrame:
    """Per account: inter-event statistics, daily/weekly rhythm, bursts and posting period."""
    accounts, offsets, ts, is_post = sorted_sequences(ev, n_accounts)
    night_start, night_end = config.night_hours
    stats = timing_stats(
        offsets,
        ts,
        np.int64(config.burst_window_s * SECOND),
        np.int64(config.burst_min_events),
        np.int64(night_start),
        np.int64(night_end),
    )
    period = periodicity(offsets, ts, is_post, float(config.period_tolerance))
    columns = {name: stats[:, i] for i, name in enumerate(TIMING_COLUMNS)}
    columns |= {"post_period_s": period[:, 0], "post_periodicity": period[:, 1]}
    return pl.DataFrame({"aidx": accounts, **columns}).with_columns(
        pl.exclude("aidx").fill_nan(None)
    )
