"""In-repo peers for the quality benchmark: features-only LightGBM and GADBench's graph trees.

GADBench (Tang et al., NeurIPS 2023 D&B) found that tree ensembles on node features
concatenated with parameter-free neighbour aggregates (its RFGraph / XGBGraph) beat specialised
GNNs. Written here from that description (its `GIN_noparam` backbone: 2 hops, mean aggregation,
no self term): x ⊕ mean_{N(v)} x ⊕ mean_{N(v)} (mean_{N(u)} x) over the undirected graph of all
edges, then gradient-boosted trees. We boost with LightGBM (the repo's tree library; XGBoost is
not a dependency) with fixed, untuned hyper-parameters, the same for both baselines.

"Raw features" are the accounts table's attribute columns (plus `followers` / `verified` when
present). A dataset without attributes (Bitcoin-Alpha) gets parameter-free edge statistics per
relation instead (in/out count, mean weight, share of negative weights), so that both
baselines have something to learn from; that choice is generic, not dataset-specific.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import polars as pl
import scipy.sparse as sp

from features.io.contract import Dataset

PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "feature_fraction": 0.5,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,  # with feature_fraction 0.5: 3x faster on Reddit, same AUROC (3 seeds)
    "num_threads": 1,  # 2 cores shared with other work: OpenMP spin-waits oversubscribed
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
ROUNDS = 300


def edge_statistics(ds: Dataset) -> pl.DataFrame:
    """account_id + per relation and direction: edge count, mean weight, share of weights < 0."""
    ids = ds.accounts.select("account_id").sort("account_id")
    edges = ds.edges.with_columns(pl.col("weight").fill_null(1.0))
    frames = [ids]
    for relation in sorted(edges["relation"].unique().to_list()):
        of = edges.filter(pl.col("relation") == relation)
        for side, key in (("out", "src"), ("in", "dst")):
            stats = of.group_by(key).agg(
                pl.len().cast(pl.Float64).alias(f"{relation}_{side}_n"),
                pl.col("weight").mean().alias(f"{relation}_{side}_mean_weight"),
                (pl.col("weight") < 0).mean().alias(f"{relation}_{side}_negative_share"),
            )
            frames.append(ids.join(stats, left_on="account_id", right_on=key, how="left"))
    joined = frames[0]
    for frame in frames[1:]:
        joined = joined.join(frame, on="account_id", how="left")
    counts = [c for c in joined.columns if c.endswith("_n")]
    return joined.with_columns(pl.col(counts).fill_null(0.0)).sort("account_id")


def raw_features(ds: Dataset) -> pl.DataFrame:
    """account_id + the raw numeric features of every account (see the module doc)."""
    columns = list(ds.attributes)
    for name in ("followers", "verified"):
        if ds.accounts[name].null_count() < ds.accounts.height:
            columns.append(name)
    if not columns:
        return edge_statistics(ds)
    return ds.accounts.select("account_id", *[pl.col(c).cast(pl.Float64) for c in columns]).sort(
        "account_id"
    )


def mean_adjacency(ds: Dataset) -> sp.csr_matrix:
    """Row-normalised undirected adjacency of all edges (unit weights, no self-loops)."""
    ids = ds.accounts["account_id"].sort()
    index = pl.DataFrame({"account_id": ids, "i": np.arange(len(ids))})
    edges = ds.edges.join(index, left_on="src", right_on="account_id").join(
        index, left_on="dst", right_on="account_id", suffix="_dst"
    )
    n = len(ids)
    src, dst = edges["i"].to_numpy(), edges["i_dst"].to_numpy()
    keep = src != dst
    a = sp.coo_matrix((np.ones(keep.sum()), (src[keep], dst[keep])), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float64)
    degree = np.asarray(a.sum(axis=1)).ravel()
    inverse = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    return sp.diags(inverse) @ a


def graph_tree_features(ds: Dataset, hops: int = 2) -> pl.DataFrame:
    """Raw features ⊕ their 1..`hops`-hop neighbour means (isolated accounts get 0, as in DGL)."""
    raw = raw_features(ds)
    names = [c for c in raw.columns if c != "account_id"]
    x = np.nan_to_num(raw.select(names).to_numpy().astype(np.float64))
    mean = mean_adjacency(ds)
    blocks, h = [raw], x
    for hop in range(1, hops + 1):
        h = mean @ h
        blocks.append(pl.DataFrame(h, schema=[f"{c}__hop{hop}_mean" for c in names]))
    return pl.concat(blocks, how="horizontal")


def fit_predict(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int
) -> np.ndarray:
    """Boost on the training rows, return raw scores of the test rows (higher = more likely bad)."""
    params = {**PARAMS, "seed": seed}
    booster = lgb.train(params, lgb.Dataset(x_train, label=y_train), num_boost_round=ROUNDS)
    return booster.predict(x_test, raw_score=True)
