"""The graph kernels as Dask tasks: edge-partitioned iterations and per-component-group work.

A graph goes to the workers once, as blocks of CSR rows (.npy files in the run's scratch
folder, about the same number of entries each, at least `BLOCKS_PER_WORKER` per worker);
tasks memory-map their block and the vectors they read, and write what they compute as .npy
files beside them. Nothing bigger than a path or a number passes through the scheduler.

- PageRank and SybilRank: each iteration the client writes the vector every node passes on;
  one task per block pulls it over its rows (the kernels' per-node sum, in the same entry
  order); the client gathers the block sums and makes the next vector. Per-node values equal
  the kernels' but for the order of the two global sums (L1 change and dangling mass in
  PageRank, total strength in SybilRank): last-bit differences, well inside 1e-9 relative.
- 1- and 2-hop neighbour aggregates: one task per block runs kernels.neighbour_aggregate over
  its rows (exactly the kernel's numbers).
- Connected components: one task per block finds the components of its rows' edges (union-find
  on the nodes it touches) and writes each touched node's smallest component-mate; the client
  merges those small forests with kernels.connected_components (labels exactly the kernel's).
- Triangles, clustering, k-core of a graph whose components are known: one task per group of
  whole components, on the group's induced subgraph (exact: all three are per component).
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from features.execution import Engine
from features.graph import csr, kernels
from features.graph.cliques import sorted_unique
from features.graph.csr import CSR
from features.graph.ops import cohesion_of, contributions, pagerank_step, sybilrank_finish

__all__ = ["ClusterOps", "block_bounds"]

BLOCKS_PER_WORKER = 4
Block = tuple[str, int, int]  # (folder holding indptr/indices/weights .npy, first row, end row)


def save_npy(array: np.ndarray, path: Path) -> str:
    """Write one .npy file atomically (temporary name, then rename); returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)
    return str(path)


def load(path: str | Path) -> np.ndarray:
    """A .npy file memory-mapped read-only (as a plain ndarray view, which numba takes)."""
    return np.asarray(np.load(path, mmap_mode="r"))


def block_bounds(indptr: np.ndarray, blocks: int) -> np.ndarray:
    """Row boundaries splitting a CSR into at most `blocks` runs of rows with about the same
    number of entries (of rows, for a graph without edges)."""
    n, m = indptr.shape[0] - 1, int(indptr[-1])
    if m:
        bounds = np.searchsorted(indptr, np.linspace(0, m, blocks + 1), side="left")
    else:
        bounds = np.linspace(0, n, blocks + 1).astype(np.int64)
    bounds[0], bounds[-1] = 0, n
    return np.unique(np.minimum(bounds, n))


def load_block(block: Block) -> CSR:
    """One block's rows (indptr rebased to 0; indices are global node numbers)."""
    folder = Path(block[0])
    return CSR(load(folder / "indptr.npy"), load(folder / "indices.npy"), load(folder / "w.npy"))


def pull_task(block: Block, vector: str, out: str) -> str:
    """Map: sum of weight x vector[neighbour] over each row of one block (the kernels' pull)."""
    graph, (_, lo, hi) = load_block(block), block
    x = load(vector)
    rows = np.repeat(np.arange(hi - lo, dtype=np.int64), graph.degree())
    acc = np.bincount(rows, weights=graph.weights * x[graph.indices], minlength=hi - lo)
    return save_npy(acc.astype(np.float64), Path(out) / f"{lo:012d}.npy")


def aggregate_task(block: Block, for_mean: str, for_max: str, out: str) -> tuple[str, str]:
    """Map: kernels.neighbour_aggregate over one block's rows."""
    graph, (_, lo, _) = load_block(block), block
    mean, top = kernels.neighbour_aggregate(
        graph.indptr, graph.indices, load(for_mean), load(for_max), lo
    )
    return (
        save_npy(mean, Path(out) / f"mean-{lo:012d}.npy"),
        save_npy(top, Path(out) / f"max-{lo:012d}.npy"),
    )


def forest_task(block: Block, out: str) -> str:
    """Map: the components of one block's edges; writes (node, smallest node of its local
    component) for every touched node that is not that smallest node."""
    graph, (_, lo, _) = load_block(block), block
    src = lo + np.repeat(np.arange(graph.n, dtype=np.int64), graph.degree())
    touched = sorted_unique(np.concatenate([src, graph.indices]))
    local = csr.from_edges(
        touched.size, np.searchsorted(touched, src), np.searchsorted(touched, graph.indices)
    )
    labels = kernels.connected_components(local.indptr, local.indices)
    # labels are numbered in order of each component's smallest node: a label is new where
    # the running maximum grows, and the k-th new label's first node is its smallest
    seen = np.maximum.accumulate(labels) if labels.size else labels
    first = np.flatnonzero(np.r_[labels.size > 0, labels[1:] > seen[:-1]])
    root = touched[first[labels]]
    moved = touched != root
    pairs = np.stack([touched[moved], root[moved]]).astype(np.int64)
    return save_npy(pairs, Path(out) / f"{lo:012d}.npy")


def cohesion_task(group: str) -> str:
    """Map: triangles, clustering and core number of one group of components."""
    folder = Path(group)
    tri, clustering, core = cohesion_of(load(folder / "indptr.npy"), load(folder / "indices.npy"))
    return save_npy(np.stack([tri.astype(np.float64), clustering, core]), folder / "out.npy")


def induced(graph: CSR, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the subgraph on sorted `nodes`, renumbered 0.. in their order;
    every neighbour of a node must be among `nodes` (a union of whole components)."""
    starts, ends = graph.indptr[nodes], graph.indptr[nodes + 1]
    lengths = ends - starts
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    offsets = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1], dtype=np.int64)
    return indptr, np.searchsorted(nodes, graph.indices[offsets]).astype(np.int64)


def component_groups(graph: CSR, labels: np.ndarray, groups: int) -> list[np.ndarray]:
    """Nodes of components with an edge, in at most `groups` runs of whole components with
    about the same number of entries (each run sorted by node)."""
    linked = np.flatnonzero(graph.degree() > 0)
    if linked.size == 0:
        return []
    order = linked[np.argsort(labels[linked], kind="stable")]
    by_label = labels[order]
    ends = np.flatnonzero(np.r_[by_label[1:] != by_label[:-1], True]) + 1
    weight = np.cumsum(graph.degree()[order])[ends - 1]
    targets = np.linspace(0, weight[-1], groups + 1)[1:-1]
    cuts = np.unique(ends[np.searchsorted(weight, targets)])
    cuts = cuts[cuts < order.size]
    return [np.sort(part) for part in np.split(order, cuts)]


@dataclass
class ClusterOps:
    """GraphOps on a cluster (see the module doc); graph blocks are written once per graph."""

    engine: Engine
    saved: dict[int, tuple[CSR, list[Block]]] = field(default_factory=dict)

    def folder(self, name: str) -> Path:
        """A fresh folder in the run's scratch for one graph or one step."""
        return self.engine.folder(f"graph/{name}-{uuid.uuid4().hex[:10]}")

    def blocks(self, graph: CSR) -> list[Block]:
        """The graph's row blocks on disk (written on first use)."""
        if id(graph) in self.saved and self.saved[id(graph)][0] is graph:
            return self.saved[id(graph)][1]
        root = self.folder("blocks")
        bounds = block_bounds(graph.indptr, BLOCKS_PER_WORKER * self.engine.workers)
        found = []
        for lo, hi in itertools.pairwise(bounds):
            where = root / f"rows={lo:012d}"
            first, last = graph.indptr[lo], graph.indptr[hi]
            save_npy(graph.indptr[lo : hi + 1] - first, where / "indptr.npy")
            save_npy(graph.indices[first:last], where / "indices.npy")
            save_npy(graph.weights[first:last], where / "w.npy")
            found.append((str(where), int(lo), int(hi)))
        self.saved[id(graph)] = (graph, found)
        return found

    def pull(self, graph: CSR, vector: np.ndarray) -> np.ndarray:
        """weight x vector summed over each node's row, one task per block."""
        step = self.folder("pull")
        path = save_npy(vector, step / "vector.npy")
        parts = self.engine.map(pull_task, self.blocks(graph), vector=path, out=str(step))
        return np.concatenate([np.load(p) for p in parts]) if parts else np.zeros(0)

    def pagerank(
        self, inverse: CSR, out_strength: np.ndarray, alpha: float, tol: float, max_iter: int
    ) -> np.ndarray:
        """PageRank as one block map per iteration (see the module doc)."""
        x = np.full(inverse.n, 1.0 / max(inverse.n, 1))
        if inverse.n == 0:
            return x
        contrib = contributions(x, out_strength)
        for _ in range(max_iter):
            x, err, contrib = pagerank_step(x, self.pull(inverse, contrib), out_strength, alpha)
            if err < tol:
                break
        return x

    def sybilrank(self, graph: CSR, seeds: np.ndarray, steps: int) -> np.ndarray:
        """SybilRank as one block map per step."""
        strength = graph.strength()
        trust = np.zeros(graph.n)
        if not seeds.any():
            return trust
        trust[seeds] = 1.0 / int(seeds.sum())
        for _ in range(steps):
            trust = self.pull(graph, contributions(trust, strength))
        return sybilrank_finish(trust, strength)

    def components(self, graph: CSR) -> np.ndarray:
        """Block-local forests, merged on the client."""
        step = self.folder("forests")
        parts = self.engine.map(forest_task, self.blocks(graph), out=str(step))
        pairs = [np.load(p) for p in parts]
        nodes = np.concatenate([p[0] for p in pairs]) if pairs else np.zeros(0, np.int64)
        roots = np.concatenate([p[1] for p in pairs]) if pairs else np.zeros(0, np.int64)
        merged = csr.from_edges(graph.n, nodes, roots)
        return kernels.connected_components(merged.indptr, merged.indices)

    def cohesion(
        self, graph: CSR, labels: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per group of components on the cluster; without labels, in this process."""
        if labels is None:
            return cohesion_of(graph.indptr, graph.indices)
        step = self.folder("cohesion")
        groups = component_groups(graph, labels, BLOCKS_PER_WORKER * self.engine.workers)
        folders = []
        for number, nodes in enumerate(groups):
            where = step / f"group={number:05d}"
            indptr, indices = induced(graph, nodes)
            save_npy(indptr, where / "indptr.npy")
            save_npy(indices, where / "indices.npy")
            folders.append(str(where))
        tri, core = np.zeros(graph.n, np.int64), np.zeros(graph.n, np.int64)
        clustering = np.zeros(graph.n)
        for nodes, path in zip(groups, self.engine.map(cohesion_task, folders), strict=True):
            out = np.load(path)
            tri[nodes], clustering[nodes], core[nodes] = out[0], out[1], out[2]
        return tri, clustering, core

    def peel(self, graphs, labels: np.ndarray, config) -> list[dict]:
        """rings.peel_components, one task per group of whole components (peelgroups)."""
        from features.graph.peelgroups import peel_on

        return peel_on(self.engine, graphs, labels, config, BLOCKS_PER_WORKER * self.engine.workers)

    def aggregate(
        self, graph: CSR, for_mean: np.ndarray, for_max: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One task per block of rows; the results stacked in node order."""
        step = self.folder("aggregate")
        mean_path = save_npy(np.ascontiguousarray(for_mean), step / "for-mean.npy")
        max_path = (
            mean_path
            if for_max is for_mean
            else save_npy(np.ascontiguousarray(for_max), step / "for-max.npy")
        )
        blocks = self.blocks(graph)
        parts = self.engine.map(
            aggregate_task, blocks, for_mean=mean_path, for_max=max_path, out=str(step)
        )
        k = for_mean.shape[1]
        if not parts:
            return np.zeros((0, k)), np.zeros((0, k))
        mean = np.concatenate([np.load(p[0]) for p in parts])
        return mean, np.concatenate([np.load(p[1]) for p in parts])
