"""The node index: account i is the i-th account id in sorted order; ids map to nodes through
a 64-bit hash join (fast on ids in random order; the hash never leaves the run)."""

from __future__ import annotations

import polars as pl


def node_index(accounts: pl.DataFrame) -> pl.DataFrame:
    """account_id -> node (int64), the position in accounts sorted by account_id."""
    ids = accounts.select("account_id").sort("account_id")
    return ids.with_columns(node=pl.int_range(pl.len(), dtype=pl.Int64))


def hashed_index(index: pl.DataFrame) -> pl.DataFrame:
    """a (64-bit hash of account_id) -> node. Mapping ids through a join on this integer hash
    is several times faster than a join (or Enum cast) on the id strings when the ids arrive
    in random order; the hash lives only in this run. Raises if two ids share a hash."""
    hashed = index.select(pl.col("account_id").hash().alias("a"), "node")
    if hashed["a"].n_unique() != hashed.height:
        raise ValueError("two account ids share a 64-bit hash; cannot index accounts")
    return hashed


def with_node(frame: pl.LazyFrame, column: str, hashed: pl.DataFrame, name: str) -> pl.LazyFrame:
    """`frame` with the node of the account id in `column` as `name` (rows with unknown ids
    are dropped); `column` itself is dropped."""
    keyed = frame.with_columns(pl.col(column).hash().alias("_a")).drop(column)
    mapping = hashed.lazy().rename({"a": "_a", "node": name})
    return keyed.join(mapping, on="_a", how="inner").drop("_a")
