"""Every numba graph kernel against its networkx / plain-Python twin on random graphs."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from features.graph import aggregates, csr, kernels, peeling, reference

FAST = settings(max_examples=60, deadline=None)


@st.composite
def graphs(draw, max_nodes: int = 24, max_edges: int = 70, integer_weights: bool = True):
    """(n, edges): any n >= 0 (empty graphs too), with self-loops and duplicate edges."""
    n = draw(st.integers(0, max_nodes))
    if n == 0:
        return 0, []
    node = st.integers(0, n - 1)
    weight = (
        st.integers(1, 4).map(float)
        if integer_weights
        else st.floats(0.1, 5.0, allow_nan=False, allow_infinity=False)
    )
    edges = draw(st.lists(st.tuples(node, node, weight), max_size=max_edges))
    return n, edges


def induced(graph: csr.CSR, nodes: np.ndarray) -> csr.CSR:
    """The subgraph induced by `nodes` (sorted), relabelled 0..len(nodes)-1 (test oracle)."""
    position = np.full(graph.n, -1, dtype=np.int64)
    position[nodes] = np.arange(nodes.size, dtype=np.int64)
    src, dst, w = graph.edges()
    keep = (position[src] >= 0) & (position[dst] >= 0)
    sub = (position[src[keep]], position[dst[keep]], w[keep])
    return csr.from_edges(nodes.size, *sub, undirected=False, drop_self_loops=False)


def build(n: int, edges: list, directed: bool = False) -> csr.CSR:
    """The CSR graph of an edge list (documented clean-up applied by the builder)."""
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    return csr.from_edges(n, src, dst, w, undirected=not directed)


@FAST
@given(graphs(integer_weights=False), st.booleans())
def test_pagerank_matches_networkx(graph, directed):
    n, edges = graph
    g = build(n, edges, directed)
    inverse = csr.transpose(g)
    ranks, _ = kernels.pagerank(
        inverse.indptr, inverse.indices, inverse.weights, g.strength(), 0.85, 1e-13, 10_000
    )
    if n == 0:
        assert ranks.shape == (0,)
        return
    np.testing.assert_allclose(ranks, reference.pagerank(n, edges, directed), atol=1e-9)
    assert math.isclose(ranks.sum(), 1.0, rel_tol=1e-9)


@FAST
@given(graphs())
def test_components_match_networkx(graph):
    n, edges = graph
    g = build(n, edges)
    labels = kernels.connected_components(g.indptr, g.indices)
    np.testing.assert_array_equal(labels, reference.components(n, edges))


@FAST
@given(graphs(max_nodes=16, max_edges=90))
def test_triangles_and_clustering_match_networkx(graph):
    n, edges = graph
    g = build(n, edges)
    tri = kernels.triangles(g.indptr, g.indices)
    np.testing.assert_array_equal(tri, reference.triangles(n, edges))
    coefficients = kernels.clustering(g.indptr, g.indices, tri)
    np.testing.assert_allclose(coefficients, reference.clustering(n, edges), atol=1e-12)


@FAST
@given(graphs(max_nodes=16, max_edges=90))
def test_core_number_matches_networkx(graph):
    n, edges = graph
    g = build(n, edges)
    np.testing.assert_array_equal(
        kernels.core_number(g.indptr, g.indices), reference.core_number(n, edges)
    )


def test_kernels_skip_self_loops_left_in_the_csr():
    """A CSR built with drop_self_loops=False gives the same structure features."""
    edges = [(0, 0, 1.0), (0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0), (2, 2, 3.0), (3, 3, 1.0)]
    src, dst, w = (np.array(c) for c in zip(*edges, strict=True))
    loops = csr.from_edges(4, src, dst, w, drop_self_loops=False)
    clean = csr.from_edges(4, src, dst, w)
    assert loops.m > clean.m
    for kernel in (kernels.triangles, kernels.core_number, kernels.simple_degree):
        np.testing.assert_array_equal(
            kernel(loops.indptr, loops.indices), kernel(clean.indptr, clean.indices)
        )
    values = np.arange(8, dtype=np.float64).reshape(4, 2)
    for a, b in zip(
        kernels.neighbour_mean_max(loops.indptr, loops.indices, values),
        kernels.neighbour_mean_max(clean.indptr, clean.indices, values),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


@FAST
@given(graphs(integer_weights=False), st.data())
def test_sybilrank_matches_dense_power_iteration(graph, data):
    n, edges = graph
    g = build(n, edges)
    seeds = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    steps = max(1, math.ceil(math.log2(max(n, 2))))
    trust = kernels.sybilrank(g.indptr, g.indices, g.weights, seeds, steps)
    np.testing.assert_allclose(
        trust, reference.sybilrank(n, edges, seeds, steps), rtol=1e-9, atol=1e-12
    )


def test_sybilrank_converges_to_one_on_a_connected_graph():
    """Run far past log2(n) steps on a connected non-bipartite graph: every score tends to 1."""
    edges = [(i, (i + 1) % 7, 1.0) for i in range(7)] + [(0, 3, 2.0)]
    g = build(7, edges)
    seeds = np.zeros(7, dtype=bool)
    seeds[0] = True
    np.testing.assert_allclose(kernels.sybilrank(g.indptr, g.indices, g.weights, seeds, 2000), 1)


@FAST
@given(graphs(), st.data())
def test_neighbour_mean_max_matches_python(graph, data):
    n, edges = graph
    g = build(n, edges)
    value = st.one_of(st.floats(-100, 100), st.just(float("nan")))
    k = data.draw(st.integers(1, 4))  # both layouts (see COLUMN_PASS_MAX_COLUMNS)
    row = st.lists(value, min_size=k, max_size=k)
    values = np.array(data.draw(st.lists(row, min_size=n, max_size=n)), dtype=np.float64).reshape(
        n, k
    )
    mean, top = kernels.neighbour_mean_max(g.indptr, g.indices, values)
    ref_mean, ref_top = reference.neighbour_mean_max(n, edges, values)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(top, ref_top)


def peel_set(g: csr.CSR, prior: np.ndarray) -> tuple[list[int], float]:
    """The densest set and g found by the peeling kernel."""
    order, best_removed, best_g = peeling.peel(g.indptr, g.indices, g.weights, prior)
    return sorted(order[best_removed:].tolist()), best_g


@FAST
@given(graphs(max_nodes=18), st.data())
def test_peel_matches_python_greedy(graph, data):
    n, edges = graph
    g = build(n, edges)
    prior = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), float)
    found, best_g = peel_set(g, prior)
    if n == 0:
        assert found == []
        return
    expected, expected_g = reference.peel(n, edges, prior)
    assert found == expected
    assert math.isclose(best_g, expected_g, rel_tol=1e-9)
    assert math.isclose(best_g, reference.density(reference.neighbours(n, edges), prior, found))


@settings(max_examples=40, deadline=None)
@given(graphs(max_nodes=9, max_edges=25, integer_weights=False))
def test_peel_is_a_half_approximation_of_the_densest_subgraph(graph):
    """Greedy peeling is a 2-approximation (Charikar; FRAUDAR Thm. 1)."""
    n, edges = graph
    if n == 0:
        return
    g = build(n, edges)
    prior = np.zeros(n)
    _, best_g = peel_set(g, prior)
    assert best_g >= reference.densest_subgraph(n, edges, prior) / 2 - 1e-9


def test_peel_finds_a_planted_block_under_camouflage():
    """A 6x6 complete bipartite block whose rows also hit a popular column is still found."""
    rows, cols = 30, 40
    rng = np.random.default_rng(0)
    edges = [(int(r), rows + int(c), 1.0) for r, c in rng.integers(0, [rows, cols], (60, 2))]
    block = [(r, rows + c, 1.0) for r in range(6) for c in range(6)]
    camouflage = [(r, rows + 39, 1.0) for r in range(rows)]
    g = build(rows + cols, edges + block + camouflage)
    found, _ = peel_set(g, np.zeros(rows + cols))
    assert set(range(6)) | {rows + c for c in range(6)} <= set(found)


@FAST
@given(graphs(max_nodes=18), st.data())
def test_peel_blocks_takes_the_densest_block_first_then_peels_the_rest(graph, data):
    n, edges = graph
    g = build(n, edges)
    labels = np.array(data.draw(st.lists(st.integers(-1, 1), min_size=n, max_size=n)), np.int64)
    prior = np.zeros(n)
    ptr, nodes, block_g, group = peeling.peel_blocks(
        g.indptr, g.indices, g.weights, prior, labels, 2, n, 1, 1000
    )
    for c in range(2):
        blocks = np.flatnonzero(group == c)
        members = np.flatnonzero(labels == c)
        if members.size == 0:
            assert blocks.size == 0
            continue
        # all blocks partition the group
        taken = np.concatenate([nodes[ptr[b] : ptr[b + 1]] for b in blocks])
        np.testing.assert_array_equal(np.sort(taken), members)
        # each block is the peeling result of what was left (the first: of the whole group)
        left = members
        for b in blocks:
            sub = induced(g, left)
            order, removed, sub_g = peeling.peel(sub.indptr, sub.indices, sub.weights, prior[left])
            np.testing.assert_array_equal(
                np.sort(left[order[removed:]]), nodes[ptr[b] : ptr[b + 1]]
            )
            assert math.isclose(block_g[b], sub_g, rel_tol=1e-12, abs_tol=1e-12)
            left = np.setdiff1d(left, nodes[ptr[b] : ptr[b + 1]])


def test_peel_blocks_keeps_columns_for_later_blocks():
    """Rows 0-3 and 4-5 share column 6; the second block may still use it."""
    edges = [(r, 6, 1.0) for r in range(6)] + [(r, 7, 1.0) for r in range(4)]
    g = build(8, edges)
    ptr, nodes, _, _ = peeling.peel_blocks(
        g.indptr, g.indices, g.weights, np.zeros(8), np.zeros(8, np.int64), 1, 6, 2, 10
    )
    blocks = [nodes[ptr[b] : ptr[b + 1]].tolist() for b in range(ptr.size - 1)]
    assert blocks[0] == [0, 1, 2, 3, 6, 7]
    assert blocks[1] == [4, 5, 6]


def test_merge_blocks_joins_a_block_bound_to_an_earlier_ring():
    """Block 2 (rows 4, 5) links only to column 8, which ring 0's rows use: it joins ring 0.
    Block 1 (rows 2, 3) has its own column 9: it stays a ring of its own."""
    edges = [(0, 8, 1.0), (1, 8, 1.0), (0, 10, 1.0), (1, 10, 1.0)]
    edges += [(2, 9, 1.0), (3, 9, 1.0), (4, 8, 1.0), (5, 8, 1.0)]
    g = build(11, edges)
    block_nodes = np.array([0, 1, 8, 10, 2, 3, 9, 4, 5], dtype=np.int64)
    block_ptr = np.array([0, 4, 7, 9], dtype=np.int64)
    group = np.zeros(3, dtype=np.int64)
    ring = peeling.merge_blocks(
        g.indptr, g.indices, g.weights, block_ptr, block_nodes, group, 8, 0.5
    )
    np.testing.assert_array_equal(ring, [0, 1, 0])
    other_group = peeling.merge_blocks(
        g.indptr, g.indices, g.weights, block_ptr, block_nodes, np.array([0, 1, 1]), 8, 0.5
    )
    np.testing.assert_array_equal(other_group, [0, 1, 2])


@FAST
@given(graphs(), st.data())
def test_neighbour_aggregate_takes_the_mean_of_one_array_and_the_max_of_another(graph, data):
    n, edges = graph
    g = build(n, edges)
    value = st.one_of(st.floats(-100, 100), st.just(float("nan")))
    draw = lambda: np.array(  # noqa: E731
        data.draw(st.lists(value, min_size=n, max_size=n)), dtype=np.float64
    ).reshape(n, 1)
    for_mean, for_max = draw(), draw()
    mean, top = kernels.neighbour_aggregate(g.indptr, g.indices, for_mean, for_max)
    np.testing.assert_allclose(mean, reference.neighbour_mean_max(n, edges, for_mean)[0])
    np.testing.assert_array_equal(top, reference.neighbour_mean_max(n, edges, for_max)[1])


@FAST
@given(graphs(), st.data())
def test_both_aggregate_layouts_agree(graph, data):
    n, edges = graph
    g = build(n, edges)
    value = st.one_of(st.floats(-100, 100), st.just(float("nan")))
    values = np.array(
        data.draw(st.lists(st.tuples(value, value, value), min_size=n, max_size=n)),
        dtype=np.float64,
    ).reshape(n, 3)
    by_column = aggregates._aggregate_by_column(
        g.indptr, g.indices, values, values[:, ::-1].copy(), 0
    )
    by_row = aggregates._aggregate_by_row(g.indptr, g.indices, values, values[:, ::-1].copy(), 0)
    for a, b in zip(by_column, by_row, strict=True):
        np.testing.assert_array_equal(a, b)
