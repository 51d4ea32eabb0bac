"""Reports: how often other users report an account (grouped polars aggregates)."""

from __future__ import annotations

import polars as pl

from features.behaviour.kernels import DAY
from features.behaviour.seam import CODE


def report_features(ev: pl.DataFrame) -> pl.DataFrame:
    """Per reported account: the number of distinct UTC days with a report."""
    return (
        ev.lazy()
        .filter(pl.col("code") == CODE["report_received"])
        .group_by("aidx")
        .agg((pl.col("ts") // DAY).n_unique().alias("report_days"))
        .collect()
    )
