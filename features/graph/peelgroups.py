"""FRAUDAR peeling of the ring candidates as Dask tasks, one per group of whole components.

Candidate components are small and independent: peeling, and the grouping of blocks into
rings, never cross a component. The client writes each group's part of the peel graph's
inputs (its accounts renumbered 0.. in node order, their binding-key incidence, the keys'
user counts, the identity relations inside the group) as Parquet/.npy in the scratch folder;
one task per group runs `rings.peel_components` on them, the function one process runs, and
writes the candidate rings it finds. Renumbering keeps every order the peeling reads (accounts
before key columns, nodes and keys in the same relative order, components in label order),
so the client, stacking the groups in component order and mapping nodes back, gets exactly
the one-process list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from features.config import GraphConfig
from features.execution import Engine, write_part
from features.graph import csr
from features.graph.csr import CSR

__all__ = ["PeelInput", "peel_on"]


@dataclass(frozen=True)
class PeelInput:
    """What `rings.peel_components` reads of a Graphs, for one group of components."""

    n: int
    incidence: pl.DataFrame  # node (local), key
    keys: pl.DataFrame  # key, accounts
    binding_relations: CSR


def group_nodes(active: np.ndarray, groups: int) -> list[np.ndarray]:
    """Accounts of the active components (label >= 0) in at most `groups` runs of whole
    components in label order, about the same number of accounts each (each run sorted)."""
    members = np.flatnonzero(active >= 0)
    if members.size == 0:
        return []
    order = members[np.argsort(active[members], kind="stable")]
    by_label = active[order]
    ends = np.flatnonzero(np.r_[by_label[1:] != by_label[:-1], True]) + 1
    cuts = np.unique(ends[np.searchsorted(ends, np.linspace(0, order.size, groups + 1)[1:-1])])
    cuts = cuts[cuts < order.size]
    return [np.sort(part) for part in np.split(order, cuts)]


def write_group(graphs, nodes: np.ndarray, active: np.ndarray, folder: Path) -> str:
    """One group's peel inputs, renumbered (see the module doc)."""
    position = pl.DataFrame({"node": nodes, "local": np.arange(nodes.size, dtype=np.int64)})
    incidence = graphs.incidence.join(position, on="node", how="inner")
    incidence = incidence.select(pl.col("local").alias("node"), "key").sort("node", "key")
    keys = graphs.keys.select("key", "accounts").join(
        incidence.select("key").unique(), on="key", how="semi"
    )
    src, dst, w = graphs.binding_relations.edges()
    inside = np.zeros(graphs.n, dtype=bool)
    inside[nodes] = True
    keep = inside[src] & inside[dst]
    binding = pl.DataFrame(
        {
            "src": np.searchsorted(nodes, src[keep]),
            "dst": np.searchsorted(nodes, dst[keep]),
            "w": w[keep],
        }
    )
    write_part(incidence, folder / "incidence.parquet")
    write_part(keys, folder / "keys.parquet")
    write_part(binding, folder / "binding.parquet")
    _, local_labels = np.unique(active[nodes], return_inverse=True)
    write_part(pl.DataFrame({"label": local_labels.astype(np.int64)}), folder / "labels.parquet")
    return str(folder)


def peel_group(folder: str, n: int, config: GraphConfig) -> str:
    """Map: rings.peel_components on one group; writes its candidate rings."""
    from features.graph.rings import peel_components

    root = Path(folder)
    binding = pl.read_parquet(root / "binding.parquet")
    sub = PeelInput(
        n=n,
        incidence=pl.read_parquet(root / "incidence.parquet"),
        keys=pl.read_parquet(root / "keys.parquet"),
        binding_relations=csr.from_edges(
            n,
            binding["src"].to_numpy(),
            binding["dst"].to_numpy(),
            binding["w"].to_numpy(),
            undirected=False,
        ),
    )
    labels = pl.read_parquet(root / "labels.parquet")["label"].to_numpy()
    found = peel_components(sub, labels, config)
    frame = pl.DataFrame(
        {
            "accounts": [ring["accounts"].tolist() for ring in found],
            "density": [ring["density"] for ring in found],
            "core_size": [ring["core_size"] for ring in found],
            "component": [ring["component"] for ring in found],
        },
        schema={
            "accounts": pl.List(pl.Int64),
            "density": pl.Float64,
            "core_size": pl.Int64,
            "component": pl.Int64,
        },
    )
    return str(write_part(frame, root / "found.parquet"))


def peel_on(engine: Engine, graphs, labels: np.ndarray, config: GraphConfig, groups: int):
    """rings.peel_components as one task per group of components (module doc)."""
    from features.graph.rings import small_to_none

    active = small_to_none(labels, config.ring_min_size)
    parts = group_nodes(active, groups)
    root = engine.fresh("peel")
    folders = [
        write_group(graphs, nodes, active, root / f"group={i:05d}") for i, nodes in enumerate(parts)
    ]
    sizes = [nodes.size for nodes in parts]
    results = engine.map(_peel_task, list(zip(folders, sizes, strict=True)), config=config)
    found = []
    for nodes, path in zip(parts, results, strict=True):
        component_of = np.unique(active[nodes])
        for row in pl.read_parquet(path).iter_rows(named=True):
            accounts = nodes[np.asarray(row["accounts"], dtype=np.int64)]
            found.append(
                {
                    "accounts": accounts,
                    "density": row["density"],
                    "core_size": row["core_size"],
                    "component": int(component_of[row["component"]]),
                }
            )
    return found


def _peel_task(item: tuple[str, int], config: GraphConfig) -> str:
    """peel_group of one (folder, accounts) item."""
    return peel_group(item[0], item[1], config)
