"""The graph kernels run over row blocks and component groups (features.graph.blocks) give the
whole-graph kernels' answers: exactly, except PageRank and SybilRank (global sums in another
order: 1e-12 relative). Random graphs through an in-process engine (same block files and
tasks), and one graph through the real 2-worker LocalCluster."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from features.execution import Engine
from features.graph import csr
from features.graph.blocks import ClusterOps, block_bounds
from features.graph.ops import LOCAL
from tests.features.graph.test_kernels import build, graphs

FAST = settings(max_examples=15, deadline=None)
ITERATIVE = dict(rtol=1e-12, atol=1e-15)


def same_answers(ops: ClusterOps, graph: csr.CSR, seeds: np.ndarray, values: np.ndarray) -> None:
    """Every GraphOps answer of `ops` equals LOCAL's on `graph` (undirected)."""
    inverse, strength = csr.transpose(graph), graph.strength()
    want = LOCAL.pagerank(inverse, strength, 0.85, 1e-8, 100)
    np.testing.assert_allclose(ops.pagerank(inverse, strength, 0.85, 1e-8, 100), want, **ITERATIVE)
    want = LOCAL.sybilrank(graph, seeds, 5)
    np.testing.assert_allclose(ops.sybilrank(graph, seeds, 5), want, **ITERATIVE)
    labels = LOCAL.components(graph)
    np.testing.assert_array_equal(ops.components(graph), labels)
    for got, expected in zip(ops.cohesion(graph, labels), LOCAL.cohesion(graph), strict=True):
        np.testing.assert_array_equal(got, expected)
    mean1, max1 = LOCAL.aggregate(graph, values, values)
    for got, expected in zip(ops.aggregate(graph, values, values), (mean1, max1), strict=True):
        np.testing.assert_array_equal(got, expected)
    two_hops = LOCAL.aggregate(graph, mean1, max1)
    for got, expected in zip(ops.aggregate(graph, mean1, max1), two_hops, strict=True):
        np.testing.assert_array_equal(got, expected)


def values_for(n: int, k: int, seed: int) -> np.ndarray:
    """An (n, k) matrix with some NaN (k = 1 and k = 5 take the kernels' two layouts)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, k))
    values[rng.random((n, k)) < 0.2] = np.nan
    return values


@FAST
@given(graphs(integer_weights=False), st.integers(1, 6), st.sampled_from([1, 5]))
def test_blocks_give_the_whole_graph_answers(graph, workers, k):
    n, edges = graph
    g = build(n, edges)
    seeds = np.zeros(n, dtype=bool)
    seeds[: max(1, n // 4)] = n > 0
    with tempfile.TemporaryDirectory() as scratch:
        ops = ClusterOps(Engine(scratch=Path(scratch), workers=workers))
        same_answers(ops, g, seeds, values_for(n, k, n))


def test_block_bounds_balance_entries() -> None:
    indptr = np.array([0, 10, 10, 11, 12, 20, 21], dtype=np.int64)
    bounds = block_bounds(indptr, 3)
    assert bounds[0] == 0 and bounds[-1] == 6 and np.all(np.diff(bounds) > 0)
    assert list(block_bounds(np.zeros(5, dtype=np.int64), 2)) == [0, 2, 4]


def test_blocks_on_the_cluster_give_the_whole_graph_answers(cluster_engine) -> None:
    rng = np.random.default_rng(7)
    n = 3_000
    src, dst = rng.integers(0, n, 6_000), rng.integers(0, n, 6_000)
    clique = np.arange(40, 52)  # a dense spot: triangles and a high core
    a, b = np.meshgrid(clique, clique)
    g = csr.from_edges(
        n, np.r_[src, a.ravel()], np.r_[dst, b.ravel()], rng.uniform(0.1, 2.0, 6_000 + 144)
    )
    seeds = rng.random(n) < 0.05
    same_answers(ClusterOps(cluster_engine), g, seeds, values_for(n, 5, 1))
