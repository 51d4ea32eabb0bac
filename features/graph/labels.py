"""The graphs label-derived features run over, and the known-bad-neighbour shares on them.

`LabelGraphs` holds only what those features read (the social graph and the identity links,
on the node index of `Graphs`), so the feature cache can store it beside the feature table
and `train`/`score` never rebuild the full graphs. Saved as plain `.npy` arrays and read back
memory-mapped (the OS pages in what the kernels touch; nothing is copied). Which labels count
as known is not decided here: see `training.oof` and `features.io.load.labels_known_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from features.graph import kernels
from features.graph.build import Graphs
from features.graph.csr import CSR
from features.graph.features import as_frame

#: Graphs the label shares run over (the graph-tree names): explicit relations, identity links.
LABEL_GRAPHS = ("rel", "link")
CSR_PARTS = ("indptr", "indices", "weights")


@dataclass(frozen=True)
class LabelGraphs:
    """The relation (social) graph and the identity-link graph, node i = account_ids[i]."""

    account_ids: pl.Series  # String, sorted
    rel: CSR
    link: CSR

    @property
    def n(self) -> int:
        """Number of accounts (nodes)."""
        return self.account_ids.len()


def label_graphs(graphs: Graphs) -> LabelGraphs:
    """The label graphs of a full graph build (the identity links added once, here)."""
    return LabelGraphs(graphs.account_ids, graphs.social, graphs.links())


def bad_neighbour_share(
    graphs: LabelGraphs, known_bad: np.ndarray, known: np.ndarray
) -> pl.DataFrame:
    """Label-derived features (training computes them out of fold): per graph, how many
    neighbours are known bad and their share among neighbours with a known label (NaN when
    none is known), then the mean and largest of the neighbours' shares (2 hops: on a
    bipartite graph such as user - group - user, the bad share of the groups one is in).
    Arrays are in node order (accounts sorted by account_id). A node's own label reaches it
    over 2 hops, so it must be unknown here for the node's own row (training masks it)."""
    known = np.asarray(known, dtype=np.bool_)
    bad = np.asarray(known_bad, dtype=np.bool_) & known
    # column 0: bad among labelled neighbours (NaN when unlabelled); column 1: bad among all
    values = np.column_stack([np.where(known, bad, np.nan), bad]).astype(np.float64)
    columns = {}
    for name in LABEL_GRAPHS:
        graph = getattr(graphs, name)
        mean, _ = kernels.neighbour_mean_max(graph.indptr, graph.indices, values)
        count = np.nan_to_num(mean[:, 1]) * graph.degree()
        columns[f"g_{name}_bad_neighbours"] = np.rint(count).astype(np.int64)
        columns[f"g_{name}_bad_share"] = mean[:, 0]
        share = np.ascontiguousarray(mean[:, :1])
        mean2, max2 = kernels.neighbour_aggregate(graph.indptr, graph.indices, share, share)
        columns[f"g_{name}_n2_mean_bad_share"] = mean2[:, 0]
        columns[f"g_{name}_n2_max_bad_share"] = max2[:, 0]
    return as_frame(graphs.account_ids, columns)


def save_label_graphs(graphs: LabelGraphs, folder: Path) -> list[str]:
    """Write the graphs as `.npy` arrays (and the node ids as Parquet) into `folder`; returns
    the file names written."""
    folder.mkdir(parents=True, exist_ok=True)
    names = ["account_ids.parquet"]
    pl.DataFrame({"account_id": graphs.account_ids}).write_parquet(folder / names[0])
    for name in LABEL_GRAPHS:
        graph = getattr(graphs, name)
        for part in CSR_PARTS:
            file = f"{name}.{part}.npy"
            np.save(folder / file, getattr(graph, part), allow_pickle=False)
            names.append(file)
    return names


def load_label_graphs(folder: Path) -> LabelGraphs:
    """Read graphs written by save_label_graphs, the arrays memory-mapped copy-on-write (numba
    types a read-only array apart, which would compile every kernel a second time); raises
    ValueError when an array does not fit its graph (a damaged file)."""
    ids = pl.read_parquet(folder / "account_ids.parquet")["account_id"]
    graphs = {}
    for name in LABEL_GRAPHS:
        arrays = [
            np.load(folder / f"{name}.{part}.npy", mmap_mode="c", allow_pickle=False)
            for part in CSR_PARTS
        ]
        indptr, indices, weights = arrays
        if indptr.shape != (ids.len() + 1,) or indices.shape != weights.shape:
            raise ValueError(f"{folder}: graph '{name}' does not match its {ids.len()} nodes")
        if indptr.dtype != np.int64 or indices.dtype != np.int64 or weights.dtype != np.float64:
            raise ValueError(f"{folder}: graph '{name}' has unexpected array types")
        graphs[name] = CSR(indptr, indices, weights)
    return LabelGraphs(ids, graphs["rel"], graphs["link"])
