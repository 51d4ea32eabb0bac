"""Plain-Python peers of the graph kernels for `bench_graph`: loops over a networkx adjacency,
the obvious way, so the numba kernels are compared with what one would write without them."""

from __future__ import annotations

import heapq

import numpy as np


def python_sybilrank(graph, seeds: np.ndarray, steps: int) -> dict:
    """SybilRank as a plain loop over a networkx graph's adjacency."""
    degree = dict(graph.degree())
    trust = {u: (1.0 / seeds.sum() if seeds[u] else 0.0) for u in graph}
    for _ in range(steps):
        share = {u: trust[u] / degree[u] if degree[u] else 0.0 for u in graph}
        trust = {v: sum(share[u] for u in graph.adj[v]) for v in graph}
    return {u: trust[u] / degree[u] if degree[u] else 0.0 for u in graph}


def python_neighbour_mean_max(graph, values: np.ndarray) -> tuple[dict, dict]:
    """Neighbour mean and max per column as a plain loop over a networkx adjacency."""
    rows = values.tolist()
    mean, top = {}, {}
    for u in graph:
        seen = [rows[v] for v in graph.adj[u]]
        if seen:
            columns = list(zip(*seen, strict=True))
            mean[u] = [sum(c) / len(c) for c in columns]
            top[u] = [max(c) for c in columns]
    return mean, top


def python_peel(graph) -> float:
    """Weighted greedy peeling (Charikar / FRAUDAR) with heapq and lazy deletion over
    networkx's adjacency and its 'weight' attributes."""
    degree = dict(graph.degree(weight="weight"))
    heap = [(d, u) for u, d in degree.items()]
    heapq.heapify(heap)
    alive, f = set(graph), graph.size(weight="weight")
    best = f / max(len(alive), 1)
    while heap:
        d, u = heapq.heappop(heap)
        if u not in alive or d != degree[u]:
            continue
        alive.discard(u)
        f -= d
        for v, data in graph.adj[u].items():
            if v in alive:
                degree[v] -= data["weight"]
                heapq.heappush(heap, (degree[v], v))
        if alive:
            best = max(best, f / len(alive))
    return best


def python_build(n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray):
    """What csr.from_edges builds, in networkx: every node, self-loops dropped, the weights
    of duplicate edges summed."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    adj = graph.adj
    for u, v, x in zip(src.tolist(), dst.tolist(), weights.tolist(), strict=True):
        if u == v:
            continue
        data = adj[u].get(v)
        if data is None:
            graph.add_edge(u, v, weight=x)
        else:
            data["weight"] += x
    return graph
