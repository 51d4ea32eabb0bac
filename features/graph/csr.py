"""Compressed sparse row graphs: the one array layout every graph kernel reads.

A `CSR` holds, for node i, its neighbours `indices[indptr[i]:indptr[i+1]]` (sorted ascending)
and the matching `weights`. Arrays are always int64/int64/float64 so each numba kernel
compiles once. Builders take plain integer edge arrays (node indices) and apply the documented
clean-up: self-loops are dropped, duplicate edges are merged by summing their weights, and
undirected graphs are stored with both directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class CSR:
    """A weighted graph on nodes 0..n-1 in CSR layout (neighbour lists sorted ascending)."""

    indptr: np.ndarray  # int64, shape (n + 1,)
    indices: np.ndarray  # int64, shape (m,)
    weights: np.ndarray  # float64, shape (m,)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.indptr.shape[0] - 1)

    @property
    def m(self) -> int:
        """Number of stored (directed) entries; an undirected edge counts twice."""
        return int(self.indices.shape[0])

    def degree(self) -> np.ndarray:
        """Number of stored neighbours of each node (int64)."""
        return np.diff(self.indptr)

    def strength(self) -> np.ndarray:
        """Sum of edge weights of each node (float64)."""
        src = np.repeat(np.arange(self.n, dtype=np.int64), self.degree())
        return np.bincount(src, weights=self.weights, minlength=self.n).astype(np.float64)

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored entries as (src, dst, weight) arrays."""
        src = np.repeat(np.arange(self.n, dtype=np.int64), self.degree())
        return src, self.indices, self.weights


def empty(n: int) -> CSR:
    """A graph with `n` nodes and no edges."""
    return CSR(
        np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    )


def from_edges(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    undirected: bool = True,
    drop_self_loops: bool = True,
) -> CSR:
    """A CSR graph from edge arrays: self-loops dropped, duplicates summed, both directions kept
    when `undirected` (so an undirected edge given twice, either way round, weighs double, and
    a kept undirected self-loop is one entry of twice its weight)."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    w = (
        np.ones(src.shape[0], dtype=np.float64)
        if weights is None
        else np.asarray(weights, dtype=np.float64)
    )
    if src.shape != dst.shape or src.shape != w.shape:
        raise ValueError("src, dst and weights must have the same length")
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise ValueError(f"edge endpoints must lie in 0..{n - 1}")
    uniform = True if weights is None else None
    return _compress(n, src, dst, w, undirected, drop_self_loops, uniform)


#: Builds pack a column (and a row) into one int64: up to 2**31 nodes.
MAX_PACKED_NODES = 2**31


def _compress(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    w: np.ndarray,
    both: bool = False,
    drop_loops: bool = False,
    uniform: bool | None = None,
) -> CSR:
    """Entries (and their mirror images when `both`) sorted by (row, column), duplicates
    summed. Equal weights (`uniform`; checked when None), the common case of unweighted
    relations: pack each entry into one int64 and sort with numpy, O(m log m) with no
    per-row work. Otherwise bucket by row, then sort each row (`_bucket_sort_merge`).
    Node ids must fit in 31 bits (both paths pack a column into the low 32 bits)."""
    if src.size == 0:
        return empty(n)
    src = src.astype(np.int64, copy=False)
    dst = dst.astype(np.int64, copy=False)
    w = w.astype(np.float64, copy=False)
    if uniform is None:
        uniform = bool((w == w[0]).all())
    if n > MAX_PACKED_NODES:
        raise ValueError(f"graphs of more than {MAX_PACKED_NODES:,} nodes are not supported")
    if uniform:
        bits = max(1, int(n - 1).bit_length())
        keys = _packed_keys(src, dst, bits, both, drop_loops)
        keys.sort()  # numpy's vectorised sort: far faster than sorting row by row
        return CSR(*_unpack_sorted(np.int64(n), keys, bits, float(w[0])))
    return CSR(*_bucket_sort_merge(np.int64(n), src, dst, w, both, drop_loops))


@njit(cache=True, nogil=True)
def _packed_keys(
    src: np.ndarray, dst: np.ndarray, bits: int, both: bool, drop_loops: bool
) -> np.ndarray:
    """(row << bits) | column of every entry (and of its mirror image when `both`)."""
    m = src.shape[0]
    keys = np.empty(2 * m if both else m, dtype=np.int64)
    k = 0
    for e in range(m):
        a, b = src[e], dst[e]
        if drop_loops and a == b:
            continue
        keys[k] = (a << bits) | b
        k += 1
        if both:
            keys[k] = (b << bits) | a
            k += 1
    return keys[:k]


@njit(cache=True, nogil=True)
def _unpack_sorted(
    n: int, keys: np.ndarray, bits: int, weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays from sorted packed keys, every entry weighing `weight` (duplicates summed
    one by one, exactly as the bucket build does)."""
    mask = (np.int64(1) << bits) - 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = np.empty(keys.shape[0], dtype=np.int64)
    weights = np.empty(keys.shape[0], dtype=np.float64)
    out = 0
    for i in range(keys.shape[0]):
        if i > 0 and keys[i] == keys[i - 1]:
            weights[out - 1] += weight
        else:
            indices[out] = keys[i] & mask
            weights[out] = weight
            indptr[(keys[i] >> bits) + 1] += 1
            out += 1
    for u in range(n):
        indptr[u + 1] += indptr[u]
    if out == keys.shape[0]:
        return indptr, indices, weights
    return indptr, indices[:out].copy(), weights[:out].copy()


#: Rows are bucketed in blocks of about this many entries (a block's arrays fit in L2 cache).
BLOCK_ENTRIES = 1 << 14
#: Rows up to this long are sorted by insertion; longer ones by sorting packed keys.
SHORT_ROW = 32


@njit(cache=True, nogil=True)
def _sort_row(
    indices: np.ndarray, weights: np.ndarray, lo: int, hi: int, scratch: np.ndarray
) -> None:
    """Sort indices[lo:hi] (and weights alongside) in place: insertion sort for short rows;
    for long ones, sort keys (index << 32 | position) and gather the weights through
    `scratch` (at least hi - lo long). Equal indices are summed later, so order among them
    does not matter."""
    if hi - lo <= SHORT_ROW:
        for i in range(lo + 1, hi):
            key, w = indices[i], weights[i]
            j = i - 1
            while j >= lo and indices[j] > key:
                indices[j + 1] = indices[j]
                weights[j + 1] = weights[j]
                j -= 1
            indices[j + 1] = key
            weights[j + 1] = w
        return
    keys = np.empty(hi - lo, dtype=np.int64)
    for i in range(hi - lo):
        keys[i] = (indices[lo + i] << 32) | i
        scratch[i] = weights[lo + i]
    keys = np.sort(keys)
    for i in range(hi - lo):
        indices[lo + i] = keys[i] >> 32
        weights[lo + i] = scratch[keys[i] & 0xFFFFFFFF]


@njit(cache=True, nogil=True)
def _bucket_sort_merge(
    n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, both: bool, drop_loops: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bucket entries by row in two cache-friendly passes, then sort each row by column and
    merge duplicates (O(m log d)). Pass A partitions the entries into blocks of consecutive
    rows (few write streams, each sequential), pass B scatters each block's entries to their
    rows inside the block (random writes, but within a cache-sized region); a one-pass
    scatter to rows misses the cache on almost every write once the arrays outgrow it."""
    m = src.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        if drop_loops and src[e] == dst[e]:
            continue
        indptr[src[e] + 1] += 1
        if both:
            indptr[dst[e] + 1] += 1
    longest = 0
    for u in range(n):
        longest = max(longest, indptr[u + 1])
        indptr[u + 1] += indptr[u]
    total = indptr[n]
    shift = 0  # blocks of 2**shift rows holding about BLOCK_ENTRIES entries on average
    while (np.int64(2) << shift) <= n and (np.int64(2) << shift) * total <= BLOCK_ENTRIES * n:
        shift += 1
    n_blocks = ((n - 1) >> shift) + 1
    block_ptr = np.empty(n_blocks + 1, dtype=np.int64)
    for b in range(n_blocks + 1):
        block_ptr[b] = indptr[min(n, b << shift)]
    indices = np.empty(total, dtype=np.int64)
    weights = np.empty(total, dtype=np.float64)
    local = (np.int64(1) << shift) - 1
    cursor = block_ptr[:-1].copy()
    for e in range(m):  # pass A: (row within its block << 32 | column) into the row's block
        a, b = src[e], dst[e]
        if drop_loops and a == b:
            continue
        c = cursor[a >> shift]
        indices[c] = ((a & local) << 32) | b
        weights[c] = w[e]
        cursor[a >> shift] = c + 1
        if both:
            c = cursor[b >> shift]
            indices[c] = ((b & local) << 32) | a
            weights[c] = w[e]
            cursor[b >> shift] = c + 1
    largest = 0
    for b in range(n_blocks):
        largest = max(largest, block_ptr[b + 1] - block_ptr[b])
    keys = np.empty(largest, dtype=np.int64)
    scratch = np.empty(max(largest, longest), dtype=np.float64)
    fill = np.empty(np.int64(1) << shift, dtype=np.int64)
    for b in range(n_blocks):  # pass B: each block's entries to their rows
        lo, hi = block_ptr[b], block_ptr[b + 1]
        for i in range(hi - lo):
            keys[i] = indices[lo + i]
            scratch[i] = weights[lo + i]
        first_row = b << shift
        for r in range(min(n, first_row + (np.int64(1) << shift)) - first_row):
            fill[r] = indptr[first_row + r]
        for i in range(hi - lo):
            r = keys[i] >> 32
            f = fill[r]
            indices[f] = keys[i] & 0xFFFFFFFF
            weights[f] = scratch[i]
            fill[r] = f + 1
    out = 0
    start = 0
    for u in range(n):
        end = indptr[u + 1]
        _sort_row(indices, weights, start, end, scratch)
        first = out
        for i in range(start, end):
            if out > first and indices[out - 1] == indices[i]:
                weights[out - 1] += weights[i]
            else:
                indices[out] = indices[i]
                weights[out] = weights[i]
                out += 1
        start = end
        indptr[u + 1] = out
    if out == total:
        return indptr, indices, weights
    return indptr, indices[:out].copy(), weights[:out].copy()


@njit(cache=True, nogil=True)
def _transpose(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counting-sort transpose, O(n + m): rows come out sorted because sources are visited in
    order."""
    n = indptr.shape[0] - 1
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(indices.shape[0]):
        out_ptr[indices[e] + 1] += 1
    for u in range(n):
        out_ptr[u + 1] += out_ptr[u]
    fill = out_ptr[:-1].copy()
    out_idx = np.empty(indices.shape[0], dtype=np.int64)
    out_w = np.empty(indices.shape[0], dtype=np.float64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            out_idx[fill[v]] = u
            out_w[fill[v]] = weights[e]
            fill[v] += 1
    return out_ptr, out_idx, out_w


@njit(cache=True, nogil=True)
def _merge(
    a_ptr: np.ndarray,
    a_idx: np.ndarray,
    a_w: np.ndarray,
    a_scale: float,
    b_ptr: np.ndarray,
    b_idx: np.ndarray,
    b_w: np.ndarray,
    b_scale: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-by-row merge of two CSR graphs with sorted rows: union of entries, weights
    a_scale * a + b_scale * b where both hold one, O(n + m)."""
    n = a_ptr.shape[0] - 1
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    out_idx = np.empty(a_idx.shape[0] + b_idx.shape[0], dtype=np.int64)
    out_w = np.empty(a_idx.shape[0] + b_idx.shape[0], dtype=np.float64)
    out = 0
    for u in range(n):
        i, i_end = a_ptr[u], a_ptr[u + 1]
        j, j_end = b_ptr[u], b_ptr[u + 1]
        while i < i_end or j < j_end:
            if j >= j_end or (i < i_end and a_idx[i] < b_idx[j]):
                out_idx[out], out_w[out] = a_idx[i], a_scale * a_w[i]
                i += 1
            elif i >= i_end or b_idx[j] < a_idx[i]:
                out_idx[out], out_w[out] = b_idx[j], b_scale * b_w[j]
                j += 1
            else:
                out_idx[out], out_w[out] = a_idx[i], a_scale * a_w[i] + b_scale * b_w[j]
                i += 1
                j += 1
            out += 1
        out_ptr[u + 1] = out
    return out_ptr, out_idx[:out].copy(), out_w[:out].copy()


def transpose(graph: CSR) -> CSR:
    """The graph with every edge reversed (in-neighbour lists of a directed graph)."""
    return CSR(*_transpose(graph.indptr, graph.indices, graph.weights))


def merge(a: CSR, b: CSR, a_scale: float = 1.0, b_scale: float = 1.0) -> CSR:
    """a_scale * a + b_scale * b (union of edges; weights added where both have one)."""
    if a.n != b.n:
        raise ValueError(f"graphs on {a.n} and {b.n} nodes cannot be added")
    return CSR(
        *_merge(a.indptr, a.indices, a.weights, a_scale, b.indptr, b.indices, b.weights, b_scale)
    )


def symmetrise(graph: CSR) -> CSR:
    """The undirected version of a directed graph: weight(u, v) = w(u->v) + w(v->u)."""
    return merge(graph, transpose(graph))


def add(graphs: list[CSR], scales: list[float] | None = None) -> CSR:
    """The weighted sum of graphs on the same nodes (union of edges, weights added)."""
    if not graphs:
        raise ValueError("add() needs at least one graph")
    scales = scales or [1.0] * len(graphs)
    total = graphs[0]
    if scales[0] != 1.0:
        total = CSR(total.indptr, total.indices, total.weights * scales[0])
    for graph, scale in zip(graphs[1:], scales[1:], strict=True):
        total = merge(total, graph, 1.0, scale)
    return total
