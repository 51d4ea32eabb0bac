"""Identity spread and crowding: which devices, IPs and payment instruments an account uses,
and how many *other* accounts use the same ones (the seed of ring detection)."""

from __future__ import annotations

import polars as pl

#: Identifier columns of the events table, with the prefix of their feature names.
IDENTIFIERS = {"device": "device", "ip": "ip", "instrument": "instrument"}


def identifier_pairs(ev: pl.DataFrame, column: str) -> pl.DataFrame:
    """Distinct (aidx, identifier) pairs with the number of events (`n`) behind each."""
    return (
        ev.lazy()
        .filter(pl.col(column).is_not_null())
        .group_by("aidx", pl.col(column).alias("key"))
        .agg(pl.len().alias("n"))
        .collect()
    )


def with_crowding(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Distinct (account, key, ...) pairs plus `n_accounts`: how many accounts hold the key."""
    counts = pairs.group_by("key").agg(pl.len().alias("n_accounts"))
    return pairs.join(counts, on="key", how="left")


def identity_features(pairs: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Per account: distinct identifiers, top-identifier event share, events per identifier,
    and the max and mean number of other accounts sharing its identifiers."""
    return crowded_identity(with_crowding(pairs.lazy()), prefix)


def crowded_identity(crowded: pl.LazyFrame | pl.DataFrame, prefix: str) -> pl.DataFrame:
    """identity_features from pairs that already carry `n_accounts` (every pair of an
    account present: the reduce half of the map-reduce over buckets)."""
    others = pl.col("n_accounts") - 1
    return (
        crowded.lazy()
        .group_by("aidx")
        .agg(
            pl.len().alias(f"n_{prefix}s"),
            (pl.col("n").max() / pl.col("n").sum()).alias(f"top_{prefix}_share"),
            (pl.col("n").sum() / pl.len()).alias(f"events_per_{prefix}"),
            others.max().alias(f"{prefix}_crowding_max"),
            others.mean().alias(f"{prefix}_crowding_mean"),
        )
        .collect()
    )
