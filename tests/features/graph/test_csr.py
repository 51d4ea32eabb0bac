"""CSR builders: the documented clean-up (self-loops, duplicates, both directions)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.graph import csr


def rows(graph: csr.CSR) -> dict[int, dict[int, float]]:
    """{node: {neighbour: weight}} of a CSR graph."""
    src, dst, w = graph.edges()
    out: dict[int, dict[int, float]] = {u: {} for u in range(graph.n)}
    for u, v, x in zip(src.tolist(), dst.tolist(), w.tolist(), strict=True):
        out[u][v] = x
    return out


def test_undirected_graph_drops_self_loops_and_sums_duplicates():
    g = csr.from_edges(4, [0, 1, 0, 2, 3], [1, 0, 0, 3, 2], [1.0, 2.0, 5.0, 1.0, 1.0])
    assert rows(g) == {0: {1: 3.0}, 1: {0: 3.0}, 2: {3: 2.0}, 3: {2: 2.0}}
    assert g.indptr.dtype == np.int64 and g.indices.dtype == np.int64
    assert g.weights.dtype == np.float64
    np.testing.assert_array_equal(g.degree(), [1, 1, 1, 1])
    np.testing.assert_array_equal(g.strength(), [3.0, 3.0, 2.0, 2.0])


def test_directed_graph_keeps_direction_and_sorted_rows():
    g = csr.from_edges(3, [0, 0, 0, 2], [2, 1, 2, 0], undirected=False)
    assert rows(g) == {0: {1: 1.0, 2: 2.0}, 1: {}, 2: {0: 1.0}}
    assert rows(csr.transpose(g)) == {0: {2: 1.0}, 1: {0: 1.0}, 2: {0: 2.0}}
    assert rows(csr.symmetrise(g)) == {0: {1: 1.0, 2: 3.0}, 1: {0: 1.0}, 2: {0: 3.0}}


def test_self_loops_can_be_kept():
    g = csr.from_edges(2, [0, 0], [0, 1], undirected=False, drop_self_loops=False)
    assert rows(g) == {0: {0: 1.0, 1: 1.0}, 1: {}}


def test_empty_graphs_and_isolated_nodes():
    for g in (csr.empty(3), csr.from_edges(3, [], []), csr.from_edges(3, [1], [1])):
        assert g.n == 3 and g.m == 0
        np.testing.assert_array_equal(g.indptr, [0, 0, 0, 0])
        np.testing.assert_array_equal(g.strength(), [0.0, 0.0, 0.0])
    assert csr.from_edges(0, [], []).n == 0


def test_add():
    a = csr.from_edges(4, [0, 1], [1, 2])
    b = csr.from_edges(4, [0, 2], [1, 3], [2.0, 1.0])
    total = csr.add([a, b], [1.0, 0.5])
    assert rows(total)[0] == {1: 2.0} and rows(total)[2] == {1: 1.0, 3: 0.5}


def test_bad_endpoints_are_rejected():
    with pytest.raises(ValueError, match=r"0\.\.2"):
        csr.from_edges(3, [0], [3])
    with pytest.raises(ValueError, match="same length"):
        csr.from_edges(3, [0, 1], [1])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_linear_time_transpose_merge_and_symmetrise_match_a_fresh_build(data):
    n = data.draw(st.integers(1, 20))
    node = st.integers(0, n - 1)
    edges = data.draw(st.lists(st.tuples(node, node, st.integers(1, 4)), max_size=60))
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    directed = csr.from_edges(n, src, dst, w, undirected=False)
    assert rows(csr.transpose(directed)) == rows(csr.from_edges(n, dst, src, w, undirected=False))
    assert rows(csr.symmetrise(directed)) == rows(csr.from_edges(n, src, dst, w))
    half = len(edges) // 2
    a = csr.from_edges(n, src[:half], dst[:half], w[:half], undirected=False)
    b = csr.from_edges(n, src[half:], dst[half:], w[half:], undirected=False)
    assert rows(csr.add([a, b])) == rows(directed)
    for graph in (csr.transpose(directed), csr.symmetrise(directed), csr.add([a, b])):
        for u in range(n):
            row = graph.indices[graph.indptr[u] : graph.indptr[u + 1]]
            assert np.all(np.diff(row) > 0)


def reference_rows(n, src, dst, w, undirected, drop_loops) -> dict[int, dict[int, float]]:
    """The clean-up written out: a dict per node, duplicates summed in input order."""
    out: dict[int, dict[int, float]] = {u: {} for u in range(n)}
    for u, v, x in zip(src, dst, w, strict=True):
        if drop_loops and u == v:
            continue
        for a, b in ((u, v), (v, u)) if undirected else ((u, v),):
            out[a][b] = out[a].get(b, 0.0) + x  # a kept undirected self-loop counts twice
    return out


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_from_edges_matches_the_clean_up_written_out(data):
    """Both build paths: equal weights (packed keys sorted by numpy) and mixed weights
    (bucket by row, sort each row); rows come out sorted and strictly increasing."""
    n = data.draw(st.integers(1, 40))
    node = st.integers(0, n - 1)
    edges = data.draw(st.lists(st.tuples(node, node), max_size=120))
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    uniform = data.draw(st.sampled_from([None, 0.25, 3.0]))
    if uniform is None:
        w = np.array(
            data.draw(
                st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=len(edges), max_size=len(edges))
            ),
            dtype=np.float64,
        )
    else:
        w = np.full(len(edges), uniform)
    undirected = data.draw(st.booleans())
    drop = data.draw(st.booleans())
    given_w = None if uniform == 1.0 else w
    graph = csr.from_edges(n, src, dst, given_w, undirected=undirected, drop_self_loops=drop)
    expected = reference_rows(n, src.tolist(), dst.tolist(), w.tolist(), undirected, drop)
    assert rows(graph) == expected  # dyadic weights: sums are exact
    for u in range(n):
        assert np.all(np.diff(graph.indices[graph.indptr[u] : graph.indptr[u + 1]]) > 0)


def test_both_build_paths_give_identical_arrays():
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 300, 5_000), rng.integers(0, 300, 5_000)
    packed = csr.from_edges(300, src, dst, np.full(5_000, 0.1))
    bucketed = csr._compress(300, src, dst, np.full(5_000, 0.1), True, True, uniform=False)
    np.testing.assert_array_equal(packed.indptr, bucketed.indptr)
    np.testing.assert_array_equal(packed.indices, bucketed.indices)
    np.testing.assert_array_equal(packed.weights, bucketed.weights)  # summed the same way


@pytest.mark.parametrize("undirected", [True, False])
def test_bucket_build_across_many_row_blocks_and_long_rows(undirected):
    """Mixed weights on a skewed graph big enough for many row blocks and rows far longer
    than the insertion-sort limit."""
    rng = np.random.default_rng(3)
    n, m = 3_000, 40_000
    hubs = (rng.random(m) < 0.3) * rng.integers(0, 5, m)  # 30 % of edges touch 5 hubs
    src = np.where(hubs > 0, hubs, rng.integers(0, n, m))
    dst = rng.integers(0, n, m)
    w = rng.choice([0.25, 0.5, 1.0, 2.0], m)
    graph = csr.from_edges(n, src, dst, w, undirected=undirected)
    assert graph.degree().max() > 10 * csr.SHORT_ROW
    expected = reference_rows(n, src.tolist(), dst.tolist(), w.tolist(), undirected, True)
    assert rows(graph) == expected
    assert all(
        np.all(np.diff(graph.indices[graph.indptr[u] : graph.indptr[u + 1]]) > 0) for u in range(n)
    )


def test_too_many_nodes_are_refused():
    with pytest.raises(ValueError, match="not supported"):
        csr.from_edges(2**31 + 1, [0], [1])
