"""Grouping helpers: all pairs within groups (numba), and sort-based distinct/run masks.

Sorting packed integers with np.sort is much faster here than hash group-bys on several
columns, and than numpy 2.4's np.unique on large int64 arrays.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit


@njit(cache=True)
def clique_pairs(
    group_ptr: np.ndarray, members: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (a, b) of members within each group, each with the group's weight."""
    total = 0
    for g in range(group_ptr.shape[0] - 1):
        k = group_ptr[g + 1] - group_ptr[g]
        total += k * (k - 1) // 2
    src = np.empty(total, dtype=np.int64)
    dst = np.empty(total, dtype=np.int64)
    w = np.empty(total, dtype=np.float64)
    out = 0
    for g in range(group_ptr.shape[0] - 1):
        lo, hi = group_ptr[g], group_ptr[g + 1]
        for i in range(lo, hi):
            for j in range(i + 1, hi):
                src[out] = members[i]
                dst[out] = members[j]
                w[out] = weight[g]
                out += 1
    return src, dst, w


def groups(incidence: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(group_ptr, members) of an incidence frame (key, node), sorted by key then node."""
    ordered = incidence.sort("key", "node")
    keys = ordered["key"].to_numpy().astype(np.int64)
    members = ordered["node"].to_numpy().astype(np.int64)
    starts = np.flatnonzero(run_starts(keys))
    return np.r_[starts, keys.size].astype(np.int64), members


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.sort plus a run mask: numpy 2.4's np.unique is far
    slower on large int64 arrays)."""
    ordered = np.sort(values)
    return ordered[run_starts(ordered)]


def repeated(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values that occur more than once."""
    ordered = np.sort(values)
    return sorted_unique(ordered[1:][ordered[1:] == ordered[:-1]])


def run_starts(*sorted_columns: np.ndarray) -> np.ndarray:
    """Mask of the rows where any of the (jointly sorted) columns changes value."""
    size = sorted_columns[0].shape[0]
    start = np.zeros(size, dtype=bool)
    if size:
        start[0] = True
        for column in sorted_columns:
            start[1:] |= column[1:] != column[:-1]
    return start
