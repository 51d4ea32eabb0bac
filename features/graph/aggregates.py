"""Neighbour aggregates (GADBench graph-tree features) in numba: mean and max of per-node
values over each node's neighbours, on a whole CSR graph or on one block of its rows.

Slow, obvious twin: `features.graph.reference.neighbour_mean_max`; re-exported by
`features.graph.kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Nodes handed to one parallel task of the row layout.
BLOCK = 4096


#: Up to this many columns the aggregates run one column at a time (each pass reads one float
#: per edge); with more, one pass reads each neighbour's whole row (one cache line holds 8
#: columns). Measured with experiments/bench_graph.py's graphs, 100 k and 1 M nodes: rows win
#: from 4 columns on (8 columns: 1.7x at 100 k, 3x at 1 M), columns win for 1 (2x at 1 M).
COLUMN_PASS_MAX_COLUMNS = 2


def neighbour_mean_max(
    indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, first: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and max of each column of `values` (n x k) over each node's neighbours, skipping
    NaN; NaN where a node has no neighbour with a value (self-loops are skipped)."""
    return neighbour_aggregate(indptr, indices, values, values, first)


def neighbour_aggregate(
    indptr: np.ndarray,
    indices: np.ndarray,
    for_mean: np.ndarray,
    for_max: np.ndarray,
    first: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour mean of each column of `for_mean` and neighbour max of each column of
    `for_max` (both n x k), skipping NaN and self-loops; NaN where no neighbour has a value.
    The two layouts give the same numbers; the choice is only about memory traffic.
    `indptr` may hold a block of rows only (nodes first, first + 1, ...; a cluster task's
    block): the results then have one row per node of the block."""
    if for_mean.shape[1] <= COLUMN_PASS_MAX_COLUMNS:
        return _aggregate_by_column(indptr, indices, for_mean, for_max, np.int64(first))
    return _aggregate_by_row(indptr, indices, for_mean, for_max, np.int64(first))


@njit(cache=True, nogil=True, parallel=True)
def _aggregate_by_column(
    indptr: np.ndarray,
    indices: np.ndarray,
    for_mean: np.ndarray,
    for_max: np.ndarray,
    first: np.int64,
) -> tuple[np.ndarray, np.ndarray]:
    """`neighbour_aggregate`, one pass over the edges per column on a contiguous copy of it
    (random reads stay within n floats); parallel over nodes."""
    n = indptr.shape[0] - 1
    k = for_mean.shape[1]
    mean = np.full((n, k), np.nan)
    top = np.full((n, k), np.nan)
    for j in range(k):
        a = np.ascontiguousarray(for_mean[:, j])
        b = np.ascontiguousarray(for_max[:, j])
        for u in prange(n):
            total = 0.0
            count = 0
            best = -np.inf
            seen = False
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if v == u + first:
                    continue
                x = a[v]
                if x == x:
                    total += x
                    count += 1
                y = b[v]
                if y == y:
                    seen = True
                    if y > best:
                        best = y
            if count > 0:
                mean[u, j] = total / count
            if seen:
                top[u, j] = best
    return mean, top


@njit(cache=True, nogil=True, parallel=True)
def _aggregate_by_row(
    indptr: np.ndarray,
    indices: np.ndarray,
    for_mean: np.ndarray,
    for_max: np.ndarray,
    first: np.int64,
) -> tuple[np.ndarray, np.ndarray]:
    """`neighbour_aggregate`, one pass over the edges reading each neighbour's whole row;
    parallel over blocks of nodes."""
    n = indptr.shape[0] - 1
    k = for_mean.shape[1]
    mean = np.full((n, k), np.nan)
    top = np.full((n, k), np.nan)
    for block in prange((n + BLOCK - 1) // BLOCK):
        total = np.zeros(k)
        count = np.zeros(k, dtype=np.int64)
        best = np.empty(k)
        seen = np.zeros(k, dtype=np.bool_)
        for u in range(block * BLOCK, min(n, (block + 1) * BLOCK)):
            total[:] = 0.0
            count[:] = 0
            best[:] = -np.inf
            seen[:] = False
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if v == u + first:
                    continue
                for j in range(k):
                    x = for_mean[v, j]
                    if x == x:
                        total[j] += x
                        count[j] += 1
                    y = for_max[v, j]
                    if y == y:
                        seen[j] = True
                        if y > best[j]:
                            best[j] = y
            for j in range(k):
                if count[j] > 0:
                    mean[u, j] = total[j] / count[j]
                if seen[j]:
                    top[u, j] = best[j]
    return mean, top
