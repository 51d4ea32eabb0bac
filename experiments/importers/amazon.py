"""Amazon-UPU (CARE-GNN users, TAM's U-P-U file): 25 review-behaviour attributes, one relation.

Source: `Amazon_UPU.mat` (MATLAB v5) with `Network` (users × users, symmetric), `Attributes`
(users × 25) and `Label` (users × 1, 1 = fraudulent). Row i of all three is the same user.

Mapping: user i → account `u00000`+i with attributes `amazon_f00..amazon_f24`; every undirected
U-P-U pair once as an edge `same_product` (weight 1, no time); a label for every user
(1 → reason `fraud`; 0 means "not known to be fraud", see the data README). The data has no
timestamps at all, so later commands need an explicit `--as-of`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import scipy.io
import scipy.sparse as sp

from experiments.importers.common import malformed, padded_ids, read_or_fail, source_file

SOURCE = "Amazon_UPU.mat"
RELATION = "same_product"
NOTES = (
    "no timestamps in this dataset: commands read it as of today unless --as-of is given",
    "label 0 = not known to be fraud (the source may mix unlabelled users into it)",
)


def _matrix(path: Path, mat: dict, key: str) -> sp.csr_matrix | np.ndarray:
    """One named array of the .mat file; a clear error when it is absent."""
    if key not in mat:
        raise malformed(
            path, f"has no '{key}' array (found: {sorted(k for k in mat if k[0] != '_')})"
        )
    return mat[key]


def read(source_dir: Path) -> dict[str, pl.DataFrame]:
    """The Amazon-UPU folder as contract tables (accounts, edges, labels)."""
    path = source_file(source_dir, SOURCE)
    mat = read_or_fail(path, scipy.io.loadmat, "a MATLAB .mat file")
    network = sp.csr_matrix(_matrix(path, mat, "Network"))
    attributes = _matrix(path, mat, "Attributes")
    attributes = attributes.toarray() if sp.issparse(attributes) else np.asarray(attributes)
    label = np.asarray(_matrix(path, mat, "Label")).ravel()
    n = label.shape[0]
    if network.shape != (n, n) or attributes.ndim != 2 or attributes.shape[0] != n:
        raise malformed(
            path,
            f"shapes do not agree: Network {network.shape}, Attributes {attributes.shape}, "
            f"Label {label.shape}",
        )
    if not np.isin(label, (0, 1)).all():
        raise malformed(path, "'Label' holds values other than 0 and 1")
    ids = padded_ids("u", np.arange(n), 5)
    accounts = pl.DataFrame(
        {"account_id": ids}
        | {
            f"amazon_f{j:02d}": attributes[:, j].astype(np.float64)
            for j in range(attributes.shape[1])
        }
    )
    symmetric = (network + network.T) > 0
    upper = sp.triu(symmetric, k=1).tocoo()  # each undirected pair once, self-loops dropped
    edges = pl.DataFrame(
        {
            "src": ids.gather(upper.row),
            "dst": ids.gather(upper.col),
            "relation": RELATION,
            "weight": 1.0,
        }
    )
    labels = pl.DataFrame({"account_id": ids, "label": label.astype(np.int8)}).with_columns(
        reason=pl.when(pl.col("label") == 1).then(pl.lit("fraud"))
    )
    return {"accounts": accounts, "edges": edges, "labels": labels}
