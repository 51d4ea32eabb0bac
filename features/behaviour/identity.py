"""Identity spread and crowding: which devices, IPs and payment instruments an account uses,
and how many *other* accounts use the same ones (the seed of ring detection)."""

from __future__ import annotations

import polars as pl

from features.behaviour.seam import TS_US

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
    others = pl.col("n_accounts") - 1
    return (
        with_crowding(pairs.lazy())
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


def shared_identifiers(
    events: pl.DataFrame | pl.LazyFrame, column: str, as_of=None
) -> pl.DataFrame:
    """Distinct (account_id, identifier) pairs of an events column (e.g. "device", "ip") with
    `n_events` and `n_accounts` (accounts using that identifier, itself included), sorted;
    events after `as_of` (a datetime) are ignored. For the graph/ring stage and evidence."""
    lazy = events.lazy()
    if as_of is not None:
        lazy = lazy.filter(pl.col("ts") <= pl.lit(as_of, dtype=TS_US))
    pairs = (
        lazy.filter(pl.col(column).is_not_null())
        .group_by("account_id", pl.col(column).alias("key"))
        .agg(pl.len().alias("n_events"))
    )
    return (
        with_crowding(pairs)
        .select(
            "account_id",
            pl.col("key").alias(column),
            pl.col("n_events").cast(pl.Int64),
            pl.col("n_accounts").cast(pl.Int64),
        )
        .sort("account_id", column)
        .collect()
    )
