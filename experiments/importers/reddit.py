"""Reddit banned users (JODIE data as packaged by PyGOD/BOND; GADBench dataset 0).

Source: `reddit.npz` with `features` (nodes × 64 text-embedding dims), `edge_index` (2 × edges,
both directions plus one self-loop per node) and `labels` (nodes; 1 = banned user). Nodes
0–9,999 are users, 10,000–10,983 are subreddits.

Mapping: users → accounts `u00000..` (category `user`), subreddits → accounts `r000..` (category
`subreddit`) so that the user–subreddit graph reaches the graph stage as ordinary edges; every
user–subreddit pair once as an edge `posts_in` (user → subreddit), self-loops dropped; the 64
dims as attributes `reddit_e00..reddit_e63` on both kinds of node. Labels only for the 10,000
users (1 → reason `banned`): subreddits are context, not accounts anyone could close. No
timestamps (the original JODIE times are not in this packaging).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from experiments.importers.common import malformed, padded_ids, read_or_fail, source_file

SOURCE = "reddit.npz"
USERS = 10_000
RELATION = "posts_in"
NOTES = (
    "no timestamps in this dataset: commands read it as of today unless --as-of is given",
    "subreddits are imported as context accounts (category 'subreddit') without labels; "
    "GADBench counts them as normal nodes, we evaluate on the 10,000 users only",
)


def _arrays(path: Path, users: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """features, edge_index, labels from the .npz, checked for shape agreement."""
    with read_or_fail(
        path, lambda p: np.load(p, allow_pickle=False), "a NumPy .npz archive"
    ) as npz:
        missing = [k for k in ("features", "edge_index", "labels") if k not in npz.files]
        if missing:
            raise malformed(path, f"has no '{missing[0]}' array (found: {sorted(npz.files)})")
        features, edge_index, labels = npz["features"], npz["edge_index"], npz["labels"]
    n = labels.shape[0]
    if (
        features.ndim != 2
        or features.shape[0] != n
        or edge_index.ndim != 2
        or edge_index.shape[0] != 2
    ):
        raise malformed(
            path,
            f"shapes do not agree: features {features.shape}, edge_index {edge_index.shape}, "
            f"labels {labels.shape}",
        )
    if n <= users or (edge_index.size and (edge_index.min() < 0 or edge_index.max() >= n)):
        raise malformed(path, f"expected more than {users} nodes and edge ends in 0..{n - 1}")
    if not np.isin(labels, (0, 1)).all():
        raise malformed(path, "'labels' holds values other than 0 and 1")
    return features, edge_index.astype(np.int64), labels


def read(source_dir: Path) -> dict[str, pl.DataFrame]:
    """The Reddit folder as contract tables (accounts, edges, labels)."""
    users = USERS  # read at call time, so a test can make a small slice
    path = source_file(source_dir, SOURCE)
    features, edge_index, labels = _arrays(path, users)
    n = labels.shape[0]
    ids = pl.concat(
        [padded_ids("u", np.arange(users), 5), padded_ids("r", np.arange(n - users), 3)]
    )
    is_user = np.arange(n) < users
    accounts = pl.DataFrame(
        {"account_id": ids, "category": np.where(is_user, "user", "subreddit")}
        | {f"reddit_e{j:02d}": features[:, j].astype(np.float64) for j in range(features.shape[1])}
    )
    low, high = edge_index.min(axis=0), edge_index.max(axis=0)
    pairs = np.unique(np.stack([low, high])[:, low != high], axis=1)  # undirected, no self-loops
    edges = pl.DataFrame(
        {
            "src": ids.gather(pairs[0]),
            "dst": ids.gather(pairs[1]),
            "relation": RELATION,
            "weight": 1.0,
        }
    )
    labels = pl.DataFrame(
        {"account_id": ids.head(users), "label": labels[:users].astype(np.int8)}
    ).with_columns(reason=pl.when(pl.col("label") == 1).then(pl.lit("banned")))
    return {"accounts": accounts, "edges": edges, "labels": labels}
