"""Train/test splits of labelled accounts for the quality benchmark: published and strict.

- **published**: what papers report, so numbers can sit beside theirs: GADBench-style random
  stratified hold-out (train share per dataset) or stratified k-fold CV, a new shuffle per seed.
  Test accounts' graph neighbours are training accounts (the known GADBench leak).
- **strict**: what a platform would see. Chosen from what the data holds, by one generic rule:
  * accounts have creation times → *time-aware* rolling origin: train on labelled accounts that
    existed at a cut-off, with features computed at that cut-off; test on accounts that appeared
    later, scored at the final snapshot (seed s moves the cut-off between the 50th and 75th
    percentile of labelled accounts' creation times);
  * else the data has a graph → *cluster-aware*: connected components, with components larger
    than `max_group_share` of the accounts split by Louvain communities (recursively), so whole
    neighbourhoods land on one side (a dense graph such as Amazon U-P-U is one giant component,
    so components alone would not separate anything);
  * else → *duplicate-aware*: accounts with identical attribute vectors form one group.
  Groups are split into balanced group folds (hold-out = several of 10 folds as test).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import networkx as nx
import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

from features.io.contract import Dataset

HOLDOUT_FOLDS = 10  # group-aware hold-out: test = round(10 x test share) of 10 group folds
TIME_QUANTILES = (0.50, 0.75)  # range of the rolling-origin cut-offs


@dataclass(frozen=True)
class Scheme:
    """How a dataset is evaluated: a hold-out with `train_share`, or `folds`-fold CV."""

    train_share: float | None = None
    folds: int | None = None

    def describe(self) -> str:
        """Plain words for tables and MLflow params."""
        return f"{self.folds}-fold CV" if self.folds else f"{self.train_share:.0%} train"


@dataclass(frozen=True)
class Split:
    """One train/test division of labelled accounts (ids), and the training snapshot time."""

    train: np.ndarray  # account ids (str)
    test: np.ndarray
    train_as_of: datetime | None = None  # None: train on the full snapshot, like the test
    protocol: str = "published"  # or "strict"


@dataclass(frozen=True)
class Strict:
    """The strict protocol chosen for a dataset: kind, groups (account_id, group) and notes."""

    kind: str  # "time-aware", "cluster-aware" or "duplicate-aware"
    groups: pl.DataFrame | None
    note: str


def labelled(ds: Dataset) -> pl.DataFrame:
    """account_id, label of labelled accounts that exist in the snapshot, sorted by id."""
    return (
        ds.labels.select("account_id", "label")
        .join(ds.accounts.select("account_id"), on="account_id", how="semi")
        .sort("account_id")
    )


def published_splits(labels: pl.DataFrame, scheme: Scheme, seed: int) -> list[Split]:
    """GADBench-style random stratified splits (one hold-out, or all folds of one CV)."""
    ids, y = labels["account_id"].to_numpy(), labels["label"].to_numpy()
    if scheme.folds:
        cv = StratifiedKFold(scheme.folds, shuffle=True, random_state=seed)
        return [Split(ids[a], ids[b]) for a, b in cv.split(ids, y)]
    holdout = StratifiedShuffleSplit(1, train_size=scheme.train_share, random_state=seed)
    a, b = next(holdout.split(ids, y))
    return [Split(ids[a], ids[b])]


def group_folds(group: np.ndarray, y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold per row; each group in one fold, folds balanced in size and positives.

    Groups are taken in a seeded random order and each goes to the fold with the most room
    (relative to its share of rows and of positives). sklearn's StratifiedGroupKFold is not
    used: with few, distinct groups its `shuffle` does not change the folds between seeds.
    """
    codes, row_group = np.unique(group, return_inverse=True)
    sizes = np.bincount(row_group, minlength=len(codes)).astype(np.float64)
    positives = np.bincount(row_group, weights=y, minlength=len(codes))
    size_target = sizes.sum() / folds
    pos_target = max(positives.sum(), 1.0) / folds
    fold_size, fold_pos = np.zeros(folds), np.zeros(folds)
    fold_of_group = np.empty(len(codes), dtype=np.int64)
    rng = np.random.default_rng(seed)
    for g in rng.permutation(len(codes)):
        load = (fold_size + sizes[g]) / size_target + (fold_pos + positives[g]) / pos_target
        best = np.flatnonzero(load == load.min())
        f = int(rng.choice(best))
        fold_of_group[g] = f
        fold_size[f] += sizes[g]
        fold_pos[f] += positives[g]
    return fold_of_group[row_group]


def grouped_splits(
    labels: pl.DataFrame, groups: pl.DataFrame, scheme: Scheme, seed: int
) -> list[Split]:
    """Stratified splits that never put one group on both sides."""
    frame = labels.join(groups, on="account_id", how="left").with_columns(
        pl.coalesce(pl.col("group"), pl.lit("own:") + pl.col("account_id")).alias("group")
    )
    ids, y = frame["account_id"].to_numpy(), frame["label"].to_numpy().astype(np.float64)
    folds = scheme.folds or HOLDOUT_FOLDS
    fold = group_folds(frame["group"].to_numpy(), y, folds, seed)
    if scheme.folds:
        return [Split(ids[fold != f], ids[fold == f], protocol="strict") for f in range(folds)]
    n_test = max(1, round(HOLDOUT_FOLDS * (1 - scheme.train_share)))
    test = fold < n_test
    return [Split(ids[~test], ids[test], protocol="strict")]


def time_split(ds: Dataset, labels: pl.DataFrame, seed: int, seeds: int) -> list[Split]:
    """Rolling origin: train on accounts created by the cut-off (features at the cut-off)."""
    created = labels.join(ds.accounts.select("account_id", "created_at"), on="account_id")
    times = created["created_at"].drop_nulls().sort()
    low, high = TIME_QUANTILES
    q = low + (high - low) * (seed / max(seeds - 1, 1))
    cut = times[min(int(q * len(times)), len(times) - 1)]
    train = created.filter(pl.col("created_at") <= cut)["account_id"].to_numpy()
    test = created.filter(pl.col("created_at") > cut)["account_id"].to_numpy()
    return [Split(train, test, train_as_of=cut, protocol="strict")]


def _louvain(graph: nx.Graph, nodes: set, cap: int) -> list[set]:
    """Louvain communities of `nodes`, split again while any is larger than `cap`."""
    if len(nodes) <= cap:
        return [nodes]
    parts = nx.community.louvain_communities(graph.subgraph(nodes), seed=0)
    if len(parts) == 1:
        return [nodes]
    return [group for part in parts for group in _louvain(graph, part, cap)]


def graph_groups(
    n: int, src: np.ndarray, dst: np.ndarray, max_group_share: float = 0.05
) -> np.ndarray:
    """A group number per node: connected components, oversized ones cut into communities."""
    adjacency = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    _, component = connected_components(adjacency, directed=False)
    group = component.astype(np.int64)
    cap = max(1, int(max_group_share * n))
    sizes = np.bincount(component)
    big = np.flatnonzero(sizes > cap)
    if big.size == 0:
        return group
    keep = np.isin(component[src], big)
    graph = nx.Graph()
    graph.add_edges_from(zip(src[keep].tolist(), dst[keep].tolist(), strict=True))
    next_id = int(component.max()) + 1
    for c in big:
        for community in _louvain(graph, set(np.flatnonzero(component == c).tolist()), cap):
            group[list(community)] = next_id
            next_id += 1
    return group


def cluster_groups(ds: Dataset, max_group_share: float = 0.05) -> pl.DataFrame:
    """account_id, group from the undirected graph of all edges (see `graph_groups`)."""
    ids = ds.accounts["account_id"].sort()
    index = pl.DataFrame({"account_id": ids, "i": np.arange(len(ids))})
    edges = ds.edges.join(index, left_on="src", right_on="account_id").join(
        index, left_on="dst", right_on="account_id", suffix="_dst"
    )
    group = graph_groups(
        len(ids), edges["i"].to_numpy(), edges["i_dst"].to_numpy(), max_group_share
    )
    return pl.DataFrame({"account_id": ids, "group": pl.Series(group).cast(pl.String)})


def duplicate_groups(ds: Dataset) -> pl.DataFrame:
    """account_id, group: accounts with identical attribute vectors share a group."""
    columns = [c for c in (*ds.attributes, "followers", "verified") if c in ds.accounts.columns]
    keyed = ds.accounts.select(
        "account_id",
        pl.concat_str(
            [pl.col(c).cast(pl.String).fill_null("∅") for c in columns], separator="|"
        ).alias("key"),
    )
    return keyed.select("account_id", pl.col("key").rank("dense").cast(pl.String).alias("group"))


def choose_strict(ds: Dataset) -> Strict:
    """The strict protocol the data allows (time > graph clusters > duplicate profiles)."""
    if ds.accounts["created_at"].null_count() < ds.accounts.height:
        return Strict(
            "time-aware",
            None,
            "rolling origin on account creation time; training features cut at the cut-off",
        )
    if ds.edges.height:
        groups = cluster_groups(ds)
        return Strict(
            "cluster-aware",
            groups,
            f"{groups['group'].n_unique()} groups (components; Louvain inside components "
            f"> 5 % of accounts)",
        )
    groups = duplicate_groups(ds)
    return Strict(
        "duplicate-aware", groups, "no graph, no time: identical profiles kept on one side"
    )


def strict_splits(
    ds: Dataset, labels: pl.DataFrame, strict: Strict, scheme: Scheme, seed: int, seeds: int
) -> list[Split]:
    """The strict protocol's splits for one seed."""
    if strict.kind == "time-aware":
        return time_split(ds, labels, seed, seeds)
    return grouped_splits(labels, strict.groups, scheme, seed)


def neighbourhood_train_share(ds: Dataset, split: Split) -> float:
    """Of the 1- and 2-hop walks from test accounts that end at a labelled account, the share
    ending at a training account: how much of a test account's labelled neighbourhood the model
    saw labels of (about the train share for random splits; lower is stricter)."""
    ids = ds.accounts["account_id"].sort()
    index = pl.DataFrame({"account_id": ids, "i": np.arange(len(ids))})
    edges = ds.edges.join(index, left_on="src", right_on="account_id").join(
        index, left_on="dst", right_on="account_id", suffix="_dst"
    )
    if edges.height == 0:
        return float("nan")
    n = len(ids)
    src, dst = edges["i"].to_numpy(), edges["i_dst"].to_numpy()
    keep = src != dst
    a = sp.coo_matrix((np.ones(keep.sum()), (src[keep], dst[keep])), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float64)

    def mask(members: np.ndarray) -> np.ndarray:
        return ids.is_in(pl.Series(members).implode()).to_numpy().astype(np.float64)

    train, test = mask(split.train), mask(split.test)
    labelled_mask = np.clip(train + test, 0, 1)
    walks_train = a @ train + a @ (a @ train)
    walks_labelled = a @ labelled_mask + a @ (a @ labelled_mask)
    t = test > 0
    total = walks_labelled[t].sum()
    return float(walks_train[t].sum() / total) if total else float("nan")
