"""Activity: how much an account does, of what kind, and how recently (grouped polars counts)."""

from __future__ import annotations

import polars as pl

from features.behaviour.kernels import DAY
from features.behaviour.seam import ACTIONS, CODE


def window_suffixes(windows: tuple[int, ...]) -> list[tuple[str, str]]:
    """(column suffix, per-code count column) for all time and each recent window."""
    return [("", "n_all")] + [(f"_{w}d", f"n_{w}d") for w in windows]


def activity_features(ev: pl.DataFrame, as_of: int, windows: tuple[int, ...]) -> pl.DataFrame:
    """Per account: event counts per core action over all time and each window, the count of
    other actions, and the first event, last event and first post times (µs)."""
    recent = [(pl.col("ts") > as_of - w * DAY).sum().alias(f"n_{w}d") for w in windows]
    per_code = (
        ev.lazy()
        .group_by("aidx", "code")
        .agg(
            pl.len().alias("n_all"),
            *recent,
            pl.col("ts").min().alias("first_us"),
            pl.col("ts").max().alias("last_us"),
        )
    )
    code = pl.col("code")
    columns = []
    for suffix, source in window_suffixes(windows):
        columns.append(pl.col(source).sum().alias(f"events{suffix or '_total'}"))
        for action in ACTIONS:
            columns.append(
                pl.col(source).filter(code == CODE[action]).sum().alias(f"n_{action}{suffix}")
            )
    columns += [
        pl.col("n_all").filter(code == -1).sum().alias("n_other_actions"),
        pl.col("first_us").min(),
        pl.col("last_us").max(),
        pl.col("first_us").filter(code == CODE["post"]).min().alias("first_post_us"),
    ]
    return per_code.group_by("aidx").agg(columns).collect()
