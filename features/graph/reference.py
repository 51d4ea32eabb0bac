"""Slow, obvious twins of the numba kernels (networkx or plain Python), used as test oracles.

Inputs are plain edge lists `(u, v, w)` on nodes 0..n-1 so the oracles share no code with the
CSR builders. The clean-up they apply is the documented one: self-loops dropped, duplicate
edges summed (an undirected edge given as (u, v) and (v, u) counts twice).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import networkx as nx
import numpy as np

Edge = tuple[int, int, float]


def _merged(edges: Iterable[Edge], undirected: bool) -> dict[tuple[int, int], float]:
    """Edge weights after the documented clean-up, keyed (u, v) (u < v when undirected)."""
    merged: dict[tuple[int, int], float] = {}
    for u, v, w in edges:
        if u == v:
            continue
        key = (min(u, v), max(u, v)) if undirected else (u, v)
        merged[key] = merged.get(key, 0.0) + float(w)
    return merged


def nx_graph(n: int, edges: Iterable[Edge], directed: bool = False) -> nx.Graph:
    """A networkx graph on 0..n-1 with the documented clean-up applied."""
    graph = nx.DiGraph() if directed else nx.Graph()
    graph.add_nodes_from(range(n))
    for (u, v), w in _merged(edges, undirected=not directed).items():
        graph.add_edge(u, v, weight=w)
    return graph


def neighbours(n: int, edges: Iterable[Edge]) -> list[dict[int, float]]:
    """Undirected adjacency as one {neighbour: weight} dict per node."""
    adjacency: list[dict[int, float]] = [{} for _ in range(n)]
    for (u, v), w in _merged(edges, undirected=True).items():
        adjacency[u][v] = w
        adjacency[v][u] = w
    return adjacency


def pagerank(n: int, edges: Iterable[Edge], directed: bool, alpha: float = 0.85) -> np.ndarray:
    """networkx PageRank (weighted), as an array in node order."""
    ranks = nx.pagerank(nx_graph(n, edges, directed), alpha=alpha, tol=1e-13, max_iter=10_000)
    return np.array([ranks[i] for i in range(n)])


def components(n: int, edges: Iterable[Edge]) -> np.ndarray:
    """Component labels numbered in order of each component's smallest node."""
    groups = sorted(min(c) for c in nx.connected_components(nx_graph(n, edges)))
    label_of_min = {m: i for i, m in enumerate(groups)}
    labels = np.empty(n, dtype=np.int64)
    for component in nx.connected_components(nx_graph(n, edges)):
        labels[list(component)] = label_of_min[min(component)]
    return labels


def triangles(n: int, edges: Iterable[Edge]) -> np.ndarray:
    """networkx triangle counts."""
    counts = nx.triangles(nx_graph(n, edges))
    return np.array([counts[i] for i in range(n)], dtype=np.int64)


def clustering(n: int, edges: Iterable[Edge]) -> np.ndarray:
    """networkx (unweighted) local clustering coefficients."""
    graph = nx_graph(n, edges)
    for _, _, data in graph.edges(data=True):
        data.pop("weight")
    coefficients = nx.clustering(graph)
    return np.array([coefficients[i] for i in range(n)])


def core_number(n: int, edges: Iterable[Edge]) -> np.ndarray:
    """networkx k-core numbers."""
    cores = nx.core_number(nx_graph(n, edges))
    return np.array([cores[i] for i in range(n)], dtype=np.int64)


def sybilrank(n: int, edges: Iterable[Edge], seeds: np.ndarray, steps: int) -> np.ndarray:
    """SybilRank with a dense transition matrix: trust T_{i+1} = T_i D^-1 A, score T / strength
    scaled by total strength (1 = converged share); 0 for nodes without edges."""
    adjacency = np.zeros((n, n))
    for (u, v), w in _merged(edges, undirected=True).items():
        adjacency[u, v] = adjacency[v, u] = w
    strength = adjacency.sum(axis=1)
    trust = np.zeros(n)
    if seeds.sum() == 0:
        return trust
    trust[seeds] = 1.0 / seeds.sum()
    safe = np.where(strength > 0, strength, 1.0)
    for _ in range(steps):
        trust = (trust / safe) @ adjacency
    return np.where(strength > 0, trust / safe * strength.sum(), 0.0)


def neighbour_mean_max(
    n: int, edges: Iterable[Edge], values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per node and column: mean and max of neighbours' non-NaN values (NaN if none)."""
    adjacency = neighbours(n, edges)
    k = values.shape[1]
    mean = np.full((n, k), np.nan)
    top = np.full((n, k), np.nan)
    for u in range(n):
        for j in range(k):
            seen = [values[v, j] for v in adjacency[u] if not math.isnan(values[v, j])]
            if seen:
                mean[u, j] = sum(seen) / len(seen)
                top[u, j] = max(seen)
    return mean, top


def density(adjacency: list[dict[int, float]], prior: np.ndarray, nodes: Iterable[int]) -> float:
    """FRAUDAR g(S): weight of edges inside S plus priors of S, over |S|."""
    chosen = set(nodes)
    if not chosen:
        return 0.0
    inside = sum(w for u in chosen for v, w in adjacency[u].items() if v in chosen and u < v)
    return (inside + sum(prior[u] for u in chosen)) / len(chosen)


def peel(n: int, edges: Iterable[Edge], prior: np.ndarray) -> tuple[list[int], float]:
    """Greedy peeling by full rescans: remove the node of smallest weighted degree in S (ties:
    smaller index), keep the best g (earliest on ties). Returns (densest set, its g)."""
    adjacency = neighbours(n, edges)
    alive = set(range(n))
    best_set, best_g = sorted(alive), density(adjacency, prior, alive)
    while len(alive) > 1:
        degree = {
            u: prior[u] + sum(w for v, w in adjacency[u].items() if v in alive) for u in alive
        }
        victim = min(alive, key=lambda u: (degree[u], u))
        alive.remove(victim)
        g = density(adjacency, prior, alive)
        if g > best_g * (1.0 + 1e-9):
            best_set, best_g = sorted(alive), g
    return best_set, best_g


def densest_subgraph(n: int, edges: Iterable[Edge], prior: np.ndarray) -> float:
    """The exact maximum of g over all non-empty node sets (brute force, tiny graphs only)."""
    adjacency = neighbours(n, edges)
    best = 0.0
    for size in range(1, n + 1):
        for nodes in itertools.combinations(range(n), size):
            best = max(best, density(adjacency, prior, nodes))
    return best
