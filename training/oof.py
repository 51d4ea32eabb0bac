"""Label-derived features (share of known-bad neighbours): the one place train, score and the
benchmarks get them from (`with_label_features`), over the label graphs the feature cache
keeps (features.graph.LabelGraphs).

Which labels are known at the snapshot has one rule, `features.io.load.labels_known_at` (the
label history cut at the snapshot, the latest decision per account): callers pass its frame.
Rules that keep the features leak-free:
- a training account's feature is computed from the labels of OTHER training folds only; folds
  are made of whole groups (rings / shared-identifier components), so neither its own label nor
  its ring mates' labels reach it, which matches what held-out rings look like;
- validation, test and unlabelled accounts see every training label and nothing else, so no
  held-out label ever reaches any feature;
- at scoring time (`scoring_label_features`) every known label is used.
Graph node i is account i of the accounts sorted by account_id (features.graph's convention).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from training.splits import Split

ShareFn = Callable[[Any, np.ndarray, np.ndarray], pl.DataFrame]


def default_share_fn() -> ShareFn:
    """features.graph.bad_neighbour_share over LabelGraphs (imported late: the graph stage is
    optional)."""
    from features.graph import bad_neighbour_share

    return bad_neighbour_share


def _shares(
    graphs: Any, ids: pl.Series, known_bad: np.ndarray, known: np.ndarray, share_fn: ShareFn
) -> pl.DataFrame:
    """account_id + the share columns, one row per account in node order."""
    out = share_fn(graphs, known_bad, known)
    if out.height != len(ids):
        raise RuntimeError(f"bad_neighbour_share returned {out.height} rows for {len(ids)} nodes")
    if "account_id" in out.columns:
        if not out["account_id"].equals(ids, check_names=False):  # node order is the norm
            out = out.sort("account_id")
        if not out["account_id"].equals(ids, check_names=False):
            raise RuntimeError("bad_neighbour_share rows do not match the graph's accounts")
        out = out.drop("account_id")
    cols = [pl.col(c).cast(pl.Float64) for c in out.columns]
    return out.select(cols).insert_column(0, ids.alias("account_id"))


def _mask(ids: pl.Series, members: pl.Series) -> np.ndarray:
    """Boolean node mask of the accounts in `members`."""
    return ids.is_in(members.implode()).to_numpy()


def fold_of_groups(groups: pl.Series, folds: int, seed: int) -> pl.Series:
    """A fold number per row such that every group is in exactly one fold."""
    unique = groups.unique().sort()
    order = np.random.default_rng(seed).permutation(len(unique))
    mapping = dict(zip(unique.to_list(), (order % folds).tolist(), strict=True))
    return groups.replace_strict(mapping, return_dtype=pl.Int64)


def oof_label_features(
    graphs: Any,
    account_ids: pl.Series,
    labels: pl.DataFrame,
    split: Split,
    folds: int = 5,
    seed: int = 7,
    share_fn: ShareFn | None = None,
) -> pl.DataFrame:
    """account_id + label-derived features for every account, out of fold (see module doc)."""
    share_fn = share_fn or default_share_fn()
    ids = account_ids.sort()
    train = split.assignments.filter(pl.col("part") == "train").join(
        labels.select("account_id", "label"), on="account_id", how="inner"
    )
    train = train.with_columns(fold_of_groups(train["group"], folds, seed).alias("fold"))
    bad = train.filter(pl.col("label") == 1)["account_id"]
    known_all, bad_all = _mask(ids, train["account_id"]), _mask(ids, bad)
    out = _shares(graphs, ids, bad_all, known_all, share_fn)  # held-out and unlabelled rows
    columns = [c for c in out.columns if c != "account_id"]
    for fold in range(folds):
        inside = train.filter(pl.col("fold") == fold)["account_id"]
        if inside.len() == 0:
            continue
        held = _mask(ids, inside)
        frame = _shares(graphs, ids, bad_all & ~held, known_all & ~held, share_fn)
        rows = pl.Series(held)  # this fold's rows take this fold's values (rows stay in order)
        out = out.with_columns(
            pl.when(rows).then(frame[c]).otherwise(pl.col(c)).alias(c) for c in columns
        )
    return out


def scoring_label_features(
    graphs: Any, account_ids: pl.Series, labels: pl.DataFrame, share_fn: ShareFn | None = None
) -> pl.DataFrame:
    """account_id + label-derived features from every known label, for scoring new lists."""
    share_fn = share_fn or default_share_fn()
    ids = account_ids.sort()
    known = _mask(ids, labels["account_id"])
    bad = _mask(ids, labels.filter(pl.col("label") == 1)["account_id"])
    return _shares(graphs, ids, bad, known, share_fn)


def with_label_features(
    frame: pl.DataFrame,
    graphs: Any,
    known: pl.DataFrame,
    split: Split | None = None,
    folds: int = 5,
    seed: int = 7,
    share_fn: ShareFn | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """`frame` (sorted by account_id) with its label-derived columns (re)computed from the
    `known` labels: out of fold over the split's training part when `split` is given
    (training), else from every known label (scoring); returns the frame and those columns."""
    from features.pipeline import side_by_side

    ids = frame["account_id"]
    if split is None:
        extra = scoring_label_features(graphs, ids, known, share_fn)
    else:
        extra = oof_label_features(graphs, ids, known, split, folds, seed, share_fn)
    columns = [c for c in extra.columns if c != "account_id"]
    return side_by_side([frame.drop(columns, strict=False), extra]), columns
