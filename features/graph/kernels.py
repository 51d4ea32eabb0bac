"""Numba graph kernels over CSR arrays (int64 indptr/indices, float64 weights).

Each kernel has a slow, obvious twin in `features.graph.reference` and a hypothesis test
comparing them. Kernels marked parallel split their node loop over numba's threads
(NUMBA_NUM_THREADS, default: all cores); their results do not depend on the thread count.
Kernels assume what `features.graph.csr` builds: neighbour lists sorted, no duplicate
entries, no self-loops (kernels that could be confused by a self-loop skip it).
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from features.graph.aggregates import neighbour_aggregate, neighbour_mean_max

__all__ = [
    "clustering",
    "connected_components",
    "core_number",
    "neighbour_aggregate",
    "neighbour_mean_max",
    "pagerank",
    "simple_degree",
    "sybilrank",
    "triangles",
]


@njit(cache=True, nogil=True, parallel=True)
def pagerank(
    in_indptr: np.ndarray,
    in_indices: np.ndarray,
    in_weights: np.ndarray,
    out_strength: np.ndarray,
    alpha: float,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int]:
    """PageRank by power iteration pulling over in-edges (networkx semantics: uniform
    teleport, dangling mass spread uniformly); stops when the L1 change is below `tol`.
    Parallel over nodes."""
    n = in_indptr.shape[0] - 1
    x = np.full(n, 1.0 / max(n, 1))
    if n == 0:
        return x, 0
    contrib = np.empty(n)
    dangling = 0.0
    for u in range(n):
        if out_strength[u] > 0.0:
            contrib[u] = x[u] / out_strength[u]
        else:
            contrib[u] = 0.0
            dangling += x[u]
    new = np.empty(n)
    new_contrib = np.empty(n)
    for it in range(1, max_iter + 1):
        base = (1.0 - alpha) / n + alpha * dangling / n
        err = 0.0
        next_dangling = 0.0
        for v in prange(n):  # one parallel pass per iteration: pull, then next contribution
            acc = 0.0
            for e in range(in_indptr[v], in_indptr[v + 1]):
                acc += in_weights[e] * contrib[in_indices[e]]
            value = base + alpha * acc
            err += abs(value - x[v])
            new[v] = value
            if out_strength[v] > 0.0:
                new_contrib[v] = value / out_strength[v]
            else:
                new_contrib[v] = 0.0
                next_dangling += value
        x, new = new, x
        contrib, new_contrib = new_contrib, contrib
        dangling = next_dangling
        if err < tol:
            return x, it
    return x, max_iter


@njit(cache=True, nogil=True)
def _root(parent: np.ndarray, u: int) -> int:
    """Root of u's tree, halving the path on the way."""
    while parent[u] != u:
        parent[u] = parent[parent[u]]
        u = parent[u]
    return u


@njit(cache=True, nogil=True)
def connected_components(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Component label of each node of an undirected graph; labels 0..k-1 are numbered in
    order of each component's smallest node, so they are deterministic. Union-find over the
    rows in order (sequential reads of the CSR; the smaller root always wins, so a root is
    its component's smallest node)."""
    n = indptr.shape[0] - 1
    parent = np.arange(n, dtype=np.int64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if v <= u:
                continue
            a, b = _root(parent, u), _root(parent, v)
            if a < b:
                parent[b] = a
            elif b < a:
                parent[a] = b
    labels = np.empty(n, dtype=np.int64)
    current = 0
    for u in range(n):
        root = _root(parent, u)
        if root == u:
            labels[u] = current
            current += 1
        else:
            labels[u] = labels[root]
    return labels


@njit(cache=True, nogil=True)
def _ranked_orientation(
    indptr: np.ndarray, indices: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes relabelled by (degree, index) rank, and each node's neighbours of higher rank
    (sorted, int32): the orientation that bounds triangle listing by O(m sqrt m), laid out so
    that hubs, visited most, sit together in memory."""
    n = indptr.shape[0] - 1
    degree = np.diff(indptr)
    order = np.argsort(degree, kind="mergesort")  # stable: ties stay in index order
    rank = np.empty(n, dtype=np.int64)
    for r in range(n):
        rank[order[r]] = r
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    for u in range(n):
        count = 0
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if v != u and rank[v] > rank[u]:
                count += 1
        out_ptr[rank[u] + 1] = count
    for r in range(n):
        out_ptr[r + 1] += out_ptr[r]
    out_idx = np.empty(out_ptr[n], dtype=np.int32)
    for u in range(n):
        k = out_ptr[rank[u]]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if v != u and rank[v] > rank[u]:
                out_idx[k] = rank[v]
                k += 1
        out_idx[out_ptr[rank[u]] : k].sort()
    return rank, out_ptr, out_idx


def triangles(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Number of triangles through each node of an undirected simple graph (each triangle is
    found once, along edges oriented from lower to higher (degree, index) rank). Parallel:
    each thread counts into its own array, summed at the end."""
    return _triangles(indptr, indices, max(1, get_num_threads()))


@njit(cache=True, nogil=True, parallel=True)
def _triangles(indptr: np.ndarray, indices: np.ndarray, threads: int) -> np.ndarray:
    """`triangles` with `threads` count arrays."""
    n = indptr.shape[0] - 1
    rank, out_ptr, out_idx = _ranked_orientation(indptr, indices)
    lanes = max(1, min(threads, n))
    counts = np.zeros((lanes, n), dtype=np.int64)
    for lane in prange(lanes):
        mark = np.full(n, -1, dtype=np.int32)
        count = counts[lane]
        for u in range(lane, n, lanes):
            for e in range(out_ptr[u], out_ptr[u + 1]):
                mark[out_idx[e]] = u
            for e in range(out_ptr[u], out_ptr[u + 1]):
                v = out_idx[e]
                for f in range(out_ptr[v], out_ptr[v + 1]):
                    w = out_idx[f]
                    if mark[w] == u:
                        count[u] += 1
                        count[v] += 1
                        count[w] += 1
    total = np.zeros(n, dtype=np.int64)
    for lane in range(lanes):
        total += counts[lane]
    out = np.empty(n, dtype=np.int64)
    for u in range(n):
        out[u] = total[rank[u]]
    return out


@njit(cache=True, nogil=True)
def simple_degree(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Number of neighbours other than the node itself."""
    n = indptr.shape[0] - 1
    degree = np.zeros(n, dtype=np.int64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            if indices[e] != u:
                degree[u] += 1
    return degree


@njit(cache=True, nogil=True)
def clustering(indptr: np.ndarray, indices: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Local clustering coefficient 2T / (d (d - 1)); 0 for nodes with fewer than 2 neighbours."""
    degree = simple_degree(indptr, indices)
    n = degree.shape[0]
    out = np.zeros(n)
    for u in range(n):
        d = degree[u]
        if d > 1:
            out[u] = 2.0 * tri[u] / (d * (d - 1.0))
    return out


@njit(cache=True, nogil=True)
def core_number(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """k-core number of each node (Batagelj-Zaversnik bucket algorithm, O(n + m))."""
    n = indptr.shape[0] - 1
    degree = simple_degree(indptr, indices)
    if n == 0:
        return degree
    max_degree = degree.max()
    bin_start = np.zeros(max_degree + 2, dtype=np.int64)
    for u in range(n):
        bin_start[degree[u] + 1] += 1
    for d in range(1, max_degree + 2):
        bin_start[d] += bin_start[d - 1]
    pos = np.empty(n, dtype=np.int64)
    vert = np.empty(n, dtype=np.int64)
    fill = bin_start.copy()
    for u in range(n):
        pos[u] = fill[degree[u]]
        vert[pos[u]] = u
        fill[degree[u]] += 1
    for i in range(n):
        u = vert[i]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if v == u or degree[v] <= degree[u]:
                continue
            dv = degree[v]
            pw = bin_start[dv]
            w = vert[pw]
            if w != v:
                vert[pos[v]] = w
                pos[w] = pos[v]
                vert[pw] = v
                pos[v] = pw
            bin_start[dv] += 1
            degree[v] -= 1
    return degree


@njit(cache=True, nogil=True, parallel=True)
def sybilrank(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, seeds: np.ndarray, steps: int
) -> np.ndarray:
    """SybilRank: trust starts on `seeds`, spreads `steps` power-iteration steps (each node
    splits its trust over its edges by weight), then is divided by the node's strength and
    scaled so that 1 is the converged fair share; nodes without edges get 0. Parallel."""
    n = indptr.shape[0] - 1
    strength = np.zeros(n)
    for u in prange(n):
        total = 0.0
        for e in range(indptr[u], indptr[u + 1]):
            total += weights[e]
        strength[u] = total
    n_seeds = 0
    for u in range(n):
        if seeds[u]:
            n_seeds += 1
    trust = np.zeros(n)
    if n_seeds == 0:
        return trust
    for u in range(n):
        if seeds[u]:
            trust[u] = 1.0 / n_seeds
    share = np.empty(n)
    for u in range(n):
        share[u] = trust[u] / strength[u] if strength[u] > 0.0 else 0.0
    next_share = np.empty(n)
    for _ in range(steps):
        for v in prange(n):  # one parallel pass per step: pull, then next share
            acc = 0.0
            for e in range(indptr[v], indptr[v + 1]):
                acc += weights[e] * share[indices[e]]
            trust[v] = acc
            next_share[v] = acc / strength[v] if strength[v] > 0.0 else 0.0
        share, next_share = next_share, share
    total = strength.sum()
    out = np.zeros(n)
    for u in prange(n):
        if strength[u] > 0.0:
            out[u] = trust[u] / strength[u] * total
    return out
