"""The graph kernels the feature stage runs, behind one seam: in this process, or as Dask tasks.

`build_graph_features` asks a `GraphOps` for PageRank, SybilRank, connected components,
cohesion (triangles, clustering, k-core) and neighbour aggregates; `find_rings` for the
candidate components and their FRAUDAR peeling. `LOCAL` runs the numba
kernels of `features.graph.kernels` on the whole graph; `features.graph.blocks.ClusterOps`
runs the same kernels over blocks of CSR rows or groups of components on a cluster.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from features.graph import kernels
from features.graph.csr import CSR

__all__ = ["LOCAL", "GraphOps", "LocalOps", "pagerank_step", "sybilrank_finish"]


class GraphOps(Protocol):
    """Graph kernels over whole CSR graphs (however they are run)."""

    def pagerank(
        self, inverse: CSR, out_strength: np.ndarray, alpha: float, tol: float, max_iter: int
    ) -> np.ndarray:
        """PageRank pulled over in-edges (`inverse`), networkx semantics; sums to 1."""
        ...

    def sybilrank(self, graph: CSR, seeds: np.ndarray, steps: int) -> np.ndarray:
        """SybilRank trust of an undirected graph from `seeds` after `steps` steps."""
        ...

    def components(self, graph: CSR) -> np.ndarray:
        """Component label of each node, numbered in order of each component's smallest node."""
        ...

    def cohesion(
        self, graph: CSR, labels: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(triangles, clustering, core number) per node; `labels`: the graph's components
        when known (a cluster then works component group by group)."""
        ...

    def aggregate(
        self, graph: CSR, for_mean: np.ndarray, for_max: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Neighbour mean of `for_mean` and max of `for_max` per node (kernels'
        neighbour_aggregate)."""
        ...

    def peel(self, graphs, labels: np.ndarray, config) -> list[dict]:
        """rings.peel_components: FRAUDAR blocks of the candidate components, as rings."""
        ...


class LocalOps:
    """The kernels in this process, on the whole graph."""

    def pagerank(
        self, inverse: CSR, out_strength: np.ndarray, alpha: float, tol: float, max_iter: int
    ) -> np.ndarray:
        """kernels.pagerank."""
        ranks, _ = kernels.pagerank(
            inverse.indptr, inverse.indices, inverse.weights, out_strength, alpha, tol, max_iter
        )
        return ranks

    def sybilrank(self, graph: CSR, seeds: np.ndarray, steps: int) -> np.ndarray:
        """kernels.sybilrank."""
        return kernels.sybilrank(graph.indptr, graph.indices, graph.weights, seeds, steps)

    def components(self, graph: CSR) -> np.ndarray:
        """kernels.connected_components."""
        return kernels.connected_components(graph.indptr, graph.indices)

    def cohesion(
        self, graph: CSR, labels: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """kernels.triangles, clustering and core_number (labels are not needed here)."""
        return cohesion_of(graph.indptr, graph.indices)

    def aggregate(
        self, graph: CSR, for_mean: np.ndarray, for_max: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """kernels.neighbour_aggregate."""
        return kernels.neighbour_aggregate(graph.indptr, graph.indices, for_mean, for_max)

    def peel(self, graphs, labels: np.ndarray, config) -> list[dict]:
        """rings.peel_components on every component at once."""
        from features.graph.rings import peel_components

        return peel_components(graphs, labels, config)


LOCAL = LocalOps()


def cohesion_of(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, ...]:
    """Triangles, local clustering and k-core number of an undirected graph's arrays."""
    tri = kernels.triangles(indptr, indices)
    return tri, kernels.clustering(indptr, indices, tri), kernels.core_number(indptr, indices)


def pagerank_step(
    x: np.ndarray, acc: np.ndarray, out_strength: np.ndarray, alpha: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """One PageRank update from the pulled sums `acc` (computed with `x`'s contributions):
    (new ranks, L1 change, their contributions), as kernels.pagerank does per node."""
    n = x.shape[0]
    dangling = float(x[out_strength <= 0.0].sum())
    base = (1.0 - alpha) / n + alpha * dangling / n
    new = base + alpha * acc
    return new, float(np.abs(new - x).sum()), contributions(new, out_strength)


def contributions(x: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """x / strength where the strength is positive, else 0 (what each node passes on)."""
    out = np.zeros_like(x)
    np.divide(x, strength, out=out, where=strength > 0.0)
    return out


def sybilrank_finish(trust: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """SybilRank's degree normalisation: trust / strength, scaled so 1 is the fair share."""
    return contributions(trust, strength) * strength.sum()
