"""FRAUDAR greedy peeling (Hooi et al., KDD 2016) in numba, and the grouping of its blocks.

Peeling runs on an undirected weighted graph; a bipartite account x key graph is passed with
rows and columns as one node set. f(S) = weight of edges inside S + priors of S and
g(S) = f(S) / |S|. Each step removes the node whose removal lowers f least (smallest weighted
degree in S, ties: smaller index), kept in an indexed 4-ary min-heap updated as neighbours
go, O(m log n); the set with the best g along the way is the block (the earliest on ties).
Slow, obvious twins: `features.graph.reference.peel` and `densest_subgraph`.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _before(key_a: float, node_a: int, key_b: float, node_b: int) -> bool:
    """Heap order: smaller key first, ties broken by smaller node index (deterministic)."""
    return key_a < key_b or (key_a == key_b and node_a < node_b)


#: Children per heap node: a 4-ary heap is half as deep as a binary one, and decrease-key
#: (one per edge, against one pop per node) only walks up. Keys are stored in the heap next to
#: their nodes, so comparing the 4 children reads one or two cache lines, not 4 random keys.
ARITY = 4


@njit(cache=True, nogil=True)
def _put(
    hkey: np.ndarray, hnode: np.ndarray, pos: np.ndarray, i: int, key: float, node: int
) -> None:
    """Place (key, node) at heap entry i and remember where the node is."""
    hkey[i], hnode[i] = key, node
    pos[node] = i


@njit(cache=True, nogil=True)
def _sift_up(hkey: np.ndarray, hnode: np.ndarray, pos: np.ndarray, i: int) -> None:
    """Move entry i up until its parent comes before it."""
    key, node = hkey[i], hnode[i]
    while i > 0:
        parent = (i - 1) // ARITY
        if not _before(key, node, hkey[parent], hnode[parent]):
            break
        _put(hkey, hnode, pos, i, hkey[parent], hnode[parent])
        i = parent
    _put(hkey, hnode, pos, i, key, node)


@njit(cache=True, nogil=True)
def _sift_down(hkey: np.ndarray, hnode: np.ndarray, pos: np.ndarray, i: int, size: int) -> None:
    """Move entry i down until it comes before all its children."""
    key, node = hkey[i], hnode[i]
    while True:
        first = ARITY * i + 1
        if first >= size:
            break
        child = first
        for c in range(first + 1, min(first + ARITY, size)):
            if _before(hkey[c], hnode[c], hkey[child], hnode[child]):
                child = c
        if not _before(hkey[child], hnode[child], key, node):
            break
        _put(hkey, hnode, pos, i, hkey[child], hnode[child])
        i = child
    _put(hkey, hnode, pos, i, key, node)


@njit(cache=True, nogil=True)
def _peel_subset(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    prior: np.ndarray,
    nodes: np.ndarray,
    local: np.ndarray,
    order: np.ndarray,
    whole: bool = False,
) -> tuple[int, float]:
    """Peel the subgraph induced by `nodes` (`local[node]` = its position in `nodes`, -1 for
    nodes outside); writes the removal order (global ids) into `order`. `whole`: `nodes` is
    every node in order, so positions are the node ids themselves (no lookups)."""
    n = nodes.shape[0]
    if n == 0:
        return 0, 0.0
    key = np.empty(n)
    f = 0.0
    for i in range(n):
        u = nodes[i]
        key[i] = prior[u]
        f += prior[u]
        for e in range(indptr[u], indptr[u + 1]):
            j = indices[e] if whole else local[indices[e]]
            if j >= 0 and j != i:
                key[i] += weights[e]
                if j > i:
                    f += weights[e]
    hkey = key  # heap entry i starts as node i; pos[i] = its entry, -1 once removed
    hnode = np.arange(n, dtype=np.int64)
    pos = np.arange(n, dtype=np.int64)
    for i in range((n - 2) // ARITY, -1, -1):
        _sift_down(hkey, hnode, pos, i, n)
    best_g = f / n
    best_removed = 0
    size = n
    for step in range(n):
        i, key_i = hnode[0], hkey[0]
        size -= 1
        if size > 0:
            _put(hkey, hnode, pos, 0, hkey[size], hnode[size])
            _sift_down(hkey, hnode, pos, 0, size)
        pos[i] = -1
        u = nodes[i]
        order[step] = u
        f -= key_i
        for e in range(indptr[u], indptr[u + 1]):
            j = indices[e] if whole else local[indices[e]]
            if j >= 0 and pos[j] >= 0:
                p = pos[j]
                hkey[p] -= weights[e]
                _sift_up(hkey, hnode, pos, p)
        remaining = n - step - 1
        if remaining > 0:
            g = f / remaining
            if g > best_g * (1.0 + 1e-12) + 1e-300:
                best_g = g
                best_removed = step + 1
    return best_removed, best_g


@njit(cache=True, nogil=True)
def _group_members(labels: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(group_ptr, members): the nodes u with labels[u] == c, ascending, are
    members[group_ptr[c]:group_ptr[c+1]]; nodes labelled -1 are left out (counting sort)."""
    counts = np.zeros(n_groups + 1, dtype=np.int64)
    for u in range(labels.shape[0]):
        if labels[u] >= 0:
            counts[labels[u] + 1] += 1
    group_ptr = np.cumsum(counts)
    members = np.empty(group_ptr[n_groups], dtype=np.int64)
    fill = group_ptr[:-1].copy()
    for u in range(labels.shape[0]):
        c = labels[u]
        if c >= 0:
            members[fill[c]] = u
            fill[c] += 1
    return group_ptr, members


@njit(cache=True, nogil=True)
def _peel_nodes(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    prior: np.ndarray,
    nodes: np.ndarray,
    local: np.ndarray,
    order: np.ndarray,
) -> tuple[int, float]:
    """`_peel_subset` on the subgraph induced by `nodes`; `local` (all -1) is the scratch
    map from node to position and is all -1 again afterwards."""
    for i in range(nodes.shape[0]):
        local[nodes[i]] = i
    result = _peel_subset(indptr, indices, weights, prior, nodes, local, order)
    for i in range(nodes.shape[0]):
        local[nodes[i]] = -1
    return result


@njit(cache=True, nogil=True)
def peel(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, prior: np.ndarray
) -> tuple[np.ndarray, int, float]:
    """FRAUDAR greedy peeling of the whole graph: returns the removal order, how many
    removals precede the densest set, and its g.

    f(S) = edge weight inside S + priors of S and g(S) = f(S) / |S|; each step removes the
    node whose removal lowers f least (smallest weighted degree in S, ties: smaller index),
    and the set with the best g along the way is kept (the earliest on ties)."""
    n = indptr.shape[0] - 1
    order = np.empty(n, dtype=np.int64)
    nodes = np.arange(n, dtype=np.int64)
    best_removed, best_g = _peel_subset(indptr, indices, weights, prior, nodes, nodes, order, True)
    return order, best_removed, best_g


@njit(cache=True, nogil=True)
def peel_blocks(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    prior: np.ndarray,
    labels: np.ndarray,
    n_groups: int,
    n_rows: int,
    min_rows: int,
    max_blocks: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """FRAUDAR block by block inside each group: peel the group's live nodes, take the densest
    set as a block, retire the block's rows (nodes < n_rows; columns stay for the others), and
    peel again while at least `min_rows` live rows remain (at most `max_blocks` per group).

    Returns (block_ptr, block_nodes, block_g, block_group): block b is
    block_nodes[block_ptr[b]:block_ptr[b+1]] (sorted), with density block_g[b]."""
    n = indptr.shape[0] - 1
    group_ptr, members = _group_members(labels, n_groups)
    local = np.full(n, -1, dtype=np.int64)
    retired = np.zeros(n, dtype=np.bool_)
    out_nodes = np.empty(max(group_ptr[n_groups], 16), dtype=np.int64)
    out_ptr = [0]
    out_g = []
    out_group = []
    written = 0
    for c in range(n_groups):
        group = members[group_ptr[c] : group_ptr[c + 1]]
        for _ in range(max_blocks):
            live_rows = 0
            for u in group:
                if not retired[u] and u < n_rows:
                    live_rows += 1
            if live_rows < min_rows:
                break
            nodes = np.empty(group.shape[0], dtype=np.int64)
            size = 0
            for u in group:
                if not retired[u]:
                    nodes[size] = u
                    size += 1
            nodes = nodes[:size]
            order = np.empty(size, dtype=np.int64)
            best_removed, best_g = _peel_nodes(indptr, indices, weights, prior, nodes, local, order)
            block = np.sort(order[best_removed:])
            rows_in_block = 0
            for u in block:
                if u < n_rows:
                    retired[u] = True
                    rows_in_block += 1
            if rows_in_block == 0:
                break
            if written + block.shape[0] > out_nodes.shape[0]:
                bigger = np.empty(2 * (written + block.shape[0]), dtype=np.int64)
                bigger[:written] = out_nodes[:written]
                out_nodes = bigger
            for u in block:
                out_nodes[written] = u
                written += 1
            out_ptr.append(written)
            out_g.append(best_g)
            out_group.append(c)
    return (
        np.array(out_ptr, dtype=np.int64),
        out_nodes[:written].copy(),
        np.array(out_g, dtype=np.float64),
        np.array(out_group, dtype=np.int64),
    )


@njit(cache=True, nogil=True)
def merge_blocks(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    block_ptr: np.ndarray,
    block_nodes: np.ndarray,
    block_group: np.ndarray,
    n_rows: int,
    share: float,
) -> np.ndarray:
    """Group FRAUDAR blocks into rings: blocks are taken in order (densest first within each
    group); a block joins the ring that owns at least `share` of its rows' edge weight
    (owned = the ring's rows and the nodes they link to, claimed by the first ring that
    links to them), else it starts a ring of its own. Returns the ring (index of its first
    block) of every block."""
    n = indptr.shape[0] - 1
    n_blocks = block_ptr.shape[0] - 1
    owner = np.full(n, -1, dtype=np.int64)
    ring = np.empty(n_blocks, dtype=np.int64)
    toward = np.zeros(n_blocks, dtype=np.float64)
    for b in range(n_blocks):
        lo, hi = block_ptr[b], block_ptr[b + 1]
        for i in range(lo, hi):
            if block_nodes[i] < n_rows:
                owner[block_nodes[i]] = -2  # this block's own rows
        total = 0.0
        touched = []
        for i in range(lo, hi):
            u = block_nodes[i]
            if u >= n_rows:
                continue
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                o = owner[v]
                if o == -2:
                    continue
                total += weights[e]
                if o >= 0 and block_group[o] == block_group[b]:
                    if toward[o] == 0.0:
                        touched.append(o)
                    toward[o] += weights[e]
        best, best_w = -1, 0.0
        for o in touched:
            if toward[o] > best_w or (toward[o] == best_w and o < best):
                best, best_w = o, toward[o]
        for o in touched:
            toward[o] = 0.0
        ring[b] = best if best >= 0 and best_w >= share * total and total > 0.0 else b
        for i in range(lo, hi):
            u = block_nodes[i]
            if u >= n_rows:
                continue
            owner[u] = ring[b]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if owner[v] == -1:
                    owner[v] = ring[b]
    return ring
