"""Money: payment amounts of an account (grouped polars aggregates)."""

from __future__ import annotations

import polars as pl

from features.behaviour.seam import CODE


def money_features(ev: pl.DataFrame) -> pl.DataFrame:
    """Per account with payments: total, mean, largest and spread (population std) of amounts."""
    amount = pl.col("amount")
    return (
        ev.lazy()
        .filter((pl.col("code") == CODE["payment"]) & amount.is_not_null())
        .group_by("aidx")
        .agg(
            amount.sum().alias("payment_total"),
            amount.mean().alias("payment_mean"),
            amount.max().alias("payment_max"),
            amount.std(ddof=0).alias("payment_std"),
        )
        .collect()
    )
